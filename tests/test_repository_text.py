"""The repository's text speaks to its users, not about how it was developed.

Every text file that git tracks (or would add) is scanned for words that only
make sense to the people who built it: rounds of development, issue numbers,
the machines it ran on and their paths. History belongs in git.
"""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each pattern finds, and the pattern.
PATTERNS = [
    ("a round of development", re.compile(r"\bsessions?\s+\d+\b", re.I)),
    ("an issue number", re.compile(r"\bissues?\s*#?\d+\b", re.I)),
    # Some patterns are written in pieces so that this file does not say what it finds.
    ("the machine it was developed on", re.compile(r"\bdevice (?:machine|tool)s?\b", re.I)),
    ("machines on loan", re.compile(r"\b(?:le" r"nt|le" r"nding)\b", re.I)),
    ("a day of development", re.compile(r"\btoday['’]s\b", re.I)),
    ("a path on the developers' machines", re.compile(r"(?<![\w.])/wo" r"rk/")),
    ("a path beside the developers' checkout", re.compile(r"\.\./shared/")),
]
# The CI script runs beside the data mirror that it names.
ALLOWED = {(".ci/run", "a path beside the developers' checkout")}


def findings(path: str, text: str) -> List[Tuple[str, int, str, str]]:
    """(path, line, match, what) for every development word in ``text``."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for what, pattern in PATTERNS:
            if (path, what) in ALLOWED:
                continue
            for match in pattern.finditer(line):
                found.append((path, number, match.group(0), what))
    return found


def repository_files() -> Iterable[str]:
    """Tracked files, and new files git would add (ignored ones excluded)."""
    result = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return sorted({name for name in result.stdout.decode("utf8").split("\0") if name})


def read_text(path: Path):
    """The file's text, or None for a binary or deleted file."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf8")
    except UnicodeDecodeError:
        return None


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout"
)
def test_no_tracked_file_speaks_of_how_the_project_was_developed():
    found = []
    scanned = 0
    for name in repository_files():
        text = read_text(ROOT / name)
        if text is None:
            continue
        scanned += 1
        found.extend(findings(name, text))
    assert scanned > 50  # the scan saw the repository, not an empty list
    report = "\n".join(f"{path}:{line}: {match!r} ({what})" for path, line, match, what in found)
    assert not found, (
        f"Tracked files speak to users, not about the project's development:\n{report}"
    )


@pytest.mark.parametrize(
    "text, what",
    [
        # Each sample in two pieces, so that this file does not say them itself.
        ("Sess" + "ion 3 trained them with batch size 64.", "a round of development"),
        ("The dev grid (iss" + "ue 8).", "an issue number"),
        ("Fixed in iss" + "ue #12.", "an issue number"),
        ("on the dev" + "ice machine", "the machine it was developed on"),
        ("the time le" + "nt to us", "machines on loan"),
        ("toda" + "y's ConNER", "a day of development"),
        ("--vars.asset_base=/wo" + "rk/shared/assets/github", "a path on the developers' machines"),
        ("[ConNER](../sha" + "red/docs/)", "a path beside the developers' checkout"),
    ],
)
def test_the_scanner_finds_each_kind(text, what):
    assert [f[3] for f in findings("README.md", "intro\n" + text)] == [what]
    assert findings("README.md", "intro\n" + text)[0][1] == 2


@pytest.mark.parametrize(
    "text",
    [
        '@pytest.fixture(scope="session")',
        "The president spoke today in Buenos Aires.",
        "see docs/RESULTS.md and reports/test.md",
        "python -m spacy project run all . --vars.asset_base=/path/to/mirror",
        "a fixed sample of 300 pairs, seed 0",
    ],
)
def test_the_scanner_leaves_ordinary_text_alone(text):
    assert findings("README.md", text) == []


def test_the_ci_script_may_name_its_data_mirror():
    line = "python -m spacy project run smoke . --vars.asset_base=../sha" + "red/assets/github"
    assert findings(".ci/run", line) == []
    assert findings("README.md", line) != []
