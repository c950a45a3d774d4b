"""Find, in a training batch, the documents the consistency losses compare."""

from typing import Dict, List, NamedTuple, Tuple

from spacy.tokens import Doc

from .extensions import CONJUGATE_ID, CONJUGATE_ROLE, DROPOUT_TWIN, get_conjugate_spans


class ConsistencyGroups(NamedTuple):
    """Batch indices of dropout twins and (index, start, end) of conjugate spans."""

    twins: Tuple[List[int], List[int]]
    unlabeled_spans: List[Tuple[int, int, int]]
    translated_spans: List[Tuple[int, int, int]]


def find_consistency_groups(docs: List[Doc]) -> ConsistencyGroups:
    """Pair each doc with its dropout twin, and each target span with its
    conjugate in the translation, by the keys the batcher and the data set.

    Twins and pair sides whose partner is not in the batch are ignored.
    """
    by_twin_key: Dict[int, List[int]] = {}
    by_pair: Dict[str, Dict[str, int]] = {}
    for i, doc in enumerate(docs):
        key = doc._.get(DROPOUT_TWIN)
        if key is not None:
            by_twin_key.setdefault(key, []).append(i)
        pair_id = doc._.get(CONJUGATE_ID)
        if pair_id is not None:
            by_pair.setdefault(pair_id, {})[doc._.get(CONJUGATE_ROLE)] = i
    twins = [members for members in by_twin_key.values() if len(members) == 2]
    unlabeled: List[Tuple[int, int, int]] = []
    translated: List[Tuple[int, int, int]] = []
    for sides in by_pair.values():
        if "target" not in sides or "translation" not in sides:
            continue
        t, tr = sides["target"], sides["translation"]
        target_spans = get_conjugate_spans(docs[t])
        translation_spans = get_conjugate_spans(docs[tr])
        for key in sorted(set(target_spans) & set(translation_spans)):
            unlabeled.append((t, target_spans[key].start, target_spans[key].end))
            translated.append((tr, translation_spans[key].start, translation_spans[key].end))
    return ConsistencyGroups(([a for a, _ in twins], [b for _, b in twins]), unlabeled, translated)
