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

import json
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Tuple

import srsly
import typer
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from tqdm import tqdm

from ..consistency.pairs import bare_copy
from ..files.docbins import read_doc_bin
from ..files.outputs import atomic_output, refuse_overwriting_inputs
from .app import app
from .options import batch_size_option, gpu_id_option, int8_option, output_option
from .pipelines import load_pipeline, pipe_by_words

OUTPUT_SUFFIXES = (".spacy", ".jsonl")


def read_records(path: Path) -> List[Dict]:
    """The documents of a ``.jsonl`` or plain-text file as ``{"text": ..., ...}`` records."""
    records = []
    with path.open(encoding="utf8") as file_:
        for number, line in enumerate(file_, 1):
            if not line.strip():
                continue
            if path.suffix != ".jsonl":
                records.append({"text": line.rstrip("\r\n")})
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: not JSON ({err.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError(f'{path}:{number}: expected an object with a string "text"')
            records.append(record)
    if not records:
        raise ValueError(f"{path}: holds no document; nothing to tag")
    return records


def entity_record(doc: Doc, extra: Dict) -> Dict:
    """The JSON line of a tagged Doc: the input's keys, its text and its entities."""
    entities = [
        {"start": e.start_char, "end": e.end_char, "label": e.label_, "text": e.text}
        for e in doc.ents
    ]
    return {**extra, "text": doc.text, "entities": entities}


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
    input_path: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help='A .spacy DocBin, .jsonl with "text", or plain text (one document a line)',
    ),
    output: Path = output_option("A .spacy DocBin or .jsonl of texts and entities", dir_okay=False),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
    int8: bool = int8_option(),
    progress: bool = typer.Option(True, help="Show a progress bar"),
) -> None:
    """Tag documents with a trained pipeline; write a DocBin or JSON lines."""
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
        inputs: Iterable = (record["text"] for record in records)
        extras = [{k: v for k, v in record.items() if k != "text"} for record in records]
    else:
        gold = list(doc_bin.get_docs(nlp.vocab))
        inputs, extras = (bare_copy(doc, nlp.vocab) for doc in gold), [{} for _ in gold]
    docs = list(tag_inputs(nlp, inputs, len(extras), batch_size, progress))
    with atomic_output(output) as temporary:
        if output.suffix == ".spacy":
            DocBin(docs=docs, store_user_data=True).to_disk(temporary)
        else:
            srsly.write_jsonl(
                temporary, (entity_record(doc, extra) for doc, extra in zip(docs, extras))
            )
    n_entities = sum(len(doc.ents) for doc in docs)
    typer.echo(f"{len(docs)} documents, {n_entities} entities -> {output}")
