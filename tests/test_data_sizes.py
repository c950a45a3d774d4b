"""The data-size tables: English train samples, steps from epochs, time
estimates, the workflows' commands and the table beside the paper's."""

import math
import shlex
import statistics
from pathlib import Path

import pytest
import spacy
import srsly
import typer
from spacy.tokens import DocBin
from test_training_command import train_py_command
from typer.testing import CliRunner
from weasel.util import load_project_config

from conner.cli.convert import sample_sentences
from conner.cli.seed_grid import seed_grid_cli
from conner.runs import paper_table, seed_grid
from conner.runs.reports import load_reports
from conner.runs.training_command import (
    System,
    config_overrides,
    epoch_schedule,
    labeled_batch_size,
    read_grid,
    with_epoch_schedule,
)

ROOT = Path(__file__).resolve().parent.parent
CONLL_TRAIN_SENTENCES = 14041


@pytest.mark.parametrize(
    "n, epochs", [(CONLL_TRAIN_SENTENCES, 1), (1404, 10), (3510, 10), (702, 7), (20, 0.5), (3, 1)]
)
def test_steps_cover_the_epochs_and_selection_sees_ten_checkpoints(n, epochs):
    steps, frequency = epoch_schedule(n, epochs, 16)
    # Enough steps for the epochs, and not one more.
    assert (steps - 1) * 16 < epochs * n <= steps * 16
    # spaCy evaluates at every multiple of the frequency.
    evaluations = steps // frequency
    assert evaluations >= min(10, steps) and (frequency == 1 or evaluations < 11)


def test_one_epoch_of_all_english_train_is_878_steps():
    assert epoch_schedule(CONLL_TRAIN_SENTENCES, 1, 16) == (878, 87)


@pytest.mark.parametrize("args", [(0, 1, 16), (10, 0, 16), (10, 1, 0), (10, 1, 16, 0)])
def test_schedule_refuses_empty_inputs(args):
    with pytest.raises(ValueError):
        epoch_schedule(*args)


def test_samples_nest_as_project_yml_says():
    sentences = list(range(CONLL_TRAIN_SENTENCES))
    sample = {pct: set(sample_sentences(sentences, pct / 100, seed=0)) for pct in (5, 10, 25, 100)}
    assert [len(sample[p]) for p in (5, 10, 25)] == [702, 1404, 3510]
    assert sample[10] <= sample[25] <= sample[100]
    assert not sample[5] <= sample[10] and len(sample[5] & sample[10]) == 687


def test_the_config_says_how_many_sentences_a_step():
    assert labeled_batch_size(ROOT / "configs/conner.cfg") == 16


def _docbin(path: Path, n: int) -> Path:
    nlp = spacy.blank("en")
    DocBin(docs=[nlp(f"Sentence {i} .") for i in range(n)]).to_disk(path)
    return path


def test_epochs_count_the_training_docbin(tmp_path):
    train = _docbin(tmp_path / "train.spacy", 40)
    settings = {"train": str(train), "max_steps": 300, "eval_frequency": 100}
    assert with_epoch_schedule(ROOT / "configs/conner.cfg", settings, None) == settings
    scheduled = with_epoch_schedule(ROOT / "configs/conner.cfg", settings, 2)
    assert (scheduled["max_steps"], scheduled["eval_frequency"]) == epoch_schedule(40, 2, 16)
    with pytest.raises(typer.BadParameter, match="above 0"):
        with_epoch_schedule(ROOT / "configs/conner.cfg", settings, 0)
    with pytest.raises(typer.BadParameter, match="missing.spacy"):
        with_epoch_schedule(
            ROOT / "configs/conner.cfg", {**settings, "train": str(tmp_path / "missing.spacy")}, 1
        )


def _report(
    system,
    seed,
    f1,
    encoder="encoders/e5-small",
    device=None,
    alpha=0.5,
    beta=0.5,
    steps=100,
    train_seconds=None,
    seconds=None,
):
    report = {
        "system": system,
        "protocol": {
            "seed": seed,
            "max_steps": steps,
            "alpha": alpha,
            "beta": beta,
            "encoder": encoder,
            "pairs_per_batch": 4,
        },
        "results": {
            lang: {"f": value / 100, **({"seconds": seconds} if seconds else {})}
            for lang, value in f1.items()
        },
    }
    if train_seconds is not None:
        report["train_seconds"] = train_seconds
    if device is not None:
        report["device"] = device
    return report


