"""A case-study page: the sentences where two pipelines tag entities differently.

Both pipelines tag copies of the gold words of a test DocBin (as
``conner evaluate`` does). Where their entities differ, the differing
entities are grouped into connected clusters (overlapping spans), and each
cluster is one difference of a kind:

- ``type``: the same span with another label;
- ``boundary``: overlapping spans with other boundaries;
- ``found``: entities only the second pipeline (B) has;
- ``lost``: entities only the first pipeline (A) has.

Gold decides which side is right over the cluster's tokens. The page shows
each such sentence rendered by displaCy (gold, A, B), grouped by kind with
counts, in test-set order; ``--limit`` caps the sentences shown per group.

    conner case-study training/conner-vanilla/model-best \\
        training/conner-es-apertium/model-best corpus/es_test.spacy \\
        -o reports/case_study_es.html --name-a vanilla --name-b ConNER
"""

import html
import warnings
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import typer
from spacy import displacy
from spacy.tokens import Doc, DocBin

from ..files.outputs import atomic_output
from ..inference.pipelines import load_pipeline
from .app import app
from .evaluate import tag_docs
from .options import BATCH_SIZE_DEFAULT, batch_size_option, gpu_id_option, output_option

Entity = Tuple[int, int, str]  # token start, token end (exclusive), label

KINDS = ("type", "boundary", "found", "lost")
# displaCy's defaults know OntoNotes labels (PERSON) but not CoNLL's PER/MISC.
COLOURS = {"PER": "#aa9cfc", "ORG": "#7aecec", "LOC": "#ff9561", "MISC": "#feca74"}


class Difference(NamedTuple):
    """One cluster of overlapping entities that A and B do not share."""

    kind: str
    start: int
    end: int
    a: Tuple[Entity, ...]
    b: Tuple[Entity, ...]
    gold: Tuple[Entity, ...]
    # "a" or "b" when that side equals gold over [start, end), else None.
    matches_gold: Optional[str]


def classify_differences(
    gold: Sequence[Entity], a: Sequence[Entity], b: Sequence[Entity]
) -> List[Difference]:
    """The differences between A's and B's entities of one sentence, in token order."""
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    # Clusters: the unshared entities linked by token overlap (sweep in order).
    spans = sorted(
        [(s, e, label, "a") for s, e, label in only_a]
        + [(s, e, label, "b") for s, e, label in only_b]
    )
    clusters: List[List[Tuple[int, int, str, str]]] = []
    for span in spans:
        if clusters and span[0] < max(e for _, e, _, _ in clusters[-1]):
            clusters[-1].append(span)
        else:
            clusters.append([span])
    differences = []
    for cluster in clusters:
        side_a = tuple((s, e, label) for s, e, label, side in cluster if side == "a")
        side_b = tuple((s, e, label) for s, e, label, side in cluster if side == "b")
        start, end = min(s for s, *_ in cluster), max(e for _, e, *_ in cluster)
        in_gold = tuple(sorted(g for g in gold if g[0] < end and g[1] > start))
        if not side_a:
            kind = "found"
        elif not side_b:
            kind = "lost"
        elif len(side_a) == len(side_b) == 1 and side_a[0][:2] == side_b[0][:2]:
            kind = "type"
        else:
            kind = "boundary"
        # Shared entities never overlap the cluster (a doc's entities do not
        # overlap), so each side's entities there are exactly its cluster part.
        matches = "a" if side_a == in_gold else "b" if side_b == in_gold else None
        differences.append(Difference(kind, start, end, side_a, side_b, in_gold, matches))
    return differences


def entities(doc: Doc) -> List[Entity]:
    return [(ent.start, ent.end, ent.label_) for ent in doc.ents]


class Case(NamedTuple):
    """A sentence where A and B differ."""

    # Shadows tuple.index, which nothing calls on a Case.
    index: int  # type: ignore[assignment]
    gold: Doc
    a: Doc
    b: Doc
    differences: List[Difference]


def find_cases(gold: Sequence[Doc], tagged_a: Sequence[Doc], tagged_b: Sequence[Doc]) -> List[Case]:
    """The sentences where the two taggings differ, in test-set order."""
    cases = []
    for i, (g, a, b) in enumerate(zip(gold, tagged_a, tagged_b)):
        differences = classify_differences(entities(g), entities(a), entities(b))
        if differences:
            cases.append(Case(i, g, a, b, differences))
    return cases


def group_cases(cases: Sequence[Case]) -> Dict[str, List[Case]]:
    """Cases per kind; a sentence with differences of several kinds is in each."""
    return {
        kind: [c for c in cases if any(d.kind == kind for d in c.differences)] for kind in KINDS
    }


