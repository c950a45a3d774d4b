"""Read JSON lines of tokens and tags, as BasqueGLUE's NER files hold them.

File format
    One JSON object per line with a ``tokens`` list and, for labeled reads,
    a ``tags`` list of the same length (other keys, such as BasqueGLUE's
    ``idx``, are ignored)::

        {"idx": 0, "tokens": ["Mikel", "Laboa", "Donostian"], "tags": ["B-PER", "I-PER", "B-LOC"]}

    Blank lines are skipped; an object with no token is skipped and counted.
    Tags are read with the CoNLL reader's rules (:mod:`conner.prepare.conll`:
    the scheme detected or given, conlleval's chunks, repairs counted).
    Unlabeled reads never look at ``tags``.

Errors
    Anything else is a :class:`~conner.prepare.conll.ConllFormatError`
    naming the file and line: invalid JSON, a value that is not an object,
    a missing key, a token or tag that is not a non-empty string (or holds a
    lone surrogate, which no file can store), more or fewer tags than tokens,
    a malformed tag.
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

from .conll import Block, ConllFormatError, Sentence, labeled_sentences
from .reading import ReadReport, numbered_lines

PathLike = Union[str, Path]
JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def parse_object(text: str, source: str, line: int) -> Dict[str, Any]:
    """The JSON object on one line."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ConllFormatError(source, line, "the JSON value is nested too deeply") from None
    except ValueError as err:  # JSONDecodeError, or an integer too long to convert
        raise ConllFormatError(source, line, f"not valid JSON: {err}") from None
    if not isinstance(value, dict):
        kind = JSON_TYPES.get(type(value), type(value).__name__)
        raise ConllFormatError(
            source, line, f"expected a JSON object with 'tokens' and 'tags', got a {kind}"
        )
    return value


def string_list(record: Dict[str, Any], key: str, item: str, source: str, line: int) -> List[str]:
    """``record[key]``, checked to be a list of non-empty strings that UTF-8 can hold."""
    if key not in record:
        hint = " (a file without tags is read unlabeled: --unlabeled)" if key == "tags" else ""
        raise ConllFormatError(source, line, f"no {key!r} in the object{hint}")
    values = record[key]
    if not isinstance(values, list):
        kind = JSON_TYPES.get(type(values), type(values).__name__)
        raise ConllFormatError(source, line, f"{key!r} must be a list of strings, got a {kind}")
    for number, value in enumerate(values, start=1):
        if not isinstance(value, str):
            kind = JSON_TYPES.get(type(value), type(value).__name__)
            raise ConllFormatError(source, line, f"{item} {number} is not a string but a {kind}")
        if not value:
            raise ConllFormatError(source, line, f"{item} {number} is empty")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ConllFormatError(
                source, line, f"{item} {number} holds a lone surrogate ({value!r})"
            ) from None
    return values


def read_jsonl(
    path: PathLike, *, scheme: str = "auto", encoding: str = "utf-8", labeled: bool = True
) -> Tuple[List[Sentence], ReadReport]:
    """Read the sentences of a JSON lines file and a report on them."""
    source = str(path)
    report = ReadReport(source, scheme if labeled else None, format="jsonl")
    blocks = []
    for line, text in numbered_lines(path, encoding):
        if not text.strip():
            report.skipped["blank_lines"] += 1
            continue
        record = parse_object(text, source, line)
        tokens = string_list(record, "tokens", "token", source, line)
        if labeled:
            tags = string_list(record, "tags", "tag", source, line)
            if len(tags) != len(tokens):
                raise ConllFormatError(source, line, f"{len(tags)} tags for {len(tokens)} tokens")
            rows = [[token, tag] for token, tag in zip(tokens, tags)]
        else:
            rows = [[token] for token in tokens]
        if not rows:
            report.skipped["empty_sentences"] += 1
            continue
        blocks.append(Block(rows, [line] * len(rows)))
    if labeled:
        sentences = labeled_sentences(blocks, report, source, scheme)
    else:
        sentences = [Sentence([row[0] for row in b.rows], None, b.lines[0]) for b in blocks]
    report.sentences = len(sentences)
    report.tokens = sum(len(s.words) for s in sentences)
    return sentences, report
