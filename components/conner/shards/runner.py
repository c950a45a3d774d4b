"""Running a job over shards: what is left to do, putting chunks back
together, writing each shard once complete, and the run's report.

An output shard appears in one rename once all its chunks are done, so a
killed run leaves only whole shards and the next run skips them. A shard
that fails (unreadable, empty, in the wrong format, or a chunk that raises)
is reported by name; the others are written.
"""

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from spacy.tokens import DocBin
from tqdm import tqdm

from ..files.outputs import atomic_output
from .files import Chunk, Shard, ShardError, read_chunks
from .jobs import ChunkResult, ShardJob

ENGINES = ("local", "ray")


@dataclass
class ShardReport:
    """What a run did: shards written, skipped (done before) and failed."""

    written: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: Dict[str, str] = field(default_factory=dict)
    docs: int = 0
    words: int = 0
    seconds: float = 0.0
    duplicates: int = 0
    counts: Counter = field(default_factory=Counter)
    # Seconds the workers spent processing chunks, summed: the rest of
    # seconds x workers went to start-up (Ray, loading the model), reading,
    # moving data and writing.
    busy_seconds: float = 0.0

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds else 0.0

    def to_dict(self) -> Dict:
        data = {k: v for k, v in self.__dict__.items() if k != "counts"}
        data["counts"] = dict(sorted(self.counts.items()))
        data["words_per_second"] = self.words_per_second
        return data


def pending(shards: Sequence[Shard]) -> List[Shard]:
    """The shards whose output does not exist yet."""
    return [shard for shard in shards if not shard.output.exists()]


def join_outputs(suffix: str, parts: Sequence[bytes]) -> bytes:
    """One output file from its chunks' outputs, in chunk order."""
    if suffix != ".spacy":
        return b"".join(parts)
    merged = DocBin(store_user_data=True)
    for part in parts:
        merged.merge(DocBin(store_user_data=True).from_bytes(part))
    return merged.to_bytes()


def write_shard(
    shard: Shard, suffix: str, parts: Sequence[bytes], counts: Optional[Counter] = None
) -> None:
    """The shard's output (and with ``counts`` a ``.summary.json`` beside it,
    written first: the output marks the shard done)."""
    shard.output.parent.mkdir(parents=True, exist_ok=True)
    if counts is not None:
        summary = shard.output.with_name(shard.output.stem + ".summary.json")
        with atomic_output(summary) as temporary:
            text = json.dumps({"input": shard.name, **dict(sorted(counts.items()))}, indent=2)
            temporary.write_text(text + "\n", encoding="utf8")
    with atomic_output(shard.output) as temporary:
        temporary.write_bytes(join_outputs(suffix, parts))


class Assembler:
    """Collects chunk results as they come, in any order, and writes each
    shard when its last chunk is in. A chunk that arrives twice (a retried
    task) is counted in ``report.duplicates`` and not written twice."""

    def __init__(self, shards: Sequence[Shard], job: ShardJob, report: ShardReport, bar: tqdm):
        self.shards = {shard.name: shard for shard in shards}
        self.suffix = job.output_suffix
        self.summaries = job.summaries
        self.report = report
        self.bar = bar
        self.parts: Dict[str, Dict[int, ChunkResult]] = {}
        self.start = time.perf_counter()

    def fail(self, shard: str, error: str) -> None:
        if shard in self.report.failed or shard in self.report.written:
            return
        self.report.failed[shard] = error
        self.parts.pop(shard, None)
        self.bar.update(1)

    def add(self, chunk: Chunk, result: ChunkResult) -> None:
        if chunk.shard in self.report.failed:
            return
        parts = self.parts.setdefault(chunk.shard, {})
        if chunk.index in parts or chunk.shard in self.report.written:
            self.report.duplicates += 1
            return
        parts[chunk.index] = result
        if len(parts) < chunk.count:
            return
        shard = self.shards[chunk.shard]
        ordered = [parts[i] for i in range(chunk.count)]
        counts: Counter = Counter()
        for part in ordered:
            counts.update(part.counts)
        try:
            summary = counts if self.summaries else None
            write_shard(shard, self.suffix, [part.data for part in ordered], summary)
        except (OSError, ValueError) as err:
            self.fail(chunk.shard, f"{shard.output}: cannot be written ({err})")
            return
        del self.parts[chunk.shard]
        self.report.written.append(chunk.shard)
        self.report.docs += sum(part.docs for part in ordered)
        self.report.words += sum(part.words for part in ordered)
        self.report.busy_seconds += sum(part.seconds for part in ordered)
        self.report.counts.update(counts)
        self.bar.update(1)
        self.bar.set_postfix(docs=self.report.docs, refresh=False)


def process_safely(processor: Callable[[Chunk], ChunkResult], chunk: Chunk) -> ChunkResult:
    """The processor's result, or a :class:`ShardError` naming the shard and
    its documents where the processor raised."""
    start = time.perf_counter()
    try:
        result = processor(chunk)
        result.seconds = time.perf_counter() - start
        return result
    except ShardError:
        raise
    except Exception as err:  # any fault of one chunk fails its shard, not the run
        if isinstance(err, MemoryError):
            raise
        where = f"{chunk.shard}: chunk {chunk.index} (documents from {chunk.first})"
        message = " ".join(str(err).split()) or type(err).__name__
        raise ShardError(f"{where}: {message}") from err


def run_local(
    job: ShardJob, shards: Sequence[Shard], chunk_docs: int, assembler: Assembler
) -> None:
    """Every shard in this process, one chunk after the other."""
    processor = job.open()
    for shard in shards:
        try:
            for chunk in read_chunks(shard.path, chunk_docs, job.accepts):
                assembler.add(chunk, process_safely(processor, chunk))
        except ShardError as err:
            assembler.fail(shard.name, str(err))


def run_shards(
    job: ShardJob,
    shards: Sequence[Shard],
    engine: str = "local",
    chunk_docs: int = 500,
    progress: bool = True,
    ray_options: Optional[Dict] = None,
) -> ShardReport:
    """Run ``job`` over the shards not done yet, on ``engine``; the report
    lists what was written, skipped and failed (with the reason)."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if chunk_docs < 1:
        raise ValueError("chunk_docs must be at least 1")
    report = ShardReport()
    todo = pending(shards)
    report.skipped = [shard.name for shard in shards if shard not in todo]
    with tqdm(total=len(todo), unit="shard", desc=f"{engine}", disable=not progress) as bar:
        assembler = Assembler(todo, job, report, bar)
        if todo and engine == "local":
            run_local(job, todo, chunk_docs, assembler)
        elif todo:
            from .on_ray import run_on_ray  # Ray only when asked for

            run_on_ray(job, todo, chunk_docs, assembler, **(ray_options or {}))
    report.seconds = time.perf_counter() - assembler.start
    return report
