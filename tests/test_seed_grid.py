"""The multi-seed grid: system specs, protocol matching, reuse of finished runs."""

import os
from pathlib import Path

import pytest
import srsly
import typer
from spacy.util import load_config
from weasel.util import parse_config_overrides

from conner.cli.seed_grid import seed_grid_cli
from conner.runs import seed_grid
from conner.runs.seed_grid import expected_protocol, find_reusable, parse_systems
from conner.runs.training_command import System, read_grid, train_command

SETTINGS = dict(
    train="corpus/en_train.spacy",
    dev="corpus/en_dev_sample.spacy",
    encoder="encoders/e5-small",
    max_steps=300,
    eval_frequency=100,
    pairs_per_batch=4,
    alpha=0.5,
    beta=0.5,
    gpu_id=-1,
)


def test_systems_are_vanilla_or_conner_on_pairs():
    assert parse_systems(["vanilla=", "conner=corpus/pairs/google"]) == [
        System("vanilla", None),
        System("conner", "corpus/pairs/google"),
    ]
    with pytest.raises(typer.BadParameter):
        parse_systems(["no-equals-sign"])
    with pytest.raises(typer.BadParameter):
        parse_systems(["a=", "a=x"])


def test_train_command_switches_consistency_off_for_vanilla_only():
    vanilla = train_command(Path("c.cfg"), Path("out"), SETTINGS, 1, System("v", None))
    conner = train_command(
        Path("c.cfg"), Path("out"), SETTINGS, 1, System("c", "corpus/pairs/google")
    )
    assert (
        vanilla[vanilla.index("--consistency.alpha") + 1] == "0" and "--paths.pairs" not in vanilla
    )
    assert conner[conner.index("--paths.pairs") + 1] == "corpus/pairs/google"
    assert conner[conner.index("--consistency.beta") + 1] == "0.5"
    assert conner[conner.index("--system.seed") + 1] == "1"


def test_only_a_report_with_the_same_protocol_is_reused(tmp_path):
    protocol = expected_protocol(SETTINGS, 0, System("conner", "corpus/pairs/es-apertium"))
    recorded = {**protocol, "pairs_per_batch": 4}
    srsly.write_json(
        tmp_path / "other-steps.json",
        {
            "system": "conner",
            "protocol": {**recorded, "max_steps": 600},
            "results": {"de": {}, "es": {}, "nl": {}},
        },
    )
    srsly.write_json(
        tmp_path / "other-seed.json",
        {
            "system": "conner",
            "protocol": {**recorded, "seed": 1},
            "results": {"de": {}, "es": {}, "nl": {}},
        },
    )
    assert find_reusable(tmp_path, "conner", protocol, ["de", "es", "nl"]) is None
    srsly.write_json(
        tmp_path / "match.json",
        {
            "system": "conner",
            "protocol": recorded,
            "results": {"de": {}, "es": {}, "nl": {}, "en": {}},
        },
    )
    assert (
        find_reusable(tmp_path, "conner", protocol, ["de", "es", "nl"]) == tmp_path / "match.json"
    )
    assert find_reusable(tmp_path, "vanilla", protocol, ["de"]) is None
    # A report lacking a test set does not stand in for a full evaluation.
    assert find_reusable(tmp_path, "conner", protocol, ["de", "fr"]) is None


def test_vanilla_protocol_ignores_the_pairs_batch_size():
    protocol = expected_protocol(SETTINGS, 2, System("vanilla", None))
    assert protocol["alpha"] == protocol["beta"] == 0.0 and protocol["pairs"] is None
    assert "pairs_per_batch" not in protocol


