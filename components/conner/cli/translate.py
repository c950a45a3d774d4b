"""Translate weakly tagged target Docs into conjugate translation Docs.

Reads a DocBin of target-language Docs with candidate spans (from
``conner weak-tag``), translates them with placeholders (ConNER section 2.3) and
writes a DocBin holding, for each kept sentence, the target Doc (role
"target", spans reduced to those that survived translation) followed by
its translation Doc (role "translation"); both share a conjugate id. A
summary JSON (counts, survival rates, engine time, cache hits) is written
next to the output unless ``--summary`` says where.

    conner translate INPUT.spacy -o OUTPUT.spacy --translator apertium --lang es --translation-lang en \\
        --cache cache/translate.sqlite --sentences-per-call 64

Engine options go as ``--option key=value`` (repeatable), e.g.
``--translator stored --option paths=data/En2Es --option on_missing=empty``,
``--translator opus-mt --option model=path/to/marian``,
``--translator google --option max_retries=8``.

Options, languages and paths are checked before anything is read: outputs
never replace the input or the cache, and appear only once complete
(``conner.files.outputs``); an engine option the engine does not take is an error
naming ``--option``. The input is checked before the engine is loaded: a
Doc that is a translation, or whose span lies outside it, is empty or
inverted, or repeats a key, stops the run with one line naming the file and
the pair id (conner weak-tag never writes such spans, so the file was damaged or
edited); overlapping spans keep the first and are counted in the summary
(``overlapping_spans``). When not one sentence is kept (e.g. a DocBin
without conjugate spans), the summary says why and nothing else is written
(exit 1).
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
import typer
from spacy.tokens import Doc

from ..consistency.pairs import write_pairs
from ..files.docbins import read_docs
from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..prepare.languages import require_language, spacy_language
from ..prepare.translation import (
    TranslationCache,
    TranslationSummary,
    get_engine,
    translate_docs,
)
from ..prepare.translation.engines import TranslationEngine, TranslationError
from ..prepare.translation.targets import check_target_docs
from ..shards import TranslateJob
from .app import app
from .options import (
    TRANSLATION_LANG_HELP,
    address_option,
    chunk_docs_option,
    cpus_per_worker_option,
    engine_option,
    output_option,
    workers_option,
)
from .shards import run_sharded, wants_shards


def parse_options(options: List[str]) -> Dict[str, Any]:
    """``["max_retries=3", "model=x"]`` -> ``{"max_retries": 3, "model": "x"}``."""
    parsed: Dict[str, Any] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key:
            raise typer.BadParameter(
                f"engine options look like key=value, got {option!r}", param_hint="'--option'"
            )
        try:
            parsed[key] = json.loads(value)
        except json.JSONDecodeError:
            parsed[key] = value
    return parsed


def summary_path_for(output_path: Path) -> Path:
    return output_path.with_name(output_path.stem + ".summary.json")


def read_target_docs(input_path: Path, lang: str) -> List[Doc]:
    """The target Docs of ``input_path``, checked by :func:`check_target_docs`.

    lang (str): the engine's code of their language (see :func:`spacy_language`).
    """
    docs = read_docs(input_path, spacy.blank(spacy_language(lang)).vocab)
    check_target_docs(docs, str(input_path))
    return docs


def build_engine(name: str, src: str, tgt: str, options: Dict[str, Any]) -> TranslationEngine:
    """The engine ``name`` with ``options``; an option it does not take names ``--option``."""
    try:
        return get_engine(name, src, tgt, **options)
    except TypeError as err:  # an unexpected keyword, or a value of the wrong type
        raise typer.BadParameter(
            f"the {name} engine refuses {options} ({err})", param_hint="'--option'"
        ) from err


def translate_file(
    docs: List[Doc],
    output_path: Path,
    engine: TranslationEngine,
    cache_path: Optional[Path] = None,
    batch_size: int = 64,
    typed_placeholders: bool = False,
    max_tokens: Optional[int] = None,
    progress: bool = True,
    trim_span_edges: bool = True,
) -> TranslationSummary:
    """Translate ``docs`` (from :func:`read_target_docs`); write pairs to ``output_path``.

    Nothing is written when no pair is kept (``summary.pairs_kept == 0``).
    """
    nlp = spacy.blank(engine.tgt_lang)
    summary = TranslationSummary()
    cache = TranslationCache(cache_path) if cache_path is not None else None
    try:
        pairs = translate_docs(
            docs,
            engine,
            nlp,
            cache=cache,
            batch_size=batch_size,
            typed_placeholders=typed_placeholders,
            max_tokens=max_tokens,
            summary=summary,
            progress=progress,
            trim_span_edges=trim_span_edges,
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
        f"conjugate spans (run conner weak-tag first?), {summary.empty} empty, {summary.too_long} "
        f"too long, {summary.sentences_dropped} dropped after translation; nothing written"
    )


@app.command("translate")
def translate_cli(
    inputs: str = typer.Argument(
        ...,
        help="DocBin of target Docs with conjugate spans; or a folder or glob of such DocBins",
    ),
    output_path: Path = output_option(
        "DocBin to write (target + translation Docs); for shards, a folder"
    ),
    engine: str = typer.Option(
        "apertium", "--translator", help="Translation engine: apertium, opus-mt, google or stored"
    ),
    src: str = typer.Option(
        "es",
        "--lang",
        help="The engine's code of the input's language, e.g. es (gl: Galician, read as spaCy's xx)",
    ),
    tgt: str = typer.Option("en", "--translation-lang", help=TRANSLATION_LANG_HELP),
    cache: Optional[Path] = typer.Option(None, dir_okay=False, help="SQLite translation cache"),
    sentences_per_call: int = typer.Option(
        64, "--sentences-per-call", min=1, help="Sentences sent to the engine in one call"
    ),
    typed_placeholders: bool = typer.Option(
        False, help="PER0 instead of SPAN0 (needs conner weak-tag --keep-labels)"
    ),
    max_tokens: Optional[int] = typer.Option(None, min=1, help="Skip longer sentences (counted)"),
    trim_span_edges: bool = typer.Option(
        True,
        "--trim-span-edges/--keep-span-edges",
        help="Move span edges past the function words a span's translation added "
        "('in Vitoria' -> 'Vitoria'); English translations only",
    ),
    summary: Optional[Path] = typer.Option(
        None, dir_okay=False, help="Summary JSON (default: next to the output)"
    ),
    option: List[str] = typer.Option([], help="Engine option key=value (repeatable)"),
    engine_name: str = engine_option(),
    workers: int = workers_option(),
    cpus_per_worker: Optional[float] = cpus_per_worker_option(),
    address: Optional[str] = address_option(),
    chunk_docs: int = chunk_docs_option(),
    progress: bool = typer.Option(True, help="Show a progress bar"),
) -> None:
    """Alignment-free translation of candidate spans with placeholders."""
    options = parse_options(option)
    if wants_shards(inputs, engine_name):
        try:
            require_language(tgt)
            build_engine(engine, src, tgt, options)  # a missing engine stops the run here
        except (ValueError, TranslationError) as err:
            typer.echo(f"Error: {err}", err=True)
            raise typer.Exit(1) from None
        job = TranslateJob(
            engine,
            src,
            tgt,
            options,
            str(cache) if cache else None,
            sentences_per_call,
            typed_placeholders,
            max_tokens,
            trim_span_edges=trim_span_edges,
        )
        run_sharded(
            job,
            inputs,
            output_path,
            engine_name,
            chunk_docs,
            progress,
            workers,
            cpus_per_worker,
            0.0,
            address,
        )
        return
    input_path = Path(inputs)
    if not input_path.is_file():
        raise typer.BadParameter(f"{inputs}: no such file", param_hint="'INPUTS'")
    summary_path = summary or summary_path_for(output_path)
    try:
        require_language(tgt)
        refuse_overwriting_inputs([output_path, summary_path], [input_path, cache])
        docs = read_target_docs(input_path, src)
        translation_engine = build_engine(engine, src, tgt, options)
    except (ValueError, TranslationError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    try:
        result = translate_file(
            docs,
            output_path,
            translation_engine,
            cache,
            sentences_per_call,
            typed_placeholders,
            max_tokens,
            progress,
            trim_span_edges,
        )
    except (ValueError, TranslationError) as err:  # an engine that fails mid-run, labels missing
        typer.echo(f"Error: {input_path}: {err}; nothing written", err=True)
        raise typer.Exit(1) from None
    data = {
        "engine": engine,
        "model": translation_engine.model,
        "src": src,
        "tgt": tgt,
        **result.to_dict(),
    }
    with atomic_output(summary_path) as temporary:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if not result.pairs_kept:
        typer.echo(
            f"Error: {nothing_kept_message(input_path, result)} (summary: {summary_path})", err=True
        )
        raise typer.Exit(1) from None
    if result.no_spans:
        typer.echo(
            f"Warning: {result.no_spans} of {result.sentences} sentences had no conjugate spans (skipped)",
            err=True,
        )
    typer.echo(
        f"{result.pairs_kept}/{result.sentences} sentences kept, spans "
        f"{result.spans_kept}/{result.spans_in} ({data['survival_rate']:.1%}); "
        f"engine {result.engine_seconds:.1f}s, cache {result.cache_hits} hits / "
        f"{result.cache_misses} misses -> {output_path}, {summary_path}"
    )
