"""Import the ConNER release's unlabeled target text and its translation.

Reads one ``En2XX`` folder of the release: ``unlabel.txt`` (target-language
sentences, ``token<TAB>span-id<TAB>tag``) and ``trans.txt`` (their Google
translation into English, same layout and span ids). Writes one DocBin that
holds, for each kept pair, the target Doc followed by its translation Doc,
with the same ``conjugate_id`` and the roles ``target`` and ``translation``
(see ``conner.extensions``): the layout ``conner.ConjugatePairs.v1`` reads
and ``translate.py`` writes. A DocBin does not store the language, so the
Docs take the vocab they are loaded with. Pair ids are the folder name and
the sentence's 0-based block number in both files, e.g. ``En2De-17``.

Span ids: 0 is outside any span; a span is a maximal run of tokens with the
same non-zero id, and its id is the ``span_key``. The release numbers the
target's entities one by one, so adjacent spans have different ids and runs
split wherever the id changes. A few ids occur in more than one run of a
sentence (mostly a translation that repeats an entity); a key must name one
span per Doc, so such ids are dropped from the pair. Only spans whose id is
found on both sides are kept; pairs left with no common span are dropped.

Only the first two columns are read: the last column holds the *gold* target
labels, which must never reach training, so ``doc.ents`` stays unset.

    python scripts/import_conner_release.py assets/conner/En2De \
        corpus/pairs_de.spacy --lang de --report reports/import_de.json
"""
from collections import Counter
from itertools import zip_longest
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import spacy
import srsly
import typer
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab
from wasabi import msg

from conner.conll import Block, ConllFormatError, iter_blocks
from conner.extensions import set_conjugate_spans
from conner.languages import require_language
from conner.outputs import atomic_output, refuse_overwriting_inputs

TARGET_FILE = "unlabel.txt"
TRANSLATION_FILE = "trans.txt"
# (span_key, start, end), end exclusive: the layout set_conjugate_spans takes.
Run = Tuple[int, int, int]
COUNTS = (
    "pairs_read",
    "pairs_kept",
    "pairs_dropped",
    "pairs_dropped_without_spans",
    "pairs_dropped_without_common_span",
    "pairs_with_differing_span_sets",
    "spans_kept",
    "spans_dropped",
    "spans_dropped_unmatched",
    "spans_dropped_repeated",
    "keys_repeated",
    "docstart_only_blocks",
)


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
    """The distinct keys of some runs."""
    return {key for key, _, _ in runs}


def repeated_keys(runs: Sequence[Run]) -> Set[int]:
    """Keys that name more than one run."""
    counts = Counter(key for key, _, _ in runs)
    return {key for key, count in counts.items() if count > 1}


def common_keys(target_runs: Sequence[Run], translation_runs: Sequence[Run]) -> Set[int]:
    """Keys with exactly one run on each side."""
    ambiguous = repeated_keys(target_runs) | repeated_keys(translation_runs)
    return (keys_of(target_runs) & keys_of(translation_runs)) - ambiguous


def count_pair(
    counts: Counter, target_runs: List[Run], translation_runs: List[Run], keep: Set[int]
) -> None:
    """Add one pair's kept and dropped spans to ``counts``."""
    ambiguous = repeated_keys(target_runs) | repeated_keys(translation_runs)
    counts["pairs_read"] += 1
    counts["pairs_with_differing_span_sets"] += keys_of(target_runs) != keys_of(translation_runs)
    counts["keys_repeated"] += len(ambiguous)
    counts["spans_kept"] += len(keep)
    for key, _, _ in list(target_runs) + list(translation_runs):
        if key in ambiguous:
            counts["spans_dropped_repeated"] += 1
        elif key not in keep:
            counts["spans_dropped_unmatched"] += 1
    if not keep:
        counts["pairs_dropped"] += 1
        if target_runs or translation_runs:
            counts["pairs_dropped_without_common_span"] += 1
        else:
            counts["pairs_dropped_without_spans"] += 1
    else:
        counts["pairs_kept"] += 1


def make_doc(
    vocab: Vocab, words: List[str], pair_id: str, role: str, runs: List[Run], keep: Set[int]
) -> Doc:
    """A Doc with the kept runs as conjugate spans and no entities."""
    # Tokens are joined by single spaces, as conner.conll builds its Docs.
    doc = Doc(vocab, words=words, spaces=[True] * (len(words) - 1) + [False])
    set_conjugate_spans(doc, pair_id, role, [list(run) for run in runs if run[0] in keep])
    return doc


