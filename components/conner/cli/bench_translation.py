"""Throughput and placeholder survival of a translation engine on CoNLL-2002.

Reads Spanish (or Dutch) CoNLL-2002 sentences straight from NLTK's
``conll2002.zip`` (``conner.prepare.conll``, entities read as conlleval reads them)
and, for this measurement only, takes candidate spans from the gold entity
boundaries (types are dropped). Translates everything twice through one
fresh cache: a cold run (every text goes to the engine) and a warm run
(every text comes from the cache), and prints both summaries.

    conner bench translation conll2002.zip --member conll2002/esp.train --lang es
"""

import json
import tempfile
from pathlib import Path
from typing import List, Optional

import spacy
import typer
from spacy.tokens import Doc

from ..consistency.extensions import set_conjugate_spans
from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..prepare.conll import doc_from_words, read_conll
from ..prepare.translation import (
    TranslationCache,
    TranslationSummary,
    get_engine,
    translate_docs,
)
from .app import bench_app
from .options import LANG_HELP, TRANSLATION_LANG_HELP, output_option


def gold_candidate_docs(
    path: Path, member: Optional[str] = None, limit: Optional[int] = None
) -> List[Doc]:
    """Unannotated Docs of a CoNLL file with its gold entity boundaries as conjugate spans."""
    sentences, _ = read_conll(path, member)
    vocab = spacy.blank("xx").vocab
    docs: List[Doc] = []
    for index, sentence in enumerate(sentences[:limit]):
        doc = doc_from_words(vocab, sentence.words)
        spans = [[key, start, end] for key, (start, end, _) in enumerate(sentence.spans or [])]
        set_conjugate_spans(doc, str(index), "target", spans)
        docs.append(doc)
    return docs


@bench_app.command("translation")
def bench_translation_cli(
    zip_path: Path = typer.Argument(..., help="NLTK conll2002.zip"),
    member: str = typer.Option("conll2002/esp.train", help="File inside the zip"),
    engine: str = typer.Option("apertium"),
    src: str = typer.Option("es", "--lang", help=LANG_HELP),
    tgt: str = typer.Option("en", "--translation-lang", help=TRANSLATION_LANG_HELP),
    sentences_per_call: int = typer.Option(
        256, "--sentences-per-call", min=1, help="Sentences sent to the engine in one call"
    ),
    limit: Optional[int] = typer.Option(None, help="First N sentences only"),
    output: Optional[Path] = output_option(
        "Write both summaries as JSON", default=None, dir_okay=False
    ),
) -> None:
    """Cold- and warm-cache throughput plus placeholder survival by kind."""
    refuse_overwriting_inputs([output], [zip_path])
    docs = gold_candidate_docs(zip_path, member, limit)
    translation_engine = get_engine(engine, src, tgt)
    nlp = spacy.blank(tgt)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        with TranslationCache(Path(folder) / "bench.sqlite") as cache:
            for run in ("cold", "warm"):
                summary = TranslationSummary()
                for _ in translate_docs(
                    docs,
                    translation_engine,
                    nlp,
                    cache=cache,
                    batch_size=sentences_per_call,
                    summary=summary,
                    progress=True,
                ):
                    pass
                results[run] = summary.to_dict()
                typer.echo(f"{run}: {json.dumps(results[run], indent=1)}")
    if output is not None:
        with atomic_output(output) as temporary:
            temporary.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
