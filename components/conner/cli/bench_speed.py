"""Inference speed: the trained pipeline against a bare transformer pass.

    conner bench speed training/conner-vanilla/model-best corpus/es_test.spacy --baseline training/ner/model-best

Prints ``nlp.pipe`` words/s of (a) the transformer component alone, (b) the
full conner pipeline and (c) optionally a built-in ``ner`` pipeline, all over
the same pre-tokenized sentences, measured in interleaved rounds in one
process, and the ratios between them (a ratio of 1.0 means the CRF head is
free).
"""

import time
from pathlib import Path
from statistics import median
from typing import Callable, Dict, List, Optional

import srsly
import typer
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..inference.pipelines import load_pipeline, pipe_by_words
from .app import bench_app
from .options import batch_size_option, gpu_id_option, int8_option, output_option


def words_per_second(nlp: Language, sentences: List[List[str]], batch_size: int) -> float:
    """Words/s of ``nlp.pipe`` over fresh Docs made from ``sentences``."""
    docs = [Doc(nlp.vocab, words=words) for words in sentences]
    n_words = sum(len(words) for words in sentences)
    start = time.perf_counter()
    for _ in pipe_by_words(nlp, docs, batch_size):
        pass
    return n_words / (time.perf_counter() - start)


def transformer_only(nlp: Language) -> Callable[[List[List[str]], int], float]:
    """A view of ``nlp`` that runs only its transformer."""
    disabled = [name for name in nlp.pipe_names if name != "transformer"]

    def run(sentences: List[List[str]], batch_size: int) -> float:
        with nlp.select_pipes(disable=disabled):
            return words_per_second(nlp, sentences, batch_size)

    return run


@bench_app.command("speed")
def bench_speed_cli(
    model: Path = typer.Argument(..., help="Trained conner pipeline"),
    data: Path = typer.Argument(..., help="DocBin whose sentences are tagged"),
    baseline: Optional[Path] = typer.Option(None, help="A built-in ner pipeline to compare with"),
    n_sentences: int = typer.Option(1000, help="Sentences per round"),
    rounds: int = typer.Option(3, help="Interleaved timing rounds (median reported)"),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
    int8: bool = int8_option(),
    output: Optional[Path] = output_option(
        "JSON file for the numbers", default=None, dir_okay=False
    ),
) -> None:
    """Words/s of a pipeline against its transformer alone (and a built-in ner pipeline)."""
    try:
        refuse_overwriting_inputs([output], [model, data, baseline])
        nlp = load_pipeline(str(model), gpu_id, int8)
    except ValueError as err:  # an output onto an input, no GPU, a damaged pipeline file
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    sentences = [[t.text for t in doc] for doc in DocBin().from_disk(data).get_docs(nlp.vocab)][
        :n_sentences
    ]
    runners: Dict[str, Callable] = {
        "transformer only": transformer_only(nlp),
        "conner pipeline": lambda s, b: words_per_second(nlp, s, b),
    }
    if baseline is not None:
        ner_nlp = load_pipeline(str(baseline))
        runners["ner pipeline"] = lambda s, b: words_per_second(ner_nlp, s, b)
    for run in runners.values():  # warm-up: first calls allocate and load
        run(sentences[:64], batch_size)
    timings: Dict[str, List[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            timings[name].append(run(sentences, batch_size))
    speed = {name: median(values) for name, values in timings.items()}
    n_words = sum(len(s) for s in sentences)
    print(f"{len(sentences)} sentences, {n_words} words, {rounds} rounds, batch {batch_size}")
    for name, wps in speed.items():
        print(f"{name:>18}: {wps:8.0f} words/s")
    ratios = {"conner / transformer only": speed["conner pipeline"] / speed["transformer only"]}
    if "ner pipeline" in speed:
        ratios["conner / ner"] = speed["conner pipeline"] / speed["ner pipeline"]
    for name, value in ratios.items():
        print(f"{name:>26}: {value:.3f}")
    if output is not None:
        with atomic_output(output) as temporary:
            srsly.write_json(
                temporary,
                {"words_per_second": speed, "ratios": ratios, "sentences": len(sentences)},
            )