def test_grid_file_systems_override_the_shared_settings(tmp_path):
    grid = tmp_path / "grid.yml"
    grid.write_text(
        "vanilla-learned:\n  components.conner.transitions: learned\n"
        "conner-es16:\n  paths.pairs: corpus/pairs_es.spacy\n  training.batcher.pairs_per_batch: 16\n"
        "  consistency.alpha: 0.125\n",
        encoding="utf8",
    )
    vanilla, conner = read_grid(grid)
    assert vanilla.pairs is None and conner.pairs == "corpus/pairs_es.spacy"
    v_cmd = train_command(Path("c.cfg"), Path("out"), SETTINGS, 0, vanilla)
    c_cmd = train_command(Path("c.cfg"), Path("out"), SETTINGS, 0, conner)
    assert v_cmd[v_cmd.index("--components.conner.transitions") + 1] == "learned"
    assert v_cmd[v_cmd.index("--consistency.beta") + 1] == "0"
    # The system's own values win over the shared settings, each key once.
    assert c_cmd[c_cmd.index("--training.batcher.pairs_per_batch") + 1] == "16"
    assert c_cmd.count("--training.batcher.pairs_per_batch") == 1
    assert c_cmd[c_cmd.index("--consistency.alpha") + 1] == "0.125"
    assert c_cmd[c_cmd.index("--consistency.beta") + 1] == "0.5"
    protocol = expected_protocol(SETTINGS, 0, conner)
    assert protocol["pairs_per_batch"] == 16 and protocol["alpha"] == 0.125


def test_grid_file_refuses_flag_style_keys_and_duplicates(tmp_path):
    grid = tmp_path / "grid.yml"
    grid.write_text("a:\n  --training.max_steps: 5\n", encoding="utf8")
    with pytest.raises(typer.BadParameter, match="without '--'"):
        read_grid(grid)
    grid.write_text("[1, 2]\n", encoding="utf8")
    with pytest.raises(typer.BadParameter, match="mapping"):
        read_grid(grid)


def test_a_report_with_other_overrides_is_not_reused(tmp_path):
    system = System("conner", "corpus/pairs/google", {"components.conner.transitions": "learned"})
    protocol = expected_protocol(SETTINGS, 0, system)
    srsly.write_json(
        tmp_path / "r.json", {"system": "conner", "protocol": protocol, "results": {"es": {}}}
    )
    assert find_reusable(tmp_path, "conner", protocol, ["es"], system.overrides) is None
    srsly.write_json(
        tmp_path / "r.json",
        {
            "system": "conner",
            "protocol": protocol,
            "results": {"es": {}},
            "overrides": system.overrides,
        },
    )
    assert (
        find_reusable(tmp_path, "conner", protocol, ["es"], system.overrides) == tmp_path / "r.json"
    )


def test_override_values_reach_spacy_as_json(tmp_path):
    grid = tmp_path / "grid.yml"
    grid.write_text(
        "unfrozen:\n  initialize.after_init.freeze: false\n  training.optimizer.learn_rate.initial_rate: 0.00002\n",
        encoding="utf8",
    )
    (system,) = read_grid(grid)
    cmd = train_command(Path("c.cfg"), Path("out"), SETTINGS, 0, system)
    assert cmd[cmd.index("--initialize.after_init.freeze") + 1] == "false"
    overrides = parse_config_overrides(cmd[cmd.index("--initialize.after_init.freeze") :])
    assert overrides["initialize.after_init.freeze"] is False
    assert overrides["training.optimizer.learn_rate.initial_rate"] == 2e-05


def _fake_run(calls, fail=(), config=None):
    """Stand-in for seed_grid._run: 'trains' by creating model-best (with
    the config.cfg spaCy would save, given ``config``) and 'evaluates' by
    writing the partial report; fails for systems in ``fail``."""

    def run(cmd, log):
        calls.append((cmd, log))
        if "train" in cmd:
            output = Path(cmd[cmd.index("--output") + 1])
            if any(output.name.startswith(f"{name}-seed") for name in fail):
                raise RuntimeError(f"spacy train failed; see {log}")
            (output / "model-best").mkdir(parents=True)
            if config is not None:
                args = cmd[cmd.index("--output") + 2 :]
                del args[args.index("--gpu-id") : args.index("--gpu-id") + 2]
                load_config(config, overrides=parse_config_overrides(args)).to_disk(
                    output / "model-best" / "config.cfg"
                )
        else:
            name = cmd[cmd.index("--system") + 1]
            srsly.write_json(
                cmd[cmd.index("--output") + 1], {"system": name, "results": {"x": {"f": 0.5}}}
            )

    return run


