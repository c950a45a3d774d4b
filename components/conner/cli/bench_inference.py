"""Inference speed against the encoder's limit, and the memory of loading.

In one run over the same test sets, prints words/s of:

* ``raw sorted``: the Hugging Face encoder alone, sentences sorted by
  sub-word length, batches of at most ``--raw-padded`` padded sub-words
  (what the encoder can do: the limit);
* ``raw file order``: the encoder alone, batches of 64 sentences in file order;
* ``pipe sorted``: ``nlp.pipe`` with length-sorted encoder sub-batches
  (``max_padded_subwords``, :mod:`conner.transformer.length_batching`);
* ``pipe unsorted``: ``nlp.pipe`` with one encoder call per batch, as
  spacy-transformers does (the same pipeline, batching switched off);

each as a ratio to the limit, rounds interleaved, median of ``--rounds``.
It checks that both ``nlp.pipe`` paths give the same entities, and reports
the peak and steady RSS of ``spacy.load`` (in a fresh process, see
``conner bench load``) and the peak RSS of this run.

    conner bench inference training/conner-vanilla/model-best --test es=corpus/es_test.spacy
"""

import functools
import resource
import time
from pathlib import Path
from statistics import median
from typing import Any, Callable, Dict, List, Optional, cast

import srsly
import torch
import typer
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy_transformers import Transformer
from spacy_transformers.layers.transformer_model import TransformerModel

from ..files.outputs import atomic_output
from ..inference.pipelines import load_pipeline, pipe_by_words
from ..transformer.adapter import forward_function, set_forward_function
from ..transformer.length_batching import length_groups, sort_encoder_batches
from .app import bench_app
from .bench_load import load_rss_mb
from .options import (
    batch_size_option,
    gpu_id_option,
    int8_option,
    output_option,
    parse_test_sets,
    test_option,
)


def raw_forward(nlp: Language, sentences: List[List[str]], order: str, raw_padded: int) -> None:
    """The encoder alone over ``sentences`` (sorted by length, or file order)."""
    # get_pipe is typed as a plain callable; this pipe's model is a TransformerModel.
    pipe = cast(Transformer, nlp.get_pipe("transformer"))
    trf = cast(TransformerModel, pipe.model)
    tokenizer, encoder = trf.tokenizer, trf.transformer
    ids = tokenizer(sentences, is_split_into_words=True, truncation=True)["input_ids"]
    if order == "sorted":
        batches = length_groups([len(x) for x in ids], raw_padded)
    else:
        batches = [list(range(i, min(i + 64, len(ids)))) for i in range(0, len(ids), 64)]
    encoder.eval()
    device = next(encoder.parameters()).device
    with torch.no_grad():
        for batch in batches:
            padded = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            encoder(
                input_ids=padded["input_ids"].to(device),
                attention_mask=padded["attention_mask"].to(device),
            )


def pipe_entities(nlp: Language, docs: List[Doc], batch_size: int) -> List[List[tuple]]:
    inputs = (
        Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d])
        for d in docs
    )
    return [
        [(e.start, e.end, e.label_) for e in doc.ents]
        for doc in pipe_by_words(nlp, inputs, batch_size)
    ]


@bench_app.command("inference")
def bench_inference_cli(
    model: str = typer.Argument(..., help="Trained pipeline"),
    test_sets: List[str] = test_option(),
    rounds: int = typer.Option(3, help="Interleaved rounds; the median is reported"),
    batch_size: int = batch_size_option(),
    max_padded: int = typer.Option(
        512, help="Padded sub-words per encoder call of the sorted pipe"
    ),
    raw_padded: int = typer.Option(
        4096, help="Padded sub-words per batch of the raw sorted forward"
    ),
    limit: int = typer.Option(0, help="Use only the first N sentences of each set (0: all)"),
    gpu_id: int = gpu_id_option(),
    int8: bool = int8_option(),
    output: Optional[Path] = output_option(
        "JSON file for the numbers", default=None, dir_okay=False
    ),
) -> None:
    """Inference speed of a pipeline against its encoder's limit, and the memory of loading."""
    sets = parse_test_sets(test_sets)
    load = load_rss_mb(model, gpu_id=gpu_id)
    try:
        nlp = load_pipeline(model, gpu_id, int8)
    except ValueError as err:  # no GPU, a damaged pipeline file
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None

    wrapper = cast(Transformer, nlp.get_pipe("transformer")).model.layers[0]
    unsorted_forward = getattr(forward_function(wrapper), "unsorted", forward_function(wrapper))
    set_forward_function(wrapper, unsorted_forward)
    sort_encoder_batches(wrapper, max_padded)
    sorted_forward = forward_function(wrapper)
    size = batch_size
    results: Dict[str, Dict] = {}
    for name, path in sets:
        docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
        docs = docs[:limit] if limit else docs
        words = sum(len(d) for d in docs)
        sentences = [[t.text for t in d] for d in docs]
        runs: Dict[str, Callable[[], object]] = {
            "raw sorted": functools.partial(raw_forward, nlp, sentences, "sorted", raw_padded),
            "raw file order": functools.partial(raw_forward, nlp, sentences, "file", raw_padded),
            "pipe sorted": functools.partial(pipe_entities, nlp, docs, size),
            "pipe unsorted": functools.partial(pipe_entities, nlp, docs, size),
        }
        seconds: Dict[str, List[float]] = {k: [] for k in runs}
        entities: Dict[str, Any] = {}  # pipe_entities' lists of the pipe runs
        for _ in range(rounds):
            for label, run in runs.items():
                set_forward_function(
                    wrapper, unsorted_forward if label == "pipe unsorted" else sorted_forward
                )
                start = time.perf_counter()
                out = run()
                seconds[label].append(time.perf_counter() - start)
                if label.startswith("pipe"):
                    entities[label] = out
        set_forward_function(wrapper, sorted_forward)
        limit_wps = words / median(seconds["raw sorted"])
        row = {
            label: {"words_per_s": words / median(s), "ratio": words / median(s) / limit_wps}
            for label, s in seconds.items()
        }
        differing = sum(a != b for a, b in zip(entities["pipe sorted"], entities["pipe unsorted"]))
        results[name] = {
            "sentences": len(docs),
            "words": words,
            "runs": row,
            "docs_with_other_entities": differing,
        }
        print(
            f"{name}: {len(docs)} sentences, {words} words; nlp.pipe batch_size {size}, max_padded_subwords {max_padded}"
        )
        for label, r in row.items():
            print(
                f"  {label:>15}: {r['words_per_s']:8.0f} words/s  ratio to the limit {r['ratio']:.2f}"
            )
        print(
            f"  sorted vs unsorted pipe: {row['pipe sorted']['words_per_s'] / row['pipe unsorted']['words_per_s']:.2f}x, "
            f"docs whose entities differ: {differing}"
        )
    run_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"spacy.load alone (fresh process): peak RSS {load['load peak']:.0f} MB, steady {load['load steady']:.0f} MB "
        f"({load['1st doc steady']:.0f} MB after the first doc); this run: peak RSS {run_mb:.0f} MB"
    )
    if output is not None:
        with atomic_output(output) as temporary:
            srsly.write_json(
                temporary,
                {
                    "model": model,
                    "load_peak_rss_mb": load["load peak"],
                    "load_steady_rss_mb": load["load steady"],
                    "first_doc_steady_rss_mb": load["1st doc steady"],
                    "run_peak_rss_mb": run_mb,
                    "threads": torch.get_num_threads(),
                    "sets": results,
                },
            )
