"""Every input format of ``conner convert`` behind one call, and label maps.

Formats (``--format``), one reader module each:

* ``conll`` - CoNLL columns, a file or a zip member (:mod:`.conll`);
* ``jsonl`` - JSON lines of ``tokens`` and ``tags``, as BasqueGLUE (:mod:`.jsonl`);
* ``iob2`` - UniversalNER's comment-and-columns files (:mod:`.uner`);
* ``text`` - plain text, one sentence per line, unlabeled only (:mod:`.text`);
* ``paragraphs`` - plain text, one paragraph per line, split into sentences
  by spaCy's ``sentencizer``, unlabeled only (:mod:`.text`).

Every format but ``conll`` also takes a folder: its files (hidden ones
aside) are read in name order as one input. Errors name the file and line
(:class:`~conner.prepare.conll.ConllFormatError`, a ``ValueError``); an
input that cannot be read at all is a ``ValueError`` naming it.

Label maps
    Entity labels can be renamed after reading (``--label-map FROM=TO``),
    e.g. to the English model's PER/LOC/ORG/MISC. UniversalNER's OTH
    ("other") is mapped to MISC by default (:data:`DEFAULT_LABEL_MAPS`):
    both hold the names that are neither persons, places nor organisations
    (nationalities, events, works). A map given on the command line replaces
    the default one; ``OTH=OTH`` keeps the label.
"""

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from .conll import ConllReport, Sentence, read_conll, source_name
from .jsonl import read_jsonl
from .reading import ReadReport
from .text import read_text
from .uner import read_uner

FORMATS = ("conll", "jsonl", "iob2", "text", "paragraphs")
TEXT_FORMATS = ("text", "paragraphs")
DEFAULT_LABEL_MAPS: Dict[str, Dict[str, str]] = {"iob2": {"OTH": "MISC"}}
PathLike = Union[str, Path]


def input_files(path: Path) -> List[Path]:
    """``path`` itself, or the files of a folder (not hidden ones) in name order."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(f"{path}: a folder without files to read")
    return files


def read_file(
    path: Path, input_format: str, lang: str, scheme: str, encoding: str, labeled: bool
) -> Tuple[List[Sentence], ReadReport]:
    """One file of a jsonl, iob2, text or paragraphs input."""
    if input_format in TEXT_FORMATS:
        return read_text(
            path, lang, encoding=encoding, split_sentences=input_format == "paragraphs"
        )
    reader = read_jsonl if input_format == "jsonl" else read_uner
    return reader(path, scheme=scheme, encoding=encoding, labeled=labeled)


def read_sentences(
    path: PathLike,
    input_format: str = "conll",
    *,
    member: Optional[str] = None,
    lang: str = "xx",
    scheme: str = "auto",
    encoding: str = "utf-8",
    labeled: bool = True,
) -> Tuple[List[Sentence], ConllReport]:
    """Read the sentences of a file (or folder) in ``input_format``, and a report.

    ``lang`` is the language whose tokenizer splits plain text. Labeled reads
    of plain text are refused: text holds no tags, and Docs without
    entities would teach that every word is outside an entity.
    """
    path = Path(path)
    if input_format not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {input_format!r}")
    if input_format in TEXT_FORMATS and labeled:
        raise ValueError(f"{path}: plain text holds no tags; convert it with --unlabeled")
    if input_format == "conll":
        if path.is_dir():
            raise ValueError(f"{path} is a folder: --format conll reads one file (or a zip member)")
        return read_conll(path, member, scheme=scheme, encoding=encoding, labeled=labeled)
    if member is not None:
        raise ValueError(
            f"--member reads a file inside a zip archive: --format conll only, not {input_format}"
        )
    files = input_files(path)
    sentences, report = read_file(files[0], input_format, lang, scheme, encoding, labeled)
    for file_ in files[1:]:
        more, file_report = read_file(file_, input_format, lang, scheme, encoding, labeled)
        if None not in (report.scheme, file_report.scheme) and report.scheme != file_report.scheme:
            raise ValueError(
                f"{file_}: its tags read as {file_report.scheme}, those of {files[0]} as "
                f"{report.scheme}; pass --scheme"
            )
        report.scheme = report.scheme or file_report.scheme
        sentences += more
        report.add(file_report)
    if len(files) > 1 or files[0] != path:
        report.source = str(path)
        report.files = [str(f) for f in files]
    return sentences, report


def no_sentence_error(path: PathLike, member: Optional[str], report: ConllReport) -> ValueError:
    """The error for an input without a sentence: nothing is written."""
    if isinstance(report, ReadReport):
        skipped = ", ".join(
            f"{count} {kind.replace('_', ' ')}" for kind, count in sorted(report.skipped.items())
        )
        return ValueError(
            f"{path}: no sentence to convert ({skipped or 'the input is empty'}); nothing written"
        )
    return ValueError(
        f"{source_name(path, member)}: no sentence to convert (the file is empty or "
        f"holds only {report.docstarts_dropped} -DOCSTART- line(s)); nothing written"
    )


def is_label(text: str) -> bool:
    """A label of a map: printable, without spaces or "="."""
    return bool(text) and text.isprintable() and " " not in text and "=" not in text


def parse_label_map(items: Iterable[str]) -> Dict[str, str]:
    """``["OTH=MISC"]`` -> ``{"OTH": "MISC"}``; each label once, no whitespace."""
    label_map: Dict[str, str] = {}
    for item in items:
        source, sep, target = item.partition("=")
        if not (sep and is_label(source) and is_label(target)):
            raise ValueError(
                f"--label-map expects FROM=TO with two labels without spaces, got {item!r}"
            )
        if source in label_map:
            raise ValueError(f"--label-map maps {source!r} twice")
        label_map[source] = target
    return label_map


def label_map_for(input_format: str, items: Sequence[str]) -> Dict[str, str]:
    """The label map given on the command line, else the format's default."""
    return parse_label_map(items) if items else dict(DEFAULT_LABEL_MAPS.get(input_format, {}))


def relabel(
    sentences: Sequence[Sentence], label_map: Dict[str, str]
) -> Tuple[List[Sentence], Counter]:
    """Copies of labeled ``sentences`` with their labels mapped, and how many
    entities of each label were renamed (the input is left as it is)."""
    renamed: Counter = Counter()
    if not label_map:
        return list(sentences), renamed
    mapped = []
    for sentence in sentences:
        spans = sentence.spans
        if spans is not None:
            renamed.update(label for _, _, label in spans if label_map.get(label, label) != label)
            spans = [(start, end, label_map.get(label, label)) for start, end, label in spans]
        mapped.append(dataclasses.replace(sentence, spans=spans))
    return mapped, renamed
