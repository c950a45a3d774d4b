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

from pathlib import Path
from typing import List, Optional

import typer
from spacy.tokens import Doc, DocBin

from ..files.docbins import read_doc_bin
from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..inference.pipelines import load_pipeline
from ..inference.weak_tagging import span_counts, weak_tag_docs
from ..shards import WeakTagJob
from .app import app
from .options import (
    address_option,
    batch_size_option,
    chunk_docs_option,
    cpus_per_worker_option,
    engine_option,
    gpu_id_option,
    gpus_per_worker_option,
    output_option,
    workers_option,
)
from .shards import run_sharded, wants_shards


@app.command("weak-tag")
def weak_tag_cli(
    model: str = typer.Argument(..., help="Trained spaCy pipeline (name or path)"),
    inputs: str = typer.Argument(
        ...,
        help="Unlabeled target-language DocBin; or a folder or glob of shards "
        '(DocBins, .jsonl with "text", plain text)',
    ),
    output_path: Path = output_option("DocBin to write; for shards, a folder"),
    id_prefix: str = typer.Option("", help="Prefix of pair ids for Docs without one"),
    keep_labels: bool = typer.Option(
        False, help="Also store predicted types (typed placeholders only)"
    ),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
    engine: str = engine_option(),
    workers: int = workers_option(),
    cpus_per_worker: Optional[float] = cpus_per_worker_option(),
    gpus_per_worker: float = gpus_per_worker_option(),
    address: Optional[str] = address_option(),
    chunk_docs: int = chunk_docs_option(),
    progress: bool = typer.Option(True, help="Show a progress bar"),
) -> None:
    """Store a weak tagger's entity boundaries as the Docs' conjugate spans."""
    if wants_shards(inputs, engine):
        job = WeakTagJob(model, id_prefix, keep_labels, batch_size, gpu_id)
        run_sharded(
            job,
            inputs,
            output_path,
            engine,
            chunk_docs,
            progress,
            workers,
            cpus_per_worker,
            gpus_per_worker,
            address,
        )
        return
    input_path = Path(inputs)
    if not input_path.is_file():
        raise typer.BadParameter(f"{inputs}: no such file", param_hint="'INPUTS'")
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
    write_target_docs(out_docs, output_path, f"{model} predicted no entities at all")


def write_target_docs(docs: List[Doc], output_path: Path, no_spans_warning: str) -> None:
    """Write target Docs with conjugate spans and print their counts; warn
    with ``no_spans_warning`` when no Doc has a span."""
    with atomic_output(output_path) as temporary:
        DocBin(docs=docs, store_user_data=True).to_disk(temporary)
    counts = span_counts(docs)
    typer.echo(
        f"{counts['docs']} docs, {counts['docs_with_spans']} with spans, {counts['spans']} spans "
        f"({counts['span_tokens']} tokens) -> {output_path}"
    )
    if counts["docs"] and not counts["spans"]:
        typer.echo(f"Warning: {no_spans_warning}", err=True)
