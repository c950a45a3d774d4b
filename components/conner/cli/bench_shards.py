"""Corpus throughput: local ``nlp.pipe`` against the shard engines, in one run.

On the same shards and the same cores, measures words per second of:

* ``nlp.pipe`` in this process over all documents (the model loaded
  beforehand: the pipeline's own speed);
* the local shard engine (``--engine local``: reading, chunks, writing);
* Ray Data with 1 worker holding all cores, and with N workers sharing
  them (``--workers 1,2``), each run starting Ray and loading the model in
  its workers, as a user's run does;
* optionally the same with the int8 encoder (``--int8``) on Ray.

Ray's overhead is each Ray run's words/s over the local engine's. From the
best Ray throughput on this machine it projects the hours a corpus of
``--sentences`` sentences would take on 1, 4, 16 and 64 such machines,
assuming the work splits evenly (a projection, not a measurement).

    conner bench shards training/conner-google/model-best corpus/shards \\
        -o reports/scale.json --table reports/scale.md
"""

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import srsly
import typer
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from ..files.outputs import atomic_output
from ..inference.pipelines import load_pipeline, pipe_by_words
from ..shards import TagJob, find_shards, plan_shards, read_chunks, run_shards
from .app import bench_app
from .options import batch_size_option, chunk_docs_option, gpu_id_option, output_option

MACHINES = (1, 4, 16, 64)


