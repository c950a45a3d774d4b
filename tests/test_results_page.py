"""docs/RESULTS.md is written by ``conner results-page`` from docs/results.yml and reports/."""

import re
from pathlib import Path

import pytest
import srsly

from conner.cli import app, results_page
from conner.runs.reports import seeds_table

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ROOT / "docs" / "results.yml"
PAGE = ROOT / "docs" / "RESULTS.md"


def test_the_results_page_is_current():
    expected = results_page.render_page(SECTIONS, ROOT)
    assert PAGE.read_text(encoding="utf8") == expected, (
        "docs/RESULTS.md is out of date with docs/results.yml or reports/: "
        "run `python -m spacy project run results-page`"
    )


def test_every_table_of_the_page_comes_from_a_listed_report():
    page = PAGE.read_text(encoding="utf8")
    embedded = [s for s in srsly.read_yaml(SECTIONS)["sections"] if "table" in s]
    assert embedded
    for section in embedded:
        table = (ROOT / section["table"]).read_text(encoding="utf8")
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        assert rows and all(row in page for row in rows), section["title"]
        assert f"## {section['title']}" in page and section["command"].splitlines()[0] in page


def report(system, seed, scores):
    results = {
        name: {"p": f, "r": f, "f": f, "per_type": {}, "sentences": 10}
        for name, f in scores.items()
    }
    return {
        "system": system,
        "protocol": {"seed": seed, "encoder": "e", "max_steps": 3},
        "results": results,
    }


def write_list(path: Path, sections) -> Path:
    srsly.write_yaml(path, {"title": "Results", "intro": "Zero-shot F1.", "sections": sections})
    return path


def test_adding_a_table_is_one_entry(tmp_path):
    folder = tmp_path / "reports" / "sizes"
    folder.mkdir(parents=True)
    runs = [
        report("vanilla", 0, {"de": 0.5, "es": 0.6}),
        report("vanilla", 1, {"de": 0.52, "es": 0.62}),
        report("conner", 0, {"de": 0.55, "es": 0.6}),
        report("conner", 1, {"de": 0.56, "es": 0.61}),
    ]
    for run in runs:
        srsly.write_json(folder / f"{run['system']}-seed{run['protocol']['seed']}.json", run)
    sections = write_list(
        tmp_path / "results.yml",
        [
            {
                "title": "All of English train",
                "reports": ["reports/sizes"],
                "baseline": "vanilla",
                "protocol": "Full English train, 1 epoch.",
                "command": "python -m spacy project run table1",
                "note": "Only the data size differs from the table above.",
            }
        ],
    )
    page = results_page.render_page(sections, tmp_path)
    assert "- [All of English train](#all-of-english-train)" in page
    assert "## All of English train\n\n**Protocol.** Full English train, 1 epoch." in page
    assert "**Command.** `python -m spacy project run table1`" in page
    assert "Only the data size differs from the table above." in page
    assert seeds_table(runs, "vanilla") in page
    assert "training seeds 0,1" in page


def test_an_embedded_report_keeps_its_tables_under_the_section(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "t.md").write_text(
        "# Old title\n\nencoder e; 3 steps\n\n| system | de |\n|---|---|\n| vanilla | 50.00 |\n\n## Span distributions\n\n| a |\n",
        encoding="utf8",
    )
    sections = write_list(
        tmp_path / "results.yml",
        [
            {
                "title": "T",
                "table": "reports/t.md",
                "protocol": "P.",
                "command": "c\nd",
                "systems": {"vanilla": "the baseline"},
            }
        ],
    )
    page = results_page.render_page(sections, tmp_path)
    assert "Old title" not in page and "Recorded protocol: encoder e; 3 steps" in page
    assert "#### Span distributions" in page and "| vanilla | 50.00 |" in page
    assert "```bash\nc\nd\n```" in page and "| `vanilla` | the baseline |" in page


