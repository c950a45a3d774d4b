"""conner report --by-set: one table per test set, differences paired by seed."""

import math
import statistics

from seed_reports import seed_reports, write_seed_reports
from typer.testing import CliRunner

from conner.cli import app
from conner.runs.set_tables import set_tables

SCORES = {  # system -> seed -> test set -> F1 in %
    "vanilla": {
        0: {"eu": 50.0, "de": 60.0},
        1: {"eu": 52.0, "de": 61.0},
        2: {"eu": 51.0, "de": 59.0},
    },
    "conner-eu": {
        0: {"eu": 54.0, "de": 60.5},
        1: {"eu": 55.0, "de": 60.0},
        2: {"eu": 56.0, "de": 59.5},
    },
    "pooled-no-eu": {0: {"eu": 49.0}, 2: {"eu": 50.5}},
}


def reports():
    return seed_reports(SCORES)


def rows(text, heading):
    """The table rows under ``### heading``, as lists of cells."""
    section = text.split(f"### {heading}\n\n")[1].split("\n\n")[0]
    return {
        cells[0]: cells[1:]
        for cells in (
            [c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()[2:]
        )
    }


def test_each_set_has_its_own_table_in_the_order_asked():
    text = set_tables(reports(), "vanilla", ["eu", "de"])
    assert text.index("### eu") < text.index("### de")
    assert set(rows(text, "eu")) == {"vanilla", "conner-eu", "pooled-no-eu"}
    # A system without a score on a set has no row there.
    assert set(rows(text, "de")) == {"vanilla", "conner-eu"}


def test_rows_pair_seeds_and_give_t():
    eu = rows(set_tables(reports(), "vanilla", ["eu"]), "eu")
    diffs = [4.0, 3.0, 5.0]
    t = statistics.mean(diffs) / (statistics.stdev(diffs) / math.sqrt(3))
    assert eu["conner-eu"] == [
        "0,1,2",
        f"55.00 ± {statistics.stdev([54.0, 55.0, 56.0]):.2f}",
        f"+4.00 ± {statistics.stdev(diffs):.2f}",
        f"{t:.2f} (2)",
    ]
    # Only the seeds both ran are paired: 0 and 2 (-1.0 and -0.5).
    assert eu["pooled-no-eu"][0] == "0,2"
    assert eu["pooled-no-eu"][2] == f"-0.75 ± {statistics.stdev([-1.0, -0.5]):.2f}"
    assert eu["vanilla"][2:] == ["", ""]


def test_report_cli_writes_the_per_set_tables(tmp_path):
    folder = write_seed_reports(tmp_path / "reports", reports())
    out = tmp_path / "table.md"
    runner = CliRunner()
    result = runner.invoke(
        app, ["report", str(folder), "-o", str(out), "--baseline", "vanilla", "--by-set", "de,eu"]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "## Per test set" in text and text.index("### de") < text.index("### eu")
    result = runner.invoke(app, ["report", str(folder), "-o", str(out), "--by-set", "eu"])
    assert result.exit_code != 0 and "--by-set needs --baseline" in result.output
    result = runner.invoke(
        app, ["report", str(folder), "-o", str(out), "--baseline", "nobody", "--by-set", "eu"]
    )
    assert result.exit_code != 0 and "no report of the baseline 'nobody'" in result.output
