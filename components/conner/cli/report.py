"""``conner report``: collect evaluation reports into one markdown table (and print it).

Reports of the same system from several training seeds are summarised as
mean ± sample standard deviation (:mod:`conner.runs.reports`).
"""

from pathlib import Path
from typing import Dict, List, Optional

import typer

from ..files.outputs import atomic_output
from ..runs.entity_types import restrict_types
from ..runs.goals import goals_table, parse_goal
from ..runs.protocol_line import protocol_line
from ..runs.reports import (
    group_by_system,
    load_reports,
    per_type_table,
    results_table,
    seeds_table,
    spans_table,
)
from ..runs.set_tables import set_tables
from .app import app
from .options import output_option


@app.command("report")
def report_cli(
    reports: List[Path] = typer.Argument(
        ..., help="Evaluation JSON files or folders of them (missing ones are skipped)"
    ),
    output: Path = output_option("Markdown file to write", dir_okay=False),
    title: str = typer.Option("Zero-shot NER, entity-level micro F1 (seqeval)", help="Heading"),
    protocol: str = typer.Option(
        "",
        help="What the reports do not record (data, model selection): added to the protocol line built from their recorded protocol",
    ),
    baseline: Optional[str] = typer.Option(None, help="System the others are compared with"),
    by_set: Optional[str] = typer.Option(
        None,
        help="Also one table per test set, in this comma-separated order (e.g. eu,hr,de): "
        "each system's F1 and its difference to --baseline paired by seed, with t",
    ),
    goal: List[str] = typer.Option(
        [],
        help="SYSTEM:SET>=DELTA (repeatable), e.g. conner-eu16:eu>=3: a table of goals on the "
        "difference to --baseline paired by seed, each met or short by how much",
    ),
    types: Optional[str] = typer.Option(
        None,
        help="Comma-separated entity types, e.g. PER,LOC,ORG: the table (and the goals) again, "
        "with micro F1 over these types only (label schemes differ most on MISC)",
    ),
) -> None:
    """Write the evaluation reports' table (and per-type and span tables) as markdown."""
    found = load_reports(reports)
    if not found:
        raise typer.BadParameter(f"None of the reports exist: {', '.join(map(str, reports))}")
    several_seeds = any(len(members) > 1 for members in group_by_system(found).values())
    main_table = seeds_table if several_seeds else results_table
    table = main_table(found, baseline)
    protocol = protocol_line(found, protocol, several_seeds)
    text = f"# {title}\n\n{protocol}\n\n{table}\n"
    goals = goals_section(found, baseline, goal)
    if goals:
        text += f"\n## Goals\n\n{goals}\n"
    if types:
        kept = [t for t in types.split(",") if t]
        try:
            restricted = restrict_types(found, kept)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="'--types'") from None
        text += (
            f"\n## {', '.join(kept)} only\n\nThe same, with micro F1 over these entity types "
            f"only.\n\n{main_table(restricted, baseline)}\n"
        )
        restricted_goals = goals_section(restricted, baseline, goal)
        if restricted_goals:
            text += f"\n{restricted_goals}\n"
    if by_set:
        if baseline is None:
            raise typer.BadParameter("--by-set needs --baseline", param_hint="'--by-set'")
        try:
            per_set = set_tables(found, baseline, [s for s in by_set.split(",") if s])
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="'--baseline'") from None
        text += f"\n## Per test set\n\n{per_set}\n"
    spans = spans_table(found)
    if spans:
        text += f"\n## Span distributions on conjugate pairs\n\n{spans}\n"
    if not several_seeds:
        text += f"\n## Per entity type\n\n{per_type_table(found)}\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(output) as temporary:
        temporary.write_text(text, encoding="utf8")
    print(f"\n{protocol}\n\n{table}\n" + (f"\n{goals}\n" if goals else ""))


def goals_section(reports: List[Dict], baseline: Optional[str], specs: List[str]) -> str:
    """The goals table of ``--goal`` specs ("" without any), or a usage error."""
    if not specs:
        return ""
    if baseline is None:
        raise typer.BadParameter("--goal needs --baseline", param_hint="'--goal'")
    try:
        return goals_table(reports, baseline, [parse_goal(spec) for spec in specs])
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="'--goal'") from None
