"""Read CoNLL column files into entity spans the way conlleval.pl reads them.

File format
    One token per line, columns separated by tabs (if the first token line
    holds a tab) or else by single spaces; the token is the first column and
    the tag the last. Any number of columns is allowed, but every token line
    of a file must have the same number. A blank line ends a sentence. A
    file inside a zip archive is read in place: pass the archive as ``path``
    and the member as ``member`` (its full name, or a base name such as
    ``esp.train`` that matches exactly one member).

Document markers
    A line whose token starts with ``-DOCSTART-`` is dropped wherever it
    stands and does *not* split the sentence around it: the Dutch CoNLL-2002
    files put the marker on the first line of an article's first sentence,
    with no blank line after it. (The token is matched by prefix because one
    ConNER release file writes it as ``-DOCSTART-S-LOC0``.) Marker lines are
    exempt from the column count check.

Tags and chunks
    Entities are read with conlleval.pl's ``startOfChunk``/``endOfChunk``
    rules, including the ``S`` rules of its widely used BIOES extension, with
    BILOU's ``L``/``U`` read as ``E``/``S``. conlleval reads every scheme the
    same way, so an invalid sequence is "repaired" exactly as the official
    scorer reads it. The scheme only decides what counts as a repair; each
    is counted by kind (see :data:`REPAIR_KINDS`).
"""

import zipfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

DOCSTART = "-DOCSTART-"
OUTSIDE = "O"
SCHEMES = ("IOB1", "IOB2", "BIOES", "BILOU")
SCHEME_PREFIXES = {"IOB1": "BI", "IOB2": "BI", "BIOES": "BIES", "BILOU": "BILU"}
# conlleval's BIOES rules cover BILOU once L and U are read as E and S.
CANONICAL_PREFIX = {"L": "E", "U": "S"}
# The prefixes that only one of BILOU and BIOES uses: a file must not mix them.
EXCLUSIVE_PREFIXES = {"L": "BILOU", "U": "BILOU", "E": "BIOES", "S": "BIOES"}

# An I- that no B- opened: at sentence start, after O, or (BIOES) after E/S.
I_WITHOUT_B = "I_without_B"
# BIOES/BILOU: an E- (L-) that no B- opened; conlleval reads a new chunk.
E_WITHOUT_B = "E_without_B"
# An I- or E- whose label differs from the open chunk's: a new chunk starts.
TYPE_CHANGE = "type_change"
# BIOES/BILOU: a chunk opened by B- ended by O, B-, S- or the sentence end.
CHUNK_NOT_CLOSED = "chunk_not_closed"
# IOB1: a B- that does not follow a chunk of its own label.
B_NOT_AFTER_SAME_TYPE = "B_not_after_same_type"
REPAIR_KINDS = (I_WITHOUT_B, E_WITHOUT_B, TYPE_CHANGE, CHUNK_NOT_CLOSED, B_NOT_AFTER_SAME_TYPE)

Chunk = Tuple[int, int, str]
PathLike = Union[str, Path]


