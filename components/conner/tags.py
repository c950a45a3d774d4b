"""BIOES tag inventory for a set of entity labels.

The tag layout is fixed so that tensor code can index it directly:
index 0 is ``O``; then, for each label in sorted order, ``B-``, ``I-``,
``E-`` and ``S-`` of that label. Nothing here knows about PER/ORG/LOC/MISC.
"""
from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

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
