"""Conjugate pairs (unlabeled sentence + its translation) on disk and in training.

On disk, pairs are one DocBin (``store_user_data=True``): each target Doc
followed by its translation, both with the same ``conjugate_id`` and the
roles "target" and "translation" (``conner.extensions``).
:func:`write_pairs` writes that layout and :func:`load_pairs` reads it.
"""
import random
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab

from .extensions import CONJUGATE_ID, CONJUGATE_ROLE, get_conjugate_spans
from .outputs import atomic_output

Pair = Tuple[Example, Example]
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


def load_pairs(path: Path, vocab: Vocab) -> List[Tuple[Doc, Doc]]:
    """(target, translation) Docs of ``path`` (a file or a directory of files)
    that share at least one span key. Pair ids are scoped to their file, so
    files made independently can be pooled."""
    sides: Dict[Tuple[Path, str], Dict[str, Doc]] = {}
    for file in pair_files(path):
        for doc in DocBin(store_user_data=True).from_disk(file).get_docs(vocab):
            pair_id, role = doc._.get(CONJUGATE_ID), doc._.get(CONJUGATE_ROLE)
            if pair_id is None or role is None:
                raise ValueError(f"{file}: a doc without conjugate_id/conjugate_role: {doc.text[:60]!r}")
            sides.setdefault((file, pair_id), {})[role] = doc
    pairs = []
    for pair_id, docs in sides.items():
        if "target" in docs and "translation" in docs:
            keys = set(get_conjugate_spans(docs["target"])) & set(get_conjugate_spans(docs["translation"]))
            if keys:
                pairs.append((docs["target"], docs["translation"]))
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