def parse_workers(text: str) -> List[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise typer.BadParameter(f"worker counts like 1,2; got {text!r}", param_hint="'--workers'")
    return counts


def shard_texts(path: Path) -> List[str]:
    """The documents of a shard as texts (a DocBin's Docs by their text)."""
    chunks = read_chunks(path, 1_000_000, ("spacy", "jsonl", "text"))
    if chunks[0].format == "spacy":
        docs = DocBin().from_bytes(chunks[0].data).get_docs(Vocab())
        return [doc.text for doc in docs]
    return [record["text"] for record in json.loads(chunks[0].data)]


def split_into_shards(path: Path, count: int, folder: Path) -> str:
    """The documents of one file dealt round-robin into ``count`` text shards."""
    texts = shard_texts(path)
    for index in range(count):
        lines = [text.replace("\n", " ") for text in texts[index::count]]
        (folder / f"{path.stem}-{index}.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    return str(folder)


def pipe_speed(model: str, shards: List[Path], batch_words: int, gpu_id: int) -> Dict[str, float]:
    """Words/s of ``nlp.pipe`` over every document of the shards."""
    nlp = load_pipeline(model, gpu_id)
    texts = [text for path in shards for text in shard_texts(path)]
    list(nlp.pipe(texts[:8]))  # first allocations outside the timing
    start = time.perf_counter()
    words = sum(len(doc) for doc in pipe_by_words(nlp, texts, batch_words))
    seconds = time.perf_counter() - start
    return {
        "docs": len(texts),
        "words": words,
        "seconds": seconds,
        "words_per_second": words / seconds,
    }


def engine_speed(
    job: TagJob, inputs: str, engine: str, chunk_docs: int, ray_options: Optional[Dict] = None
) -> Dict[str, float]:
    """Words/s of one whole shard run (start-up, model loading and writing included)."""
    folder = Path(tempfile.mkdtemp(prefix="conner-bench-shards-"))
    try:
        shards = plan_shards(inputs, folder, job.output_suffix)
        report = run_shards(job, shards, engine, chunk_docs, False, ray_options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if report.failed:
        raise typer.BadParameter(f"shards failed: {report.failed}")
    return {
        "docs": report.docs,
        "words": report.words,
        "seconds": report.seconds,
        "words_per_second": report.words_per_second,
        "busy_seconds": report.busy_seconds,
        "busy_words_per_second": report.words / report.busy_seconds if report.busy_seconds else 0.0,
    }


def markdown(result: Dict) -> str:
    """The runs as a table, then the projection."""
    rows = [
        "| run | workers | words | seconds | words/s | × local engine | workers busy (s) "
        "| busy share | words/s of a busy worker |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    local = result["runs"]["local engine"]["words_per_second"]
    for name, run in result["runs"].items():
        workers = run.get("workers", 1)
        row = (
            f"| {name} | {workers} | {run['words']:,} | {run['seconds']:.1f} | "
            f"{run['words_per_second']:,.0f} | {run['words_per_second'] / local:.2f} |"
        )
        if "busy_seconds" in run:
            share = run["busy_seconds"] / (run["seconds"] * workers)
            row += (
                f" {run['busy_seconds']:.1f} | {share:.0%} | {run['busy_words_per_second']:,.0f} |"
            )
        else:  # nlp.pipe: the model was loaded before the clock started
            row += " – | – | – |"
        rows.append(row)
    projection = result["projection"]
    rows += [
        "",
        f"Projection for {projection['sentences']:,} sentences of {projection['words_per_sentence']:.1f} "
        f"words at {projection['words_per_second_per_machine']:,.0f} words/s per machine "
        f"({projection['from']}), the work split evenly:",
        "",
        "| machines | hours |",
        "|---:|---:|",
    ]
    rows += [f"| {n} | {hours:.1f} |" for n, hours in projection["hours"].items()]
    return "\n".join(rows) + "\n"


@bench_app.command("shards")
def bench_shards_cli(
    model: str = typer.Argument(..., help="Trained pipeline (path or package name)"),
    inputs: str = typer.Argument(..., help="A folder or glob of shards, or one file with --split"),
    output: Path = output_option("JSON of the measurements", dir_okay=False),
    table: Optional[Path] = typer.Option(
        None, "--table", dir_okay=False, help="Markdown table to write"
    ),
    workers: str = typer.Option("1,2", "--workers", help="Ray worker counts to measure, e.g. 1,2"),
    int8: bool = typer.Option(False, "--int8", help="Also measure Ray with the int8 encoder"),
    sentences: int = typer.Option(
        10_000_000, "--sentences", min=1, help="Corpus size of the projection"
    ),
    split: int = typer.Option(
        0, "--split", min=0, help="Deal the documents of one input file into this many text shards"
    ),
    chunk_docs: int = chunk_docs_option(),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
) -> None:
    """Words/s of nlp.pipe, the local shard engine and Ray Data, in one run."""
    counts = parse_workers(workers)
    if int8 and gpu_id >= 0:
        raise typer.BadParameter("int8 is for the CPU; drop --gpu-id", param_hint="'--int8'")
    source = inputs
    if split:
        folder = Path(tempfile.mkdtemp(prefix="conner-bench-input-"))
        inputs = split_into_shards(Path(inputs), split, folder)
    shards = find_shards(inputs)
    cores = os.cpu_count() or 1
    runs: Dict[str, Dict] = {"nlp.pipe": pipe_speed(model, shards, batch_size, gpu_id)}
    typer.echo(f"nlp.pipe: {runs['nlp.pipe']['words_per_second']:,.0f} words/s")
    job = TagJob(model, batch_words=batch_size, gpu_id=gpu_id)
    runs["local engine"] = engine_speed(job, inputs, "local", chunk_docs)
    typer.echo(f"local engine: {runs['local engine']['words_per_second']:,.0f} words/s")
    variants = [(n, False) for n in counts] + ([(min(counts), True)] if int8 else [])
    for n, quantized in variants:
        name = f"ray, {n} worker{'s' * (n > 1)}{', int8' if quantized else ''}"
        options = {
            "workers": n,
            "cpus_per_worker": max(1.0, cores / n),
            "gpus_per_worker": 1.0 if gpu_id >= 0 else 0.0,  # each Ray worker on a GPU of its own
        }
        run_job = TagJob(model, batch_words=batch_size, int8=quantized, gpu_id=gpu_id)
        runs[name] = {**engine_speed(run_job, inputs, "ray", chunk_docs, options), "workers": n}
        typer.echo(f"{name}: {runs[name]['words_per_second']:,.0f} words/s")
    fp32_ray = {k: v for k, v in runs.items() if k.startswith("ray") and "int8" not in k}
    best = max(fp32_ray, key=lambda k: fp32_ray[k]["words_per_second"])
    per_machine = fp32_ray[best]["words_per_second"]
    words_per_sentence = runs["nlp.pipe"]["words"] / runs["nlp.pipe"]["docs"]
    hours = {n: sentences * words_per_sentence / (per_machine * n) / 3600 for n in MACHINES}
    result = {
        "model": model,
        "inputs": source,
        "split": split,
        "shards": len(shards),
        "cores": cores,
        "chunk_docs": chunk_docs,
        "runs": runs,
        "ray_over_local": {
            k: v["words_per_second"] / runs["local engine"]["words_per_second"]
            for k, v in runs.items()
            if k.startswith("ray")
        },
        "projection": {
            "sentences": sentences,
            "words_per_sentence": words_per_sentence,
            "words_per_second_per_machine": per_machine,
            "from": best,
            "hours": hours,
        },
    }
    with atomic_output(output) as temporary:
        srsly.write_json(temporary, result)
    text = markdown(result)
    if table is not None:
        with atomic_output(table) as temporary:
            temporary.write_text(text, encoding="utf8")
    typer.echo(text)
