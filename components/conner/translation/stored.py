"""Translations looked up in files instead of computed.

This keeps translations made elsewhere usable, in particular the ConNER
release's Google translations (``data/En2XX/unlabel.txt`` + ``trans.txt``).
Sources are matched after collapsing whitespace. Accepted files:

- ``*.tsv``: ``source<TAB>translation`` per line;
- ``*.jsonl``: ``{"source": ..., "translation": ...}`` per line;
- a folder holding ``unlabel.txt`` and ``trans.txt`` (the release format,
  ``token<TAB>span-id<TAB>tag``, blank line between sentences). It is read
  into what the placeholder pipeline will ask for: each target sentence
  with its spans masked as ``SPAN0``, ``SPAN1`` ... (numbered by position)
  -> the translation with the same span ids masked the same way, and each
  span text -> its translation. The tags column is ignored. A span text the
  release translated differently in different sentences maps to its most
  frequent translation (``ReleaseStats.ambiguous_occurrences`` counts the
  occurrences that get another one than in the release: about 4 % of the
  En2Es span occurrences). A span the release lost in every sentence maps
  to "" (its span is dropped, as in the release).

A source that is not in the files raises ``MissingTranslationError`` by
default (``on_missing="error"``); with ``on_missing="empty"`` it translates
to "" and is counted in ``stats["missing"]``, and the pipeline then drops
that sentence or span like any lost translation.
"""
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Sequence, Set, Tuple, Union

from .engines import BaseEngine, TranslationError
from .placeholders import make_placeholder

PathLike = Union[str, Path]


class MissingTranslationError(TranslationError):
    """A source text has no stored translation."""


def normalize(text: str) -> str:
    return " ".join(text.split())


@dataclass
class ReleaseStats:
    sentences: int = 0
    spans: int = 0
    span_texts: int = 0
    ambiguous_span_texts: int = 0
    ambiguous_occurrences: int = 0
    lost_spans: int = 0


def _read_columns(path: Path) -> Iterator[List[Tuple[str, str]]]:
    """(token, span id) lists, one per blank-line separated sentence."""
    sentence: List[Tuple[str, str]] = []
    with path.open(encoding="utf-8") as file:
        for line in file:
            line = line.rstrip("\n")
            if not line.strip():
                if sentence:
                    yield sentence
                sentence = []
                continue
            columns = line.split("\t")
            sentence.append((columns[0], columns[1]))
    if sentence:
        yield sentence


def _runs(sentence: Sequence[Tuple[str, str]]) -> List[Tuple[str, List[str]]]:
    """Maximal runs of tokens sharing a non-zero span id: (id, tokens)."""
    runs: List[Tuple[str, List[str]]] = []
    previous = "0"
    for token, span_id in sentence:
        if span_id != "0" and span_id == previous:
            runs[-1][1].append(token)
        elif span_id != "0":
            runs.append((span_id, [token]))
        previous = span_id
    return runs


def _masked(sentence: Sequence[Tuple[str, str]], placeholders: Dict[str, str]) -> str:
    words: List[str] = []
    previous = "0"
    for token, span_id in sentence:
        if span_id == "0" or span_id not in placeholders:
            words.append(token)
        elif span_id != previous:
            words.append(placeholders[span_id])
        previous = span_id
    return " ".join(words)


def read_release(folder: PathLike) -> Tuple[Dict[str, str], ReleaseStats]:
    """The source -> translation mapping held by a ConNER release folder."""
    folder = Path(folder)
    sources = list(_read_columns(folder / "unlabel.txt"))
    targets = list(_read_columns(folder / "trans.txt"))
    if len(sources) != len(targets):
        raise ValueError(
            f"{folder}: unlabel.txt has {len(sources)} sentences, trans.txt {len(targets)}"
        )
    mapping: Dict[str, str] = {}
    span_votes: Dict[str, Counter] = defaultdict(Counter)
    lost_texts: Set[str] = set()
    stats = ReleaseStats(sentences=len(sources))
    for source, target in zip(sources, targets):
        source_runs = _runs(source)
        placeholders = {span_id: make_placeholder(i) for i, (span_id, _) in enumerate(source_runs)}
        mapping[normalize(_masked(source, placeholders))] = _masked(target, placeholders)
        stats.spans += len(source_runs)
        source_text = {span_id: " ".join(tokens) for span_id, tokens in source_runs}
        target_runs = _runs(target)
        for span_id, tokens in target_runs:
            if span_id in source_text:
                span_votes[source_text[span_id]][" ".join(tokens)] += 1
        lost = set(source_text) - {span_id for span_id, _ in target_runs}
        stats.lost_spans += len(lost)
        lost_texts.update(source_text[span_id] for span_id in lost)
    for span, votes in span_votes.items():
        (best, count), = votes.most_common(1)
        mapping.setdefault(normalize(span), best)
        if len(votes) > 1:
            stats.ambiguous_span_texts += 1
            stats.ambiguous_occurrences += sum(votes.values()) - count
    # The pipeline asks for every span's translation before it knows which
    # placeholders survived; a span the release lost everywhere maps to ""
    # (known lost, so its span is dropped) rather than being "missing".
    for span in lost_texts - set(span_votes):
        mapping.setdefault(normalize(span), "")
    stats.span_texts = len(span_votes)
    return mapping, stats


def read_pairs(path: PathLike) -> Dict[str, str]:
    """A source -> translation mapping from a .tsv or .jsonl file or a release folder."""
    path = Path(path)
    if path.is_dir():
        return read_release(path)[0]
    mapping: Dict[str, str] = {}
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            if path.suffix == ".jsonl":
                record = json.loads(line)
                source, translation = record["source"], record["translation"]
            elif path.suffix == ".tsv":
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 2:
                    raise ValueError(f"{path}:{number}: expected source<TAB>translation")
                source, translation = parts
            else:
                raise ValueError(f"{path}: stored translations must be .tsv, .jsonl or a release folder")
            mapping[normalize(source)] = translation
    return mapping


class StoredEngine(BaseEngine):
    """Look translations up in files (see the module docstring for formats).

    paths: one path, a list, or a comma-separated string of paths.
    on_missing: "error" (raise) or "empty" (return "" and count).
    """

    name = "stored"

    def __init__(
        self,
        src_lang: str,
        tgt_lang: str,
        paths: Union[PathLike, Sequence[PathLike]] = (),
        on_missing: str = "error",
    ) -> None:
        if isinstance(paths, (str, Path)):
            paths = [p for p in str(paths).split(",") if p]
        if not paths:
            raise ValueError("The stored engine needs at least one path (paths=...)")
        if on_missing not in ("error", "empty"):
            raise ValueError(f"on_missing must be 'error' or 'empty', got {on_missing!r}")
        super().__init__(src_lang, tgt_lang, model="stored:" + ",".join(str(p) for p in paths))
        self.mapping: Dict[str, str] = {}
        for path in paths:
            self.mapping.update(read_pairs(path))
        self.on_missing = on_missing

    def _translate(self, lines: List[str]) -> List[str]:
        keys = [normalize(line) for line in lines]
        missing = [line for line, key in zip(lines, keys) if key not in self.mapping]
        if missing and self.on_missing == "error":
            raise MissingTranslationError(
                f"{len(missing)} of {len(lines)} texts have no stored translation, "
                f"e.g. {missing[0]!r}; pass on_missing='empty' to drop them instead."
            )
        self.stats["missing"] += len(missing)
        return [self.mapping.get(key, "") for key in keys]
