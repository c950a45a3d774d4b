"""The int8 encoder against the fp32 one: ``nlp.pipe`` speed and test F1, in one run.

Loads the pipeline twice, once as saved (fp32) and once with int8 linear
layers in its encoder (:func:`conner.transformer.int8.quantize_encoder`),
and tags each test set with both, on the same input and the same
``nlp.pipe`` batches. Prints, per test set and over all of them:

* words/s of ``nlp.pipe`` for fp32 and int8, and their ratio;
* where the time goes: the share spent in the encoder's forward pass and,
  on a sample (``--profile``), within it in its linear layers (the part
  that int8 speeds up; the rest, attention, embeddings, tokenization,
  pooling and CRF decoding, stays as it was);
* entity-level F1 (seqeval, as ``conner evaluate`` scores it) of both, and
  the difference int8 - fp32 in points.

Both pipelines tag a few sentences first, so that neither pays for building
the tokenizer or first allocations inside the timing. int8 runs on the CPU
only: with ``--gpu-id`` set, the run stops with the reason.

    conner bench int8 training/conner/model-best \\
        --test de=corpus/de_test.spacy --test es=corpus/es_test.spacy -o int8.json
"""

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List

import srsly
import torch
import typer
from spacy.language import Language
from spacy.tokens import Doc

from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..inference.pipelines import load_pipeline
from ..transformer.int8 import hf_encoder, quantize_encoder, transformer_pipe
from .app import bench_app
from .evaluate import read_test_set, score, tag_docs
from .options import batch_size_option, gpu_id_option, output_option, parse_test_sets, test_option

VARIANTS = ("fp32", "int8")


class Stopwatch:
    """Seconds spent inside some modules' forward passes (outermost calls only)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0
        self._start = 0.0

    def enter(self, *args) -> None:
        if self._depth == 0:
            self._start = time.perf_counter()
        self._depth += 1

    def leave(self, *args) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._start


@contextmanager
def forward_time(modules: List[torch.nn.Module]) -> Iterator[Stopwatch]:
    """Within: a :class:`Stopwatch` of the time spent in ``modules``' forward passes."""
    watch = Stopwatch()
    handles = []
    for module in modules:
        handles.append(module.register_forward_pre_hook(watch.enter))
        handles.append(module.register_forward_hook(watch.leave))
    try:
        yield watch
    finally:
        for handle in handles:
            handle.remove()


def linear_layers(encoder: torch.nn.Module) -> List[torch.nn.Module]:
    """The encoder's linear layers, fp32 (``torch.nn.Linear``) or int8."""
    from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

    return [m for m in encoder.modules() if isinstance(m, (torch.nn.Linear, Int8Linear))]


def timed_tagging(nlp: Language, gold: List[Doc], batch_size: int, linear: bool = False) -> Dict:
    """Tag ``gold``'s words with ``nlp``: the predicted docs, and seconds in all
    and in the encoder (and, if ``linear``, in its linear layers: a hook on
    each costs time of its own, so the timed runs go without)."""
    encoder = hf_encoder(transformer_pipe(nlp, "transformer"))
    with (
        forward_time([encoder]) as in_encoder,
        forward_time(linear_layers(encoder) if linear else []) as in_linear,
    ):
        start = time.perf_counter()
        predicted = tag_docs(nlp, gold, batch_size)
        seconds = time.perf_counter() - start
    times = {"seconds": seconds, "encoder_seconds": in_encoder.seconds}
    if linear:
        times["linear_seconds"] = in_linear.seconds
    return {"predicted": predicted, **times}


def summary(words: int, seconds: float, encoder_seconds: float) -> Dict:
    return {
        "seconds": round(seconds, 2),
        "words_per_s": words / seconds,
        "encoder_share": encoder_seconds / seconds,
        "outside_encoder_seconds": round(seconds - encoder_seconds, 2),
    }


def describe(row: Dict) -> str:
    return (
        f"{row['words_per_s']:6.0f} words/s (encoder {100 * row['encoder_share']:.0f} %, "
        f"outside the encoder {row['outside_encoder_seconds']:.1f} s)"
    )


def time_shares(nlp: Language, sample: List[Doc], batch_size: int) -> Dict[str, float]:
    """Shares of ``nlp.pipe``'s time on ``sample``: encoder, its linear layers, the rest."""
    run = timed_tagging(nlp, sample, batch_size, linear=True)
    seconds = run["seconds"]
    return {
        "encoder": run["encoder_seconds"] / seconds,
        "linear_layers": run["linear_seconds"] / seconds,
        "encoder_besides_linear": (run["encoder_seconds"] - run["linear_seconds"]) / seconds,
        "outside_encoder": 1 - run["encoder_seconds"] / seconds,
    }


