"""What the line-based readers share: numbered lines and the report.

Every reader of :mod:`conner.prepare` (CoNLL, JSON lines, iob2, plain text)
returns a list of :class:`~conner.prepare.conll.Sentence` and a report, and
raises :class:`~conner.prepare.conll.ConllFormatError` (a ``ValueError``)
naming the file and the 1-based line of the first malformed line.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Tuple, Union

from .conll import ConllReport, decode_line, open_binary

PathLike = Union[str, Path]


@dataclass
class ReadReport(ConllReport):
    """A :class:`ConllReport` for the other formats: what was read, what was
    skipped (blank lines, comments, empty sentences) and, where a format
    holds it, where the spacing between words came from."""

    format: str = "conll"
    skipped: Counter = field(default_factory=Counter)
    spacing: Counter = field(default_factory=Counter)
    files: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict:
        data = {"format": self.format, **super().to_dict()}
        # Document markers belong to CoNLL files; these formats have none.
        del data["docstarts_dropped"]
        data["skipped"] = dict(sorted(self.skipped.items()))
        if self.spacing:
            data["spacing"] = dict(sorted(self.spacing.items()))
        if self.files:
            data["files"] = list(self.files)
        return data

    def add(self, other: "ReadReport") -> None:
        """Add the counts of ``other`` (another file of the same input)."""
        self.sentences += other.sentences
        self.tokens += other.tokens
        for mine, theirs in (
            (self.entities, other.entities),
            (self.repairs, other.repairs),
            (self.skipped, other.skipped),
            (self.spacing, other.spacing),
        ):
            mine.update(theirs)


def numbered_lines(path: PathLike, encoding: str = "utf-8") -> Iterator[Tuple[int, str]]:
    """(1-based number, text without its line end) of every line of a file.

    Lines end at ``\\n`` only, as editors and ``sed -n`` count them; bytes that
    are not valid in ``encoding`` are an error naming the line.
    """
    source = str(path)
    with open_binary(path) as lines:
        for number, raw in enumerate(lines, start=1):
            yield number, decode_line(raw, encoding, source, number).rstrip("\r\n")
