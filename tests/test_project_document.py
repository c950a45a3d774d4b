"""The README's command, workflow and asset tables are what `weasel document` writes from project.yml."""
import shutil
from pathlib import Path

from weasel.cli.document import MARKER_END, MARKER_START, project_document

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def regenerated(tmp_path: Path) -> str:
    """The README as `python -m weasel document . --output README.md` would leave it."""
    copy = tmp_path / "README.md"
    shutil.copy(README, copy)
    project_document(ROOT, copy)
    return copy.read_text(encoding="utf8")


def test_the_readme_block_is_current(tmp_path):
    readme = README.read_text(encoding="utf8")
    start, end = MARKER_START.format(tag="WEASEL"), MARKER_END.format(tag="WEASEL")
    assert readme.count(start) == 1 and readme.count(end) == 1, "README.md lost weasel's markers"
    assert readme == regenerated(tmp_path), (
        "README.md's project tables are out of date with project.yml: "
        "run `python -m weasel document . --output README.md`"
    )


def test_the_block_lists_every_command_and_workflow():
    import srsly

    project = srsly.read_yaml(ROOT / "project.yml")
    readme = README.read_text(encoding="utf8")
    block = readme[readme.index(MARKER_START.format(tag="WEASEL")):]
    for command in project["commands"]:
        assert f"| `{command['name']}` |" in block, command["name"]
    for workflow in project["workflows"]:
        assert f"| `{workflow}` |" in block, workflow


def test_a_changed_help_string_makes_the_block_stale(tmp_path):
    """The check compares with project.yml, so it can fail: a help string edited there shows up."""
    project = tmp_path / "project"
    project.mkdir()
    text = (ROOT / "project.yml").read_text(encoding="utf8")
    old = 'help: "Write docs/RESULTS.md'
    assert text.count(old) == 1
    (project / "project.yml").write_text(text.replace(old, 'help: "Rewrite docs/RESULTS.md'), encoding="utf8")
    copy = project / "README.md"
    shutil.copy(README, copy)
    project_document(project, copy)
    assert copy.read_text(encoding="utf8") != README.read_text(encoding="utf8")
    assert "Rewrite docs/RESULTS.md" in copy.read_text(encoding="utf8")
