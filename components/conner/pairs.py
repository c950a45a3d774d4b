"""Streams of conjugate pairs (unlabeled sentence + its translation) for training."""
import random
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab

from .extensions import CONJUGATE_ID, CONJUGATE_ROLE, get_conjugate_spans

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
                yield unannotated_example(target), unannotated_example(translation)

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


def unannotated_example(doc: Doc) -> Example:
    """An Example whose reference has no entity annotation (adds no NLL)."""
    return Example(doc, Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc]))