# --- the page ----------------------------------------------------------------

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1150px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table.counts { border-collapse: collapse; margin: 1em 0; }
table.counts td, table.counts th { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: right; }
table.counts th:first-child, table.counts td:first-child { text-align: left; }
.case { border: 1px solid #ddd; border-radius: 6px; margin: 1em 0; padding: 0.5em 1em; }
.case-head { font-size: 0.85em; color: #555; margin-bottom: 0.3em; }
.row { display: grid; grid-template-columns: 9em 1fr; align-items: center; border-top: 1px dashed #eee; }
.who { font-weight: bold; font-size: 0.9em; }
.who.right { color: #17803d; } .who.wrong { color: #b42318; }
.row .entities { padding: 0.2em 0; }
ul.diffs { margin: 0.2em 0 0.4em 1.2em; padding: 0; font-size: 0.85em; }
"""

TITLES = {
    "type": "Type changed (same span, another label)",
    "boundary": "Boundary changed (overlapping spans, other boundaries)",
    "found": "Entity found (only {b} tags it)",
    "lost": "Entity lost (only {a} tags it)",
}


def render_doc(doc: Doc) -> str:
    """displaCy's entity markup of one sentence (no page, no Jupyter)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # W006: a sentence without entities
        return displacy.render(
            doc, style="ent", page=False, jupyter=False, options={"colors": COLOURS}
        )


def describe(diff: Difference, doc: Doc, names: Tuple[str, str]) -> str:
    """One line: what each side tagged over the cluster, and who matched gold."""

    def show(ents: Tuple[Entity, ...]) -> str:
        return ", ".join(f"“{doc[s:e].text}” {label}" for s, e, label in ents) or "nothing"

    verdict = {
        "a": f"{names[0]} matches gold",
        "b": f"{names[1]} matches gold",
        None: "neither matches gold",
    }
    text = (
        f"{diff.kind}: {names[0]} {show(diff.a)} → {names[1]} {show(diff.b)}; "
        f"gold {show(diff.gold)} — {verdict[diff.matches_gold]}"
    )
    return html.escape(text)


def render_case(case: Case, names: Tuple[str, str]) -> str:
    """Gold, A and B of one sentence, each row marked right or wrong against gold."""
    rows = [("gold", "", case.gold)]
    gold_ents = set(entities(case.gold))
    for name, doc in zip(names, (case.a, case.b)):
        right = set(entities(doc)) == gold_ents
        rows.append((f"{name} {'✓' if right else '✗'}", "right" if right else "wrong", doc))
    body = "".join(
        f'<div class="row"><div class="who {css}">{html.escape(label)}</div>{render_doc(doc)}</div>'
        for label, css, doc in rows
    )
    diffs = "".join(f"<li>{describe(d, case.gold, names)}</li>" for d in case.differences)
    return (
        f'<div class="case" id="s{case.index}"><div class="case-head">sentence {case.index}</div>'
        f'<ul class="diffs">{diffs}</ul>{body}</div>'
    )


def build_page(
    cases: Sequence[Case], names: Tuple[str, str], title: str, subtitle: str, limit: int
) -> str:
    """One self-contained HTML page: counts per kind, then up to ``limit``
    sentences per kind (0: all)."""
    groups = group_cases(cases)
    head = (
        "<tr><th>difference</th><th>sentences</th><th>differences</th>"
        + "".join(f"<th>{html.escape(n)} matches gold</th>" for n in names)
        + "<th>neither</th></tr>"
    )
    count_rows, sections = [], []
    for kind in KINDS:
        diffs = [d for c in cases for d in c.differences if d.kind == kind]
        wins = [sum(d.matches_gold == side for d in diffs) for side in ("a", "b", None)]
        heading = TITLES[kind].format(a=names[0], b=names[1])
        count_rows.append(
            f"<tr><td>{html.escape(heading)}</td><td>{len(groups[kind])}</td><td>{len(diffs)}</td>"
            + "".join(f"<td>{w}</td>" for w in wins)
            + "</tr>"
        )
        shown = groups[kind][:limit] if limit > 0 else groups[kind]
        sections.append(
            f'<section id="{kind}"><h2>{html.escape(heading)}: {len(groups[kind])} '
            f"sentence{'' if len(groups[kind]) == 1 else 's'}"
            f"{f', first {len(shown)} shown' if len(shown) < len(groups[kind]) else ''}</h2>"
            + "".join(render_case(c, names) for c in shown)
            + "</section>"
        )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>"
        f'<table class="counts">{head}{"".join(count_rows)}</table>{"".join(sections)}</body></html>\n'
    )


def case_study(
    model_a: str,
    model_b: str,
    test_path: Path,
    names: Tuple[str, str],
    limit: int = 20,
    batch_size: int = BATCH_SIZE_DEFAULT,
    gpu_id: int = -1,
) -> Tuple[str, List[Case]]:
    """Tag the test set with both pipelines; return the page and the cases."""
    nlp_a, nlp_b = load_pipeline(model_a, gpu_id), load_pipeline(model_b, gpu_id)
    gold = list(DocBin().from_disk(test_path).get_docs(nlp_a.vocab))
    cases = find_cases(gold, tag_docs(nlp_a, gold, batch_size), tag_docs(nlp_b, gold, batch_size))
    title = f"Case study: {names[0]} vs {names[1]} on {test_path.name}"
    subtitle = (
        f"{len(cases)} of {len(gold)} sentences tagged differently. A = {names[0]} ({model_a}), "
        f"B = {names[1]} ({model_b}). Each sentence shows gold, then both models "
        "(✓: all entities equal gold)."
    )
    return build_page(cases, names, title, subtitle, limit), cases


@app.command("case-study")
def case_study_cli(
    model_a: str = typer.Argument(..., help="First pipeline (e.g. vanilla)"),
    model_b: str = typer.Argument(..., help="Second pipeline (e.g. ConNER)"),
    test_path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Test DocBin with gold doc.ents"
    ),
    output: Path = output_option("HTML file to write", dir_okay=False),
    name_a: str = typer.Option("vanilla", help="Name of the first pipeline on the page"),
    name_b: str = typer.Option("ConNER", help="Name of the second pipeline on the page"),
    limit: int = typer.Option(20, help="Sentences shown per kind of difference (0: all)"),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
) -> None:
    """Write an HTML page of the sentences where two pipelines tag entities differently."""
    try:
        page, cases = case_study(
            model_a, model_b, test_path, (name_a, name_b), limit, batch_size, gpu_id
        )
    except ValueError as err:  # no GPU, a damaged pipeline file
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(output) as temporary:
        temporary.write_text(page, encoding="utf8")
    counts = {kind: len(members) for kind, members in group_cases(cases).items()}
    print(f"case study: {len(cases)} sentences differ {counts}; wrote {output}")
