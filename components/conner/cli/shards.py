"""Running ``tag``, ``weak-tag`` and ``translate`` over a folder or glob of
shards (:mod:`conner.shards`): the shard mode of those commands."""

from pathlib import Path
from typing import Dict, Optional

import typer

from ..shards import ShardError, ShardJob, plan_shards, run_shards
from ..shards.files import is_pattern


def wants_shards(inputs: str, engine: str) -> bool:
    """Whether a command runs in shard mode: a folder or glob in, or Ray."""
    return (
        engine != "local"
        or Path(inputs).is_dir()
        or (is_pattern(inputs) and not Path(inputs).exists())
    )


def run_sharded(
    job: ShardJob,
    inputs: str,
    output: Path,
    engine: str,
    chunk_docs: int,
    progress: bool,
    workers: int = 1,
    cpus_per_worker: Optional[float] = None,
    gpus_per_worker: float = 0.0,
    address: Optional[str] = None,
) -> None:
    """Run ``job`` over the shards of ``inputs`` into the folder ``output``;
    print what was written, skipped and failed; exit 1 if a shard failed."""
    if output.exists() and not output.is_dir():
        raise typer.BadParameter(
            f"{output} is a file; shards go to a folder", param_hint="'--output'"
        )
    try:
        shards = plan_shards(inputs, output, job.output_suffix)
    except ShardError as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    ray_options: Dict = {}
    if engine == "ray":
        ray_options = {
            "workers": workers,
            "cpus_per_worker": cpus_per_worker,
            "gpus_per_worker": gpus_per_worker,
            "address": address,
        }
    try:
        report = run_shards(job, shards, engine, chunk_docs, progress, ray_options)
    except ValueError as err:  # an unknown engine, a model that cannot load
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    output.mkdir(parents=True, exist_ok=True)
    counts = ", ".join(f"{k} {v:g}" for k, v in sorted(report.counts.items()))
    typer.echo(
        f"{len(report.written)} shards written, {len(report.skipped)} already done, "
        f"{len(report.failed)} failed; {report.docs} documents, {report.words} words "
        f"({report.words_per_second:,.0f} words/s){'; ' + counts if counts else ''} -> {output}"
    )
    for shard, error in report.failed.items():
        typer.echo(f"Failed: {shard}: {error}", err=True)
    if report.failed:
        raise typer.Exit(1)
