"""The signature half of docs/CONFIG.md: every registered function and its settings.

docs/CONFIG.md documents each function that pyproject.toml registers with
spaCy or thinc (entry points), and the factory settings of the ``conner``
component, in spaCy's API-table shape::

    ### `conner.first_subword.v1` {#first-subword}
    | Name | Description |
    | --- | --- |
    | `alpha` | What it does. Defaults to `0.5`. ~~float~~ |

The descriptions are written by hand; names, types (``~~type~~``) and
defaults (``Defaults to `value`.``) come from the code, so this script
prints them as a skeleton for a new function and checks the page against
the code (``--check``; tests/test_config_reference.py runs the check), so
the page cannot drift from the signatures it documents. A setting with a
fixed set of values (a ``Literal`` type) lists them in its type, as a config
writes them: ``~~Literal["softmax", "crf"]~~``. ``--update`` rewrites the
types and defaults of the page's rows from the code and keeps the
descriptions.

    python scripts/config_reference.py              # the skeleton of every table
    python scripts/config_reference.py --check docs/CONFIG.md
    python scripts/config_reference.py --update docs/CONFIG.md
"""

import importlib
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List, Literal, NamedTuple, Optional, get_args, get_origin

import typer

ROOT = Path(__file__).resolve().parent.parent
# Entry-point groups of pyproject.toml that register config functions.
GROUPS = (
    "spacy_factories",
    "spacy_architectures",
    "thinc_layers",
    "spacy_callbacks",
    "spacy_readers",
    "spacy_batchers",
    "spacy_loggers",
)
# Factory arguments spaCy fills in itself, never set in a config.
FACTORY_ARGS = {"nlp", "name"}
# The sections of configs/conner.cfg whose every key the page documents.
CONFIG_SECTIONS = ("paths", "consistency")
NO_DEFAULT = object()


class Setting(NamedTuple):
    name: str
    type: str
    default: object = NO_DEFAULT


