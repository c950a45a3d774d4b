"""The work done on each chunk: tagging, weak tagging, translation.

A job is a small picklable description (model path, options). An engine
sends it to each worker once; :meth:`ShardJob.open` there loads the model or
the translation engine, and the returned processor turns chunks into
results. Both engines run the same processor on the same chunks, so their
outputs are the same bytes.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..consistency.pairs import bare_copy, check_pair
from ..inference.pipelines import load_pipeline, pipe_by_words
from ..inference.records import entity_record
from ..inference.weak_tagging import span_counts, weak_tag_docs
from .files import Chunk


@dataclass
class ChunkResult:
    """A processed chunk: its output bytes and counts to sum per shard."""

    data: bytes
    docs: int
    words: int
    counts: Dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0  # spent processing it, in its worker


Processor = Callable[[Chunk], ChunkResult]


class ShardJob(Protocol):
    """What an engine needs to know of a job."""

    accepts: Tuple[str, ...]
    output_suffix: str
    summaries: bool  # write each shard's counts beside it (.summary.json)

    def open(self) -> Processor: ...


def set_threads(threads: Optional[int]) -> None:
    """Torch's intra-op threads in a worker (Ray gives each worker its CPUs)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def chunk_inputs(nlp: Language, chunk: Chunk) -> Tuple[List[Any], List[Dict]]:
    """A chunk's documents as pipeline inputs (texts, or bare Docs keeping
    their tokens and user data) and the extra keys of its records."""
    if chunk.format == "spacy":
        docs = list(DocBin(store_user_data=True).from_bytes(chunk.data).get_docs(nlp.vocab))
        return docs, [{} for _ in docs]
    records = json.loads(chunk.data)
    return [r["text"] for r in records], [
        {k: v for k, v in r.items() if k != "text"} for r in records
    ]


def docs_bytes(docs: Sequence[Doc]) -> bytes:
    return DocBin(docs=docs, store_user_data=True).to_bytes()


@dataclass
class TagJob:
    """``conner tag`` on shards: entities as JSON lines or a DocBin."""

    model: str
    output_suffix: str = ".jsonl"
    batch_words: int = 20_000
    gpu_id: int = -1
    int8: bool = False
    threads: Optional[int] = None
    accepts: Tuple[str, ...] = ("spacy", "jsonl", "text")
    summaries: bool = False

    def open(self) -> Processor:
        set_threads(self.threads)
        nlp = load_pipeline(self.model, self.gpu_id, self.int8)

        def process(chunk: Chunk) -> ChunkResult:
            inputs, extras = chunk_inputs(nlp, chunk)
            if chunk.format == "spacy":
                inputs = [bare_copy(doc, nlp.vocab) for doc in inputs]
            docs = list(pipe_by_words(nlp, inputs, self.batch_words))
            if self.output_suffix == ".spacy":
                data = docs_bytes(docs)
            else:
                lines = (
                    json.dumps(entity_record(d, e), ensure_ascii=False)
                    for d, e in zip(docs, extras)
                )
                data = "".join(line + "\n" for line in lines).encode("utf8")
            entities = sum(len(doc.ents) for doc in docs)
            return ChunkResult(data, len(docs), sum(len(d) for d in docs), {"entities": entities})

        return process


@dataclass
class WeakTagJob:
    """``conner weak-tag`` on shards: predicted boundaries as conjugate spans.

    Documents without a pair id get ``id_prefix``, the shard's name and
    their number in the shard, so ids stay unique across shards."""

    model: str
    id_prefix: str = ""
    keep_labels: bool = False
    batch_words: int = 20_000
    gpu_id: int = -1
    threads: Optional[int] = None
    output_suffix: str = ".spacy"
    accepts: Tuple[str, ...] = ("spacy", "jsonl", "text")
    summaries: bool = False

    def open(self) -> Processor:
        set_threads(self.threads)
        nlp = load_pipeline(self.model, self.gpu_id)

        def process(chunk: Chunk) -> ChunkResult:
            inputs, _ = chunk_inputs(nlp, chunk)
            docs = [nlp.make_doc(i) if isinstance(i, str) else i for i in inputs]
            prefix = f"{self.id_prefix}{shard_stem(chunk.shard)}-"
            out = list(
                weak_tag_docs(
                    nlp, docs, prefix, self.keep_labels, self.batch_words, first_index=chunk.first
                )
            )
            counts = span_counts(out)
            return ChunkResult(docs_bytes(out), len(out), sum(len(d) for d in out), dict(counts))

        return process


@dataclass
class TranslateJob:
    """``conner translate`` on shards of weakly tagged target Docs."""

    engine: str
    src: str
    tgt: str = "en"
    options: Dict[str, Any] = field(default_factory=dict)
    cache: Optional[str] = None
    sentences_per_call: int = 64
    typed_placeholders: bool = False
    max_tokens: Optional[int] = None
    trim_span_edges: bool = True
    output_suffix: str = ".spacy"
    accepts: Tuple[str, ...] = ("spacy",)
    summaries: bool = True  # what translation kept and lost, per shard

    def open(self) -> Processor:
        import spacy

        from ..prepare.languages import spacy_language
        from ..prepare.translation import (
            TranslationCache,
            TranslationSummary,
            get_engine,
            translate_docs,
        )
        from ..prepare.translation.targets import check_target_docs

        engine = get_engine(self.engine, self.src, self.tgt, **self.options)
        source_vocab = spacy.blank(spacy_language(self.src)).vocab
        nlp = spacy.blank(self.tgt)
        cache = TranslationCache(self.cache) if self.cache else None

        def process(chunk: Chunk) -> ChunkResult:
            docs = list(DocBin(store_user_data=True).from_bytes(chunk.data).get_docs(source_vocab))
            check_target_docs(docs, chunk.shard, chunk.first)
            summary = TranslationSummary()
            pairs = translate_docs(
                docs,
                engine,
                nlp,
                cache=cache,
                batch_size=self.sentences_per_call,
                typed_placeholders=self.typed_placeholders,
                max_tokens=self.max_tokens,
                summary=summary,
                progress=False,
                trim_span_edges=self.trim_span_edges,
            )
            out: List[Doc] = []
            for target, translation in pairs:
                check_pair(target, translation)
                out.extend((target, translation))
            counts = {
                k: v
                for k, v in summary.to_dict().items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
            for rate in ("survival_rate", "sentences_per_second", "wall_seconds", "engine_seconds"):
                counts.pop(rate, None)  # not sums; the report recomputes the survival rate
            return ChunkResult(docs_bytes(out), len(docs), sum(len(d) for d in docs), counts)

        return process


def shard_stem(shard: str) -> str:
    """A shard's file name without folders or suffix."""
    name = shard.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name
