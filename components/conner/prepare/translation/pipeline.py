"""Translate target-language Docs into conjugate translation Docs.

Input Docs carry candidate spans in ``conjugate_spans`` (role "target", as
written by ``conner weak-tag``). For each batch of Docs, the masked
sentences and all their span texts go to the engine in ONE call (through
the cache). Each translation is rebuilt from pieces (text, inserted span,
text, ...) tokenized one by one with the translation-side tokenizer, so
every conjugate span covers exactly the tokens of its inserted translation,
whatever punctuation the engine glued to the placeholder. The target Doc
keeps only the spans whose placeholder survived; both Docs get the same
pair id.
"""

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc
from tqdm import tqdm

from ...consistency.extensions import (
    CONJUGATE_ROLE,
    SPAN_LABELS_KEY,
    conjugate_id,
    set_conjugate_spans,
)
from .cache import CachedTranslator, TranslationCache
from .edges import edge_words_for, trim_edges
from .engines import TranslationEngine
from .placeholders import (
    FLAG_KINDS,
    REPAIR_KINDS,
    Piece,
    fill,
    find_placeholders,
    make_placeholder,
    mask_spans,
)


@dataclass
class TranslationSummary:
    """Counts of what happened to the sentences and spans of a run."""

    sentences: int = 0
    empty: int = 0
    no_spans: int = 0
    too_long: int = 0
    overlapping_spans: int = 0
    placeholder_collisions: int = 0
    translated: int = 0
    empty_translations: int = 0
    sentences_dropped: int = 0
    pairs_kept: int = 0
    spans_in: int = 0
    spans_kept: int = 0
    empty_span_translations: int = 0
    span_edges_trimmed: int = 0
    placeholders: Counter = field(default_factory=Counter)
    engine_seconds: float = 0.0
    engine_calls: int = 0
    engine_texts: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    wall_seconds: float = 0.0
    engine_stats: Counter = field(default_factory=Counter)

    def to_dict(self) -> Dict[str, object]:
        data = {k: v for k, v in self.__dict__.items() if not isinstance(v, Counter)}
        data["survival_rate"] = self.spans_kept / self.spans_in if self.spans_in else 0.0
        counts = {kind: self.placeholders.get(kind, 0) for kind in REPAIR_KINDS + FLAG_KINDS}
        data["placeholders"] = counts
        data["placeholder_rates"] = {
            kind: count / self.spans_in if self.spans_in else 0.0 for kind, count in counts.items()
        }
        data["engine_stats"] = dict(sorted(self.engine_stats.items()))
        data["sentences_per_second"] = (
            self.sentences / self.wall_seconds if self.wall_seconds else 0.0
        )
        return data


@dataclass
class _Masked:
    """One target Doc ready for translation."""

    doc: Doc
    pair_id: str
    keys: List[int]  # span key of each placeholder index
    token_spans: List[Tuple[int, int]]
    placeholders: List[str]
    text: str
    span_texts: List[str]


def _labels(doc: Doc, keys: Sequence[int]) -> Dict[int, str]:
    """The weak tagger's label of each span key (for typed placeholders)."""
    labels = {int(key): str(label) for key, label in doc.user_data.get(SPAN_LABELS_KEY) or []}
    missing = [key for key in keys if key not in labels]
    if missing:
        raise ValueError(
            f"Typed placeholders need the weak tagger's label of every span, in "
            f"doc.user_data[{SPAN_LABELS_KEY!r}] (weak_tag.py --keep-labels); "
            f"Doc {conjugate_id(doc)!r} has none for span keys {missing}."
        )
    return labels


def build_doc(nlp: Language, pieces: Sequence[Piece]) -> Tuple[Doc, Dict[int, Tuple[int, int]]]:
    """Tokenize ``pieces`` one by one into a Doc; token range of each conjugate piece."""
    words: List[str] = []
    spaces: List[bool] = []
    spans: Dict[int, Tuple[int, int]] = {}
    for piece in pieces:
        text = piece.text
        if words and text[:1].isspace():
            spaces[-1] = True
        stripped = text.strip()
        if not stripped:
            continue
        start = len(words)
        for token in nlp.make_doc(stripped):
            words.append(token.text)
            spaces.append(bool(token.whitespace_))
        spaces[-1] = text[-1].isspace()
        if piece.conjugate and piece.index is not None:
            spans[piece.index] = (start, len(words))
    if spaces:
        spaces[-1] = False
    return Doc(nlp.vocab, words=words, spaces=spaces), spans


