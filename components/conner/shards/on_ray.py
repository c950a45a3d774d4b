"""The Ray Data engine: shards read by Ray tasks, chunks processed by a
pool of actors that each hold the job's model, results written here.

``ray.init(address)`` joins a cluster; with no address Ray starts embedded in
this process, which is how it runs on a laptop. Shards must be readable
at the same path on every node (a shared or copied folder); outputs are
written by this process only. Ray Data restarts a killed actor and retries
its chunk; the assembler drops a chunk that arrives twice, so nothing is
lost or written twice.
"""

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .files import Chunk, Shard, ShardError, read_chunks
from .jobs import ChunkResult, ShardJob
from .runner import Assembler, process_safely

RESULT_COLUMNS = (
    "shard",
    "chunk",
    "count",
    "first",
    "format",
    "data",
    "error",
    "docs",
    "words",
    "counts",
    "seconds",
)


def read_rows(row: Dict[str, Any], chunk_docs: int, accepts: Sequence[str]) -> List[Dict[str, Any]]:
    """A shard's chunks as rows; one row holding the error where it cannot be read."""
    try:
        chunks = read_chunks(Path(row["shard"]), chunk_docs, accepts)
    except ShardError as err:
        error = {"chunk": -1, "count": 0, "first": 0, "format": "", "data": b""}
        return [{"shard": row["shard"], **error, "error": str(err)}]
    return [{**chunk.to_row(), "error": ""} for chunk in chunks]


class ChunkWorker:
    """A Ray actor: opens the job once, then processes the chunks it is sent."""

    def __init__(self, job: ShardJob) -> None:
        self.processor = job.open()

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[Any]]:
        out: Dict[str, List[Any]] = {name: [] for name in RESULT_COLUMNS}
        for i in range(len(batch["shard"])):
            row = {name: batch[name][i] for name in batch}
            error = str(row["error"])
            result = ChunkResult(b"", 0, 0)
            if not error:
                try:
                    result = process_safely(self.processor, Chunk.from_row(row))
                except ShardError as err:
                    error = str(err)
            for name in ("shard", "format"):
                out[name].append(str(row[name]))
            for name in ("chunk", "count", "first"):
                out[name].append(int(row[name]))
            out["data"].append(result.data)
            out["error"].append(error)
            out["docs"].append(result.docs)
            out["words"].append(result.words)
            out["counts"].append(json.dumps(result.counts))
            out["seconds"].append(result.seconds)
        return out


def for_worker(job: ShardJob, threads: int, gpus: float) -> ShardJob:
    """The job as a worker runs it: its CPUs as torch threads, and GPU 0 (the
    one Ray makes visible to it) where it has a GPU."""
    changes: Dict[str, Any] = {}
    if hasattr(job, "threads") and not job.threads:
        changes["threads"] = threads
    if gpus > 0 and hasattr(job, "gpu_id"):
        changes["gpu_id"] = 0
    return dataclasses.replace(job, **changes) if changes else job  # type: ignore[type-var]


def run_on_ray(
    job: ShardJob,
    shards: Sequence[Shard],
    chunk_docs: int,
    assembler: Assembler,
    workers: int = 1,
    cpus_per_worker: Optional[float] = None,
    gpus_per_worker: float = 0.0,
    address: Optional[str] = None,
) -> None:
    """Process ``shards`` with ``workers`` actors on Ray Data (module docstring).

    cpus_per_worker: CPUs each actor reserves and uses as torch threads; by
        default this machine's cores shared among the workers.
    gpus_per_worker: GPUs each actor reserves (0: CPU only).
    address: a running cluster (``ray start --head`` prints it); None starts
        Ray embedded, and stops it again at the end.
    """
    import ray

    if workers < 1:
        raise ValueError("workers must be at least 1")
    started = not ray.is_initialized()
    if started:
        # Embedded: "local" starts a new Ray even where `ray start` left a
        # cluster's address behind, and it serves on the loopback address only.
        local: Dict[str, Any] = {"_node_ip_address": "127.0.0.1"} if address is None else {}
        ray.init(
            address=address or "local",
            include_dashboard=False,
            logging_level=logging.WARNING,
            **local,
        )
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False  # ours counts shards
        cpus = cpus_per_worker or max(1.0, (os.cpu_count() or 1) / workers)
        job = for_worker(job, max(1, int(cpus)), gpus_per_worker)
        items = [{"shard": shard.name} for shard in shards]
        dataset: Any = ray.data.from_items(items, override_num_blocks=len(items))
        # Reading is light and must not wait for the CPUs the actors hold.
        dataset = dataset.flat_map(
            read_rows,
            fn_kwargs={"chunk_docs": chunk_docs, "accepts": tuple(job.accepts)},
            num_cpus=0,
        )
        dataset = dataset.map_batches(
            ChunkWorker,
            fn_constructor_kwargs={"job": job},
            batch_size=1,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=cpus,
            num_gpus=gpus_per_worker,
        )
        for row in dataset.iter_rows():
            if row["error"]:
                assembler.fail(str(row["shard"]), str(row["error"]))
                continue
            result = ChunkResult(
                bytes(row["data"]),
                int(row["docs"]),
                int(row["words"]),
                json.loads(row["counts"]),
                float(row["seconds"]),
            )
            assembler.add(Chunk.from_row(row), result)
    finally:
        if started:
            ray.shutdown()
