"""Alignment-free translation with placeholders (ConNER, section 2.3, Figure 2).

1. Each candidate span is replaced by a placeholder token and the sentence
   is translated: "Bruce Willis wurde in SPAN0 geboren." -> "Bruce Willis
   was born in SPAN0."
2. Each span is translated on its own: "Westdeutschland" -> "West German".
3. Each placeholder is replaced by its span's translation; the inserted text
   is the conjugate span.

Placeholders are type-neutral (``SPAN0``, ``SPAN1``, numbered by position in
the sentence) so the translation engine learns nothing about the weak
tagger's entity types; ``make_placeholder(i, label)`` gives the reference
implementation's typed form (``PER0``) when asked for.

Engines sometimes change a placeholder. ``find_placeholders`` recovers the
known ways and names each one:

- ``exact``: unchanged;
- ``case``: ``span0``, ``Span0``;
- ``spacing``: ``SPAN 0`` (or ``SPAN_0``);
- ``hyphen``: ``SPAN-0`` (any dash);
- ``repeated``: the placeholder appears more than once: the best-preserved
  occurrence is the conjugate span, the others get the span translation as
  plain text;
- ``dropped``: no occurrence: that span is lost.

Glued neighbours (``SPAN0,``, ``(SPAN0)``, ``SPAN0s``) are counted as
``attached_punctuation`` / ``attached_text`` on top of the kind above; they
need no repair because the inserted span is tokenized on its own, so its
token boundaries are exact whatever surrounds it.
"""

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

DEFAULT_PREFIX = "SPAN"
# Repairs in order of preference when a placeholder occurs more than once.
REPAIR_KINDS = ("exact", "case", "spacing", "hyphen")
FLAG_KINDS = ("attached_punctuation", "attached_text", "repeated", "dropped")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_PLACEHOLDER = re.compile(r"([A-Z]+)(\d+)")


def make_placeholder(index: int, label: Optional[str] = None) -> str:
    """``SPAN{index}``, or ``{LABEL}{index}`` for a typed placeholder."""
    prefix = DEFAULT_PREFIX if label is None else re.sub(r"[^A-Za-z]", "", label).upper()
    if not prefix:
        raise ValueError(f"Cannot build a placeholder from label {label!r}")
    return f"{prefix}{index}"


def mask_spans(
    text: str, char_spans: Sequence[Tuple[int, int]], placeholders: Sequence[str]
) -> str:
    """``text`` with each ``(start, end)`` character range replaced by its placeholder.

    Ranges must be sorted and must not overlap.
    """
    pieces: List[str] = []
    last = 0
    for (start, end), placeholder in zip(char_spans, placeholders):
        if start < last or end <= start:
            raise ValueError(f"Span ranges must be sorted, non-empty and disjoint: {char_spans}")
        pieces.extend((text[last:start], placeholder))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


@dataclass
class Piece:
    """A piece of a translated sentence: plain text or a placeholder occurrence.

    index: the placeholder's span index, or None for plain text.
    conjugate: True for the one occurrence that becomes the conjugate span.
    """

    text: str
    index: Optional[int] = None
    conjugate: bool = False


@dataclass
class Recovery:
    """What ``find_placeholders`` found in one translated sentence."""

    pieces: List[Piece]
    kinds: Dict[int, str] = field(default_factory=dict)  # surviving index -> repair kind
    dropped: List[int] = field(default_factory=list)
    repeated: Dict[int, int] = field(default_factory=dict)  # index -> extra occurrences
    attached_punctuation: List[int] = field(default_factory=list)
    attached_text: List[int] = field(default_factory=list)

    @property
    def survived(self) -> List[int]:
        return sorted(self.kinds)

    def counts(self) -> Counter:
        """Placeholder counts by repair kind and flag."""
        counts = Counter(self.kinds.values())
        counts["dropped"] += len(self.dropped)
        counts["repeated"] += sum(self.repeated.values())
        counts["attached_punctuation"] += len(self.attached_punctuation)
        counts["attached_text"] += len(self.attached_text)
        return counts


