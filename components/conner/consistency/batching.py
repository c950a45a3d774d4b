"""The batcher that puts a ConNER training step's documents into one batch.

spaCy's training loop shuffles the labeled examples and then batches them,
and a TransformerListener only accepts the exact batch its transformer
encoded. So every document the consistency losses need -- the dropout twin
of each labeled sentence and the unlabeled/translation pairs -- must be in
the batch *before* the transformer sees it. This batcher adds them after
spaCy's shuffle, which gives one transformer pass per step over all of them.
"""
import itertools
from typing import Callable, Iterable, Iterator, List, Optional

from spacy.training import Example
from spacy.util import registry

from .extensions import CONJUGATE_ID, CONJUGATE_ROLE, CONJUGATE_SPANS, DROPOUT_ON, DROPOUT_TWIN
from .pairs import PairStream, unannotated_example

Batcher = Callable[[Iterable[Example]], Iterator[List[Example]]]


@registry.batchers("conner.ConsistencyBatcher.v1")
def configure_consistency_batcher(
    labeled: Batcher,
    pairs: Optional[PairStream] = None,
    pairs_per_batch: int = 16,
    alpha: float = 0.5,
    beta: float = 0.5,
    dropout_on: str = "labeled",
) -> Batcher:
    """Batch labeled examples and add what the consistency losses need.

    labeled (Batcher): batches the labeled examples (e.g. 16 sentences).
    pairs (Optional[PairStream]): conjugate pairs, e.g. conner.ConjugatePairs.v1.
    pairs_per_batch (int): pairs added to each batch (the paper: 16 per 16).
    alpha (float): the dropout-consistency weight; 0 adds no twins.
    beta (float): the translation-consistency weight; 0 adds no pairs.
    dropout_on (str): "labeled" twins the labeled sentences, "unlabeled" the
        unlabeled side of the pairs.
    """
    if dropout_on not in DROPOUT_ON:
        raise ValueError(f"dropout_on must be one of {DROPOUT_ON}, got {dropout_on!r}")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    stream = {"pairs": None}  # one stream for the whole run: it cycles across epochs

    def batcher(items: Iterable[Example]) -> Iterator[List[Example]]:
        for batch in labeled(items):
            batch = list(batch)
            targets: List[Example] = []
            translations: List[Example] = []
            if pairs is not None and (beta > 0 or (alpha > 0 and dropout_on == "unlabeled")) and batch:
                if stream["pairs"] is None:
                    stream["pairs"] = pairs(batch[0].predicted.vocab)
                for target, translation in itertools.islice(stream["pairs"], pairs_per_batch):
                    targets.append(target)
                    translations.append(translation)
            if beta == 0:  # the translations only serve translation consistency
                translations = []
            twins = []
            if alpha > 0:
                twins = add_twins(batch if dropout_on == "labeled" else targets)
            yield batch + targets + translations + twins

    return batcher


def add_twins(examples: List[Example]) -> List[Example]:
    """A copy of each example's doc, keyed to it for dropout consistency."""
    twins = []
    for key, example in enumerate(examples):
        twin = example.predicted.copy()
        # The copy must not look like a second side of a conjugate pair.
        for name in (CONJUGATE_ID, CONJUGATE_ROLE, CONJUGATE_SPANS):
            twin._.set(name, None)
        example.predicted._.set(DROPOUT_TWIN, key)
        twin._.set(DROPOUT_TWIN, key)
        twins.append(unannotated_example(twin))
    return twins
