"""A weak tagger's entity boundaries as conjugate spans (ConNER section 2.3).

ConNER takes candidate spans from a tagger trained on source data only, and
uses their boundaries, not their types. The Docs written out are rebuilt
from the words alone: they carry no entities, tags or other annotation of
the input, so neither gold labels of the input nor the weak tagger's types
reach training (``keep_labels`` stores the types in ``doc.user_data`` for
typed placeholders only).
"""

from collections import Counter
from typing import Iterable, Iterator, List, Sequence

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab
from tqdm import tqdm

from ..consistency.extensions import (
    SPAN_LABELS_KEY,
    conjugate_id,
    get_conjugate_spans,
    set_conjugate_spans,
)
from ..consistency.pairs import DocPair, bare_copy
from .pipelines import pipe_by_words


def weak_tag_docs(
    nlp: Language,
    docs: List[Doc],
    id_prefix: str = "",
    keep_labels: bool = False,
    batch_size: int = 1000,
    progress: bool = False,
    first_index: int = 0,
) -> Iterator[Doc]:
    """Yield annotation-free copies of ``docs`` with the predicted boundaries as conjugate spans.

    The pipeline runs on bare Docs with the input's tokenization (the
    tokenizer is skipped), so span offsets index the input's tokens and any
    entities already on the input cannot influence or survive tagging. A Doc
    without a pair id gets ``id_prefix`` and its index (counted from
    ``first_index``, so that the parts of one file keep the ids the whole
    file would give). ``progress`` shows a bar of the Docs tagged (on stderr).
    """
    tagged = pipe_by_words(nlp, (bare_copy(doc, nlp.vocab) for doc in docs), batch_size)
    with tqdm(total=len(docs), unit="doc", desc="weak tagging", disable=not progress) as bar:
        for index, (doc, prediction) in enumerate(zip(docs, tagged), first_index):
            ents = list(prediction.ents)
            out = target_copy(doc, nlp.vocab, conjugate_id(doc) or f"{id_prefix}{index}", ents)
            if keep_labels:
                out.user_data[SPAN_LABELS_KEY] = [[i, e.label_] for i, e in enumerate(ents)]
            bar.update(1)
            yield out


def gold_span_docs(docs: Iterable[Doc], id_prefix: str = "", first_index: int = 0) -> Iterator[Doc]:
    """Yield annotation-free copies of labeled ``docs`` with their gold entity
    boundaries as conjugate spans: the weak tagger replaced by an oracle.

    Only the boundaries are kept, as from a weak tagger, so training still
    sees no label of the target language. Pair ids follow
    :func:`weak_tag_docs`, so the same sentence gets the same id either way.
    """
    for index, doc in enumerate(docs, first_index):
        yield target_copy(doc, doc.vocab, conjugate_id(doc) or f"{id_prefix}{index}", doc.ents)


def pair_target_docs(pairs: Iterable[DocPair]) -> Iterator[Doc]:
    """Yield the target side of conjugate ``pairs`` as ``conner weak-tag``
    writes it: an annotation-free copy with its pair id and the spans both
    sides share, so another engine can translate the same sentences and
    spans (an ablation of the translation engine alone)."""
    for target, translation in pairs:
        shared = get_conjugate_spans(target).keys() & get_conjugate_spans(translation).keys()
        spans = get_conjugate_spans(target)
        pair_id = conjugate_id(target)
        if pair_id is None:  # load_pairs only returns Docs with an id
            raise ValueError("a pair's target Doc has no conjugate id")
        yield target_copy(target, target.vocab, pair_id, [spans[key] for key in sorted(shared)])


def target_copy(doc: Doc, vocab: Vocab, pair_id: str, ents: Sequence[Span]) -> Doc:
    """An annotation-free copy of ``doc`` whose conjugate spans are the
    boundaries of ``ents`` (keys 0..n-1), as the target side of ``pair_id``."""
    out = bare_copy(doc, vocab)
    set_conjugate_spans(out, pair_id, "target", [[i, e.start, e.end] for i, e in enumerate(ents)])
    return out


def span_counts(docs: Iterable[Doc]) -> Counter:
    """Docs, Docs with spans, spans and span tokens of weakly tagged Docs."""
    counts: Counter = Counter()
    for doc in docs:
        spans = get_conjugate_spans(doc)
        counts["docs"] += 1
        counts["docs_with_spans"] += bool(spans)
        counts["spans"] += len(spans)
        counts["span_tokens"] += sum(len(span) for span in spans.values())
    return counts
