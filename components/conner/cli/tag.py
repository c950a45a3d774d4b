"""``conner tag``: run a trained pipeline over new text and write its entities.

The input is read by its suffix: ``.spacy`` (a DocBin, tagged on its own
tokens, as ``conner evaluate`` does), ``.jsonl`` (one object a line with a
``"text"``; its other keys are kept) or anything else as plain text, one
document a line (blank lines skipped). The output is a DocBin (``.spacy``)
or JSON lines (``.jsonl``: the text, its entities with character offsets,
and the input's other keys). A line that is not an object with a text stops
the run with one line naming the file and line, before the pipeline loads;
the output never replaces an input and appears only once complete.

    conner tag training/conner-google/model-best news.txt -o news.jsonl
"""

from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import srsly
import typer
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from tqdm import tqdm

from ..consistency.pairs import bare_copy
from ..files.docbins import read_doc_bin
from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..inference.pipelines import load_pipeline, pipe_by_words
from ..inference.records import entity_record, read_records
from ..shards import TagJob
from .app import app
from .options import (
    address_option,
    batch_size_option,
    chunk_docs_option,
    cpus_per_worker_option,
    engine_option,
    gpu_id_option,
    gpus_per_worker_option,
    int8_option,
    output_option,
    workers_option,
)
from .shards import run_sharded, wants_shards

OUTPUT_SUFFIXES = (".spacy", ".jsonl")


def tag_inputs(
    nlp: Language, inputs: Iterable, total: int, batch_size: int, progress: bool
) -> Iterator[Doc]:
    """``nlp.pipe`` over ``inputs`` (texts or Docs), with a progress bar."""
    docs = pipe_by_words(nlp, inputs, batch_size)
    yield from tqdm(docs, total=total, unit="doc", leave=False, disable=not progress)


def read_input(input_path: Path) -> Tuple[DocBin, List[Dict]]:
    """The input, checked before the pipeline loads: a DocBin, or records of text."""
    if input_path.suffix == ".spacy":
        doc_bin = read_doc_bin(input_path)
        if not len(doc_bin):
            raise ValueError(f"{input_path}: holds no document; nothing to tag")
        return doc_bin, []
    return DocBin(), read_records(input_path)


@app.command("tag")
def tag_cli(
    model: str = typer.Argument(..., help="Trained pipeline (path or package name)"),
    inputs: str = typer.Argument(
        ...,
        help='A .spacy DocBin, .jsonl with "text", or plain text (one document a line); '
        "or a folder or glob of such shards",
    ),
    output: Path = output_option(
        "A .spacy DocBin or .jsonl of texts and entities; for shards, a folder"
    ),
    output_format: str = typer.Option(
        "jsonl", "--output-format", help="Format of output shards: jsonl or spacy"
    ),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
    int8: bool = int8_option(),
    engine: str = engine_option(),
    workers: int = workers_option(),
    cpus_per_worker: Optional[float] = cpus_per_worker_option(),
    gpus_per_worker: float = gpus_per_worker_option(),
    address: Optional[str] = address_option(),
    chunk_docs: int = chunk_docs_option(),
    progress: bool = typer.Option(True, help="Show a progress bar"),
) -> None:
    """Tag documents with a trained pipeline; write a DocBin or JSON lines."""
    if wants_shards(inputs, engine):
        if output_format not in ("jsonl", "spacy"):
            raise typer.BadParameter(
                f"jsonl or spacy, got {output_format}", param_hint="'--output-format'"
            )
        job = TagJob(model, f".{output_format}", batch_size, gpu_id, int8)
        run_sharded(
            job,
            inputs,
            output,
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
    if output.suffix not in OUTPUT_SUFFIXES:
        raise typer.BadParameter(
            f"write {' or '.join(OUTPUT_SUFFIXES)}, got {output.name}", param_hint="'--output'"
        )
    model_path = Path(model)
    try:
        refuse_overwriting_inputs(
            [output], [input_path, model_path if model_path.exists() else None]
        )
        doc_bin, records = read_input(input_path)
        nlp = load_pipeline(model, gpu_id, int8)
    except ValueError as err:  # OutputError, DocBinError, DamagedFileError are ValueErrors
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    if records:
        texts_or_docs: Iterable = (record["text"] for record in records)
        extras = [{k: v for k, v in record.items() if k != "text"} for record in records]
    else:
        gold = list(doc_bin.get_docs(nlp.vocab))
        texts_or_docs, extras = (bare_copy(doc, nlp.vocab) for doc in gold), [{} for _ in gold]
    docs = list(tag_inputs(nlp, texts_or_docs, len(extras), batch_size, progress))
    with atomic_output(output) as temporary:
        if output.suffix == ".spacy":
            DocBin(docs=docs, store_user_data=True).to_disk(temporary)
        else:
            srsly.write_jsonl(
                temporary, (entity_record(doc, extra) for doc, extra in zip(docs, extras))
            )
    n_entities = sum(len(doc.ents) for doc in docs)
    typer.echo(f"{len(docs)} documents, {n_entities} entities -> {output}")
