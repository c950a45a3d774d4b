"""BIOES tag inventory for a set of entity labels.

The tag layout is fixed so that tensor code can index it directly:
index 0 is ``O``; then, for each label in sorted order, ``B-``, ``I-``,
``E-`` and ``S-`` of that label. Nothing here knows about PER/ORG/LOC/MISC.
:func:`preset_tags` and :meth:`TagSet.allowed_tags` turn the entities set
before the tagger runs into the tags that decoding must keep.
"""

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy

PREFIXES = ("B", "I", "E", "S")
OUTSIDE = "O"


@dataclass(frozen=True)
class TagSet:
    """The BIOES tags over ``labels`` and the index arrays tensor code needs."""

    labels: Tuple[str, ...]

    @classmethod
    def from_labels(cls, labels: Iterable[str]) -> "TagSet":
        return cls(tuple(sorted(set(labels))))

    @property
    def tags(self) -> List[str]:
        return [OUTSIDE] + [f"{p}-{label}" for label in self.labels for p in PREFIXES]

    @property
    def n_tags(self) -> int:
        return 1 + 4 * len(self.labels)

    def index(self, tag: str) -> int:
        """Index of a BIOES tag (``L-``/``U-`` from spaCy's BILUO are accepted)."""
        if tag == OUTSIDE or tag == "-":
            return 0
        prefix, label = tag.split("-", 1)
        prefix = {"L": "E", "U": "S"}.get(prefix, prefix)
        return 1 + 4 * self.labels.index(label) + PREFIXES.index(prefix)

    def prefix_indices(self, prefix: str) -> numpy.ndarray:
        """Indices of ``prefix``-tags (one of B, I, E, S), one per label, label order."""
        offset = PREFIXES.index(prefix)
        return numpy.asarray([1 + 4 * i + offset for i in range(len(self.labels))], dtype="int64")

    def allowed_transitions(self) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
        """Boolean masks of legal BIOES moves: (start, transitions[from, to], end)."""
        n = self.n_tags
        start = numpy.zeros((n,), dtype=bool)
        end = numpy.zeros((n,), dtype=bool)
        trans = numpy.zeros((n, n), dtype=bool)
        outside_like = [0] + list(self.prefix_indices("E")) + list(self.prefix_indices("S"))
        openers = [0] + list(self.prefix_indices("B")) + list(self.prefix_indices("S"))
        start[openers] = True
        end[outside_like] = True
        for i in outside_like:
            trans[i, openers] = True
        for k in range(len(self.labels)):
            b, i_, e = 1 + 4 * k, 2 + 4 * k, 3 + 4 * k
            trans[b, [i_, e]] = True
            trans[i_, [i_, e]] = True
        return start, trans, end

    def allowed_tags(self, fixed: Sequence[Optional[str]]) -> numpy.ndarray:
        """Boolean mask (n_tokens, n_tags) of the tags each token may take.

        fixed: one entry per token, None for a free token or the BIOES tag it
            must keep (see :func:`preset_tags`). A label that is not in the
            tag set leaves its tokens ``O``: legal next to any tag, so the
            path stays legal, and the caller keeps the entity itself.
        """
        allowed = numpy.ones((len(fixed), self.n_tags), dtype=bool)
        for i, tag in enumerate(fixed):
            if tag is None:
                continue
            allowed[i] = False
            label = tag.partition("-")[2]
            allowed[i, self.index(tag) if label in self.labels else 0] = True
        return allowed


def preset_tags(ent_iob: Sequence[str], ent_type: Sequence[str]) -> List[Optional[str]]:
    """The BIOES tag each token must keep, from spaCy's ``ent_iob_`` and
    ``ent_type_`` as set before the tagger runs (None: the tagger decides).

    As for spaCy's ``ner``: the tokens of an entity keep it; a blocked token
    (``B`` without a type, ``Doc.set_ents(blocked=...)``) stays ``O``; tokens
    marked ``O`` or missing are free, since setting ``doc.ents`` marks every
    other token ``O``.
    """
    fixed: List[Optional[str]] = [None] * len(ent_iob)
    start = None
    for i, (iob, label) in enumerate(zip(ent_iob, ent_type)):
        if iob == "B" and not label:
            fixed[i] = OUTSIDE
        elif iob == "B" or (iob == "I" and start is None):
            start = i
        if start is not None:
            next_continues = i + 1 < len(ent_iob) and ent_iob[i + 1] == "I"
            if not next_continues:
                fixed[start : i + 1] = bioes(i + 1 - start, ent_type[start])
                start = None
    return fixed


def bioes(length: int, label: str) -> List[str]:
    """BIOES tags of one entity of ``length`` tokens."""
    if length == 1:
        return [f"S-{label}"]
    return [f"B-{label}"] + [f"I-{label}"] * (length - 2) + [f"E-{label}"]


def spans_from_tags(tags: Sequence[str]) -> List[Tuple[int, int, str]]:
    """(start, end, label) spans of a *legal* BIOES/BILUO sequence."""
    spans = []
    start = None
    for i, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix in ("S", "U"):
            spans.append((i, i + 1, label))
        elif prefix == "B":
            start = i
        elif prefix in ("E", "L") and start is not None:
            spans.append((start, i + 1, label))
            start = None
    return spans