def paired_blocks(target_path: Path, translation_path: Path) -> Iterator[Tuple[int, Block, Block]]:
    """Yield (index, target block, translation block), checking the files align."""
    target_blocks = iter_blocks(target_path)
    translation_blocks = iter_blocks(translation_path)
    for index, (target, translation) in enumerate(zip_longest(target_blocks, translation_blocks)):
        if target is None or translation is None:
            raise ValueError(
                f"{target_path} and {translation_path} differ in their number of sentences "
                f"(one ends after {index})"
            )
        yield index, target, translation


def import_release(
    target_path: Path,
    translation_path: Path,
    target_vocab: Vocab,
    translation_vocab: Vocab,
    pair_prefix: str = "",
) -> Tuple[List[Tuple[Doc, Doc]], Dict[str, int]]:
    """Read both files into (target, translation) Docs; count what was kept and dropped."""
    pairs = []
    # Zero counts are reported too, so every report has the same keys.
    counts: Counter = Counter(dict.fromkeys(COUNTS, 0))
    for index, target, translation in paired_blocks(target_path, translation_path):
        if not target.rows and not translation.rows:
            # A block of document markers only: not a sentence on either side.
            counts["docstart_only_blocks"] += 1
            continue
        target_words, target_ids = read_span_ids(target, str(target_path))
        translation_words, translation_ids = read_span_ids(translation, str(translation_path))
        target_runs, translation_runs = span_runs(target_ids), span_runs(translation_ids)
        keep = common_keys(target_runs, translation_runs)
        count_pair(counts, target_runs, translation_runs, keep)
        if not keep:
            continue
        pair_id = f"{pair_prefix}{index}"
        target_doc = make_doc(target_vocab, target_words, pair_id, "target", target_runs, keep)
        translation_doc = make_doc(
            translation_vocab, translation_words, pair_id, "translation", translation_runs, keep
        )
        pairs.append((target_doc, translation_doc))
    counts["spans_dropped"] = counts["spans_dropped_repeated"] + counts["spans_dropped_unmatched"]
    return pairs, dict(sorted(counts.items()))


def write_pairs(pairs: Sequence[Tuple[Doc, Doc]], output_path: Path) -> None:
    """Write each target Doc, then its translation, with their user data."""
    doc_bin = DocBin(store_user_data=True)
    for target_doc, translation_doc in pairs:
        doc_bin.add(target_doc)
        doc_bin.add(translation_doc)
    with atomic_output(output_path) as temporary:
        doc_bin.to_disk(temporary)


def main(
    release_dir: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="An En2XX folder of the release"
    ),
    output_path: Path = typer.Argument(..., dir_okay=False, help="Output .spacy of the pairs"),
    lang: str = typer.Option(..., "--lang", help="Language code of the target, e.g. de"),
    translation_lang: str = typer.Option("en", "--translation-lang", help="Translation language"),
    pair_prefix: Optional[str] = typer.Option(
        None, "--pair-prefix", help="Prefix of pair ids (default: the folder name and '-')"
    ),
    report_path: Optional[Path] = typer.Option(None, "--report", dir_okay=False, help="JSON report"),
):
    prefix = f"{release_dir.name}-" if pair_prefix is None else pair_prefix
    try:
        require_language(lang)
        require_language(translation_lang)
        refuse_overwriting_inputs(
            [output_path, report_path], [release_dir / TARGET_FILE, release_dir / TRANSLATION_FILE]
        )
        pairs, counts = import_release(
            release_dir / TARGET_FILE,
            release_dir / TRANSLATION_FILE,
            spacy.blank(lang).vocab,
            spacy.blank(translation_lang).vocab,
            prefix,
        )
    except ValueError as err:
        msg.fail(str(err), exits=1)
    if pairs:
        write_pairs(pairs, output_path)
    report = {
        "release_dir": str(release_dir),
        "output": str(output_path),
        "lang": lang,
        "translation_lang": translation_lang,
        **counts,
    }
    # Written before printing, so a closed stdout pipe cannot lose it.
    if report_path is not None:
        with atomic_output(report_path) as temporary:
            srsly.write_json(temporary, report)
    if not pairs:
        msg.fail(
            f"0 of {counts['pairs_read']} pairs kept ({counts['pairs_dropped_without_spans']} without "
            f"spans, {counts['pairs_dropped_without_common_span']} without a common span); "
            f"nothing written to {output_path}",
            exits=1,
        )
    msg.good(f"Wrote {counts['pairs_kept']} of {counts['pairs_read']} pairs")
    print(srsly.json_dumps(report, indent=2))


if __name__ == "__main__":
    typer.run(main)
