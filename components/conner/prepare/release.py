"""Read the ConNER release's span-id columns: ``unlabel.txt`` and ``trans.txt``.

An ``En2XX`` folder of the paper's released data holds the unlabeled
target-language sentences (``unlabel.txt``) and their Google translation
(``trans.txt``), one ``token<TAB>span-id<TAB>tag`` line per token and a
blank line after each sentence (read by :func:`conner.prepare.conll.iter_blocks`,
so document markers are dropped and every malformed line is an error naming
its file and line). Block ``i`` of one file is the translation of block
``i`` of the other.

Span ids
    0 is outside any span; a span is a maximal run of tokens with the same
    non-zero id, so adjacent spans with different ids stay apart. The last
    column holds the *gold* target labels and is never read.

Repeated span ids
    A few ids name more than one run of a sentence (mostly a translation
    that repeats an entity). An id names one span per side, so such an id
    is dropped from the pair, on both sides, and counted
    (:attr:`ReleasePair.repeated_keys`, :attr:`ReleasePair.repeated_runs`).
    This is the one policy of every reader of the release: the importer of
    conjugate pairs and the ``stored`` translation engine.
"""

from collections import Counter
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Iterator, List, Sequence, Set, Tuple, Union

from .conll import Block, ConllFormatError, iter_blocks

TARGET_FILE = "unlabel.txt"
TRANSLATION_FILE = "trans.txt"
# (span_key, start, end), end exclusive: the layout set_conjugate_spans takes.
Run = Tuple[int, int, int]
PathLike = Union[str, Path]


@dataclass
class ReleaseSentence:
    """The words of one side of a pair and every maximal run of a span id."""

    words: List[str]
    runs: List[Run]

    def span_text(self, run: Run) -> str:
        """The words of a run, joined by single spaces."""
        _, start, end = run
        return " ".join(self.words[start:end])


@dataclass
class ReleasePair:
    """Block ``index`` (0-based, marker-only blocks included) of both files."""

    index: int
    target: ReleaseSentence
    translation: ReleaseSentence

    @property
    def is_empty(self) -> bool:
        """Neither side holds a token: both blocks held document markers only."""
        return not self.target.words and not self.translation.words

    @property
    def repeated_keys(self) -> Set[int]:
        """Span ids dropped from the pair: they name several runs on one side."""
        return repeated_in_pair(self.target.runs, self.translation.runs)

    @property
    def repeated_runs(self) -> int:
        """How many runs, on both sides, the repeated span ids drop."""
        repeated = self.repeated_keys
        runs = self.target.runs + self.translation.runs
        return sum(key in repeated for key, _, _ in runs)

    def kept_runs(self) -> Tuple[List[Run], List[Run]]:
        """Target and translation runs without the repeated span ids."""
        return without_repeated_keys(self.target.runs, self.translation.runs)


def release_files(folder: PathLike) -> Tuple[Path, Path]:
    """The target and translation files of an ``En2XX`` folder, which must exist."""
    folder = Path(folder)
    paths = (folder / TARGET_FILE, folder / TRANSLATION_FILE)
    for path in paths:
        if not path.is_file():
            raise ValueError(
                f"{path} not found: a ConNER release folder holds {TARGET_FILE} and {TRANSLATION_FILE}"
            )
    return paths


def read_span_ids(block: Block, source: str) -> Tuple[List[str], List[int]]:
    """Words and span ids of a block; the tag column is never looked at."""
    words, ids = [], []
    for row, line in zip(block.rows, block.lines):
        if len(row) < 2 or not (row[1].isascii() and row[1].isdigit()):
            raise ConllFormatError(source, line, f"expected token<TAB>span-id<TAB>..., got {row!r}")
        words.append(row[0])
        ids.append(int(row[1]))
    return words, ids


def span_runs(ids: Sequence[int]) -> List[Run]:
    """Maximal runs of the same non-zero span id."""
    runs = []
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[start]:
            if ids[start] != 0:
                runs.append((ids[start], start, i))
            start = i
    return runs


def keys_of(runs: Sequence[Run]) -> Set[int]:
    """The distinct span ids of some runs."""
    return {key for key, _, _ in runs}


def repeated_keys(runs: Sequence[Run]) -> Set[int]:
    """Span ids that name more than one run."""
    counts = Counter(key for key, _, _ in runs)
    return {key for key, count in counts.items() if count > 1}


def repeated_in_pair(target_runs: Sequence[Run], translation_runs: Sequence[Run]) -> Set[int]:
    """Span ids that name more than one run on either side of a pair."""
    return repeated_keys(target_runs) | repeated_keys(translation_runs)


def without_repeated_keys(
    target_runs: Sequence[Run], translation_runs: Sequence[Run]
) -> Tuple[List[Run], List[Run]]:
    """Both sides' runs without the span ids that name several runs on either side.

    A span id must name one span per side; which of its runs is meant cannot
    be known, so all of them go (the one policy for repeated ids).
    """
    repeated = repeated_in_pair(target_runs, translation_runs)
    return (
        [run for run in target_runs if run[0] not in repeated],
        [run for run in translation_runs if run[0] not in repeated],
    )


def read_sentence(block: Block, source: str) -> ReleaseSentence:
    """One block of a release file as words and span-id runs."""
    words, ids = read_span_ids(block, source)
    return ReleaseSentence(words, span_runs(ids))


def paired_blocks(target_path: Path, translation_path: Path) -> Iterator[Tuple[int, Block, Block]]:
    """Yield (index, target block, translation block), checking the files align."""
    target_blocks = iter_blocks(target_path)
    translation_blocks = iter_blocks(translation_path)
    for index, (target, translation) in enumerate(zip_longest(target_blocks, translation_blocks)):
        if target is None:
            raise unpaired_error(translation_path, translation, target_path, index)
        if translation is None:
            raise unpaired_error(target_path, target, translation_path, index)
        yield index, target, translation


def unpaired_error(path: Path, block: Block, other: Path, index: int) -> ValueError:
    """The error for block ``index`` of ``path``, which ``other`` lacks."""
    message = f"the files differ in their number of sentences: {other} ends after {index} sentences"
    if not block.lines:
        # A block of document markers only has no token line to point at.
        return ValueError(f"{path}: {message}")
    return ConllFormatError(str(path), block.lines[0], message)


def read_release_pairs(target_path: PathLike, translation_path: PathLike) -> Iterator[ReleasePair]:
    """Yield every block pair of the two files, marker-only ones included (``is_empty``)."""
    target_path, translation_path = Path(target_path), Path(translation_path)
    for index, target, translation in paired_blocks(target_path, translation_path):
        yield ReleasePair(
            index,
            read_sentence(target, str(target_path)),
            read_sentence(translation, str(translation_path)),
        )