class ConllFormatError(ValueError):
    """A malformed line, named by file and 1-based line number."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}, line {line}: {message}")
        self.source = source
        self.line = line


@dataclass
class Block:
    """The token lines between two blank lines, document markers removed."""

    rows: List[List[str]]
    lines: List[int]
    docstarts: int = 0


@dataclass
class Sentence:
    """Words and (start, end, label) entity spans; ``spans`` is None if unlabeled.

    ``spaces`` says which words a space follows, where a format knows it
    (plain text, a ``# text =`` comment); None joins the words by single spaces.
    """

    words: List[str]
    spans: Optional[List[Chunk]]
    line: int
    spaces: Optional[List[bool]] = None


@dataclass
class ConllReport:
    """What was read from one file, and how many tags had to be repaired."""

    source: str
    scheme: Optional[str]
    sentences: int = 0
    tokens: int = 0
    docstarts_dropped: int = 0
    entities: Counter = field(default_factory=Counter)
    repairs: Counter = field(default_factory=Counter)

    def to_dict(self) -> Dict:
        return {
            "source": self.source,
            "scheme": self.scheme,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "docstarts_dropped": self.docstarts_dropped,
            "entities": dict(sorted(self.entities.items())),
            "repairs": dict(sorted(self.repairs.items())),
        }


def source_name(path: PathLike, member: Optional[str] = None) -> str:
    """How error messages and reports name a file or a zip member."""
    return f"{path}" if member is None else f"{member} in {path}"


def resolve_member(archive: zipfile.ZipFile, member: str) -> str:
    """The archive's name for ``member``: an exact name or a unique base name."""
    names = [n for n in archive.namelist() if not n.endswith("/")]
    if member in names:
        return member
    matches = [n for n in names if n.rsplit("/", 1)[-1] == member]
    if len(matches) != 1:
        raise ValueError(
            f"{archive.filename}: member {member!r} matches {len(matches)} files; "
            f"members are {names}"
        )
    return matches[0]


@contextmanager
def open_binary(path: PathLike, member: Optional[str] = None) -> Iterator[Iterable[bytes]]:
    """Yield the raw lines of a file, or of a zip member without extracting it."""
    if member is None:
        with open(path, "rb") as file_:
            yield file_
    else:
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ValueError(
                f"{path} is not a zip archive: --member {member!r} reads a file inside one"
            ) from None
        with archive:
            with archive.open(resolve_member(archive, member)) as file_:
                yield file_


def decode_line(raw: bytes, encoding: str, source: str, line: int) -> str:
    """Decode one line, naming the file and line if its bytes are invalid."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise ConllFormatError(
            source,
            line,
            f"byte 0x{raw[err.start]:02x} at column {err.start + 1} is not valid "
            f"{encoding} (a latin-1 file? then pass encoding='latin-1')",
        ) from None
    return text.lstrip("\ufeff") if line == 1 else text


def iter_blocks(
    path: PathLike, member: Optional[str] = None, encoding: str = "utf-8"
) -> Iterator[Block]:
    """Yield every sentence block of a CoNLL file, checking its columns.

    Blocks that held only document markers are yielded with no rows, so that
    two parallel files stay aligned block by block.
    """
    source = source_name(path, member)
    sep: Optional[str] = None
    n_columns: Optional[int] = None
    block = Block([], [])
    with open_binary(path, member) as lines:
        for number, raw in enumerate(lines, start=1):
            # Only ASCII blanks are stripped: a token may be e.g. U+00A0.
            text = decode_line(raw, encoding, source, number).strip(" \t\r\n")
            if not text:
                if block.rows or block.docstarts:
                    yield block
                block = Block([], [])
                continue
            if text.startswith(DOCSTART):
                block.docstarts += 1
                continue
            if sep is None:
                sep = "\t" if "\t" in text else " "
            fields = text.split(sep)
            if n_columns is None:
                n_columns = len(fields)
            if len(fields) != n_columns or "" in fields:
                raise ConllFormatError(
                    source,
                    number,
                    f"expected {n_columns} non-empty columns separated by {sep!r}, got {fields!r}",
                )
            block.rows.append(fields)
            block.lines.append(number)
    if block.rows or block.docstarts:
        yield block


def split_tag(tag: str) -> Tuple[str, str]:
    """(prefix, label) of a tag, L/U read as E/S; ("O", "") for outside."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, sep, label = tag.partition("-")
    if not sep or not label or len(prefix) != 1 or prefix not in "BIESLU":
        raise ValueError(f"malformed tag {tag!r}: expected O or one of B/I/E/S/L/U-LABEL")
    return CANONICAL_PREFIX.get(prefix, prefix), label


def starts_chunk(prev_prefix: str, prefix: str, prev_label: str, label: str) -> bool:
    """conlleval's startOfChunk: B/S always open; I/E open unless continuing B/I."""
    if prefix == OUTSIDE:
        return False
    return prefix in ("B", "S") or prev_prefix in ("O", "E", "S") or prev_label != label


def ends_chunk(prev_prefix: str, prefix: str, prev_label: str, label: str) -> bool:
    """conlleval's endOfChunk: E/S always close; B/I close before O/B/S or a new label."""
    if prev_prefix == OUTSIDE:
        return False
    return prev_prefix in ("E", "S") or prefix in ("O", "B", "S") or prev_label != label


def chunks_from_tags(tags: Sequence[str]) -> List[Chunk]:
    """(start, end, label) chunks of any tag sequence, read as conlleval.pl does."""
    chunks = []
    start = None
    prev_prefix, prev_label = OUTSIDE, ""
    # conlleval sees an O before and after every sentence.
    for i, tag in enumerate(list(tags) + [OUTSIDE]):
        prefix, label = split_tag(tag)
        if start is not None and ends_chunk(prev_prefix, prefix, prev_label, label):
            chunks.append((start, i, prev_label))
            start = None
        if starts_chunk(prev_prefix, prefix, prev_label, label):
            start = i
        prev_prefix, prev_label = prefix, label
    return chunks


def repair_kind(
    scheme: str, prev_prefix: str, prefix: str, prev_label: str, label: str
) -> Optional[str]:
    """The repair conlleval makes at a tag that breaks ``scheme``, or None."""
    if scheme == "IOB1":
        if prefix == "B" and (prev_prefix == OUTSIDE or prev_label != label):
            return B_NOT_AFTER_SAME_TYPE
        return None
    inside = prev_prefix in ("B", "I")
    if scheme == "IOB2":
        if prefix == "I" and not inside:
            return I_WITHOUT_B
        if prefix == "I" and prev_label != label:
            return TYPE_CHANGE
        return None
    # BIOES and BILOU (already read as BIOES).
    if inside and prefix in ("I", "E"):
        return TYPE_CHANGE if prev_label != label else None
    if inside:
        return CHUNK_NOT_CLOSED
    if prefix == "I":
        return I_WITHOUT_B
    if prefix == "E":
        return E_WITHOUT_B
    return None


def find_repairs(tags: Sequence[str], scheme: str) -> List[Tuple[int, str]]:
    """(token index, kind) of every repair; index len(tags) is the sentence end."""
    repairs = []
    prev_prefix, prev_label = OUTSIDE, ""
    for i, tag in enumerate(list(tags) + [OUTSIDE]):
        prefix, label = split_tag(tag)
        kind = repair_kind(scheme, prev_prefix, prefix, prev_label, label)
        if kind is not None:
            repairs.append((i, kind))
        prev_prefix, prev_label = prefix, label
    return repairs


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Guess the scheme from the prefixes used.

    L/U mean BILOU and E/S mean BIOES. With only B/I, IOB2 opens chunks with
    B- and IOB1 with I- (B- only splits two adjacent same-label chunks), so
    the more common chunk opener decides.
    """
    raw_prefixes = set()
    b_openers = i_openers = 0
    for tags in tag_sequences:
        prev_prefix, prev_label = OUTSIDE, ""
        for tag in tags:
            raw_prefixes.add(tag.partition("-")[0])
            prefix, label = split_tag(tag)
            opens = prev_prefix == OUTSIDE or prev_label != label
            b_openers += prefix == "B" and opens
            i_openers += prefix == "I" and opens
            prev_prefix, prev_label = prefix, label
    if raw_prefixes & set("LU") and raw_prefixes & set("ES"):
        raise ValueError(f"tags mix BILOU (L/U) and BIOES (E/S) prefixes: {sorted(raw_prefixes)}")
    if raw_prefixes & set("LU"):
        return "BILOU"
    if raw_prefixes & set("ES"):
        return "BIOES"
    return "IOB1" if i_openers > b_openers else "IOB2"


def detect_block_scheme(blocks: Sequence[Block], source: str) -> str:
    """:func:`detect_scheme` of the blocks' last column; a mix of BILOU and
    BIOES prefixes is an error naming the line where the mix shows."""
    try:
        return detect_scheme([row[-1] for row in block.rows] for block in blocks)
    except ValueError as err:
        first: Dict[str, int] = {}
        for block in blocks:
            for row, line in zip(block.rows, block.lines):
                kind = EXCLUSIVE_PREFIXES.get(row[-1].partition("-")[0])
                if kind is not None:
                    first.setdefault(kind, line)
                if len(first) == 2:
                    earlier = min(first.values())
                    raise ConllFormatError(
                        source, line, f"{err} (the other kind on line {earlier})"
                    ) from None
        raise  # pragma: no cover - detect_scheme only mixes when both kinds occur


def check_scheme(tag: str, scheme: str) -> None:
    """Raise if ``tag`` is malformed or its prefix is not part of ``scheme``."""
    split_tag(tag)
    prefix = tag.partition("-")[0]
    if tag != OUTSIDE and prefix not in SCHEME_PREFIXES[scheme]:
        raise ValueError(f"tag {tag!r} is not valid in the {scheme} scheme")


def read_conll(
    path: PathLike,
    member: Optional[str] = None,
    *,
    scheme: str = "auto",
    encoding: str = "utf-8",
    labeled: bool = True,
) -> Tuple[List[Sentence], ConllReport]:
    """Read the sentences of a CoNLL file and a report on them.

    With ``labeled=False`` the tag column is never looked at: sentences carry
    ``spans=None`` and files with a single column are accepted.
    """
    source = source_name(path, member)
    if scheme != "auto" and scheme not in SCHEMES:
        raise ValueError(f"scheme must be 'auto' or one of {SCHEMES}, got {scheme!r}")
    blocks = list(iter_blocks(path, member, encoding))
    report = ConllReport(source, scheme if labeled else None)
    report.docstarts_dropped = sum(block.docstarts for block in blocks)
    blocks = [block for block in blocks if block.rows]
    if not labeled:
        sentences = [Sentence([row[0] for row in b.rows], None, b.lines[0]) for b in blocks]
    else:
        sentences = labeled_sentences(blocks, report, source, scheme)
    report.sentences = len(sentences)
    report.tokens = sum(len(s.words) for s in sentences)
    return sentences, report


def labeled_sentences(
    blocks: Sequence[Block], report: ConllReport, source: str, scheme: str = "auto"
) -> List[Sentence]:
    """Sentences of blocks whose first column is the word and last the tag.

    Every tag is checked (errors name its line), the scheme is detected if
    ``scheme`` is "auto", and entities and repairs are counted in ``report``.
    Shared by every reader of tagged columns (CoNLL, JSON lines, iob2).
    """
    check_tag_column(blocks, source)
    used = detect_block_scheme(blocks, source) if scheme == "auto" else scheme
    report.scheme = used
    sentences = [labeled_sentence(b, report, source, used) for b in blocks]
    if scheme == "auto" and not report.entities:
        report.scheme = None  # no entity tag: nothing to detect a scheme from
    return sentences


def check_tag_column(blocks: Sequence[Block], source: str) -> None:
    """Raise, naming the first line, if the tag column is missing or a tag malformed."""
    for block in blocks:
        for row, line in zip(block.rows, block.lines):
            if len(row) < 2:
                raise ConllFormatError(source, line, f"expected a token and a tag, got {row!r}")
            try:
                split_tag(row[-1])
            except ValueError as err:
                raise ConllFormatError(source, line, str(err)) from None


def labeled_sentence(block: Block, report: ConllReport, source: str, scheme: str) -> Sentence:
    """Read a block's tags (in ``scheme``) into chunks, counting entities and
    repairs in ``report``."""
    tags = [row[-1] for row in block.rows]
    for tag, line in zip(tags, block.lines):
        try:
            check_scheme(tag, scheme)
        except ValueError as err:
            raise ConllFormatError(source, line, str(err)) from None
    spans = chunks_from_tags(tags)
    report.entities.update(label for _, _, label in spans)
    report.repairs.update(kind for _, kind in find_repairs(tags, scheme))
    return Sentence([row[0] for row in block.rows], spans, block.lines[0])


def doc_from_words(
    vocab: Vocab, words: Sequence[str], spaces: Optional[Sequence[bool]] = None
) -> Doc:
    """An unannotated Doc of ``words``, the way every CoNLL-like file is read.

    Tokens are joined by single spaces, with no space after the last one,
    unless ``spaces`` says which words a space follows.
    """
    if spaces is None:
        spaces = [True] * (len(words) - 1) + [False] if words else []
    return Doc(vocab, words=list(words), spaces=list(spaces))


def sentence_to_doc(vocab: Vocab, sentence: Sentence) -> Doc:
    """A Doc of the sentence; doc.ents is set (all other tokens O) only if labeled."""
    doc = doc_from_words(vocab, sentence.words, sentence.spaces)
    if sentence.spans is not None:
        doc.ents = [Span(doc, start, end, label=label) for start, end, label in sentence.spans]
    return doc
