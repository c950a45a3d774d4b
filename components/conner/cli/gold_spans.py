"""Use a labeled target-language DocBin's own entity boundaries as conjugate spans.

A diagnosis, not part of the method: ConNER's candidate spans come from a
weak tagger, and a language where ConNER loses may lose because that
tagger's boundaries are wrong or because the translations are. Pairs built
from gold boundaries (``conner gold-spans`` then ``conner translate``) keep
the translations and remove the tagger's errors; comparing the two on a dev
set tells the causes apart. Only boundaries are kept, as from a weak tagger.

    conner gold-spans LABELED.spacy -o SPANS.spacy --id-prefix eu-
"""

from pathlib import Path

import typer
from spacy.vocab import Vocab

from ..files.docbins import read_doc_bin
from ..files.outputs import refuse_overwriting_inputs
from ..inference.weak_tagging import gold_span_docs
from .app import app
from .options import output_option
from .weak_tag import write_target_docs


@app.command("gold-spans")
def gold_spans_cli(
    input_path: Path = typer.Argument(..., help="Labeled target-language DocBin (gold doc.ents)"),
    output_path: Path = output_option("DocBin to write, for conner translate"),
    id_prefix: str = typer.Option("", help="Prefix of pair ids for Docs without one"),
) -> None:
    """Store the gold entity boundaries of labeled Docs as their conjugate spans."""
    try:
        refuse_overwriting_inputs([output_path], [input_path])
        doc_bin = read_doc_bin(input_path)
        if not len(doc_bin):
            raise ValueError(f"{input_path} holds no Doc; nothing written")
    except ValueError as err:  # OutputError, DocBinError are ValueErrors
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    docs = list(gold_span_docs(doc_bin.get_docs(Vocab()), id_prefix))
    write_target_docs(docs, output_path, f"{input_path} has no entities: is it labeled?")
