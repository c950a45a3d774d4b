"""experiments/project.yml: the research grids run in the main project's
folders, with the main project's vars, and hand its steps to it."""

import os
import re
import shlex
from pathlib import Path

import srsly
from weasel.util import load_project_config, parse_config_overrides

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"
# The grids and workflows that moved out of the main project.
RESEARCH_COMMANDS = {
    "seed-grid",
    "report-seeds",
    "dev-grid",
    "report-grid",
    "long-dev-grid",
    "report-long-grid",
    "test-grid",
    "report-test",
    "alpha-beta-check",
    "languages-grid",
    "report-languages",
    "paper-grid",
    "report-paper",
    "convert-full",
    "check-paper",
    "train-baseline",
    "evaluate-baseline",
    "download-languages",
    "convert-languages",
    "chain-languages",
    "collect-pairs-languages",
    "own-languages-grid",
    "report-own-languages",
}
RESEARCH_WORKFLOWS = {
    "seeds",
    "grid",
    "long-grid",
    "test",
    "languages",
    "own-languages",
    "paper",
    "baseline",
}
NESTED = re.compile(r"^python -m weasel run (\S+) \.\. (.*)$")


def raw(folder: Path) -> dict:
    return srsly.read_yaml(folder / "project.yml")


def commands(config: dict) -> dict:
    return {command["name"]: command for command in config["commands"]}


def test_the_research_lives_in_experiments_only():
    main, experiments = commands(raw(ROOT)), commands(raw(EXPERIMENTS))
    assert RESEARCH_COMMANDS <= set(experiments) and not RESEARCH_COMMANDS & set(main)
    assert RESEARCH_WORKFLOWS == set(raw(EXPERIMENTS)["workflows"])
    assert not RESEARCH_WORKFLOWS & set(raw(ROOT)["workflows"])
    # A name in both projects is the main project's command, run there.
    for name in set(main) & set(experiments):
        (line,) = experiments[name]["script"]
        assert NESTED.match(line).group(1) == name


def test_the_folders_it_runs_in_are_the_main_projects():
    """Its commands run in experiments/, so the paths they name must lead to
    the main project's files: the same options, recorded protocols and
    reports as before the split."""
    for name in (
        "assets",
        "components",
        "configs",
        "corpus",
        "encoders",
        "reports",
        "scripts",
        "training",
    ):
        link = EXPERIMENTS / name
        assert link.is_symlink() and os.readlink(link) == f"../{name}", name
    for command in raw(EXPERIMENTS)["commands"]:
        for path in command.get("deps", []) + command.get("outputs", []):
            if "${" not in path:
                assert path.split("/")[0] in {
                    p.name for p in EXPERIMENTS.iterdir() if p.is_symlink()
                }, path


def test_shared_vars_have_the_main_projects_defaults():
    main, experiments = raw(ROOT)["vars"], raw(EXPERIMENTS)["vars"]
    shared = set(main) & set(experiments)
    assert {"encoder", "seed", "cpu_protocol", "test_sets", "chain", "target_lang"} <= shared
    for name in shared:
        assert experiments[name] == main[name], name


def test_each_handed_on_step_gets_the_vars_it_was_given():
    """main_vars passes every var the main project's steps read, and only
    vars it has; the values arrive as weasel reads them on a command line."""
    overrides = {
        "vars.seed": 3,
        "vars.gpu_id": 0,
        "vars.target_lang": "eu",
        "vars.translate_engine": "opus-mt",
        "vars.encoder": "x/y",
        "vars.asset_base": "/mirror",
    }
    experiments = load_project_config(EXPERIMENTS, overrides=overrides)
    main_vars = raw(ROOT)["vars"]
    handed = parse_config_overrides(shlex.split(experiments["vars"]["main_vars"]))
    assert set(handed) <= {f"vars.{name}" for name in main_vars}
    for key, value in overrides.items():
        assert handed[key] == value, key
    main = commands(load_project_config(ROOT, overrides=handed))
    nested = [
        NESTED.match(line) for command in experiments["commands"] for line in command["script"]
    ]
    for match in filter(None, nested):
        assert match.group(1) in main, match.group(1)
        assert shlex.split(match.group(2)) == shlex.split(experiments["vars"]["main_vars"])
    assert "--seed 3" in main["convert"]["script"][0] and "--lang eu" in main["check"]["script"][0]


def test_a_var_a_step_reads_is_handed_on():
    """A var of the main project that its handed-on steps use (directly or
    through another var) is in main_vars, or the steps would run with the
    main project's default instead of the experiments' value."""
    main, experiments = raw(ROOT), raw(EXPERIMENTS)
    handed = set(re.findall(r"--vars\.(\w+)=", experiments["vars"]["main_vars"]))
    used = set()
    steps = {
        NESTED.match(line).group(1)
        for c in experiments["commands"]
        for line in c["script"]
        if NESTED.match(line)
    }
    todo = [line for c in main["commands"] if c["name"] in steps for line in c["script"]]
    while todo:
        for name in re.findall(r"\$\{vars\.(\w+)\}", todo.pop()):
            if name not in used:
                used.add(name)
                todo.append(str(main["vars"][name]))
    # Derived vars follow from those handed on; the fractions are given to
    # the main project's convert directly (see experiments/project.yml).
    derived = {
        "chain",
        "cpu_protocol",
        "cpu_protocol_note",
        "test_sets",
        "dev_sample",
        "translate_src",
    }
    assert used - derived - {"train_fraction", "dev_fraction"} <= handed
