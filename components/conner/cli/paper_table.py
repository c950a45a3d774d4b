"""``conner paper-table``: our runs beside the paper's numbers, one markdown table per data size.

    conner paper-table --table table1 --group "100 %=reports/table1" \\
        --baseline vanilla -o reports/table1.md

See :mod:`conner.runs.paper_table` for what the table holds.
"""

from pathlib import Path
from typing import List, Optional

import srsly
import typer

from ..files.outputs import atomic_output
from ..runs.paper_table import paper_table, parse_groups
from ..runs.reports import load_reports
from .app import app
from .options import output_option


@app.command("paper-table")
def paper_table_cli(
    table: str = typer.Option(..., help="The paper's table in --paper: table1, table2 or table5"),
    group: List[str] = typer.Option(
        ..., help="LABEL=DIR: a data size and its reports folder; repeatable"
    ),
    output: Path = output_option("Markdown file to write", dir_okay=False),
    paper: Path = typer.Option(Path("configs/paper/tables.yml"), exists=True, dir_okay=False),
    paper_group: Optional[str] = typer.Option(
        None, help="Compare every group with the paper's numbers of this size"
    ),
    baseline: str = typer.Option("vanilla", help="The system the others are paired with"),
    only: List[str] = typer.Option(
        [], help="Only these systems (repeatable; the baseline is always kept)"
    ),
    title: str = typer.Option("", help="Heading (default: the table's name)"),
    protocol: str = typer.Option(
        "", help="What the reports do not record (data sample, model selection)"
    ),
) -> None:
    """Write the table of our runs beside the paper's, and print it."""
    numbers = srsly.read_yaml(paper)
    if table not in numbers:
        raise typer.BadParameter(f"--table: {paper} has no {table!r} (have {', '.join(numbers)})")
    if paper_group is not None and paper_group not in numbers[table]:
        raise typer.BadParameter(f"--paper-group: {paper}'s {table} has no {paper_group!r}")
    found = []
    for label, directory in parse_groups(group):
        reports = [
            r for r in load_reports([directory]) if not only or r["system"] in {*only, baseline}
        ]
        if reports:
            found.append((label, reports))
        else:
            print(f"{label}: no reports in {directory} yet")
    if not found:
        raise typer.BadParameter(f"none of the groups has reports: {', '.join(group)}")
    text = f"# {title or table}\n\n" + (f"{protocol}\n\n" if protocol else "")
    text += paper_table(found, numbers[table], baseline, paper_group)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(output) as temporary:
        temporary.write_text(text, encoding="utf8")
    print(text)