@pytest.mark.parametrize("workers", [1, 3])
def test_every_run_gets_a_report_in_order_and_logs_go_to_files_when_parallel(
    tmp_path, monkeypatch, workers
):
    calls = []
    monkeypatch.setattr(seed_grid, "_run", _fake_run(calls))
    seed_grid_cli(
        Path("c.cfg"),
        seeds="0,1",
        system=["vanilla=", "conner=p"],
        grid=None,
        only=[],
        test=["x=t.spacy"],
        train="t",
        dev="d",
        encoder="e",
        max_steps=3,
        eval_frequency=1,
        pairs_per_batch=4,
        alpha=0.5,
        beta=0.5,
        gpu_id=-1,
        workers=workers,
        reuse=None,
        diagnostic_pairs=None,
        training_dir=tmp_path / "training",
        reports_dir=tmp_path / "reports",
    )
    reports = sorted(p.name for p in (tmp_path / "reports").glob("*.json"))
    assert reports == [
        "conner-seed0.json",
        "conner-seed1.json",
        "vanilla-seed0.json",
        "vanilla-seed1.json",
    ]
    assert all((tmp_path / "training" / name[:-5] / "trained.json").exists() for name in reports)
    trainings = [cmd for cmd, _ in calls if "train" in cmd]
    # Runs start seed by seed, so an interrupted grid has complete seeds first.
    assert [c[c.index("--system.seed") + 1] for c in trainings][:2] == ["0", "0"] or workers > 1
    assert all((log is None) == (workers == 1) for _, log in calls)
    calls.clear()  # a second call finds every report and does nothing
    seed_grid_cli(
        Path("c.cfg"),
        seeds="0,1",
        system=["vanilla=", "conner=p"],
        grid=None,
        only=[],
        test=["x=t.spacy"],
        train="t",
        dev="d",
        encoder="e",
        max_steps=3,
        eval_frequency=1,
        pairs_per_batch=4,
        alpha=0.5,
        beta=0.5,
        gpu_id=-1,
        workers=workers,
        reuse=None,
        diagnostic_pairs=None,
        training_dir=tmp_path / "training",
        reports_dir=tmp_path / "reports",
    )
    assert calls == []