class _Translator:
    """Masks Docs, translates batches, rebuilds Doc pairs, fills the summary."""

    def __init__(
        self,
        translator: CachedTranslator,
        nlp: Language,
        summary: TranslationSummary,
        typed_placeholders: bool,
        max_tokens: Optional[int],
        trim_span_edges: bool,
    ) -> None:
        self.translator = translator
        self.nlp = nlp
        self.summary = summary
        self.typed = typed_placeholders
        self.max_tokens = max_tokens
        self.edge_words = edge_words_for(nlp.lang or "") if trim_span_edges else frozenset()

    def mask(self, doc: Doc, number: int) -> Optional[_Masked]:
        summary = self.summary
        summary.sentences += 1
        role = doc._.get(CONJUGATE_ROLE)
        if role not in (None, "target"):
            raise ValueError(f"Expected target-language Docs, got a Doc with role {role!r}")
        if not doc.text.strip():
            summary.empty += 1
            return None
        kept: List[List[int]] = []
        for key, start, end in sorted(doc._.conjugate_spans or [], key=lambda s: (s[1], s[2])):
            if kept and start < kept[-1][2]:
                summary.overlapping_spans += 1
                continue
            kept.append([key, start, end])
        if not kept:
            summary.no_spans += 1
            return None
        if self.max_tokens is not None and len(doc) > self.max_tokens:
            summary.too_long += 1
            return None
        labels = _labels(doc, [key for key, _, _ in kept]) if self.typed else {}
        placeholders = [make_placeholder(i, labels.get(key)) for i, (key, _, _) in enumerate(kept)]
        spans = [doc[start:end] for _, start, end in kept]
        text = mask_spans(doc.text, [(s.start_char, s.end_char) for s in spans], placeholders)
        # A sentence that already contains something that reads as one of its
        # placeholders ("SPAN0" in the source) cannot be recovered reliably.
        check = find_placeholders(text, placeholders)
        if check.dropped or check.repeated or set(check.kinds.values()) != {"exact"}:
            summary.placeholder_collisions += 1
            return None
        pair_id = conjugate_id(doc) or str(number)
        return _Masked(
            doc,
            pair_id,
            [k for k, _, _ in kept],
            [(s, e) for _, s, e in kept],
            placeholders,
            text,
            [s.text for s in spans],
        )

    def translate(self, batch: List[_Masked]) -> Iterator[Tuple[Doc, Doc]]:
        texts = [m.text for m in batch] + [t for m in batch for t in m.span_texts]
        results = self.translator.translate(texts)
        span_results = iter(results[len(batch) :])
        for masked, translation in zip(batch, results):
            span_translations = {
                i: " ".join(next(span_results).split()) for i in range(len(masked.placeholders))
            }
            pair = self._pair(masked, translation, span_translations)
            if pair is not None:
                yield pair

    def _pair(
        self, masked: _Masked, translation: str, span_translations: Dict[int, str]
    ) -> Optional[Tuple[Doc, Doc]]:
        summary = self.summary
        summary.translated += 1
        summary.spans_in += len(masked.placeholders)
        if not translation.strip():
            summary.empty_translations += 1
            summary.sentences_dropped += 1
            summary.placeholders["dropped"] += len(masked.placeholders)
            return None
        recovery = find_placeholders(translation, masked.placeholders)
        summary.placeholders.update(recovery.counts())
        summary.empty_span_translations += sum(not span_translations[i] for i in recovery.survived)
        translated_doc, token_spans = build_doc(self.nlp, fill(recovery, span_translations))
        if not token_spans:
            summary.sentences_dropped += 1
            return None
        if self.edge_words:
            token_spans = self._trim(translated_doc, token_spans)
        target = masked.doc.copy()
        target.user_data.pop(SPAN_LABELS_KEY, None)
        kept = sorted(token_spans)
        set_conjugate_spans(
            target,
            masked.pair_id,
            "target",
            [[masked.keys[i], *masked.token_spans[i]] for i in kept],
        )
        set_conjugate_spans(
            translated_doc,
            masked.pair_id,
            "translation",
            [[masked.keys[i], *token_spans[i]] for i in kept],
        )
        summary.pairs_kept += 1
        summary.spans_kept += len(kept)
        return target, translated_doc

    def _trim(
        self, doc: Doc, token_spans: Dict[int, Tuple[int, int]]
    ) -> Dict[int, Tuple[int, int]]:
        trimmed = {}
        for index, (start, end) in token_spans.items():
            first, last = trim_edges([t.text for t in doc[start:end]], self.edge_words)
            trimmed[index] = (start + first, start + last)
            self.summary.span_edges_trimmed += (first, last) != (0, end - start)
        return trimmed