def read_entry_points(pyproject: Path = ROOT / "pyproject.toml") -> Dict[str, str]:
    """Registered name -> ``module:function``, over the config-function groups."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python < 3.11
        import tomli as tomllib
    project = tomllib.loads(pyproject.read_text(encoding="utf8"))["project"]["entry-points"]
    return {name: target for group in GROUPS for name, target in project.get(group, {}).items()}


def load(target: str) -> Callable:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def type_name(annotation) -> str:
    """An annotation as the page writes it: ``Optional[Path]``, no module paths."""
    if annotation is inspect.Parameter.empty:
        return "Any"
    if get_origin(annotation) is Literal:  # the allowed values, as a config writes them
        return f"Literal[{', '.join(json.dumps(value) for value in get_args(annotation))}]"
    text = inspect.formatannotation(annotation)
    return re.sub(r"\b(?:[a-z_]\w*\.)+(?=[A-Za-z_])", "", text)


def settings(name: str, function: Callable) -> List[Setting]:
    """The settings of a registered function; for a factory, its config
    settings with the defaults of its default config."""
    signature = inspect.signature(function)
    defaults: Dict[str, object] = {}
    if "." not in name:  # a factory: defaults live in its default config
        from spacy.language import Language

        defaults = dict(Language.get_factory_meta(name).default_config)
    found = []
    for param in signature.parameters.values():
        if param.name in FACTORY_ARGS and "." not in name:
            continue
        default = defaults.get(param.name, param.default)
        found.append(
            Setting(
                param.name,
                type_name(param.annotation),
                NO_DEFAULT if default is inspect.Parameter.empty else default,
            )
        )
    return found


def default_text(value) -> str:
    """A default as it is written in a config: ``"bi"``, ``0.5``, ``true``,
    ``null``; a registered-function block by its name."""
    if isinstance(value, dict):
        names = [v for k, v in value.items() if k.startswith("@")]
        if names:
            return names[0]
    return json.dumps(value)


def config_settings(config: Path = ROOT / "configs" / "conner.cfg") -> List[str]:
    """``section.key`` for every key of the documented sections of the config."""
    from thinc.api import Config

    parsed = Config().from_disk(config, interpolate=False)
    return [f"{section}.{key}" for section in CONFIG_SECTIONS for key in parsed.get(section, {})]


def heading(name: str) -> str:
    return f"### `{name}`" + (" factory" if "." not in name else "")


def skeleton() -> str:
    """Every table with its names, types and defaults and empty descriptions."""
    parts = []
    for name, target in read_entry_points().items():
        rows = [
            f"| `{s.name}` | ...{row_default(s)} ~~{s.type}~~ |"
            for s in settings(name, load(target))
        ]
        parts.append(
            "\n".join([heading(name), "", "| Name | Description |", "| --- | --- |"] + rows)
        )
    rows = [f"| `{key}` | ... |" for key in config_settings()]
    parts.append("\n".join(["| Name | Description |", "| --- | --- |"] + rows))
    return "\n\n".join(parts)


def row_default(setting: Setting) -> str:
    return (
        "" if setting.default is NO_DEFAULT else f" Defaults to `{default_text(setting.default)}`."
    )


def section_of(page: str, title: str) -> Optional[str]:
    """The text under ``title`` up to the next heading of the same or a higher level."""
    start = page.find(title + "\n")
    if start < 0:
        start = page.find(title + " ")
    if start < 0:
        return None
    rest = page[start + len(title) :]
    end = re.search(r"^#{1,3} ", rest, re.M)
    return rest[: end.start()] if end else rest


def table_rows(section: str) -> Dict[str, str]:
    """Setting name -> its row, for the rows of the section's tables."""
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([^`]+)` \|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def check(page: str) -> List[str]:
    """What the page misses or states differently from the code; empty if it agrees."""
    problems = []
    for name, target in read_entry_points().items():
        title = heading(name)
        section = section_of(page, title)
        if section is None:
            problems.append(f"no section {title!r} for the registered {name} ({target})")
            continue
        rows = table_rows(section)
        expected = settings(name, load(target))
        for extra in sorted(set(rows) - {s.name for s in expected}):
            problems.append(f"{name}: the page lists {extra!r}, which the code does not take")
        for setting in expected:
            row = rows.get(setting.name)
            if row is None:
                problems.append(f"{name}: no row for {setting.name!r}")
                continue
            if f"~~{setting.type}~~" not in row:
                problems.append(f"{name}: {setting.name!r} should end in ~~{setting.type}~~")
            default = row_default(setting).strip()
            if default and default not in row:
                problems.append(f"{name}: {setting.name!r} should say {default!r}")
            if not default and "Defaults to" in row:
                problems.append(f"{name}: {setting.name!r} has no default in the code")
    rows = table_rows(page)
    for key in config_settings():
        if key not in rows:
            problems.append(f"configs/conner.cfg: no row for {key!r}")
    return problems


def update(page: str) -> str:
    """The page with the type and default of every documented setting as the
    code has them; descriptions, and rows the code lacks, are left as they are."""
    for name, target in read_entry_points().items():
        title = heading(name)
        section = section_of(page, title)
        if section is None:
            continue
        new_section = section
        for setting in settings(name, load(target)):
            match = re.search(
                rf"^\| `{re.escape(setting.name)}` \|(.*)\|[ \t]*$", new_section, re.M
            )
            if match is None:
                continue
            text = re.sub(r"\s*~~.*~~\s*$", "", match.group(1))
            text = re.sub(r"\s*Defaults to `[^`]*`\.", "", text).rstrip()
            row = f"| `{setting.name}` |{text}{row_default(setting)} ~~{setting.type}~~ |"
            new_section = new_section[: match.start()] + row + new_section[match.end() :]
        start = page.index(title) + len(title)
        page = page[:start] + page[start:].replace(section, new_section, 1)
    return page


def main(
    check_page: Optional[Path] = typer.Option(
        None, "--check", help="The page to check against the code"
    ),
    update_page: Optional[Path] = typer.Option(
        None, "--update", help="The page whose types and defaults to rewrite from the code"
    ),
) -> None:
    if check_page is None and update_page is None:
        print(skeleton())
        return
    for page in (check_page, update_page):
        if page is not None and not page.is_file():
            typer.echo(f"Error: {page}: no such file", err=True)
            raise typer.Exit(1)
    if update_page is not None:
        text = update_page.read_text(encoding="utf8")
        updated = update(text)
        if updated != text:
            update_page.write_text(updated, encoding="utf8")
            print(f"{update_page}: types and defaults rewritten from the code")
        if check_page is None:
            check_page = update_page
    problems = check(check_page.read_text(encoding="utf8"))
    for problem in problems:
        typer.echo(f"{check_page}: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    print(f"{check_page}: every registered function and setting is documented as the code has it")


if __name__ == "__main__":
    typer.run(main)
