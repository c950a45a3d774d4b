"""Read plain text, one sentence or paragraph per line (convert.py ``--format text``).

Each line that holds more than whitespace is one sentence, tokenized by the
tokenizer of ``spacy.blank(lang)``, so the words are the ones spaCy's
language-specific rules give (Catalan "L'Ajuntament" is two tokens). Runs
of whitespace (tabs, several spaces, U+00A0, U+2028, ...) become one space
first, so no token is whitespace; the Doc keeps the tokenizer's spacing
("ahir." is not "ahir ."). Blank lines are skipped and counted. Text holds
no tags: it is always read unlabeled. Bytes that are not valid in the
encoding are a :class:`~conner.prepare.conll.ConllFormatError` naming the
file and line.
"""

from functools import lru_cache
from pathlib import Path
from typing import List, Tuple, Union

import spacy
from spacy.tokenizer import Tokenizer

from .conll import Sentence
from .languages import require_language
from .reading import ReadReport, numbered_lines

PathLike = Union[str, Path]


@lru_cache(maxsize=8)
def tokenizer_for(lang: str) -> Tokenizer:
    """The tokenizer of ``spacy.blank(lang)``, built once per language (a folder reads many files)."""
    require_language(lang)
    return spacy.blank(lang).tokenizer


def read_text(
    path: PathLike, lang: str, *, encoding: str = "utf-8"
) -> Tuple[List[Sentence], ReadReport]:
    """Read the lines of a text file as tokenized, unlabeled sentences."""
    tokenizer = tokenizer_for(lang)
    report = ReadReport(str(path), None, format="text")
    sentences = []
    for line, content in numbered_lines(path, encoding):
        normalized = " ".join(content.split())
        if not normalized:
            report.skipped["blank_lines"] += 1
            continue
        doc = tokenizer(normalized)
        sentences.append(
            Sentence([t.text for t in doc], None, line, [bool(t.whitespace_) for t in doc])
        )
    report.sentences = len(sentences)
    report.tokens = sum(len(s.words) for s in sentences)
    return sentences, report