def _settings(max_steps: int, **paths: str) -> dict:
    """A grid's protocol settings on the CPU, an evaluation every tenth of the steps."""
    return {
        "train": "corpus/en_train.spacy",
        "dev": "corpus/en_dev_sample.spacy",
        "encoder": "encoders/e5-small",
        "max_steps": max_steps,
        "eval_frequency": max_steps // 10,
        "pairs_per_batch": 4,
        "alpha": 0.5,
        "beta": 0.5,
        "gpu_id": -1,
        **paths,
    }


def test_the_estimate_prices_each_kind_of_run_from_finished_ones(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    srsly.write_json(
        reports / "vanilla-seed0.json",
        _report("vanilla", 0, {"de": 50}, alpha=0, beta=0, train_seconds=100, seconds=10),
    )
    srsly.write_json(
        reports / "conner-seed0.json",
        _report("conner", 0, {"de": 50}, train_seconds=300, seconds=20),
    )
    # A run paused for an hour is an outlier, not the step cost.
    srsly.write_json(
        reports / "vanilla-seed1.json",
        _report("vanilla", 1, {"de": 50}, alpha=0, beta=0, train_seconds=100, seconds=10),
    )
    srsly.write_json(
        reports / "vanilla-seed2.json",
        _report("vanilla", 2, {"de": 50}, alpha=0, beta=0, train_seconds=3700, seconds=10),
    )
    # Another encoder and a GPU run say nothing about this CPU's e5 steps.
    srsly.write_json(
        reports / "other.json", _report("conner", 1, {"de": 1}, encoder="x", train_seconds=9e9)
    )
    srsly.write_json(
        reports / "gpu.json", _report("conner", 2, {"de": 1}, device="gpu", train_seconds=1)
    )
    steps, tests, used = seed_grid.measured_costs([reports], "encoders/e5-small", "cpu")
    assert (
        used == 4 and steps == {"vanilla": 1.0, "dropout + 4 pairs": 3.0} and tests == {"de": 10.0}
    )
    settings = _settings(max_steps=50, train="t", dev="d")
    runs = [(0, System("vanilla", None)), (0, System("conner", "pairs"))]
    assert (
        seed_grid.estimate_seconds(runs, settings, ["de", "en"], steps, tests)
        == 50 * 1 + 50 * 3 + 4 * 10
    )
    # A kind never measured (dropout alone) has no estimate.
    drop_only = System("drop", "pairs", {"consistency.beta": 0})
    assert seed_grid.estimate_seconds([(0, drop_only)], settings, ["de"], steps, tests) is None


def test_other_grids_step_costs_are_scaled_to_this_grids_own():
    # This grid's vanilla steps cost 0.6 s where another grid's cost 1.0 s
    # (fewer dev evaluations per step), so its ConNER steps will too.
    own, others = {"vanilla": 0.6}, {"vanilla": 1.0, "dropout + 4 pairs": 2.0}
    scaled = seed_grid.scaled_step_costs(own, others)
    assert scaled == pytest.approx({"vanilla": 0.6, "dropout + 4 pairs": 1.2})
    # The grid's own measurement wins over a scaled one; with none shared, no scaling.
    own = {"vanilla": 0.6, "dropout + 4 pairs": 1.5}
    assert seed_grid.scaled_step_costs(own, others) == own
    assert seed_grid.scaled_step_costs({"4 pairs": 3.0}, others) == {**others, "4 pairs": 3.0}
    assert seed_grid.scaled_step_costs({}, others) == others


def _grid_beside_another(tmp_path):
    """A grid's report folder, another grid's, a 100-step protocol and the two systems."""
    reports, other = tmp_path / "reports", tmp_path / "other"
    reports.mkdir()
    other.mkdir()
    vanilla, conner = System("vanilla", None), System("conner", "corpus/pairs/google")
    return reports, other, _settings(max_steps=100), vanilla, conner


def _finished_vanilla(settings, train_seconds, seconds):
    """A vanilla seed-0 report of exactly ``settings``' protocol."""
    report = _report(
        "vanilla", 0, {"de": 50}, alpha=0, beta=0, train_seconds=train_seconds, seconds=seconds
    )
    report["protocol"].update(seed_grid.expected_protocol(settings, 0, System("vanilla", None)))
    return report


def test_the_estimate_prices_a_grids_new_kinds_at_its_own_step_cost(tmp_path, capsys):
    reports, timing, settings, vanilla, conner = _grid_beside_another(tmp_path)
    # Another grid: vanilla 1 s a step, ConNER 3 s; this grid's vanilla: 0.5 s.
    for name, seconds, weights in [("vanilla", 100, {"alpha": 0, "beta": 0}), ("conner", 300, {})]:
        srsly.write_json(
            timing / f"{name}-seed9.json",
            _report(name, 9, {"de": 50}, train_seconds=seconds, seconds=0, **weights),
        )
    srsly.write_json(reports / "vanilla-seed0.json", _finished_vanilla(settings, 50, 0))
    # ConNER at seeds 0 and 1 and vanilla at seed 1: 100 steps each at 1.5 + 1.5 + 0.5 s.
    runs = [(seed, system) for seed in (0, 1) for system in (vanilla, conner)]
    seed_grid.print_estimate(runs, settings, [], reports, [timing])
    out = capsys.readouterr().out
    assert "3 of 4 runs left: about 0.1 h" in out
    assert "dropout + 4 pairs 1.50 s/step" in out and "vanilla 0.50 s/step" in out


def test_the_tables_train_the_systems_the_test_grid_trained():
    sizes = {s.name: s for s in read_grid(ROOT / "configs/grid_sizes.yml")}
    test = {s.name: s for s in read_grid(ROOT / "configs/grid_test.yml")}
    assert set(sizes) == {"vanilla", "conner"} and all(sizes[n] == test[n] for n in sizes)
    divergence = {s.name: s for s in read_grid(ROOT / "configs/grid_divergence.yml")}
    # Reused from the test grid: the same name is the same training.
    assert (
        divergence["vanilla"] == test["vanilla"]
        and divergence["conner-trans-only"] == test["conner-trans-only"]
    )
    variants = {
        s.overrides.get("components.conner.divergence") for s in divergence.values() if s.pairs
    }
    assert variants == {None, "kl_unlabeled", "kl_translation"}


def test_the_learning_rate_grid_varies_only_the_rate_of_table_2s_vanilla():
    sizes = {s.name: s for s in read_grid(ROOT / "configs/grid_sizes.yml")}
    rates = {s.name: s for s in read_grid(ROOT / "configs/grid_learn_rate.yml")}
    # The same name and settings: table2-grid's trained vanilla models are only evaluated.
    assert rates["vanilla"] == sizes["vanilla"]
    assert set(rates) == {"vanilla", "vanilla-lr2e-5"} and not rates["vanilla-lr2e-5"].pairs
    assert rates["vanilla-lr2e-5"].overrides == {"training.optimizer.learn_rate.initial_rate": 2e-5}
    scripts = {c["name"]: c["script"] for c in load_project_config(ROOT)["commands"]}
    (line,) = scripts["learn-rate-grid"]
    table2_at_10 = scripts["table2-grid"][1]
    for option in ("--train corpus/en_train_10.spacy", "--training-dir training/table2_10"):
        assert option in line and option in table2_at_10
    # A choice made on English dev: no test set is scored.
    assert "--test en_dev=corpus/en_dev.spacy" in line and "_test.spacy" not in line


def test_the_long_dev_grid_tries_one_remedy_at_a_time_on_table_2s_10_percent():
    sizes = {s.name: s for s in read_grid(ROOT / "configs/grid_sizes.yml")}
    long = {s.name: s for s in read_grid(ROOT / "configs/grid_dev_long.yml")}
    assert long["vanilla"] == sizes["vanilla"] and long["conner"] == sizes["conner"]
    remedies = {n: s for n, s in long.items() if n not in ("vanilla", "conner")}
    assert {n: s.overrides for n, s in remedies.items()} == {
        "conner-legal": {"components.conner.span_outcomes": "legal"},
        "conner-crf": {"components.conner.token_distribution": "crf"},
    }
    assert all(s.pairs == long["conner"].pairs for s in remedies.values())
    experiments = load_project_config(ROOT / "experiments")
    scripts = {c["name"]: c["script"] for c in experiments["commands"]}
    line = scripts["long-dev-grid"][1]
    table2_at_10 = {c["name"]: c["script"] for c in load_project_config(ROOT)["commands"]}[
        "table2-grid"
    ][1]
    for option in ("--train corpus/en_train_10.spacy", "--epochs 10"):
        assert option in line and option in table2_at_10
    # Choices are made on the Spanish and Dutch dev sets: no test set is scored.
    assert "--test es_dev=corpus/es_dev.spacy --test nl_dev=corpus/nl_dev.spacy" in line
    assert "_test.spacy" not in line
    assert "long-dev-grid" in experiments["workflows"]["long-grid"]


def test_the_long_dev_grid_prints_its_estimate(tiny_project):
    experiments = load_project_config(ROOT / "experiments")
    (step,) = [c for c in experiments["commands"] if c["name"] == "long-dev-grid"]
    args = shlex.split(step["script"][1])
    result = CliRunner().invoke(_grid_app(), args[4:] + ["--estimate-only"])
    assert result.exit_code == 0, result.output
    steps, frequency = epoch_schedule(24, 10, 16)
    assert f"{steps} steps, an evaluation every {frequency}" in result.output
    assert "runs left" in result.output or "have reports" in result.output
    assert not (tiny_project / "training").exists()


@pytest.fixture
def tiny_project(tmp_path, monkeypatch):
    """A folder that looks like the project to its grid commands: the real
    configs and reports, tiny training samples."""
    for name in ("configs", "reports"):
        (tmp_path / name).symlink_to(ROOT / name)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for pct, n in ((10, 24), (25, 60), (100, 240)):
        _docbin(corpus / f"en_train_{pct}.spacy", n)
    _docbin(corpus / "en_train.spacy", 12)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _grid_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(seed_grid_cli)
    return app


@pytest.mark.parametrize(
    "command", ["table1-grid", "table2-grid", "table5-grid", "learn-rate-grid"]
)
def test_each_table_grid_parses_and_prints_its_estimate(tiny_project, command):
    config = load_project_config(ROOT)
    variables = config["vars"]
    (step,) = [c for c in config["commands"] if c["name"] == command]
    for line in step["script"]:
        args = shlex.split(line)
        assert args[:4] == ["python", "-m", "conner", "seed-grid"]
        result = CliRunner().invoke(_grid_app(), args[4:] + ["--estimate-only"])
        assert result.exit_code == 0, result.output
        if "--epochs" in args:
            train = args[args.index("--train") + 1]
            n = len(DocBin().from_disk(train))
            epochs = float(args[args.index("--epochs") + 1])
            steps, frequency = epoch_schedule(n, epochs, 16)
            assert f"{steps} steps, an evaluation every {frequency}" in result.output
        assert "runs left" in result.output or "have reports" in result.output
        # Nothing is trained or written by an estimate.
        assert not (tiny_project / "training").exists()
    assert variables["table_seeds"].count(",") >= 2, "the tables run three seeds or more"


def test_the_release_trains_as_table_1s_conner_at_the_same_seed(tiny_project):
    config = load_project_config(ROOT)
    variables = config["vars"]
    (line,) = [c for c in config["commands"] if c["name"] == "train-release"][0]["script"]
    release = train_py_command(line)
    option = lambda name: release[release.index(name) + 1]  # noqa: E731
    steps, frequency = epoch_schedule(240, variables["full_epochs"], 16)
    assert option("--training.max_steps") == str(steps) and option(
        "--training.eval_frequency"
    ) == str(frequency)
    conner = {s.name: s for s in read_grid(ROOT / "configs/grid_sizes.yml")}["conner"]
    settings = dict(
        train="corpus/en_train_100.spacy",
        dev="corpus/en_dev_sample.spacy",
        encoder=variables["encoder"],
        max_steps=steps,
        eval_frequency=frequency,
        pairs_per_batch=variables["pairs_per_batch"],
        alpha=None,
        beta=None,
        gpu_id=variables["gpu_id"],
    )
    expected = config_overrides({**settings, "alpha": 0.5, "beta": 0.5}, variables["seed"], conner)
    # train.py leaves alpha and beta to the config, which says 0.5 and 0.5.
    expected = {k: v for k, v in expected.items() if not k.startswith("consistency.")}
    for key, value in expected.items():
        assert option(f"--{key}") == str(value), key


def _reports_dir(path: Path, rows) -> Path:
    path.mkdir(parents=True)
    for system, seed, f1, device in rows:
        srsly.write_json(
            path / f"{system}-seed{seed}.json", _report(system, seed, f1, device=device)
        )
    return path


def test_the_paper_table_pairs_by_seed_and_states_the_gap(tmp_path):
    vanilla = [
        {"de": 60, "es": 70, "nl": 70, "en": 85},
        {"de": 62, "es": 71, "nl": 69, "en": 86},
        {"de": 61, "es": 69, "nl": 72, "en": 85},
    ]
    gains = [
        {"de": 4, "es": 1, "nl": -1, "en": 0},
        {"de": 2, "es": 0, "nl": 1, "en": 1},
        {"de": 3, "es": 2, "nl": 0, "en": 0},
    ]
    rows = [("vanilla", s, v, "gpu") for s, v in enumerate(vanilla)]
    rows += [
        ("conner", s, {k: v[k] + g[k] for k in v}, None)
        for s, (v, g) in enumerate(zip(vanilla, gains))
    ]
    folder = _reports_dir(tmp_path / "table1", rows)
    paper = srsly.read_yaml(ROOT / "configs/paper/tables.yml")["table1"]["100 %"]
    table = paper_table.group_table(load_reports([folder]), paper, "vanilla")
    cells = {
        line.split(" | ")[1]: [c.strip() for c in line.strip("| ").split(" | ")]
        for line in table.splitlines()[2:]
    }
    avg_gains = [statistics.mean(g[k] for k in ("de", "es", "nl")) for g in gains]
    mean = statistics.mean(avg_gains)
    t = mean / (statistics.stdev(avg_gains) / math.sqrt(3))
    row = cells["avg"]
    assert row[2:5] == ["77.68", "80.29", "+2.61"]
    assert row[7] == f"{mean:+.2f} ± {statistics.stdev(avg_gains):.2f}" and row[8] == f"{t:.2f} (2)"
    assert row[9] == f"{mean - 2.61:+.2f}" and row[10] == "0,1,2" and row[11] == "CPU/GPU"
    # English has no paper number, and is still paired.
    assert cells["en"][2] == "–" and cells["en"][7].startswith("+0.33")


def test_the_paper_table_needs_the_baseline(tmp_path):
    folder = _reports_dir(tmp_path / "r", [("conner", 0, {"de": 1, "es": 1, "nl": 1}, None)])
    with pytest.raises(typer.BadParameter, match="baseline"):
        paper_table.group_table(load_reports([folder]), {}, "vanilla")


def test_the_estimate_leaves_out_runs_copied_from_the_reuse_folder(tmp_path, capsys):
    reports, reuse, settings, vanilla, conner = _grid_beside_another(tmp_path)
    # The vanilla run of this protocol is in the reuse folder, with a ConNER
    # run of another seed; both price the steps.
    srsly.write_json(reuse / "vanilla-seed0.json", _finished_vanilla(settings, 100, 10))
    srsly.write_json(
        reuse / "conner-seed9.json", _report("conner", 9, {"de": 50}, train_seconds=300)
    )
    runs = [(0, vanilla), (0, conner)]
    seed_grid.print_estimate(runs, settings, ["de"], reports, [reuse], reuse)
    # Only ConNER trains (100 steps at 3 s and its test); vanilla's report is copied.
    out = capsys.readouterr().out
    assert "1 of 2 runs left (1 more to copy from" in out and "about 0.1 h" in out
    seed_grid.print_estimate(runs[:1], settings, ["de"], reports, [reuse], reuse)
    assert "0 of 1 runs left to train (1 more to copy from" in capsys.readouterr().out
    # Without --reuse both train.
    seed_grid.print_estimate(runs, settings, ["de"], reports, [reuse])
    assert "2 of 2 runs left: about 0.1 h" in capsys.readouterr().out
