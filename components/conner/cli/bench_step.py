"""Training-step cost of ConNER against vanilla training.

Builds both pipelines from the same config, draws batches through the
project's batcher (so ConNER's batches hold the dropout twins and the
conjugate pairs exactly as in training), and times ``nlp.update`` over the
same labeled batches, alternating the two. Prints the median step time of
each, their ratio, and the ratio of sub-word tokens each step feeds the
transformer. ConNER does no more encoder work than its extra tokens need
when the time ratio is not above the token ratio.

    conner bench step configs/conner.cfg corpus/en_train.spacy corpus/pairs_es_google.spacy
"""

import functools
import random
import time
from pathlib import Path
from statistics import median
from typing import Dict, List, Optional, cast

import srsly
import typer
from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import load_config, load_model_from_config, registry
from spacy_transformers import Transformer
from spacy_transformers.layers.transformer_model import TransformerModel
from thinc.api import require_gpu

from ..files.outputs import atomic_output, refuse_overwriting_inputs
from .app import bench_app
from .options import gpu_id_option, output_option


def build(config_path: Path, overrides: Dict) -> Language:
    config = load_config(config_path, overrides=overrides, interpolate=True)
    return load_model_from_config(config, auto_fill=True, validate=True)


def subword_count(nlp: Language, examples: List[Example]) -> int:
    """Sub-word tokens the transformer sees for the batch's docs (incl. specials)."""
    # get_pipe is typed as a plain callable; this pipe's model is a TransformerModel.
    pipe = cast(Transformer, nlp.get_pipe("transformer"))
    tokenizer = cast(TransformerModel, pipe.model).tokenizer
    texts = [[t.text for t in eg.predicted] for eg in examples]
    return sum(len(ids) for ids in tokenizer(texts, is_split_into_words=True)["input_ids"])


@bench_app.command("step")
def bench_step_cli(
    config_path: Path = typer.Argument(..., exists=True),
    train_path: Path = typer.Argument(..., exists=True),
    pairs_path: Path = typer.Argument(..., exists=True),
    encoder: str = typer.Option("encoders/e5-small", help="paths.encoder"),
    steps: int = typer.Option(10, help="Timed steps per system"),
    seed: int = typer.Option(0),
    gpu_id: int = gpu_id_option(),
    output: Optional[Path] = output_option(
        "JSON file for the numbers", default=None, dir_okay=False
    ),
) -> None:
    """Time ConNER's training step against vanilla training on the same batches."""
    refuse_overwriting_inputs([output], [config_path, train_path, pairs_path])
    if gpu_id >= 0:
        require_gpu(gpu_id)
    common = {
        "paths.encoder": encoder,
        "paths.train": str(train_path),
        "paths.pairs": str(pairs_path),
        "system.seed": seed,
    }
    systems = {
        "vanilla": {**common, "consistency.alpha": 0.0, "consistency.beta": 0.0},
        "conner": common,
    }
    pipelines, batchers, optimizers = {}, {}, {}
    for name, overrides in systems.items():
        nlp = build(config_path, overrides)
        examples = [
            Example(nlp.make_doc(d.text), d)
            for d in DocBin().from_disk(train_path).get_docs(nlp.vocab)
        ]
        # Runs [initialize.after_init] too: the word embeddings are frozen as in training.
        optimizers[name] = nlp.initialize(functools.partial(list, examples))
        batcher = registry.resolve(nlp.config.interpolate()["training"])["batcher"]
        random.Random(seed).shuffle(examples)
        batchers[name] = batcher(examples)
        pipelines[name] = nlp
    times: Dict[str, List[float]] = {name: [] for name in systems}
    tokens: Dict[str, List[int]] = {name: [] for name in systems}
    for step in range(steps + 1):
        for name, nlp in pipelines.items():
            batch = next(batchers[name])
            start = time.perf_counter()
            nlp.update(batch, sgd=optimizers[name], drop=0.1)
            if step > 0:  # the first step allocates
                times[name].append(time.perf_counter() - start)
                tokens[name].append(subword_count(nlp, batch))
    result = {
        name: {"step_s": median(times[name]), "subwords_per_step": median(tokens[name])}
        for name in systems
    }
    time_ratio = result["conner"]["step_s"] / result["vanilla"]["step_s"]
    token_ratio = result["conner"]["subwords_per_step"] / result["vanilla"]["subwords_per_step"]
    for name, row in result.items():
        print(
            f"{name:>8}: {row['step_s']:.2f} s/step, {row['subwords_per_step']:.0f} sub-words/step"
        )
    print(f"time ratio conner/vanilla {time_ratio:.2f}, sub-word ratio {token_ratio:.2f}")
    if output is not None:
        with atomic_output(output) as temporary:
            srsly.write_json(
                temporary,
                {
                    "systems": result,
                    "time_ratio": time_ratio,
                    "token_ratio": token_ratio,
                    "steps": steps,
                },
            )
