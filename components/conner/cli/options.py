"""Options shared by the commands, so that a flag means the same everywhere."""

from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import typer

# Words per nlp.pipe batch (about 1,400 CoNLL sentences). In words, so that a
# batch of long documents costs what a batch of short ones does; large, so
# that the transformer can sort a batch's windows by length before padding
# them (conner.transformer.length_batching).
BATCH_SIZE_DEFAULT = 20000
BATCH_SIZE_HELP = (
    "Words per nlp.pipe batch (a longer document is a batch of its own): large, "
    "so that the transformer can group sentences by length"
)
GPU_ID_HELP = "GPU id, -1 for the CPU"
TEST_HELP = "Test set NAME=PATH.spacy (DocBin with gold doc.ents); repeatable"
LANG_HELP = "Language code of the input documents, e.g. es"
TRANSLATION_LANG_HELP = "Language code of the translations, e.g. en"
INT8_HELP = "Run the encoder with int8 weights (CPU only): about twice as fast, 1 to 3 F1 lower"


def batch_size_option() -> int:
    """``--batch-size``: words per ``nlp.pipe`` batch (:func:`conner.inference.pipelines.pipe_by_words`)."""
    return typer.Option(BATCH_SIZE_DEFAULT, "--batch-size", min=1, help=BATCH_SIZE_HELP)


def gpu_id_option(default: Optional[int] = -1) -> int:
    """``--gpu-id``: the GPU a model runs on (-1: the CPU; None: the default of the
    program it is handed to, e.g. ``spacy train``'s, the CPU)."""
    return typer.Option(default, "--gpu-id", min=-1, help=GPU_ID_HELP)


def int8_option() -> bool:
    """``--int8``: the encoder's linear layers in int8, for faster inference on the CPU."""
    return typer.Option(False, "--int8", help=INT8_HELP)


def test_option(required: bool = True) -> List[str]:
    """``--test NAME=PATH``, repeatable (read with :func:`parse_test_sets`)."""
    return typer.Option(... if required else [], "--test", help=TEST_HELP)


def output_option(help: str, default=..., **kwargs) -> Path:
    """``--output/-o``: the command's main output."""
    return typer.Option(default, "--output", "-o", help=help, **kwargs)


def parse_test_sets(specs: Iterable[str]) -> List[Tuple[str, Path]]:
    """``NAME=PATH`` pairs, e.g. ``de=corpus/de_test.spacy``; the names must differ."""
    pairs = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise typer.BadParameter(f"expected NAME=PATH, got {spec!r}", param_hint="'--test'")
        pairs.append((name, Path(path)))
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise typer.BadParameter(
            f"each test set needs its own name; {', '.join(repeated)} repeated",
            param_hint="'--test'",
        )
    return pairs


# Corpus runs over shards (conner.shards): the engine and its workers.
ENGINE_HELP = (
    "local: this process; ray: Ray Data (embedded, or the cluster at --address). "
    "With a folder or glob of shards, or with ray, --output is a folder of output shards"
)


def engine_option() -> str:
    """``--engine``: ``local`` or ``ray`` (:mod:`conner.shards`)."""
    return typer.Option("local", "--engine", help=ENGINE_HELP)


def workers_option() -> int:
    """``--workers``: Ray actors, each holding the model."""
    return typer.Option(
        1, "--workers", min=1, help="Ray workers, each holding the model (--engine ray)"
    )


def cpus_per_worker_option() -> Optional[float]:
    """``--cpus-per-worker``: CPUs each Ray worker reserves and uses."""
    return typer.Option(
        None,
        "--cpus-per-worker",
        min=0.01,
        help="CPUs each Ray worker reserves and uses as threads (default: this machine's cores / workers)",
    )


def gpus_per_worker_option() -> float:
    """``--gpus-per-worker``: GPUs each Ray worker reserves."""
    return typer.Option(
        0.0, "--gpus-per-worker", min=0.0, help="GPUs each Ray worker reserves (0: CPU)"
    )


def address_option() -> Optional[str]:
    """``--address``: a Ray cluster to join."""
    return typer.Option(
        None,
        "--address",
        help="Ray cluster to join, e.g. 10.0.0.5:6379 (default: Ray embedded here)",
    )


def chunk_docs_option() -> int:
    """``--chunk-docs``: documents in one unit of work."""
    return typer.Option(
        500,
        "--chunk-docs",
        min=1,
        help="Documents a worker processes at a time (shards are cut into chunks)",
    )
