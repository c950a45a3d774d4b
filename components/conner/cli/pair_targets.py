"""The target side of conjugate pairs, ready to be translated again.

A diagnosis, not part of the method: where ConNER loses on a language, the
translation engine is one suspect. Taking the target side of pairs that
one engine made (``conner pair-targets``) and translating it with another
(``conner translate``) gives pairs that differ in the engine alone: the
same sentences, the same candidate spans, the same pair ids.

    conner pair-targets corpus/pairs_es_google.spacy -o corpus/es_google_targets.spacy
"""

from pathlib import Path

import typer
from spacy.vocab import Vocab

from ..consistency.pairs import load_pairs
from ..files.outputs import refuse_overwriting_inputs
from ..inference.weak_tagging import pair_target_docs
from .app import app
from .options import output_option
from .weak_tag import write_target_docs


@app.command("pair-targets")
def pair_targets_cli(
    input_path: Path = typer.Argument(..., help="Conjugate pairs: a DocBin or a folder of them"),
    output_path: Path = output_option("DocBin of target Docs to write, for conner translate"),
) -> None:
    """Write the target side of conjugate pairs, with the spans both sides share."""
    try:
        refuse_overwriting_inputs([output_path], [input_path])
        pairs = load_pairs(input_path, Vocab())
        if not pairs:
            raise ValueError(f"{input_path} holds no complete conjugate pair; nothing written")
    except (OSError, ValueError) as err:  # PairError, OutputError are ValueErrors
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    docs = list(pair_target_docs(pairs))
    write_target_docs(docs, output_path, f"{input_path}: no pair shares a span")
