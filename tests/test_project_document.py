"""The READMEs' command, workflow and asset tables are what `weasel document`
writes from project.yml: the main project's in README.md, the research
grids' in experiments/README.md."""

import shutil
from pathlib import Path

import pytest
import srsly
from weasel.cli.document import MARKER_END, MARKER_START, project_document

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# (project folder, its README, the command that writes the README's block)
PROJECTS = [
    (ROOT, README, "python -m weasel document . --output README.md"),
    (
        ROOT / "experiments",
        ROOT / "experiments" / "README.md",
        "python -m weasel document experiments --output experiments/README.md",
    ),
]


def regenerated(project: Path, readme: Path, tmp_path: Path) -> str:
    """The README as `python -m weasel document` would leave it."""
    copy = tmp_path / "README.md"
    shutil.copy(readme, copy)
    project_document(project, copy)
    return copy.read_text(encoding="utf8")


@pytest.mark.parametrize("project, readme, command", PROJECTS)
def test_the_readme_block_is_current(tmp_path, project, readme, command):
    text = readme.read_text(encoding="utf8")
    start, end = MARKER_START.format(tag="WEASEL"), MARKER_END.format(tag="WEASEL")
    assert text.count(start) == 1 and text.count(end) == 1, f"{readme.name} lost weasel's markers"
    assert text == regenerated(project, readme, tmp_path), (
        f"{readme.relative_to(ROOT)}'s project tables are out of date with project.yml: run `{command}`"
    )


@pytest.mark.parametrize("project, readme, command", PROJECTS)
def test_the_block_lists_every_command_and_workflow(project, readme, command):
    config = srsly.read_yaml(project / "project.yml")
    text = readme.read_text(encoding="utf8")
    block = text[text.index(MARKER_START.format(tag="WEASEL")) :]
    for entry in config["commands"]:
        assert f"| `{entry['name']}` |" in block, entry["name"]
    for workflow in config["workflows"]:
        assert f"| `{workflow}` |" in block, workflow


def test_a_changed_help_string_makes_the_block_stale(tmp_path):
    """The check compares with project.yml, so it can fail: a help string edited there shows up."""
    project = tmp_path / "project"
    project.mkdir()
    text = (ROOT / "project.yml").read_text(encoding="utf8")
    old = 'help: "Write docs/RESULTS.md'
    assert text.count(old) == 1
    (project / "project.yml").write_text(
        text.replace(old, 'help: "Rewrite docs/RESULTS.md'), encoding="utf8"
    )
    copy = project / "README.md"
    shutil.copy(README, copy)
    project_document(project, copy)
    assert copy.read_text(encoding="utf8") != README.read_text(encoding="utf8")
    assert "Rewrite docs/RESULTS.md" in copy.read_text(encoding="utf8")
