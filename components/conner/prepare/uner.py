"""Read UniversalNER's ``.iob2`` files (convert.py ``--format iob2``).

File format
    Sentences separated by blank lines. A sentence starts with comment lines
    (``#``: ``# sent_id = ...``, ``# text = ...``, ``# newdoc id = ...``),
    then one tab-separated line per token: id, token, tag, and any further
    columns, which are ignored (UniversalNER's files hold a second tag
    column and a ``-``)::

        # text = Kazna medijskom mogulu obnovila raspravu u Makedoniji
        1	Kazna	O	O	-
        ...
        7	Makedoniji	B-LOC	B-LOC	-

    The tag is the *third* column, read with the CoNLL reader's rules
    (:mod:`conner.prepare.conll`); unlabeled reads need only id and token.
    UniversalNER's labels are PER, LOC, ORG and OTH: convert.py maps OTH to
    MISC by default (``conner.prepare.readers.DEFAULT_LABEL_MAPS``).

Spacing
    Where the ``# text =`` comment spells the tokens in order, the Doc keeps
    its spacing ("Zagreb, a" rather than "Zagreb , a"); otherwise the words
    are joined by single spaces. The report counts both cases.

Errors
    A token line with fewer columns, an id that is not a number, an empty
    token or a malformed tag is a :class:`~conner.prepare.conll.ConllFormatError`
    naming the file and line.
"""

from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

from .conll import Block, ConllFormatError, Sentence, labeled_sentences
from .reading import ReadReport, numbered_lines

PathLike = Union[str, Path]
TEXT_KEY = "text"


def spaces_from_text(words: Sequence[str], text: str) -> Optional[List[bool]]:
    """Which words a space follows in ``text``, or None if ``text`` does not
    spell exactly ``words`` in order (whitespace between them aside)."""
    spaces = []
    position = 0
    for word in words:
        while position < len(text) and text[position].isspace():
            position += 1
        if not text.startswith(word, position):
            return None
        position += len(word)
        spaces.append(position < len(text) and text[position].isspace())
    return spaces if not text[position:].strip() else None


def comment_text(comment: str) -> Optional[str]:
    """The value of a ``# text = ...`` comment, None for any other comment."""
    key, sep, value = comment[1:].partition("=")
    return value.strip() if sep and key.strip() == TEXT_KEY else None


def token_row(fields: List[str], labeled: bool, source: str, line: int) -> List[str]:
    """[token, tag] (or [token] unlabeled) of one token line's columns."""
    fields = [f.strip(" ") for f in fields]
    if len(fields) < (3 if labeled else 2):
        layout = "id<TAB>token<TAB>tag" if labeled else "id<TAB>token"
        raise ConllFormatError(
            source, line, f"expected {layout}, got {len(fields)} column(s): {fields!r}"
        )
    if not (fields[0].isascii() and fields[0].isdigit()):
        raise ConllFormatError(
            source, line, f"the id {fields[0]!r} is not a number (expected id<TAB>token<TAB>tag)"
        )
    if not fields[1]:
        raise ConllFormatError(source, line, "empty token")
    return fields[1:3] if labeled else fields[1:2]


def read_uner(
    path: PathLike, *, scheme: str = "auto", encoding: str = "utf-8", labeled: bool = True
) -> Tuple[List[Sentence], ReadReport]:
    """Read the sentences of a UniversalNER iob2 file and a report on them."""
    source = str(path)
    report = ReadReport(source, scheme if labeled else None, format="iob2")
    blocks: List[Block] = []
    texts: List[Optional[str]] = []
    block, text = Block([], []), None
    for line, content in numbered_lines(path, encoding):
        if not content.strip(" \t"):
            if block.rows:
                blocks.append(block)
                texts.append(text)
            block, text = Block([], []), None
            continue
        if content.startswith("#"):
            report.skipped["comment_lines"] += 1
            value = comment_text(content)
            text = value if value is not None else text
            continue
        block.rows.append(token_row(content.split("\t"), labeled, source, line))
        block.lines.append(line)
    if block.rows:
        blocks.append(block)
        texts.append(text)
    if labeled:
        sentences = labeled_sentences(blocks, report, source, scheme)
    else:
        sentences = [Sentence([row[0] for row in b.rows], None, b.lines[0]) for b in blocks]
    for sentence, sentence_text in zip(sentences, texts):
        sentence.spaces = spaces_from_text(sentence.words, sentence_text) if sentence_text else None
        if sentence_text is None:
            report.spacing["no_text"] += 1
        else:
            report.spacing["from_text" if sentence.spaces else "text_not_matching_tokens"] += 1
    report.sentences = len(sentences)
    report.tokens = sum(len(s.words) for s in sentences)
    return sentences, report
