"""Run every fuzz test with many generated inputs and count what happened.

Runs the tests marked ``fuzz`` (tests/test_fuzz_readers.py: one test per
reader; tests/test_fuzz_commands.py: one per command) under hypothesis'
"fuzz" profile (tests/conftest.py) instead of the suite's small "ci" one,
with hypothesis' statistics on, and prints one row per test: how many inputs
it tried and how many of them raised (an unexpected exception or a broken
promise, which pytest shows with its traceback; 0 expected), as hypothesis
counts them. Inputs are drawn afresh on every run.

    python scripts/fuzz.py                      # 1000 inputs per test
    python scripts/fuzz.py --examples 200 -k jsonl

Extra arguments go to pytest. The exit code is pytest's: 0 when every fuzz
test passed.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import typer

ROOT = Path(__file__).resolve().parent.parent
# Hypothesis' statistics: a "tests/x.py::test_y[param]:" header, then per
# phase "- N passing examples, M failing examples, K invalid examples".
HEADER = re.compile(r"^(\S+::\S+):$")
COUNTS = re.compile(r"- (\d+) passing examples?, (\d+) failing examples?, (\d+) invalid examples?")
DISTINCT = re.compile(r"Found (\d+) distinct errors?")
# pytest -rA's short summary: "PASSED tests/x.py::test_y[param]".
OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\s+(\S+::\S+)")


@dataclass
class TestCounts:
    """What hypothesis reported for one test, over all its phases."""

    passing: int = 0
    failing: int = 0
    invalid: int = 0
    distinct_errors: int = 0
    outcome: str = "?"

    @property
    def tried(self) -> int:
        """Inputs the test body ran on (invalid ones were rejected before it)."""
        return self.passing + self.failing


def parse_output(output: str) -> Dict[str, TestCounts]:
    """Counts per test id from pytest's output with ``--hypothesis-show-statistics -rA``."""
    tests: Dict[str, TestCounts] = {}
    current = None
    for line in output.splitlines():
        header = HEADER.match(line.strip())
        if header:
            current = tests.setdefault(header.group(1), TestCounts())
            continue
        counts = COUNTS.search(line)
        if counts and current is not None:
            current.passing += int(counts.group(1))
            current.failing += int(counts.group(2))
            current.invalid += int(counts.group(3))
            continue
        distinct = DISTINCT.search(line)
        if distinct and current is not None:
            current.distinct_errors += int(distinct.group(1))
            continue
        outcome = OUTCOME.match(line.strip())
        if outcome:
            tests.setdefault(outcome.group(2), TestCounts()).outcome = outcome.group(1)
    return tests


def table(tests: Dict[str, TestCounts]) -> List[str]:
    """One line per test, in name order, and a total line."""
    width = max([len(name) for name in tests] + [4])
    rows = [
        f"{'test':<{width}}  {'tried':>7}  {'tracebacks':>10}  {'errors':>6}  {'invalid':>7}  outcome"
    ]
    for name, counts in sorted(tests.items()):
        rows.append(
            f"{name:<{width}}  {counts.tried:>7}  {counts.failing:>10}  {counts.distinct_errors:>6}  "
            f"{counts.invalid:>7}  {counts.outcome}"
        )
    tried = sum(c.tried for c in tests.values())
    failing = sum(c.failing for c in tests.values())
    rows.append(f"{'total':<{width}}  {tried:>7}  {failing:>10}")
    return rows


def markdown_table(tests: Dict[str, TestCounts], examples: int) -> str:
    """The counts as a markdown page for the results (``--output``)."""
    lines = [
        "# Fuzz suite: generated inputs per reader and command",
        "",
        f"`python scripts/fuzz.py --examples {examples}`: hypothesis profile 'fuzz', up to {examples} inputs per "
        "test; each must end in a valid output or a one-line error naming the file and line (or the option), "
        "never a traceback or a partial output. Tracebacks: inputs that raised anything else.",
        "",
        "| test | inputs tried | tracebacks | invalid (rejected by the generator) | outcome |",
        "|---|---|---|---|---|",
    ]
    for name, counts in sorted(tests.items()):
        lines.append(
            f"| {name.split('::', 1)[-1]} | {counts.tried} | {counts.failing} | {counts.invalid} | "
            f"{counts.outcome} |"
        )
    lines.append(
        f"| total | {sum(c.tried for c in tests.values())} | "
        f"{sum(c.failing for c in tests.values())} | | |"
    )
    return "\n".join(lines) + "\n"


def run_pytest(examples: int, pytest_args: List[str]) -> Tuple[int, str]:
    """Run the fuzz tests, echoing pytest's output as it comes; (exit code, output)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "-m",
        "fuzz",
        "-q",
        "-rA",
        "--hypothesis-show-statistics",
        *pytest_args,
    ]
    env = {**os.environ, "HYPOTHESIS_PROFILE": "fuzz", "CONNER_FUZZ_EXAMPLES": str(examples)}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return process.wait(), "".join(lines)


def main(
    ctx: typer.Context,
    examples: int = typer.Option(1000, "--examples", min=1, help="Inputs per test"),
    markdown: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Also write the counts as a markdown table"
    ),
) -> None:
    """Fuzz every reader and command; print inputs tried and tracebacks per test."""
    code, output = run_pytest(examples, list(ctx.args))
    tests = parse_output(output)
    print()
    if not tests:
        print("no fuzz test ran (pytest exit code {code})".format(code=code))
    else:
        print(
            f"Fuzz tests, profile 'fuzz', up to {examples} inputs each ('tracebacks': inputs that raised):"
        )
        print("\n".join(table(tests)))
        if markdown is not None:
            markdown.parent.mkdir(parents=True, exist_ok=True)
            markdown.write_text(markdown_table(tests, examples), encoding="utf8")
    raise typer.Exit(code)


if __name__ == "__main__":
    app = typer.Typer(add_completion=False)
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(main)
    app()
