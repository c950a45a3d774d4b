"""conner report --goal: a goal on a difference paired by seed, met or short by how much."""

import statistics

import pytest
from seed_reports import seed_reports, write_seed_reports
from typer.testing import CliRunner

from conner.cli import app
from conner.runs.goals import Goal, goals_table, parse_goal

SCORES = {  # system -> seed -> test set -> F1 in %
    "vanilla": {0: {"eu": 50.0, "hr": 60.0}, 1: {"eu": 52.0, "hr": 61.0}, 2: {"eu": 51.0}},
    "conner-eu": {0: {"eu": 54.0, "hr": 60.5}, 1: {"eu": 55.5}, 2: {"eu": 54.5}},
    "pooled-no-eu": {0: {"eu": 49.0}, 2: {"eu": 50.5}},
}


def reports():
    return seed_reports(SCORES)


def goal_rows(text):
    """The goals table's rows as lists of cells, keyed by (system, set)."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()[2:]]
    return {(cells[0], cells[1]): cells[2:] for cells in rows}


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("conner-eu16:eu>=3", Goal("conner-eu16", "eu", 3.0)),
        ("pooled-no-eu:eu>=-0.5", Goal("pooled-no-eu", "eu", -0.5)),
        (" a:hr_dev>=+1.25 ", Goal("a", "hr_dev", 1.25)),
    ],
)
def test_parse_goal(spec, expected):
    assert parse_goal(spec) == expected


@pytest.mark.parametrize("spec", ["conner-eu16:eu", "conner-eu16>=3", "a:eu>3", "a:eu>=three", ""])
def test_parse_goal_names_the_form(spec):
    with pytest.raises(ValueError, match="SYSTEM:SET>=DELTA"):
        parse_goal(spec)


def test_a_goal_met_and_a_goal_missed_by_how_much():
    text = goals_table(
        reports(), "vanilla", [Goal("conner-eu", "eu", 3.0), Goal("pooled-no-eu", "eu", -0.5)]
    )
    rows = goal_rows(text)
    diffs = [4.0, 3.5, 3.5]
    assert rows[("conner-eu", "eu")] == [
        "Δ ≥ +3.00",
        "0,1,2",
        f"+3.67 ± {statistics.stdev(diffs):.2f}",
        "yes",
        "–",
    ]
    # Seeds 0 and 2 only: -1.0 and -0.5, mean -0.75, 0.25 short of -0.5.
    assert rows[("pooled-no-eu", "eu")][1:] == [
        "0,2",
        f"-0.75 ± {statistics.stdev([-1.0, -0.5]):.2f}",
        "no",
        "0.25",
    ]


def test_only_seeds_with_the_set_on_both_sides_are_paired():
    rows = goal_rows(goals_table(reports(), "vanilla", [Goal("conner-eu", "hr", 1.0)]))
    # hr: seed 0 on both sides (+0.5); seed 1 lacks hr for conner-eu.
    assert rows[("conner-eu", "hr")][1:] == ["0", "+0.50", "no", "0.50"]


def test_a_goal_exactly_reached_is_met():
    rows = goal_rows(goals_table(reports(), "vanilla", [Goal("pooled-no-eu", "eu", -0.75)]))
    assert rows[("pooled-no-eu", "eu")][-2:] == ["yes", "–"]


@pytest.mark.parametrize(
    "goal,message",
    [
        (Goal("conner-hr", "eu", 3.0), "no report of 'conner-hr'"),
        (Goal("pooled-no-eu", "hr", -0.5), "no seed with a 'hr' score"),
    ],
)
def test_a_goal_without_scores_is_an_error_not_a_silent_row(goal, message):
    with pytest.raises(ValueError, match=message):
        goals_table(reports(), "vanilla", [goal])


def test_report_cli_writes_goals_after_the_main_table(tmp_path):
    folder = write_seed_reports(tmp_path / "reports", reports())
    out = tmp_path / "table.md"
    args = ["report", str(folder), "-o", str(out), "--baseline", "vanilla", "--by-set", "eu"]
    goals = ["--goal", "conner-eu:eu>=3", "--goal", "pooled-no-eu:eu>=-0.5"]
    result = CliRunner().invoke(app, args + goals)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf8")
    assert text.index("## Goals") < text.index("## Per test set")
    section = text.split("## Goals\n\n")[1].split("\n\n")[0]
    assert goal_rows(section)[("pooled-no-eu", "eu")][-2:] == ["no", "0.25"]


def test_report_cli_refuses_a_goal_without_baseline_or_of_bad_form(tmp_path):
    folder = write_seed_reports(tmp_path / "reports", reports()[:1])
    out = tmp_path / "table.md"
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(folder), "-o", str(out), "--goal", "a:eu>=1"])
    assert result.exit_code != 0 and "--goal needs --baseline" in result.output
    bad = ["report", str(folder), "-o", str(out), "--baseline", "vanilla", "--goal", "a:eu"]
    result = runner.invoke(app, bad)
    assert result.exit_code != 0 and "SYSTEM:SET>=DELTA" in result.output
    assert not out.exists()
