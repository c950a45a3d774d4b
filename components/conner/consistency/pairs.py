"""Conjugate pairs (unlabeled sentence + its translation) on disk and in training.

On disk, pairs are one DocBin (``store_user_data=True``): each target Doc
followed by its translation, both with the same ``conjugate_id`` and the
roles "target" and "translation" (``conner.consistency.extensions``).
:func:`write_pairs` writes that layout and :func:`load_pairs` reads it.

Pairs are validated where they are read (:func:`read_pair_file`): each pair
id has exactly one target and one translation Doc, and each Doc's spans are
``[key, start, end]`` with distinct keys, inside the Doc, non-empty and
disjoint (:func:`span_problem`). A violation is a :class:`PairError` that
names the file and the pair id: training (``conner.ConjugatePairs.v1``),
the span diagnostics and ``conner collect-pairs`` stop there, since
the pairs that ``write_pairs`` writes never break these rules and training
on a silently shrunk set would change the results. A well-formed pair whose
two sides share no span key gives no consistency term: it is dropped and
counted in a warning.
"""

import random
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab

from ..files.docbins import read_docs
from ..files.outputs import atomic_output
from .extensions import CONJUGATE_ID, CONJUGATE_ROLE, CONJUGATE_SPANS, ROLES, get_conjugate_spans

Pair = Tuple[Example, Example]
DocPair = Tuple[Doc, Doc]
PairStream = Callable[[Vocab], Iterator[Pair]]


@registry.readers("conner.ConjugatePairs.v1")
def create_conjugate_pairs_reader(
    path: Optional[Path], seed: int = 0, shuffle: bool = True
) -> PairStream:
    """Stream (target, translation) Examples from a DocBin of conjugate pairs.

    path (Optional[Path]): a DocBin holding both sides of each pair (roles
        "target" and "translation", linked by ``doc._.conjugate_id``), or a
        directory of such DocBins, pooled (e.g. one file per target
        language). None gives an empty stream (vanilla training).
    seed (int): shuffling seed; each pass over the file is reshuffled.
    shuffle (bool): shuffle the pairs.
    RETURNS (Callable[[Vocab], Iterator[Pair]]): an endless stream, cycled
        for as long as training asks for pairs.
    """

    def stream(vocab: Vocab) -> Iterator[Pair]:
        if path is None:
            return
        pairs = load_pairs(Path(path), vocab)
        if not pairs:
            raise ValueError(f"{path} holds no complete conjugate pair")
        rng = random.Random(seed)
        while True:
            order = list(range(len(pairs)))
            if shuffle:
                rng.shuffle(order)
            for i in order:
                target, translation = pairs[i]
                # Fresh Docs per draw: a batch may hold a pair twice (more pairs
                # per batch than pairs, or a pass boundary), and the batcher
                # marks each drawn Doc (dropout twins) on its own.
                yield unannotated_example(target.copy()), unannotated_example(translation.copy())

    return stream


def pair_files(path: Path) -> List[Path]:
    """``path`` itself, or the ``.spacy`` files under a directory, sorted."""
    if not path.exists():
        raise FileNotFoundError(f"conjugate pairs not found: {path}")
    if path.is_dir():
        files = sorted(path.rglob("*.spacy"))
        if not files:
            raise ValueError(f"{path} is a directory without .spacy files")
        return files
    return [path]


class PairError(ValueError):
    """A pair file, or a pair in it, that breaks the layout; names the file and pair id."""


def span_problem(spans: Any, n_tokens: int, disjoint: bool = True) -> Optional[str]:
    """What is wrong with a Doc's conjugate spans, or None if nothing is.

    spans: the Doc's ``conjugate_spans``, ``[[key, start, end], ...]``.
    n_tokens: the Doc's length.
    disjoint: whether overlapping spans are a problem.
    """
    if spans is None:
        return None
    if not isinstance(spans, (list, tuple)):
        return f"conjugate_spans is a {type(spans).__name__}, not a list"
    keys = set()
    for span in spans:
        if not (
            isinstance(span, (list, tuple))
            and len(span) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) for v in span)
        ):
            shown = list(span) if isinstance(span, tuple) else span  # msgpack reads lists as tuples
            return f"{shown!r} is not [key, start, end]"
        key, start, end = span
        if key in keys:
            return f"span key {key} is used twice"
        keys.add(key)
        if start >= end:
            return f"span {key} [{start}, {end}) is empty or inverted"
        if start < 0 or end > n_tokens:
            return f"span {key} [{start}, {end}) lies outside its {n_tokens} tokens"
    if disjoint:
        ordered = sorted(spans, key=lambda span: (span[1], span[2]))
        for (key_a, start_a, end_a), (key_b, start_b, end_b) in zip(ordered, ordered[1:]):
            if start_b < end_a:
                return (
                    f"spans {key_a} [{start_a}, {end_a}) and {key_b} [{start_b}, {end_b}) overlap"
                )
    return None


