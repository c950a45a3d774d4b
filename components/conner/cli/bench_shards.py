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

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import srsly
import typer

from ..files.outputs import atomic_output
from ..inference.pipelines import load_pipeline, pipe_by_words
from ..inference.records import read_records
from ..shards import TagJob, find_shards, plan_shards, run_shards
from .app import bench_app
from .options import batch_size_option, chunk_docs_option, output_option

MACHINES = (1, 4, 16, 64)


def parse_workers(text: str) -> List[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise typer.BadParameter(f"worker counts like 1,2; got {text!r}", param_hint="'--workers'")
    return counts


def pipe_speed(model: str, shards: List[Path], batch_words: int) -> Dict[str, float]:
    """Words/s of ``nlp.pipe`` over every document of the (text) shards."""
    nlp = load_pipeline(model)
    texts = [record["text"] for path in shards for record in read_records(path)]
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
    inputs: str = typer.Argument(..., help="A folder or glob of plain-text or JSON-lines shards"),
    output: Path = output_option("JSON of the measurements", dir_okay=False),
    table: Optional[Path] = typer.Option(
        None, "--table", dir_okay=False, help="Markdown table to write"
    ),
    workers: str = typer.Option("1,2", "--workers", help="Ray worker counts to measure, e.g. 1,2"),
    int8: bool = typer.Option(False, "--int8", help="Also measure Ray with the int8 encoder"),
    sentences: int = typer.Option(
        10_000_000, "--sentences", min=1, help="Corpus size of the projection"
    ),
    chunk_docs: int = chunk_docs_option(),
    batch_size: int = batch_size_option(),
) -> None:
    """Words/s of nlp.pipe, the local shard engine and Ray Data, in one run."""
    counts = parse_workers(workers)
    shards = find_shards(inputs)
    cores = os.cpu_count() or 1
    runs: Dict[str, Dict] = {"nlp.pipe": pipe_speed(model, shards, batch_size)}
    typer.echo(f"nlp.pipe: {runs['nlp.pipe']['words_per_second']:,.0f} words/s")
    job = TagJob(model, batch_words=batch_size)
    runs["local engine"] = engine_speed(job, inputs, "local", chunk_docs)
    typer.echo(f"local engine: {runs['local engine']['words_per_second']:,.0f} words/s")
    variants = [(n, False) for n in counts] + ([(min(counts), True)] if int8 else [])
    for n, quantized in variants:
        name = f"ray, {n} worker{'s' * (n > 1)}{', int8' if quantized else ''}"
        options = {"workers": n, "cpus_per_worker": max(1.0, cores / n)}
        run_job = TagJob(model, batch_words=batch_size, int8=quantized)
        runs[name] = {**engine_speed(run_job, inputs, "ray", chunk_docs, options), "workers": n}
        typer.echo(f"{name}: {runs[name]['words_per_second']:,.0f} words/s")
    fp32_ray = {k: v for k, v in runs.items() if k.startswith("ray") and "int8" not in k}
    best = max(fp32_ray, key=lambda k: fp32_ray[k]["words_per_second"])
    per_machine = fp32_ray[best]["words_per_second"]
    words_per_sentence = runs["nlp.pipe"]["words"] / runs["nlp.pipe"]["docs"]
    hours = {n: sentences * words_per_sentence / (per_machine * n) / 3600 for n in MACHINES}
    result = {
        "model": model,
        "inputs": inputs,
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
