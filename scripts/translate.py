"""Translate weakly tagged target Docs into conjugate translation Docs.

Reads a DocBin of target-language Docs with candidate spans (from
``weak_tag.py``), translates them with placeholders (ConNER section 2.3) and
writes a DocBin holding, for each kept sentence, the target Doc (role
"target", spans reduced to those that survived translation) followed by
its translation Doc (role "translation"); both share a conjugate id. A
summary JSON (counts, survival rates, engine time, cache hits) is written
next to the output unless ``--summary`` says where.

    python scripts/translate.py INPUT.spacy OUTPUT.spacy --engine apertium --src es --tgt en \\
        --cache cache/translate.sqlite --batch-size 64

Engine options go as ``--option key=value`` (repeatable), e.g.
``--engine stored --option paths=data/En2Es --option on_missing=empty``,
``--engine opus-mt --option model=path/to/marian``,
``--engine google --option max_retries=8``.

Languages, engine and paths are checked before anything is read: outputs
never replace the input or the cache, and appear only once complete
(``conner.outputs``). When not one sentence is kept (e.g. a DocBin without
conjugate spans), the summary says why and nothing else is written (exit 1).
"""
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
import typer
from spacy.tokens import DocBin

from conner.languages import require_language
from conner.outputs import atomic_output, refuse_overwriting_inputs
from conner.pairs import write_pairs
from conner.prepare.translation import TranslationCache, TranslationSummary, get_engine, translate_docs
from conner.prepare.translation.engines import TranslationEngine, TranslationError


def parse_options(options: List[str]) -> Dict[str, Any]:
    """``["max_retries=3", "model=x"]`` -> ``{"max_retries": 3, "model": "x"}``."""
    parsed: Dict[str, Any] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"Engine options look like key=value, got {option!r}")
        try:
            parsed[key] = json.loads(value)
        except json.JSONDecodeError:
            parsed[key] = value
    return parsed


def summary_path_for(output_path: Path) -> Path:
    return output_path.with_name(output_path.stem + ".summary.json")


def translate_file(
    input_path: Path,
    output_path: Path,
    engine: TranslationEngine,
    cache_path: Optional[Path] = None,
    batch_size: int = 64,
    typed_placeholders: bool = False,
    max_tokens: Optional[int] = None,
    progress: bool = True,
) -> TranslationSummary:
    """Translate the DocBin at ``input_path``; write pairs to ``output_path``.

    Nothing is written when no pair is kept (``summary.pairs_kept == 0``).
    """
    source_vocab = spacy.blank(engine.src_lang).vocab
    nlp = spacy.blank(engine.tgt_lang)
    docs = list(DocBin().from_disk(input_path).get_docs(source_vocab))
    summary = TranslationSummary()
    cache = TranslationCache(cache_path) if cache_path is not None else None
    try:
        pairs = translate_docs(
            docs, engine, nlp, cache=cache, batch_size=batch_size,
            typed_placeholders=typed_placeholders, max_tokens=max_tokens,
            summary=summary, progress=progress,
        )
        write_pairs(pairs, output_path)  # writes nothing when no pair is kept
    finally:
        if cache is not None:
            cache.close()
    return summary


def nothing_kept_message(input_path: Path, summary: TranslationSummary) -> str:
    """Why no sentence of ``input_path`` became a pair, with the counts."""
    return (
        f"0 of {summary.sentences} sentences of {input_path} kept: {summary.no_spans} without "
        f"conjugate spans (run weak_tag.py first?), {summary.empty} empty, {summary.too_long} "
        f"too long, {summary.sentences_dropped} dropped after translation; nothing written"
    )


def main(
    input_path: Path = typer.Argument(..., help="DocBin of target Docs with conjugate spans"),
    output_path: Path = typer.Argument(..., help="DocBin to write (target + translation Docs)"),
    engine: str = typer.Option("apertium", help="apertium, opus-mt, google or stored"),
    src: str = typer.Option("es", help="Language of the input Docs"),
    tgt: str = typer.Option("en", help="Language to translate into"),
    cache: Optional[Path] = typer.Option(None, help="SQLite translation cache"),
    batch_size: int = typer.Option(64, help="Sentences per engine call"),
    typed_placeholders: bool = typer.Option(False, help="PER0 instead of SPAN0 (needs weak_tag.py --keep-labels)"),
    max_tokens: Optional[int] = typer.Option(None, help="Skip longer sentences (counted)"),
    summary: Optional[Path] = typer.Option(None, help="Summary JSON (default: next to the output)"),
    option: List[str] = typer.Option([], help="Engine option key=value (repeatable)"),
    progress: bool = typer.Option(True, help="Show a progress bar"),
) -> None:
    """Alignment-free translation of candidate spans with placeholders."""
    summary_path = summary or summary_path_for(output_path)
    try:
        require_language(src)
        require_language(tgt)
        refuse_overwriting_inputs([output_path, summary_path], [input_path, cache])
        translation_engine = get_engine(engine, src, tgt, **parse_options(option))
    except (ValueError, TranslationError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1)
    result = translate_file(
        input_path, output_path, translation_engine, cache, batch_size,
        typed_placeholders, max_tokens, progress,
    )
    data = {"engine": engine, "model": translation_engine.model, "src": src, "tgt": tgt,
            **result.to_dict()}
    with atomic_output(summary_path) as temporary:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if not result.pairs_kept:
        typer.echo(f"Error: {nothing_kept_message(input_path, result)} (summary: {summary_path})", err=True)
        raise typer.Exit(1)
    if result.no_spans:
        typer.echo(f"Warning: {result.no_spans} of {result.sentences} sentences had no conjugate spans (skipped)", err=True)
    typer.echo(
        f"{result.pairs_kept}/{result.sentences} sentences kept, spans "
        f"{result.spans_kept}/{result.spans_in} ({data['survival_rate']:.1%}); "
        f"engine {result.engine_seconds:.1f}s, cache {result.cache_hits} hits / "
        f"{result.cache_misses} misses -> {output_path}, {summary_path}"
    )


if __name__ == "__main__":
    typer.run(main)