def read_pair_file(file: Path, vocab: Vocab) -> Tuple[List[DocPair], int]:
    """The (target, translation) Docs of one pair DocBin, in file order, and
    the number of well-formed pairs dropped because their sides share no
    span key. Raises :class:`PairError` (a ValueError) naming the file and
    pair id at the first broken pair, or if the file holds no pair at all."""
    sides: Dict[Union[str, int], Dict[str, Doc]] = {}
    for index, doc in enumerate(read_docs(file, vocab)):
        pair_id, role = doc._.get(CONJUGATE_ID), doc._.get(CONJUGATE_ROLE)
        if pair_id is None or role is None:
            raise PairError(
                f"{file}: doc {index} has no conjugate_id or conjugate_role: not a DocBin of conjugate "
                f"pairs (translate.py and import_conner_release.py write them): {doc.text[:60]!r}"
            )
        if not isinstance(pair_id, (str, int)) or isinstance(pair_id, bool):
            raise PairError(
                f"{file}: doc {index}: conjugate_id must be a string or an integer, got {pair_id!r}"
            )
        where = f"{file}: pair {pair_id!r}"
        if role not in ROLES:
            raise PairError(
                f"{where}: unknown conjugate_role {role!r} (expected {' or '.join(ROLES)})"
            )
        if role in sides.setdefault(pair_id, {}):
            raise PairError(f"{where}: has two {role} Docs (pair ids must be unique in a file)")
        problem = span_problem(doc._.get(CONJUGATE_SPANS), len(doc))
        if problem is not None:
            raise PairError(f"{where}: {role}: {problem}")
        sides[pair_id][role] = doc
    if not sides:
        raise PairError(f"{file}: holds no conjugate pair")
    pairs: List[DocPair] = []
    unshared = 0
    for pair_id, docs in sides.items():
        missing = [role for role in ROLES if role not in docs]
        if missing:
            (present,) = docs
            raise PairError(
                f"{file}: pair {pair_id!r} has a {present} Doc but no {missing[0]} Doc "
                "(the two sides of a pair share its conjugate_id)"
            )
        target, translation = docs["target"], docs["translation"]
        if set(get_conjugate_spans(target)) & set(get_conjugate_spans(translation)):
            pairs.append((target, translation))
        else:
            unshared += 1
    return pairs, unshared


def load_pairs(path: Path, vocab: Vocab) -> List[DocPair]:
    """(target, translation) Docs of ``path`` (a file or a directory of files),
    validated by :func:`read_pair_file`: a broken pair raises
    :class:`PairError`; pairs whose sides share no span key are dropped with
    a warning that counts them. Pair ids are scoped to their file, so files
    made independently can be pooled."""
    pairs: List[DocPair] = []
    for file in pair_files(Path(path)):
        kept, unshared = read_pair_file(file, vocab)
        if unshared:
            warnings.warn(
                f"{file}: {unshared} of {len(kept) + unshared} pairs share no span key between "
                "their target and translation; dropped",
                stacklevel=2,
            )
        pairs.extend(kept)
    return pairs


def check_pair(target: Doc, translation: Doc) -> None:
    """Raise unless two Docs are the target and translation sides of one pair."""
    roles = (target._.get(CONJUGATE_ROLE), translation._.get(CONJUGATE_ROLE))
    if roles != ("target", "translation"):
        raise ValueError(f"expected a (target, translation) pair of Docs, got roles {roles}")
    ids = (target._.get(CONJUGATE_ID), translation._.get(CONJUGATE_ID))
    if ids[0] is None or ids[0] != ids[1]:
        raise ValueError(f"the two sides of a pair must share a conjugate_id, got {ids}")


def write_pairs(pairs: Iterable[Tuple[Doc, Doc]], path: Path) -> int:
    """Write (target, translation) Doc pairs to ``path``, in the layout ``load_pairs`` reads.

    pairs (Iterable[Tuple[Doc, Doc]]): read once, so a generator streams.
    path (Path): the DocBin to write; it appears only once complete.
    RETURNS (int): the number of pairs written. With none, nothing is written:
        a file without a pair would only fail later, in training.
    """
    doc_bin = DocBin(store_user_data=True)
    count = 0
    for target, translation in pairs:
        check_pair(target, translation)
        doc_bin.add(target)
        doc_bin.add(translation)
        count += 1
    if count:
        with atomic_output(path) as temporary:
            doc_bin.to_disk(temporary)
    return count


def bare_copy(doc: Doc, vocab: Optional[Vocab] = None) -> Doc:
    """A Doc of the same words and whitespace and nothing else: no entities,
    no other annotation, no user data (conjugate spans included).

    vocab (Optional[Vocab]): the copy's vocab; by default ``doc.vocab``.
    """
    words = [token.text for token in doc]
    spaces = [bool(token.whitespace_) for token in doc]
    return Doc(vocab if vocab is not None else doc.vocab, words=words, spaces=spaces)


def unannotated_example(doc: Doc) -> Example:
    """An Example whose reference has no entity annotation (adds no NLL)."""
    return Example(doc, bare_copy(doc))