def translate_docs(
    docs: Iterable[Doc],
    engine: Union[TranslationEngine, CachedTranslator],
    nlp: Language,
    cache: Optional[TranslationCache] = None,
    batch_size: int = 64,
    typed_placeholders: bool = False,
    max_tokens: Optional[int] = None,
    summary: Optional[TranslationSummary] = None,
    progress: bool = False,
    trim_span_edges: bool = True,
) -> Iterator[Tuple[Doc, Doc]]:
    """Yield (target Doc, translation Doc) pairs for ``docs``.

    engine: a translation engine (or a ``CachedTranslator`` around one).
    nlp: its tokenizer builds the translation Docs, e.g. ``spacy.blank("en")``.
    cache: stores finished batches; a restarted run re-translates none of them.
    batch_size: target Docs per engine call (their spans travel with them).
    typed_placeholders: ``PER0`` instead of ``SPAN0`` (needs the labels).
    max_tokens: skip (and count) longer sentences; None keeps all.
    summary: filled in as pairs are produced (pass one to read it after).
    progress: show a tqdm bar (sentences per second).
    trim_span_edges: move each conjugate span's edges past the function words
        its translation added ("in Vitoria" -> "Vitoria"; see ``edges.py``).
    Input Docs are not modified; the yielded target Doc is a copy.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if isinstance(engine, CachedTranslator):
        if cache is not None:
            raise ValueError("Pass the cache to the CachedTranslator or here, not both")
        translator = engine
    else:
        translator = CachedTranslator(engine, cache)
    summary = summary if summary is not None else TranslationSummary()
    worker = _Translator(translator, nlp, summary, typed_placeholders, max_tokens, trim_span_edges)
    total = len(docs) if hasattr(docs, "__len__") else None  # type: ignore[arg-type]
    bar = tqdm(total=total, unit="sent", disable=not progress, dynamic_ncols=True)
    cache_used = translator.cache
    before = _Counts(translator, cache_used)
    started = time.perf_counter()
    batch: List[_Masked] = []
    seen = 0  # docs read since the bar last moved
    try:
        for number, doc in enumerate(docs):
            masked = worker.mask(doc, number)
            seen += 1
            if masked is not None:
                batch.append(masked)
            if len(batch) >= batch_size:
                yield from worker.translate(batch)
                bar.update(seen)
                batch, seen = [], 0
        if batch:
            yield from worker.translate(batch)
        bar.update(seen)
    finally:
        bar.close()
        summary.wall_seconds += time.perf_counter() - started
        _Counts(translator, cache_used).add_difference(before, summary)


class _Counts:
    """A snapshot of the translator's, cache's and engine's counters."""

    def __init__(self, translator: CachedTranslator, cache: Optional[TranslationCache]) -> None:
        self.engine = (translator.engine_seconds, translator.engine_calls, translator.engine_texts)
        self.cache = (cache.hits, cache.misses) if cache is not None else (0, 0)
        self.stats = Counter(getattr(translator.engine, "stats", Counter()))

    def add_difference(self, before: "_Counts", summary: TranslationSummary) -> None:
        summary.engine_seconds += self.engine[0] - before.engine[0]
        summary.engine_calls += self.engine[1] - before.engine[1]
        summary.engine_texts += self.engine[2] - before.engine[2]
        summary.cache_hits += self.cache[0] - before.cache[0]
        summary.cache_misses += self.cache[1] - before.cache[1]
        self.stats.subtract(before.stats)
        summary.engine_stats.update(+self.stats)