def _pattern(placeholder: str) -> "re.Pattern[str]":
    match = _PLACEHOLDER.fullmatch(placeholder)
    if match is None:
        raise ValueError(f"Placeholders look like SPAN0 or PER0, got {placeholder!r}")
    prefix, number = match.groups()
    # The prefix as written may touch anything ("xSPAN0"); a prefix in
    # another case must not follow a letter (so "lifespan 3" is no "SPAN3").
    # No digit may follow (so SPAN10 is no SPAN1).
    return re.compile(
        rf"(?:{prefix}|(?<![^\W\d_])(?i:{prefix}))"
        rf"(?P<sep>[\s_{re.escape(_DASHES)}]*){number}(?!\d)"
    )


def _kind(match: "re.Match[str]", placeholder: str) -> str:
    sep = match.group("sep")
    if any(ch in _DASHES for ch in sep):
        return "hyphen"
    if sep:
        return "spacing"
    if match.group(0) != placeholder:
        return "case"
    return "exact"


def _glued(text: str, start: int, end: int) -> Optional[str]:
    """ "punctuation" or "text" if a non-space character touches [start, end)."""
    neighbours = [text[i] for i in (start - 1, end) if 0 <= i < len(text)]
    glued = [ch for ch in neighbours if not ch.isspace()]
    if not glued:
        return None
    if any(unicodedata.category(ch)[0] in "LN" for ch in glued):
        return "text"
    return "punctuation"


def find_placeholders(translation: str, placeholders: Sequence[str]) -> Recovery:
    """Locate each placeholder (by index) in ``translation``, repairing known damage."""
    occurrences = []  # (start, end, index, kind)
    for index, placeholder in enumerate(placeholders):
        for match in _pattern(placeholder).finditer(translation):
            occurrences.append((match.start(), match.end(), index, _kind(match, placeholder)))
    occurrences.sort()
    # Different placeholders cannot overlap by construction; be safe anyway.
    disjoint: List[Tuple[int, int, int, str]] = []
    for occ in occurrences:
        if not disjoint or occ[0] >= disjoint[-1][1]:
            disjoint.append(occ)

    best: Dict[int, Tuple[int, int]] = {}  # index -> (kind rank, start)
    for start, _, index, kind in disjoint:
        rank = (REPAIR_KINDS.index(kind), start)
        if index not in best or rank < best[index]:
            best[index] = rank

    recovery = Recovery(pieces=[])
    last = 0
    for start, end, index, kind in disjoint:
        if start > last:
            recovery.pieces.append(Piece(translation[last:start]))
        conjugate = best[index] == (REPAIR_KINDS.index(kind), start)
        recovery.pieces.append(Piece(translation[start:end], index, conjugate))
        if conjugate:
            recovery.kinds[index] = kind
            glued = _glued(translation, start, end)
            if glued == "punctuation":
                recovery.attached_punctuation.append(index)
            elif glued == "text":
                recovery.attached_text.append(index)
        else:
            recovery.repeated[index] = recovery.repeated.get(index, 0) + 1
        last = end
    if last < len(translation):
        recovery.pieces.append(Piece(translation[last:]))
    recovery.dropped = [i for i in range(len(placeholders)) if i not in recovery.kinds]
    return recovery


def fill(recovery: Recovery, span_translations: Dict[int, str]) -> List[Piece]:
    """Replace every placeholder occurrence by its span's translation.

    Returns plain-text pieces and one conjugate piece per surviving span. A
    span whose translation is empty keeps no conjugate piece (and leaves a
    gap); the caller counts it.
    """
    filled = []
    for piece in recovery.pieces:
        if piece.index is None:
            filled.append(piece)
            continue
        text = span_translations.get(piece.index, "").strip()
        if text:
            filled.append(Piece(text, piece.index, piece.conjugate))
    return filled
