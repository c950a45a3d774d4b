"""Read plain text: one sentence per line (convert.py ``--format text``), or
one paragraph per line, split into sentences (``--format paragraphs``).

With ``text`` each line that holds more than whitespace is one sentence,
tokenized by the tokenizer of ``spacy.blank(lang)``, so the words are the
ones spaCy's language-specific rules give (Catalan "L'Ajuntament" is two
tokens). Runs of whitespace (tabs, several spaces, U+00A0, U+2028, ...)
become one space first, so no token is whitespace; the Doc keeps the
tokenizer's spacing ("ahir." is not "ahir ."). With ``paragraphs`` spaCy's
rule-based ``sentencizer`` splits each line at sentence-final punctuation,
so that a conjugate pair is a sentence as in the paper (a paragraph of 140
words makes a CPU training step about 2.5 times slower). Blank lines are
skipped and counted. Text holds no tags: it is always read unlabeled. Bytes
that are not valid in the encoding are a
:class:`~conner.prepare.conll.ConllFormatError` naming the file and line.
"""

from functools import lru_cache
from pathlib import Path
from typing import List, Tuple, Union

import spacy
from spacy.language import Language
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


@lru_cache(maxsize=8)
def sentence_splitter_for(lang: str) -> Language:
    """``spacy.blank(lang)`` with a ``sentencizer``, built once per language."""
    require_language(lang)
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def read_text(
    path: PathLike, lang: str, *, encoding: str = "utf-8", split_sentences: bool = False
) -> Tuple[List[Sentence], ReadReport]:
    """Read the lines of a text file as tokenized, unlabeled sentences.

    split_sentences (bool): a line is a paragraph; each of its sentences
        becomes one Sentence (all with the line's number).
    """
    split = sentence_splitter_for(lang) if split_sentences else tokenizer_for(lang)
    report = ReadReport(str(path), None, format="paragraphs" if split_sentences else "text")
    sentences = []
    for line, content in numbered_lines(path, encoding):
        normalized = " ".join(content.split())
        if not normalized:
            report.skipped["blank_lines"] += 1
            continue
        doc = split(normalized)
        for part in doc.sents if split_sentences else [doc[:]]:
            spaces = [bool(t.whitespace_) for t in part]
            spaces[-1] = False  # the space before the line's next sentence is not this one's
            sentences.append(Sentence([t.text for t in part], None, line, spaces))
    report.sentences = len(sentences)
    report.tokens = sum(len(s.words) for s in sentences)
    return sentences, report
