"""The input of translation: target Docs with well-formed candidate spans."""

from typing import Sequence

from spacy.tokens import Doc

from ...consistency.extensions import CONJUGATE_ID, CONJUGATE_ROLE, CONJUGATE_SPANS
from ...consistency.pairs import PairError, span_problem


def check_target_docs(docs: Sequence[Doc], source: str, first_index: int = 0) -> None:
    """:class:`PairError` naming ``source`` and the pair id (or Doc number,
    counted from ``first_index``) at a Doc that is not a target or whose spans
    are broken. Overlapping spans pass: translation keeps the first and counts
    them. ``conner weak-tag`` never writes such spans, so a file that fails
    here was damaged or edited."""
    for index, doc in enumerate(docs, first_index):
        pair_id = doc._.get(CONJUGATE_ID)
        where = f"{source}: pair {pair_id!r}" if pair_id is not None else f"{source}: doc {index}"
        role = doc._.get(CONJUGATE_ROLE)
        if role not in (None, "target"):
            raise PairError(
                f"{where}: a Doc with role {role!r}; conner translate reads target Docs "
                "(conner weak-tag's output)"
            )
        problem = span_problem(doc._.get(CONJUGATE_SPANS), len(doc), disjoint=False)
        if problem is not None:
            raise PairError(f"{where}: target: {problem}")
