"""Mark candidate spans in unlabeled target Docs with a weak tagger.

ConNER (section 2.3) takes candidate spans from a tagger trained on source
data only, and uses their boundaries, not their types. This command runs a
trained spaCy pipeline over the unlabeled Docs and stores the predicted
entities' boundaries as the Docs' conjugate spans (role "target", span keys
0..n-1). The Docs written out are rebuilt from the words alone: they carry
no entities, tags or other annotation of the input, so neither gold labels
of the input nor the weak tagger's types reach training. ``--keep-labels``
stores the predicted types in ``doc.user_data`` for typed placeholders only
(``conner translate --typed-placeholders`` removes them again). A progress bar
counts the Docs; the output never replaces the input or the model and
appears only once complete (``conner.files.outputs``). Options and the input are
checked before the model is loaded: a missing input, one that is not a
DocBin or holds no Doc, and a model that cannot be loaded (a damaged file
is named) stop the run with one line (exit 1).

    conner weak-tag MODEL INPUT.spacy -o OUTPUT.spacy
"""

from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator, List

import typer
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from tqdm import tqdm

from ..consistency.extensions import (
    SPAN_LABELS_KEY,
    conjugate_id,
    get_conjugate_spans,
    set_conjugate_spans,
)
from ..consistency.pairs import bare_copy
from ..files.docbins import read_doc_bin
from ..files.outputs import atomic_output, refuse_overwriting_inputs
from .app import app
from .options import batch_size_option, gpu_id_option, output_option
from .pipelines import load_pipeline, pipe_by_words


def weak_tag_docs(
    nlp: Language,
    docs: List[Doc],
    id_prefix: str = "",
    keep_labels: bool = False,
    batch_size: int = 1000,
    progress: bool = False,
) -> Iterator[Doc]:
    """Yield annotation-free copies of ``docs`` with the predicted boundaries as conjugate spans.

    The pipeline runs on bare Docs with the input's tokenization (the
    tokenizer is skipped), so span offsets index the input's tokens and any
    entities already on the input cannot influence or survive tagging.
    ``progress`` shows a bar of the Docs tagged (on stderr).
    """
    tagged = pipe_by_words(nlp, (bare_copy(doc, nlp.vocab) for doc in docs), batch_size)
    with tqdm(total=len(docs), unit="doc", desc="weak tagging", disable=not progress) as bar:
        for index, (doc, prediction) in enumerate(zip(docs, tagged)):
            out = bare_copy(doc, nlp.vocab)
            pair_id = conjugate_id(doc) or f"{id_prefix}{index}"
            ents = list(prediction.ents)
            set_conjugate_spans(
                out, pair_id, "target", [[i, e.start, e.end] for i, e in enumerate(ents)]
            )
            if keep_labels:
                out.user_data[SPAN_LABELS_KEY] = [[i, e.label_] for i, e in enumerate(ents)]
            bar.update(1)
            yield out


def span_counts(docs: Iterable[Doc]) -> Counter:
    counts: Counter = Counter()
    for doc in docs:
        spans = get_conjugate_spans(doc)
        counts["docs"] += 1
        counts["docs_with_spans"] += bool(spans)
        counts["spans"] += len(spans)
        counts["span_tokens"] += sum(len(span) for span in spans.values())
    return counts


@app.command("weak-tag")
def weak_tag_cli(
    model: str = typer.Argument(..., help="Trained spaCy pipeline (name or path)"),
    input_path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Unlabeled target-language DocBin"
    ),
    output_path: Path = output_option("DocBin to write", dir_okay=False),
    id_prefix: str = typer.Option("", help="Prefix of pair ids for Docs without one"),
    keep_labels: bool = typer.Option(
        False, help="Also store predicted types (typed placeholders only)"
    ),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
    progress: bool = typer.Option(True, help="Show a progress bar"),
) -> None:
    """Store a weak tagger's entity boundaries as the Docs' conjugate spans."""
    model_path = Path(model)
    try:
        refuse_overwriting_inputs(
            [output_path], [input_path, model_path if model_path.exists() else None]
        )
        doc_bin = read_doc_bin(input_path)
        if not len(doc_bin):
            raise ValueError(f"{input_path} holds no Doc; nothing written")
        nlp = load_pipeline(model, gpu_id)
    except ValueError as err:  # OutputError, DocBinError, DamagedFileError are ValueErrors
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    docs = list(doc_bin.get_docs(nlp.vocab))
    out_docs = list(weak_tag_docs(nlp, docs, id_prefix, keep_labels, batch_size, progress))
    with atomic_output(output_path) as temporary:
        DocBin(docs=out_docs, store_user_data=True).to_disk(temporary)
    counts = span_counts(out_docs)
    typer.echo(
        f"{counts['docs']} docs, {counts['docs_with_spans']} with spans, {counts['spans']} spans "
        f"({counts['span_tokens']} tokens) -> {output_path}"
    )
    if counts["docs"] and not counts["spans"]:
        typer.echo(f"Warning: {model} predicted no entities at all", err=True)
