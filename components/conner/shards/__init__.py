"""Corpus-scale runs: a folder or glob of input shards in, one output shard
each out, on this process (``local``) or on a Ray cluster (``ray``), with
finished shards kept across restarts and a failing shard named."""

from .files import Chunk, Shard, ShardError, find_shards, plan_shards, read_chunks
from .jobs import ChunkResult, ShardJob, TagJob, TranslateJob, WeakTagJob
from .runner import ShardReport, run_shards

__all__ = [
    "Chunk",
    "ChunkResult",
    "Shard",
    "ShardError",
    "ShardJob",
    "ShardReport",
    "TagJob",
    "TranslateJob",
    "WeakTagJob",
    "find_shards",
    "plan_shards",
    "read_chunks",
    "run_shards",
]