def test_a_failed_parallel_run_does_not_stop_the_others(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(seed_grid, "_run", _fake_run(calls, fail=("conner",)))
    with pytest.raises(SystemExit):
        seed_grid_cli(
            Path("c.cfg"),
            seeds="0,1",
            system=["vanilla=", "conner=p"],
            grid=None,
            only=[],
            test=["x=t.spacy"],
            train="t",
            dev="d",
            encoder="e",
            max_steps=3,
            eval_frequency=1,
            pairs_per_batch=4,
            alpha=0.5,
            beta=0.5,
            gpu_id=-1,
            workers=2,
            reuse=None,
            diagnostic_pairs=None,
            training_dir=tmp_path / "training",
            reports_dir=tmp_path / "reports",
        )
    assert sorted(p.name for p in (tmp_path / "reports").glob("*.json")) == [
        "vanilla-seed0.json",
        "vanilla-seed1.json",
    ]
    assert not (tmp_path / "training" / "conner-seed0" / "trained.json").exists()


def test_only_runs_the_named_systems_and_names_an_unknown_one(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(seed_grid, "_run", _fake_run(calls))
    args = dict(
        seeds="1,2",
        system=["vanilla=", "conner=p", "other=q"],
        grid=None,
        test=["x=t.spacy"],
        train="t",
        dev="d",
        encoder="e",
        max_steps=3,
        eval_frequency=1,
        pairs_per_batch=4,
        alpha=0.5,
        beta=0.5,
        gpu_id=-1,
        workers=1,
        reuse=None,
        diagnostic_pairs=None,
        training_dir=tmp_path / "training",
        reports_dir=tmp_path / "reports",
    )
    seed_grid_cli(Path("c.cfg"), only=["conner", "vanilla"], **args)
    assert sorted(p.name for p in (tmp_path / "reports").glob("*.json")) == [
        "conner-seed1.json",
        "conner-seed2.json",
        "vanilla-seed1.json",
        "vanilla-seed2.json",
    ]
    with pytest.raises(typer.BadParameter, match="no system named typo"):
        seed_grid_cli(Path("c.cfg"), only=["conner", "typo"], **args)


def _one_vanilla_run(tmp_path) -> dict:
    """seed_grid_cli's arguments for vanilla, seed 0, under ``tmp_path``."""
    return dict(
        seeds="0",
        system=["vanilla="],
        grid=None,
        only=[],
        test=["x=t.spacy"],
        train="t",
        dev="d",
        encoder="e",
        max_steps=3,
        eval_frequency=1,
        pairs_per_batch=4,
        alpha=0.5,
        beta=0.5,
        gpu_id=-1,
        workers=1,
        reuse=None,
        diagnostic_pairs=None,
        training_dir=tmp_path / "training",
        reports_dir=tmp_path / "reports",
    )


def test_a_model_trained_under_another_config_is_trained_again(tmp_path, monkeypatch):
    """The trained.json marker alone does not make a model reusable: its
    saved config must still be what the config and overrides give."""
    config = tmp_path / "c.cfg"
    config.write_text(
        "[paths]\ntrain = null\ndev = null\nencoder = null\nloss_log = null\n\n[system]\nseed = 0\n\n"
        "[consistency]\nalpha = 0.5\nbeta = 0.5\n\n[nlp]\nbatch_size = 64\n\n"
        "[training]\nmax_steps = 1\neval_frequency = 1\n\n[training.batcher]\npairs_per_batch = 4\n",
        encoding="utf8",
    )
    calls = []
    monkeypatch.setattr(seed_grid, "_run", _fake_run(calls, config=config))
    trainings = lambda: sum("train" in cmd for cmd, _ in calls)  # noqa: E731
    seed_grid_cli(config, **_one_vanilla_run(tmp_path))
    assert trainings() == 1
    calls.clear()
    seed_grid_cli(config, **_one_vanilla_run(tmp_path))  # same config: nothing to do
    assert calls == []
    config.write_text(
        config.read_text(encoding="utf8").replace("batch_size = 64", "batch_size = 1000"),
        encoding="utf8",
    )
    seed_grid_cli(
        config, **_one_vanilla_run(tmp_path)
    )  # the config changed: train and evaluate again
    assert trainings() == 1 and len(calls) == 2
    trained = load_config(tmp_path / "training" / "vanilla-seed0" / "model-best" / "config.cfg")
    assert trained["nlp"]["batch_size"] == 1000


def test_a_report_older_than_its_model_is_evaluated_again(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(seed_grid, "_run", _fake_run(calls))
    seed_grid_cli(Path("c.cfg"), **_one_vanilla_run(tmp_path))
    report = tmp_path / "reports" / "vanilla-seed0.json"
    marker = tmp_path / "training" / "vanilla-seed0" / "trained.json"
    os.utime(report, (marker.stat().st_mtime - 60,) * 2)
    calls.clear()
    seed_grid_cli(Path("c.cfg"), **_one_vanilla_run(tmp_path))
    assert len(calls) == 1 and "train" not in calls[0][0]  # evaluated, not trained
    assert report.stat().st_mtime >= marker.stat().st_mtime
