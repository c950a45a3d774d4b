"""Write docs/RESULTS.md: every current results table, with its protocol and command.

The page is made from a list of sections (``docs/results.yml``), each one
table::

    - title: "Test sets: vanilla, ConNER, Table-4 ablations, built-in ner"
      table: reports/test.md           # a table written by conner report ...
      # reports: [reports/test]        # ... or evaluation JSONs (files or folders), summarised here
      # baseline: vanilla              # with reports: the system the others are compared with
      protocol: "What the table's recorded protocol line leaves out."
      command: "python -m spacy project run test"
      note: "Optional: e.g. which setting differs from the table above."
      systems:                         # optional legend: system -> what it is
        conner: "ConNER, alpha = beta = 0.5"

Adding a table to the page is one more entry in that list. A section whose
table or reports do not exist is an error that names it, never an empty
section. The page says nothing that the entries and the reports do not say.

    conner results-page docs/results.yml -o docs/RESULTS.md
"""

import re
from pathlib import Path
from typing import Dict, List, Optional

import srsly
import typer

from ..files.outputs import atomic_output
from ..runs.protocol_line import protocol_line
from ..runs.reports import (
    group_by_system,
    load_reports,
    results_table,
    seeds_table,
    spans_table,
)
from .app import app
from .options import output_option

ALLOWED_KEYS = {"title", "table", "reports", "baseline", "protocol", "command", "note", "systems"}
GENERATED = (
    "<!-- Written by `conner results-page` from docs/results.yml and reports/: "
    "edit those, then run `python -m spacy project run results-page`. -->"
)


class SectionError(ValueError):
    """A section of the list that cannot be rendered: the message names it."""


def read_sections(path: Path) -> Dict:
    """The page's intro and its sections, checked for the keys a section may have."""
    if not path.is_file():
        raise SectionError(f"{path}: no such file")
    data = srsly.read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise SectionError(f"{path}: expected a mapping with a 'sections' list")
    for i, section in enumerate(data["sections"], 1):
        where = f"{path}: section {i}"
        if not isinstance(section, dict) or not section.get("title"):
            raise SectionError(f"{where}: every section needs a title")
        where = f"{path}: section {section['title']!r}"
        unknown = sorted(set(section) - ALLOWED_KEYS)
        if unknown:
            raise SectionError(
                f"{where}: unknown key {', '.join(unknown)} (allowed: {', '.join(sorted(ALLOWED_KEYS))})"
            )
        if ("table" in section) == ("reports" in section):
            raise SectionError(
                f"{where}: give one of 'table' (a report .md) or 'reports' (evaluation JSONs)"
            )
        for key in ("protocol", "command"):
            if not section.get(key):
                raise SectionError(f"{where}: '{key}' is missing")
    return data


def demote(markdown: str, levels: int) -> str:
    """Headings ``levels`` deeper, so an embedded report sits under its section."""
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + levels) + " ", markdown, flags=re.M)


def embedded_table(root: Path, table: str, where: str) -> str:
    """A report .md of conner report without its own title: its recorded
    protocol line, then its tables with their headings under the section's."""
    path = root / table
    if not path.is_file():
        raise SectionError(f"{where}: {table} does not exist (run the command of the section)")
    text = path.read_text(encoding="utf8").strip()
    if text.startswith("# "):
        text = text.split("\n", 1)[1].strip() if "\n" in text else ""
    first, _, rest = text.partition("\n\n")
    if first and not first.startswith(("|", "#")):
        text = f"Recorded protocol: {first}\n\n{rest}".strip()
    return demote(text, 2)


def summarised_reports(root: Path, paths: List[str], baseline: Optional[str], where: str) -> str:
    """The table conner report would write for these evaluation reports."""
    found = load_reports([root / p for p in paths])
    if not found:
        raise SectionError(f"{where}: none of {', '.join(paths)} holds an evaluation report")
    several_seeds = any(len(members) > 1 for members in group_by_system(found).values())
    table = seeds_table(found, baseline) if several_seeds else results_table(found, baseline)
    text = f"Recorded protocol: {protocol_line(found, '', several_seeds)}\n\n{table}"
    spans = spans_table(found)
    if spans:
        text += f"\n\n#### Span distributions on conjugate pairs\n\n{spans}"
    return text


def names_system(table: str, name: str) -> bool:
    """Whether the table has a row or column of ``name``: the name as a whole
    word (``conner`` is not named by ``conner-eu4``)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", table) is not None


def legend(systems: Dict[str, str], table: str) -> str:
    """What each system of ``table`` is; systems of the legend that the table
    does not name yet (in the grid, never trained) are listed as such."""
    named = {name: names_system(table, name) for name in systems}
    rows = [f"| `{name}` | {what} |" for name, what in systems.items() if named[name]]
    text = "\n".join(["| System | What it is |", "| --- | --- |"] + rows) if rows else ""
    missing = [f"`{name}`" for name in systems if not named[name]]
    if missing:
        line = f"In the grid but not trained yet, so not in the table: {', '.join(missing)}."
        text = f"{text}\n\n{line}" if text else line
    return text


def render_section(root: Path, section: Dict, where: str) -> str:
    parts = [f"## {section['title']}", f"**Protocol.** {section['protocol'].strip()}"]
    command = section["command"].strip()
    parts.append(
        f"**Command.** `{command}`"
        if "\n" not in command
        else f"**Commands.**\n\n```bash\n{command}\n```"
    )
    if section.get("note"):
        parts.append(section["note"].strip())
    if "table" in section:
        table = embedded_table(root, section["table"], where)
    else:
        reports = (
            section["reports"] if isinstance(section["reports"], list) else [section["reports"]]
        )
        table = summarised_reports(root, reports, section.get("baseline"), where)
    if section.get("systems"):
        parts.append(legend(section["systems"], table))
    parts.append(table)
    return "\n\n".join(parts)


def render_page(sections_path: Path, root: Path) -> str:
    """The whole page, from the list of sections and the files under ``root``."""
    data = read_sections(sections_path)
    parts = [GENERATED, f"# {data.get('title', 'Results')}"]
    if data.get("intro"):
        parts.append(data["intro"].strip())
    parts.append("\n".join(f"- [{s['title']}](#{anchor(s['title'])})" for s in data["sections"]))
    for section in data["sections"]:
        parts.append(
            render_section(root, section, f"{sections_path}: section {section['title']!r}")
        )
    return "\n\n".join(parts) + "\n"


def anchor(title: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


@app.command("results-page")
def results_page_cli(
    sections: Path = typer.Argument(Path("docs/results.yml"), help="The list of sections (YAML)"),
    output: Path = output_option(
        "The page to write", default=Path("docs/RESULTS.md"), dir_okay=False
    ),
    root: Path = typer.Option(Path("."), help="The folder the sections' paths are relative to"),
) -> None:
    """Write the results page from its list of sections and the reports."""
    try:
        page = render_page(sections, root)
    except SectionError as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    with atomic_output(output) as temporary:
        temporary.write_text(page, encoding="utf8")
    print(f"{output}: {page.count(chr(10) + '## ')} sections")
