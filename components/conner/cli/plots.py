"""``conner plots``: figures of the results (F1 per language, loss terms, span diagnostics).

The figures are drawn by :mod:`conner.runs.plots`, which needs matplotlib
(``pip install matplotlib``); it is imported only when this command runs.

    conner plots reports/conner-vanilla.json reports/conner-google.json \\
        --logs training/conner-vanilla --logs training/conner-google -o reports
"""

from pathlib import Path
from typing import List

import typer

from .app import app
from .options import output_option


@app.command("plots")
def plots_cli(
    reports: List[Path] = typer.Argument(
        ..., help="Evaluation JSON files or directories of them (missing ones are skipped)"
    ),
    logs: List[Path] = typer.Option(
        [], "--logs", help="losses.jsonl files, run directories or directories of runs"
    ),
    output_dir: Path = output_option(
        "Folder for the PNG files", default=Path("reports"), file_okay=False
    ),
    prefix: str = typer.Option("", help="Prefix of the file names, e.g. seeds_"),
    skip_empty: bool = typer.Option(
        False, "--skip-empty", help="Nothing to plot is no error (a workflow not run yet)"
    ),
) -> None:
    """Draw F1 per language, loss terms and span diagnostics as PNG files."""
    from ..runs.plots import find_loss_logs, write_plots  # matplotlib: only for this command
    from ..runs.reports import load_reports

    found = load_reports(reports)
    if not found and not find_loss_logs(logs):
        where = ", ".join(map(str, [*reports, *logs]))
        if skip_empty:
            print(f"plots: nothing to plot in {where}")
            return
        raise typer.BadParameter(f"No reports or loss logs found in {where}")
    write_plots(found, logs, output_dir, prefix)
