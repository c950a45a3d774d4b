"""Import the ConNER release's unlabeled target text and its translation.

Reads one ``En2XX`` folder of the release: ``unlabel.txt`` (target-language
sentences, ``token<TAB>span-id<TAB>tag``) and ``trans.txt`` (their Google
translation into English, same layout and span ids). Writes one DocBin that
holds, for each kept pair, the target Doc followed by its translation Doc,
with the same ``conjugate_id`` and the roles ``target`` and ``translation``
(see ``conner.consistency.extensions``): the layout ``conner.consistency.pairs.write_pairs`` writes
(for ``conner translate`` too) and ``conner.ConjugatePairs.v1`` reads. A DocBin does not store the language, so the
Docs take the vocab they are loaded with. Pair ids are the folder name and
the sentence's 0-based block number in both files, e.g. ``En2De-17``.

Span ids: 0 is outside any span; a span is a maximal run of tokens with the
same non-zero id, and its id is the ``span_key``. The release numbers the
target's entities one by one, so adjacent spans have different ids and runs
split wherever the id changes. A few ids occur in more than one run of a
sentence (mostly a translation that repeats an entity); a key must name one
span per Doc, so such ids are dropped from the pair and counted, the policy
of every reader of the release (``conner.prepare.release``). Only spans whose id is
found on both sides are kept; pairs left with no common span are dropped.

Only the first two columns are read: the last column holds the *gold* target
labels, which must never reach training, so ``doc.ents`` stays unset.

    conner import-release assets/conner/En2De \
        -o corpus/pairs_de.spacy --lang de --report reports/import_de.json
"""

from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import spacy
import srsly
import typer
from spacy.tokens import Doc
from spacy.vocab import Vocab
from wasabi import msg

from ..consistency.extensions import set_conjugate_spans
from ..consistency.pairs import write_pairs
from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..prepare.conll import doc_from_words
from ..prepare.languages import require_language
from ..prepare.release import (
    ReleasePair,
    Run,
    keys_of,
    read_release_pairs,
    release_files,
    without_repeated_keys,
)
from .app import app
from .options import LANG_HELP, TRANSLATION_LANG_HELP, output_option

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


def common_keys(target_runs: Sequence[Run], translation_runs: Sequence[Run]) -> Set[int]:
    """Keys with exactly one run on each side."""
    target_kept, translation_kept = without_repeated_keys(target_runs, translation_runs)
    return keys_of(target_kept) & keys_of(translation_kept)


def count_pair(counts: Counter, pair: ReleasePair, keep: Set[int]) -> None:
    """Add one pair's kept and dropped spans to ``counts``."""
    target_runs, translation_runs = pair.target.runs, pair.translation.runs
    counts["pairs_read"] += 1
    counts["pairs_with_differing_span_sets"] += keys_of(target_runs) != keys_of(translation_runs)
    counts["keys_repeated"] += len(pair.repeated_keys)
    counts["spans_dropped_repeated"] += pair.repeated_runs
    counts["spans_kept"] += len(keep)
    for runs in pair.kept_runs():
        counts["spans_dropped_unmatched"] += sum(key not in keep for key, _, _ in runs)
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
    doc = doc_from_words(vocab, words)
    set_conjugate_spans(doc, pair_id, role, [list(run) for run in runs if run[0] in keep])
    return doc


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
    for pair in read_release_pairs(target_path, translation_path):
        if pair.is_empty:
            # A block of document markers only: not a sentence on either side.
            counts["docstart_only_blocks"] += 1
            continue
        target, translation = pair.target, pair.translation
        keep = common_keys(target.runs, translation.runs)
        count_pair(counts, pair, keep)
        if not keep:
            continue
        pair_id = f"{pair_prefix}{pair.index}"
        target_doc = make_doc(target_vocab, target.words, pair_id, "target", target.runs, keep)
        translation_doc = make_doc(
            translation_vocab, translation.words, pair_id, "translation", translation.runs, keep
        )
        pairs.append((target_doc, translation_doc))
    counts["spans_dropped"] = counts["spans_dropped_repeated"] + counts["spans_dropped_unmatched"]
    return pairs, dict(sorted(counts.items()))


@app.command("import-release")
def import_release_cli(
    release_dir: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="An En2XX folder of the release"
    ),
    output_path: Path = output_option("Output .spacy of the pairs", dir_okay=False),
    lang: str = typer.Option(..., "--lang", help=LANG_HELP),
    translation_lang: str = typer.Option("en", "--translation-lang", help=TRANSLATION_LANG_HELP),
    pair_prefix: Optional[str] = typer.Option(
        None, "--pair-prefix", help="Prefix of pair ids (default: the folder name and '-')"
    ),
    report_path: Optional[Path] = typer.Option(
        None, "--report", dir_okay=False, help="JSON report"
    ),
):
    """Import one En2XX folder of the ConNER release as conjugate pairs."""
    prefix = f"{release_dir.name}-" if pair_prefix is None else pair_prefix
    try:
        require_language(lang)
        require_language(translation_lang)
        target_path, translation_path = release_files(release_dir)
        refuse_overwriting_inputs([output_path, report_path], [target_path, translation_path])
        pairs, counts = import_release(
            target_path,
            translation_path,
            spacy.blank(lang).vocab,
            spacy.blank(translation_lang).vocab,
            prefix,
        )
    except ValueError as err:
        msg.fail(str(err), exits=1)
    write_pairs(pairs, output_path)  # writes nothing when no pair was kept
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