@bench_app.command("int8")
def bench_int8_cli(
    model: str = typer.Argument(..., help="Trained pipeline (path or package name)"),
    test: List[str] = test_option(),
    output: Path = output_option("JSON file for the numbers", default=None, dir_okay=False),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
    warmup: int = typer.Option(32, min=0, help="Sentences each pipeline tags before the timing"),
    profile: int = typer.Option(
        300, min=0, help="Sentences per test set of the time breakdown (linear layers' share)"
    ),
) -> None:
    """The int8 encoder against the fp32 one: nlp.pipe words/s and test F1, in one run."""
    sets = parse_test_sets(test)
    model_path = Path(model)
    try:
        if output is not None:
            refuse_overwriting_inputs(
                [output], [path for _, path in sets] + [model_path if model_path.exists() else None]
            )
        doc_bins = {name: read_test_set(path) for name, path in sets}
        pipelines = {
            "int8": quantize_encoder(load_pipeline(model, gpu_id)),
            "fp32": load_pipeline(model, gpu_id),
        }
    except ValueError as err:  # Int8Error, DamagedFileError, DocBinError, OutputError, no GPU
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    golds = {
        name: list(doc_bin.get_docs(pipelines["fp32"].vocab)) for name, doc_bin in doc_bins.items()
    }
    first = next(iter(golds.values()))[:warmup]
    for nlp in pipelines.values():
        tag_docs(nlp, first, batch_size)
    print(f"{model}: nlp.pipe batch size {batch_size}, torch threads {torch.get_num_threads()}")
    results: Dict[str, Dict] = {}
    # summary()'s arguments per variant: words (int) and seconds (float).
    totals: Dict[str, Dict[str, Any]] = {
        v: {"words": 0, "seconds": 0.0, "encoder_seconds": 0.0} for v in VARIANTS
    }
    for name, gold in golds.items():
        words = sum(len(doc) for doc in gold)
        row: Dict = {"sentences": len(gold), "words": words}
        for variant in VARIANTS:
            run = timed_tagging(pipelines[variant], gold, batch_size)
            scores = score(gold, run.pop("predicted"))
            row[variant] = {
                **summary(words, **run),
                "f": scores["f"],
                "p": scores["p"],
                "r": scores["r"],
            }
            totals[variant]["words"] += words
            for key, value in run.items():
                totals[variant][key] += value
        row["ratio"] = row["int8"]["words_per_s"] / row["fp32"]["words_per_s"]
        row["f1_difference"] = 100 * (row["int8"]["f"] - row["fp32"]["f"])
        results[name] = row
        print(f"{name}: {len(gold)} sentences, {words} words")
        for variant in VARIANTS:
            print(f"  {variant}: {describe(row[variant])}, F1 {100 * row[variant]['f']:.2f}")
        print(f"  int8/fp32: {row['ratio']:.2f}x, F1 difference {row['f1_difference']:+.2f}")
    overall = {variant: summary(**totals[variant]) for variant in VARIANTS}
    ratio = overall["int8"]["words_per_s"] / overall["fp32"]["words_per_s"]
    print(f"all sets: {totals['fp32']['words']} words")
    for variant in VARIANTS:
        print(f"  {variant}: {describe(overall[variant])}")
    print(
        f"  int8/fp32: {ratio:.2f}x; F1 difference per set: "
        + ", ".join(f"{name} {row['f1_difference']:+.2f}" for name, row in results.items())
    )
    sample = [doc for gold in golds.values() for doc in gold[:profile]]
    shares = (
        {variant: time_shares(pipelines[variant], sample, batch_size) for variant in VARIANTS}
        if sample
        else {}
    )
    for variant, share in shares.items():
        print(
            f"  where {variant} spends its time ({len(sample)} sentences, a hook on each linear layer): "
            + ", ".join(
                f"{part.replace('_', ' ')} {100 * value:.0f} %" for part, value in share.items()
            )
        )
    if output is not None:
        report = {
            "model": model,
            "batch_size": batch_size,
            "threads": torch.get_num_threads(),
            "sets": results,
            "all": {**overall, "words": totals["fp32"]["words"], "ratio": ratio},
            "time_shares": shares,
        }
        with atomic_output(output) as temporary:
            srsly.write_json(temporary, report)
