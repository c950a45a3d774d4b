"""One `spacy train` command for the single runs (``conner train``) and the
grids (``conner seed-grid``): project.yml's runs train exactly as the
hand-written `spacy train` lines they replaced."""

import json
import re
import shlex
import sys
from pathlib import Path

import pytest
import srsly
import typer
from spacy.util import load_config
from typer.testing import CliRunner
from weasel.util import load_project_config, parse_config_overrides

from conner.cli import app, train
from conner.runs.training_command import (
    System,
    changed_settings,
    config_overrides,
    read_grid,
    run_overrides,
    train_command,
)

ROOT = Path(__file__).resolve().parent.parent

# The single runs' lines of project.yml before ``conner train``.
TRAIN_LINES = {
    "train": "python -m spacy train configs/conner.cfg --output training/conner-vanilla --paths.loss_log training/conner-vanilla/losses.jsonl --consistency.alpha 0 --consistency.beta 0 --paths.train corpus/en_train.spacy --paths.dev corpus/en_dev_sample.spacy --paths.encoder ${vars.encoder} --training.max_steps ${vars.max_steps} --training.eval_frequency ${vars.eval_frequency} --training.batcher.pairs_per_batch ${vars.pairs_per_batch} --system.seed ${vars.seed} --gpu-id ${vars.gpu_id}",
    "train-baseline": 'python -m spacy train configs/conner.cfg --output training/ner --paths.loss_log training/ner/losses.jsonl --nlp.pipeline \'["transformer","ner"]\' --consistency.alpha 0 --consistency.beta 0 --paths.train corpus/en_train.spacy --paths.dev corpus/en_dev_sample.spacy --paths.encoder ${vars.encoder} --training.max_steps ${vars.max_steps} --training.eval_frequency ${vars.eval_frequency} --system.seed ${vars.seed} --gpu-id ${vars.gpu_id}',
    "train-conner": "python -m spacy train configs/conner.cfg --output training/conner-google --paths.loss_log training/conner-google/losses.jsonl --paths.pairs corpus/pairs/google --paths.train corpus/en_train.spacy --paths.dev corpus/en_dev_sample.spacy --paths.encoder ${vars.encoder} --training.max_steps ${vars.max_steps} --training.eval_frequency ${vars.eval_frequency} --training.batcher.pairs_per_batch ${vars.pairs_per_batch} --system.seed ${vars.seed} --gpu-id ${vars.gpu_id}",
    "train-conner-translated": "python -m spacy train configs/conner.cfg --output training/conner-es-${vars.translate_engine} --paths.loss_log training/conner-es-${vars.translate_engine}/losses.jsonl --paths.pairs corpus/pairs/es-${vars.translate_engine} --paths.train corpus/en_train.spacy --paths.dev corpus/en_dev_sample.spacy --paths.encoder ${vars.encoder} --training.max_steps ${vars.max_steps} --training.eval_frequency ${vars.eval_frequency} --training.batcher.pairs_per_batch ${vars.pairs_per_batch} --system.seed ${vars.seed} --gpu-id ${vars.gpu_id}",
    "train-smoke": "python -m spacy train configs/conner.cfg --output training/smoke --paths.loss_log training/smoke/losses.jsonl --consistency.alpha 0 --consistency.beta 0 --paths.train corpus/smoke/en_train.spacy --paths.dev corpus/smoke/en_dev.spacy --paths.encoder ${vars.encoder} --training.max_steps ${vars.smoke_steps} --training.eval_frequency 10 --training.optimizer.learn_rate.warmup_steps 2 --system.seed ${vars.seed}",
}
EVALUATE_LINES = {
    "evaluate": "python -m conner evaluate training/conner-vanilla/model-best --test de=corpus/de_test.spacy --test es=corpus/es_test.spacy --test nl=corpus/nl_test.spacy --test en=corpus/en_test.spacy --system conner-vanilla --output reports/conner-vanilla.json --gpu-id ${vars.gpu_id}",
    "evaluate-baseline": "python -m conner evaluate training/ner/model-best --test de=corpus/de_test.spacy --test es=corpus/es_test.spacy --test nl=corpus/nl_test.spacy --test en=corpus/en_test.spacy --system spacy-ner --output reports/ner.json --gpu-id ${vars.gpu_id}",
    "evaluate-conner": "python -m conner evaluate training/conner-google/model-best --test de=corpus/de_test.spacy --test es=corpus/es_test.spacy --test nl=corpus/nl_test.spacy --test en=corpus/en_test.spacy --system conner-google --output reports/conner-google.json --gpu-id ${vars.gpu_id}",
    "evaluate-conner-translated": "python -m conner evaluate training/conner-es-${vars.translate_engine}/model-best --test de=corpus/de_test.spacy --test es=corpus/es_test.spacy --test nl=corpus/nl_test.spacy --test en=corpus/en_test.spacy --system conner-es-${vars.translate_engine} --output reports/conner-es-${vars.translate_engine}.json --gpu-id ${vars.gpu_id}",
}
GRID_LINES = {
    "seed-grid": "python -m conner seed-grid configs/conner.cfg --seeds ${vars.grid_seeds} --system conner-vanilla= --system conner-google=corpus/pairs/google --system conner-es-${vars.translate_engine}=corpus/pairs/es-${vars.translate_engine} --reuse reports --train corpus/en_train.spacy --dev corpus/en_dev_sample.spacy --encoder ${vars.encoder} --max-steps ${vars.max_steps} --eval-frequency ${vars.eval_frequency} --pairs-per-batch ${vars.pairs_per_batch} --gpu-id ${vars.gpu_id} --test de=corpus/de_test.spacy --test es=corpus/es_test.spacy --test nl=corpus/nl_test.spacy",
    "dev-grid": "python -m conner seed-grid configs/conner.cfg --seeds ${vars.dev_grid_seeds} --grid configs/grid_dev.yml --train corpus/en_train.spacy --dev corpus/en_dev_sample.spacy --encoder ${vars.encoder} --max-steps ${vars.max_steps} --eval-frequency ${vars.eval_frequency} --pairs-per-batch ${vars.pairs_per_batch} --gpu-id ${vars.gpu_id} --test es_dev=corpus/es_dev.spacy --test nl_dev=corpus/nl_dev.spacy --workers ${vars.grid_workers} --diagnostic-pairs corpus/pairs/google --training-dir training/${vars.dev_grid_name} --reports-dir reports/${vars.dev_grid_name}",
    "alpha-beta-check": "python -m conner seed-grid configs/conner.cfg --seeds ${vars.seed} --alpha ${vars.check_weight} --beta ${vars.check_weight} --system conner-google-w${vars.check_weight}=corpus/pairs/google --train corpus/en_train.spacy --dev corpus/en_dev_sample.spacy --encoder ${vars.encoder} --max-steps ${vars.max_steps} --eval-frequency ${vars.eval_frequency} --pairs-per-batch ${vars.pairs_per_batch} --gpu-id ${vars.gpu_id} --test en_dev=corpus/en_dev_sample.spacy --training-dir training/alpha_beta --reports-dir reports/alpha_beta",
    "paper-grid": "python -m conner seed-grid configs/conner.cfg --seeds ${vars.grid_seeds} --grid configs/grid_paper.yml --train corpus/en_train_full.spacy --dev corpus/en_dev.spacy --encoder ${vars.paper_encoder} --gpu-id ${vars.paper_gpu_id} --test de=corpus/de_test.spacy --test es=corpus/es_test.spacy --test nl=corpus/nl_test.spacy --test en=corpus/en_test.spacy --training-dir training/paper --reports-dir reports/paper",
    "languages-grid": "python -m conner seed-grid configs/conner.cfg --seeds ${vars.grid_seeds} --grid configs/grid_languages.yml --train corpus/en_train.spacy --dev corpus/en_dev_sample.spacy --encoder ${vars.encoder} --max-steps ${vars.max_steps} --eval-frequency ${vars.eval_frequency} --pairs-per-batch ${vars.pairs_per_batch} --gpu-id ${vars.gpu_id} --test de=corpus/de_test.spacy --test es=corpus/es_test.spacy --test nl=corpus/nl_test.spacy --training-dir training/languages --reports-dir reports/languages",
}
# Default vars, and others, to see that each var still reaches its runs.
VAR_SETS = [
    {},
    {
        "vars.encoder": "xlm-roberta-large",
        "vars.max_steps": 7,
        "vars.eval_frequency": 3,
        "vars.pairs_per_batch": 16,
        "vars.seed": 2,
        "vars.gpu_id": 0,
        "vars.smoke_steps": 5,
        "vars.translate_engine": "opus-mt",
        "vars.check_weight": 0.125,
        "vars.paper_encoder": "x/y",
    },
]


