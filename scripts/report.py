"""Collect evaluation JSON files into one markdown table (and print it)."""
from pathlib import Path
from typing import Dict, List

import srsly
import typer

TARGETS = ("de", "es", "nl")


def load_reports(paths: List[Path]) -> List[Dict]:
    """The evaluation reports that exist, in the order given."""
    return [srsly.read_json(p) for p in paths if p.exists()]


def results_table(reports: List[Dict]) -> str:
    """One row per system: F1 per test set and the target-language average."""
    sets = []
    for report in reports:
        sets.extend(s for s in report["results"] if s not in sets)
    targets = [s for s in sets if s in TARGETS]
    header = ["system"] + sets + (["avg " + "/".join(targets)] if targets else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for report in reports:
        res = report["results"]
        cells = [report["system"]] + [f"{100 * res[s]['f']:.2f}" if s in res else "" for s in sets]
        if targets:
            found = [res[s]["f"] for s in targets if s in res]
            cells.append(f"{100 * sum(found) / len(found):.2f}" if len(found) == len(targets) else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_type_table(reports: List[Dict]) -> str:
    """F1 per entity type, per system and test set."""
    lines = ["| system | set | " + " | ".join(["type", "P", "R", "F1", "support"]) + " |", "|---|---|---|---|---|---|---|"]
    for report in reports:
        for name, res in report["results"].items():
            for label, row in sorted(res["per_type"].items()):
                lines.append(
                    f"| {report['system']} | {name} | {label} | {100 * row['p']:.2f} | "
                    f"{100 * row['r']:.2f} | {100 * row['f']:.2f} | {row['support']} |"
                )
    return "\n".join(lines)


def main(
    reports: List[Path] = typer.Argument(..., help="Evaluation JSON files (missing ones are skipped)"),
    output: Path = typer.Option(..., "--output", "-o", help="Markdown file to write"),
    title: str = typer.Option("Zero-shot NER, entity-level micro F1 (seqeval)", help="Heading"),
    protocol: str = typer.Option("", help="One line describing the protocol"),
) -> None:
    found = load_reports(reports)
    if not found:
        raise typer.BadParameter(f"None of the reports exist: {', '.join(map(str, reports))}")
    text = f"# {title}\n\n{protocol}\n\n{results_table(found)}\n\n## Per entity type\n\n{per_type_table(found)}\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf8")
    print(f"\n{protocol}\n\n{results_table(found)}\n")


if __name__ == "__main__":
    typer.run(main)
