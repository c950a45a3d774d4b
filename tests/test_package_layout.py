"""The package's floors: imports run one way, registered names resolve, old pipelines load."""

import ast
import importlib
import json
from pathlib import Path

import pytest
import spacy
import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "components" / "conner"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Each subpackage may import from its own floor and the floors below it.
FLOORS = {
    "files": 0,
    "settings": 0,
    "transformer": 1,
    "tagger": 2,
    "consistency": 3,
    "prepare": 4,
    "training": 4,
    "component": 5,
    "runs": 6,
    "inference": 6,
    "shards": 7,
    "cli": 8,
    "__main__": 9,
}


def room(module: str) -> str:
    """The subpackage (or top-level module) that ``conner.a.b`` lives in."""
    return module.split(".")[1]


def package_imports():
    """``(importing module, imported module)`` for every import of conner inside conner."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            package = parts
        else:
            package = parts[:-1]
        module = ".".join(parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("conner."):
                    yield module, name


def test_every_module_lives_in_a_known_room():
    rooms = {
        room(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
        for p in PACKAGE.rglob("*.py")
    }
    rooms.discard("__init__")
    assert rooms == set(FLOORS)


def test_imports_run_one_way():
    upward = []
    for source, target in package_imports():
        if source == "conner":
            continue  # the package root imports what registers itself
        here, there = room(source), room(target)
        if here == there:
            continue
        if FLOORS[there] >= FLOORS[here]:
            upward.append(f"{source} imports {target}")
    assert upward == []


def test_the_walk_sees_relative_and_absolute_imports():
    edges = set(package_imports())
    assert ("conner.consistency.layer", "conner.tagger.crf") in edges
    assert ("conner.prepare.translation.pipeline", "conner.consistency.extensions") in edges
    assert ("conner.component", "conner.consistency.layer") in edges


def entry_points():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for group, points in project["entry-points"].items():
        for name, target in points.items():
            yield group, name, target


@pytest.mark.parametrize("group,name,target", list(entry_points()))
def test_entry_points_name_importable_functions(group, name, target):
    module, attr = target.split(":")
    assert callable(getattr(importlib.import_module(module), attr)), f"{group} {name} -> {target}"


def test_registered_names_are_the_ones_saved_pipelines_use():
    names = {name for _, name, _ in entry_points()}
    assert names == {
        "conner",
        "conner.ConnerTagger.v1",
        "conner.TransformerModel.v1",
        "conner.first_subword.v1",
        "conner.freeze_embeddings.v1",
        "conner.int8_encoder.v1",
        "conner.ConjugatePairs.v1",
        "conner.ConsistencyBatcher.v1",
        "conner.ConsoleLogger.v1",
    }


def test_a_pipeline_saved_before_the_move_loads_and_tags_the_same():
    # Saved by the package as it was before the subpackages (one flat folder).
    path = FIXTURES / "pipeline_before_move"
    expected = json.loads((path / "expected.json").read_text())
    nlp = spacy.load(path)
    got = [[[e.start, e.end, e.label_] for e in nlp(text).ents] for text in expected["texts"]]
    assert got == expected["entities"]