def test_the_legend_describes_only_systems_with_a_row(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "t.md").write_text(
        "| system | ours vanilla | ours system |\n|---|---|---|\n| conner | 50.00 | 51.00 |\n",
        encoding="utf8",
    )
    section = {
        "title": "T",
        "table": "reports/t.md",
        "protocol": "P.",
        "command": "c",
        "systems": {
            "vanilla": "the baseline",
            "conner": "ConNER",
            "conner-eu4": "four pairs a step",
        },
    }
    page = results_page.render_page(write_list(tmp_path / "results.yml", [section]), tmp_path)
    assert "| `vanilla` | the baseline |" in page and "| `conner` | ConNER |" in page
    assert "four pairs a step" not in page
    assert "In the grid but not trained yet, so not in the table: `conner-eu4`." in page
    section["systems"] = {"conner-eu4": "four pairs a step"}
    page = results_page.render_page(write_list(tmp_path / "results.yml", [section]), tmp_path)
    assert "| System |" not in page and "not trained yet, so not in the table: `conner-eu4`" in page


@pytest.mark.parametrize(
    "section, message",
    [
        (
            {"title": "T", "table": "reports/none.md", "protocol": "P", "command": "c"},
            "section 'T': reports/none.md does not exist",
        ),
        (
            {"title": "T", "reports": ["reports/none"], "protocol": "P", "command": "c"},
            "none of reports/none holds an evaluation report",
        ),
        (
            {"title": "T", "table": "a.md", "reports": ["b"], "protocol": "P", "command": "c"},
            "give one of 'table'",
        ),
        ({"title": "T", "table": "a.md", "command": "c"}, "'protocol' is missing"),
        (
            {"title": "T", "table": "a.md", "protocol": "P", "command": "c", "dates": "x"},
            "unknown key dates",
        ),
    ],
)
def test_a_bad_section_stops_with_one_line_naming_it(tmp_path, section, message):
    sections = write_list(tmp_path / "results.yml", [section])
    output = tmp_path / "RESULTS.md"
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        app, ["results-page", str(sections), "-o", str(output), "--root", str(tmp_path)]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: {sections}") and message in line
    assert not output.exists()


NUMBERS = re.compile(r"[+\-−]?\d+\.\d\d ± \d+\.\d\d")


def readme_rows(prefix: str):
    """The README's table rows with mean ± std cells whose first cell starts with ``prefix``."""
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    return [
        line
        for line in readme.splitlines()
        if line.startswith(f"| {prefix}") and NUMBERS.search(line)
    ]


def test_the_readme_headline_rows_are_those_of_the_test_table():
    """The README's results table copies rows of reports/test.md: a new draw there must reach it."""
    table = (ROOT / "reports" / "test.md").read_text(encoding="utf8")
    headline = [row for row in readme_rows("") if not row.startswith("| `")]
    headline += readme_rows("`all`")
    assert len(headline) >= 4
    for line in headline:
        name = line.split("|")[1].strip().strip("`*")
        if name.startswith("all`"):  # the quick start's `all` row: its conner-google
            name = "conner"
        source = next((row for row in table.splitlines() if row.startswith(f"| {name} |")), None)
        assert source is not None, f"README row {name!r} is not a row of reports/test.md"
        assert NUMBERS.findall(line) == NUMBERS.findall(source), (
            f"README row {name!r} differs from reports/test.md"
        )


def test_the_readme_release_row_is_table_1s_conner():
    """The quick start's release row copies Table 1's ConNER cells (de, es, nl, en, avg)."""
    (line,) = readme_rows("`release`")
    table = (ROOT / "reports" / "table1.md").read_text(encoding="utf8")
    cells = {}
    for row in table.splitlines():
        parts = [cell.strip() for cell in row.split("|")[1:-1]]
        if len(parts) > 6 and parts[0] == "conner":
            cells[parts[1]] = parts[6]  # "ours system"
    assert NUMBERS.findall(line) == [cells[lang] for lang in ("de", "es", "nl", "en", "avg")]