def project(overrides):
    config = load_project_config(ROOT, overrides=overrides)
    # The research grids live in their own project, run on the same files.
    experiments = load_project_config(ROOT / "experiments", overrides=overrides)
    variables = {
        **experiments["vars"],
        **config["vars"],
        **{key[len("vars.") :]: value for key, value in overrides.items()},
    }
    return variables, {c["name"]: c for c in experiments["commands"] + config["commands"]}


def substitute(line, variables):
    return re.sub(r"\$\{vars\.(\w+)\}", lambda m: str(variables[m.group(1)]), line)


def train_py_command(script_line):
    """What ``conner train`` would run for a project.yml line."""
    args = shlex.split(script_line)
    assert args[:4] == ["python", "-m", "conner", "train"], script_line
    result = CliRunner().invoke(app, args[3:] + ["--dry-run"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def split_options(args):
    """(positionals, sorted [(option, value)]) of a command whose options all take a value."""
    positionals, options, i = [], [], 0
    while i < len(args):
        if args[i].startswith("--"):
            options.append((args[i], args[i + 1]))
            i += 2
        else:
            positionals.append(args[i])
            i += 1
    return positionals, sorted(options)


@pytest.fixture(autouse=True)
def in_project_dir(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("overrides", VAR_SETS)
@pytest.mark.parametrize("name", list(TRAIN_LINES))
def test_each_run_trains_as_its_former_spacy_train_line(name, overrides):
    variables, commands = project(overrides)
    (line,) = commands[name]["script"]
    raw_commands = (
        srsly.read_yaml(ROOT / "project.yml")["commands"]
        + srsly.read_yaml(ROOT / "experiments" / "project.yml")["commands"]
    )
    (raw,) = {c["name"]: c for c in raw_commands}[name]["script"]
    assert len(raw) < 150, "the profile is one variable, not overrides in the line"
    new = train_py_command(line)
    old = shlex.split(substitute(TRAIN_LINES[name], variables))
    assert new[:5] == [sys.executable, "-m", "spacy", "train", "configs/conner.cfg"] and old[
        :5
    ] == ["python", "-m", "spacy", "train", "configs/conner.cfg"]
    new_options, old_options = split_options(new[5:])[1], split_options(old[5:])[1]
    if name == "train-baseline":
        # The one addition: the baseline draws no pairs and keeps the config's
        # pairs_per_batch, now said in configs/systems.yml.
        default = load_config(ROOT / "configs/conner.cfg")["training"]["batcher"]["pairs_per_batch"]
        assert ("--training.batcher.pairs_per_batch", str(default)) in new_options
        new_options.remove(("--training.batcher.pairs_per_batch", str(default)))
    assert new_options == old_options
    # Each key once, and spaCy reads the same overrides.
    keys = [k for k, _ in new_options]
    assert len(keys) == len(set(keys))
    dotted = lambda options: [x for k, v in options if "." in k for x in (k, v)]  # noqa: E731
    assert parse_config_overrides(dotted(new_options), env_var=None) == parse_config_overrides(
        dotted(old_options), env_var=None
    )


@pytest.mark.parametrize("overrides", VAR_SETS)
@pytest.mark.parametrize("name", list(EVALUATE_LINES))
def test_each_evaluation_runs_its_former_line(name, overrides):
    variables, commands = project(overrides)
    (line,) = commands[name]["script"]
    assert shlex.split(line) == shlex.split(substitute(EVALUATE_LINES[name], variables))


@pytest.mark.parametrize("overrides", VAR_SETS)
@pytest.mark.parametrize("name", list(GRID_LINES))
def test_each_grid_gets_its_former_options(name, overrides):
    variables, commands = project(overrides)
    (line,) = commands[name]["script"]
    new, old = shlex.split(line), shlex.split(substitute(GRID_LINES[name], variables))
    assert split_options(new) == split_options(old)


def test_every_system_of_the_systems_file_matches_its_former_line():
    """configs/systems.yml holds the systems that differ by overrides."""
    variables, commands = project({})
    systems = {s.name: s for s in read_grid(ROOT / "configs/systems.yml")}
    assert set(systems) == {"conner-vanilla", "ner"}
    assert all(s.pairs is None for s in systems.values())  # both train vanilla: alpha = beta = 0
    for name, command in [("conner-vanilla", "train"), ("ner", "train-baseline")]:
        (line,) = commands[command]["script"]
        assert shlex.split(line)[4] == name
    assert systems["ner"].overrides["nlp.pipeline"] == ["transformer", "ner"]


def test_every_command_lists_the_code_it_runs():
    _, commands = project({})
    for name, command in commands.items():
        deps = command.get("deps", [])
        for line in command["script"]:
            if "-m conner" in line or "spacy train" in line:
                assert "components/conner" in deps, name
            if "spacy train" in line or "conner train" in line or "conner seed-grid" in line:
                assert "configs/conner.cfg" in deps, name
            if "conner train" in line:
                assert "configs/systems.yml" in deps, name
            for grid in re.findall(r"--grid (\S+)", line):
                assert grid in deps, name


def test_train_py_refuses_an_unknown_system_without_pairs():
    with pytest.raises(typer.BadParameter, match="no entry"):
        train.build_command("conner-typo", train="t", dev="d")
    cmd = train.build_command("conner-mine", pairs="corpus/pairs/mine", seed=1, train="t", dev="d")
    assert cmd[cmd.index("--paths.pairs") + 1] == "corpus/pairs/mine"
    assert cmd[cmd.index("--output") + 1] == str(Path("training/conner-mine"))
    assert "--consistency.alpha" not in cmd  # ConNER keeps the config's alpha and beta


def test_extra_overrides_win_and_unset_settings_keep_the_config():
    cmd = train.build_command(
        "conner-vanilla",
        extra=["--consistency.alpha", "0.25", "--training.max_steps", "9"],
        max_steps=300,
        train="t",
        dev="d",
    )
    assert cmd[cmd.index("--consistency.alpha") + 1] == "0.25"
    assert (
        cmd[cmd.index("--training.max_steps") + 1] == "9" and cmd.count("--training.max_steps") == 1
    )
    for unset in (
        "--paths.encoder",
        "--training.batcher.pairs_per_batch",
        "--system.seed",
        "--gpu-id",
    ):
        assert unset not in cmd


def test_the_grid_command_is_unchanged_by_the_move():
    """``conner seed-grid``'s settings are all given, so its commands are as before
    (the same arguments and options; their order means nothing to spaCy)."""
    settings = dict(
        train="t",
        dev="d",
        encoder="e",
        max_steps=3,
        eval_frequency=1,
        pairs_per_batch=4,
        alpha=0.5,
        beta=0.5,
        gpu_id=-1,
    )
    cmd = train_command(
        Path("c.cfg"),
        Path("out"),
        settings,
        1,
        System("c", "p", {"initialize.after_init.freeze": False}),
    )
    expected = [
        "-m",
        "spacy",
        "train",
        "c.cfg",
        "--output",
        "out",
        "--paths.loss_log",
        str(Path("out/losses.jsonl")),
        "--gpu-id",
        "-1",
        "--paths.train",
        "t",
        "--paths.dev",
        "d",
        "--paths.encoder",
        "e",
        "--training.max_steps",
        "3",
        "--training.eval_frequency",
        "1",
        "--training.batcher.pairs_per_batch",
        "4",
        "--system.seed",
        "1",
        "--consistency.alpha",
        "0.5",
        "--consistency.beta",
        "0.5",
        "--paths.pairs",
        "p",
        "--initialize.after_init.freeze",
        "false",
    ]
    assert split_options(cmd[1:]) == split_options(expected) and len(cmd[1:]) == len(expected)
    assert config_overrides(settings, 1, System("v", None))["consistency.alpha"] == 0


def test_grid_files_read_as_systems():
    for path in sorted((ROOT / "configs").glob("*.yml")):
        assert read_grid(path), path
    assert srsly.read_yaml(ROOT / "configs/systems.yml")


@pytest.mark.parametrize("grid", sorted(p.name for p in (ROOT / "configs").glob("*.yml")))
def test_every_system_of_every_grid_file_overrides_real_config_keys(grid):
    """A typo in a grid file (a key the config does not have, a value the
    component refuses) must fail here, not an hour into a grid."""
    from spacy.vocab import Vocab

    from conner.component import ConnerTagger, ConsistencyWeights

    config = load_config(ROOT / "configs/conner.cfg", interpolate=False)
    for system in read_grid(ROOT / "configs" / grid):
        for key in system.overrides:
            section = config
            for part in key.split("."):
                assert part in section, f"{grid}: {system.name}: configs/conner.cfg has no {key!r}"
                section = section[part]
        # The component's own checks (its constructor; no model needed) must
        # accept the settings the system ends up with.
        config_of_system = load_config(
            ROOT / "configs/conner.cfg", overrides=system.overrides, interpolate=True
        )
        settings = dict(config_of_system["components"]["conner"])
        weights = ConsistencyWeights(
            settings.pop("nll_weight"), settings.pop("alpha"), settings.pop("beta")
        )
        for key in ("factory", "model", "scorer"):
            settings.pop(key, None)
        ConnerTagger(Vocab(), None, weights=weights, **settings)


def test_the_test_grid_shares_trainings_with_the_dev_grid_only_where_they_are_the_same():
    """test-grid evaluates a dev-grid model of the same name instead of
    training it again, so a shared name must mean the same overrides."""
    dev = {s.name: s for s in read_grid(ROOT / "configs/grid_dev.yml")}
    test = {s.name: s for s in read_grid(ROOT / "configs/grid_test.yml")}
    assert {"vanilla", "conner"} <= set(dev) & set(test)
    for name in set(dev) & set(test):
        assert dev[name] == test[name], name
    for overrides in VAR_SETS:
        _, commands = project(overrides)

        def folder(command, commands=commands):
            return split_options(shlex.split(commands[command]["script"][0]))[1]

        assert (
            dict(folder("test-grid"))["--training-dir"]
            == dict(folder("dev-grid"))["--training-dir"]
        )
        assert (
            dict(folder("test-grid"))["--reports-dir"] != dict(folder("dev-grid"))["--reports-dir"]
        )


def test_changed_settings_names_what_a_trained_pipeline_was_trained_with(tmp_path):
    """A saved config of conner.cfg with the same overrides is unchanged,
    also without the blocks of components the pipeline does not run; one
    setting changed since is reported as (now, then)."""
    settings = dict(
        train="t",
        dev="d",
        encoder="e",
        max_steps=3,
        eval_frequency=1,
        pairs_per_batch=4,
        alpha=0.5,
        beta=0.5,
        gpu_id=-1,
    )
    system = System("conner", "p", {"components.conner.transitions": "learned"})
    overrides = run_overrides(tmp_path / "out", settings, 0, system)
    saved = load_config(ROOT / "configs" / "conner.cfg", overrides=overrides, interpolate=True)
    saved["components"].pop("ner", None)
    saved.to_disk(tmp_path / "config.cfg")
    assert (
        changed_settings(ROOT / "configs" / "conner.cfg", overrides, tmp_path / "config.cfg") == {}
    )
    saved["nlp"]["batch_size"] = 64
    saved.to_disk(tmp_path / "config.cfg")
    now = load_config(ROOT / "configs" / "conner.cfg")["nlp"]["batch_size"]
    assert changed_settings(
        ROOT / "configs" / "conner.cfg", overrides, tmp_path / "config.cfg"
    ) == {"nlp.batch_size": (now, 64)}
    vanilla = run_overrides(tmp_path / "out", settings, 0, System("vanilla", None))
    changed = changed_settings(ROOT / "configs" / "conner.cfg", vanilla, tmp_path / "config.cfg")
    assert (
        changed["consistency.alpha"] == (0, 0.5)
        and changed["components.conner.transitions"][1] == "learned"
    )
