"""Translations looked up in files instead of computed.

This keeps translations made elsewhere usable, in particular the ConNER
release's Google translations (``data/En2XX/unlabel.txt`` + ``trans.txt``).
Sources are matched after collapsing whitespace. Accepted files:

- ``*.tsv``: ``source<TAB>translation`` per line;
- ``*.jsonl``: ``{"source": ..., "translation": ...}`` per line;
- a folder holding ``unlabel.txt`` and ``trans.txt`` (the release format,
  read by ``conner.prepare.release``). It is read into what the placeholder
  pipeline will ask for: each target sentence with its spans masked as
  ``SPAN0``, ``SPAN1`` ... (numbered by position) -> the translation with
  the same span ids masked the same way, and each span text -> its
  translation. A span id that names several runs of a sentence is dropped
  from that pair, its words left unmasked, as the importer of the release
  drops it (``ReleaseStats.keys_repeated`` and ``spans_dropped_repeated``
  count them; ``StoredEngine.release_stats`` holds each folder's stats). A
  span text the release translated differently in different sentences maps
  to its most frequent translation (``ReleaseStats.ambiguous_occurrences``
  counts the occurrences that get another one than in the release: about
  4 % of the En2Es span occurrences). A span the release lost in every
  sentence maps to "" (its span is dropped, as in the release).

A source that is not in the files raises ``MissingTranslationError`` by
default (``on_missing="error"``); with ``on_missing="empty"`` it translates
to "" and is counted in ``stats["missing"]``, and the pipeline then drops
that sentence or span like any lost translation.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Set, Tuple, Union

from ..release import Run, keys_of, read_release_pairs, release_files
from .engines import BaseEngine, TranslationError
from .placeholders import make_placeholder

PathLike = Union[str, Path]


class MissingTranslationError(TranslationError):
    """A source text has no stored translation."""


def normalize(text: str) -> str:
    return " ".join(text.split())


@dataclass
class ReleaseStats:
    """What a release folder held; repeated span ids are dropped, as the importer drops them."""

    sentences: int = 0
    spans: int = 0
    span_texts: int = 0
    ambiguous_span_texts: int = 0
    ambiguous_occurrences: int = 0
    lost_spans: int = 0
    keys_repeated: int = 0
    spans_dropped_repeated: int = 0


def masked_text(words: Sequence[str], runs: Sequence[Run], placeholders: Dict[int, str]) -> str:
    """``words`` joined by spaces, each run whose span id has a placeholder replaced by it."""
    masked = list(words)
    # From the end, so that earlier offsets stay valid.
    for key, start, end in sorted(runs, key=lambda run: run[1], reverse=True):
        if key in placeholders:
            masked[start:end] = [placeholders[key]]
    return " ".join(masked)


def read_release(folder: PathLike) -> Tuple[Dict[str, str], ReleaseStats]:
    """The source -> translation mapping held by a ConNER release folder."""
    mapping: Dict[str, str] = {}
    span_votes: Dict[str, Counter] = defaultdict(Counter)
    lost_texts: Set[str] = set()
    stats = ReleaseStats()
    for pair in read_release_pairs(*release_files(folder)):
        if pair.is_empty:
            continue  # document markers only
        stats.sentences += 1
        stats.keys_repeated += len(pair.repeated_keys)
        stats.spans_dropped_repeated += pair.repeated_runs
        # The release's target sentence is this engine's source.
        source, translation = pair.target, pair.translation
        source_runs, translation_runs = pair.kept_runs()
        placeholders = {key: make_placeholder(i) for i, (key, _, _) in enumerate(source_runs)}
        source_text = masked_text(source.words, source_runs, placeholders)
        mapping[normalize(source_text)] = masked_text(
            translation.words, translation_runs, placeholders
        )
        stats.spans += len(source_runs)
        span_texts = {run[0]: source.span_text(run) for run in source_runs}
        for run in translation_runs:
            if run[0] in span_texts:
                span_votes[span_texts[run[0]]][translation.span_text(run)] += 1
        lost = set(span_texts) - keys_of(translation_runs)
        stats.lost_spans += len(lost)
        lost_texts.update(span_texts[key] for key in lost)
    for span, votes in span_votes.items():
        ((best, count),) = votes.most_common(1)
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
                raise ValueError(
                    f"{path}: stored translations must be .tsv, .jsonl or a release folder"
                )
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
        # What each release folder held (repeated span ids dropped and counted).
        self.release_stats: Dict[str, ReleaseStats] = {}
        for path in paths:
            if Path(path).is_dir():
                mapping, self.release_stats[str(path)] = read_release(path)
            else:
                mapping = read_pairs(path)
            self.mapping.update(mapping)
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
