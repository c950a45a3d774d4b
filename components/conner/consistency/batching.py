"""The batcher that puts a ConNER training step's documents into one batch.

spaCy's training loop shuffles the labeled examples and then batches them,
and a TransformerListener only accepts the exact batch its transformer
encoded. So every document the consistency losses need -- the dropout twin
of each labeled sentence and the unlabeled/translation pairs -- must be in
the batch *before* the transformer sees it. This batcher adds them after
spaCy's shuffle, which gives one transformer pass per step over all of them.

The batcher adds only what a non-zero weight needs (no twins and no pairs
for vanilla training), so it takes ``alpha``, ``beta`` and ``dropout_on``
as the component does. It marks every doc of a batch with the values it
used, and the component refuses a batch built for other values than its
own (:func:`check_batch_settings`): a config that sets them on one side
only fails at the first update instead of training with mismatched terms.
"""

import itertools
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from spacy.training import Example
from spacy.util import registry

from ..settings import ALPHA, BETA, DROPOUT_ON, DropoutOn
from .extensions import (
    BATCH_SETTINGS_KEY,
    CONJUGATE_ID,
    CONJUGATE_ROLE,
    CONJUGATE_SPANS,
    DROPOUT_TWIN,
)
from .pairs import Pair, PairStream, unannotated_example

Batcher = Callable[[Iterable[Example]], Iterator[List[Example]]]
BatchSettings = Tuple[float, float, str]  # alpha, beta, dropout_on


@registry.batchers("conner.ConsistencyBatcher.v1")
def configure_consistency_batcher(
    labeled: Batcher,
    pairs: Optional[PairStream] = None,
    pairs_per_batch: int = 16,
    alpha: float = ALPHA,
    beta: float = BETA,
    dropout_on: DropoutOn = DROPOUT_ON,
) -> Batcher:
    """Batch labeled examples and add what the consistency losses need.

    labeled (Batcher): batches the labeled examples (e.g. 16 sentences).
    pairs (Optional[PairStream]): conjugate pairs, e.g. conner.ConjugatePairs.v1.
    pairs_per_batch (int): pairs added to each batch (the paper: 16 per 16).
    alpha (float): the dropout-consistency weight; 0 adds no twins. Must
        equal the component's.
    beta (float): the translation-consistency weight; 0 adds no pairs. Must
        equal the component's.
    dropout_on (DropoutOn): "labeled" twins the labeled sentences,
        "unlabeled" the unlabeled side of the pairs. Must equal the component's.
    """
    for name, value in (("alpha", alpha), ("beta", beta)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    # One stream for the whole run: it cycles across epochs.
    stream: Dict[str, Optional[Iterator[Pair]]] = {"pairs": None}
    settings: BatchSettings = (alpha, beta, dropout_on)

    def batcher(items: Iterable[Example]) -> Iterator[List[Example]]:
        for batch in labeled(items):
            batch = list(batch)
            targets: List[Example] = []
            translations: List[Example] = []
            if (
                pairs is not None
                and (beta > 0 or (alpha > 0 and dropout_on == "unlabeled"))
                and batch
            ):
                pair_stream = stream["pairs"]
                if pair_stream is None:
                    pair_stream = stream["pairs"] = pairs(batch[0].predicted.vocab)
                for target, translation in itertools.islice(pair_stream, pairs_per_batch):
                    targets.append(target)
                    translations.append(translation)
            if beta == 0:  # the translations only serve translation consistency
                translations = []
            twins = []
            if alpha > 0:
                twins = add_twins(batch if dropout_on == "labeled" else targets)
            out = batch + targets + translations + twins
            for example in out:
                example.predicted.user_data[BATCH_SETTINGS_KEY] = settings
            yield out

    return batcher


def check_batch_settings(
    examples: Iterable[Example],
    alpha: float,
    beta: float,
    dropout_on: str,
    component: str = "conner",
) -> None:
    """Refuse a batch that conner.ConsistencyBatcher.v1 built for other
    consistency settings than the component's ``alpha``, ``beta`` and
    ``dropout_on``: it would lack what a term needs (twins, pairs) or carry
    what no term reads. A batch from another batcher is not checked."""
    settings = next(
        (
            eg.predicted.user_data[BATCH_SETTINGS_KEY]
            for eg in examples
            if BATCH_SETTINGS_KEY in eg.predicted.user_data
        ),
        None,
    )
    if settings is None:
        return
    ours = {"alpha": alpha, "beta": beta, "dropout_on": dropout_on}
    theirs = dict(zip(ours, settings))
    differ = [name for name in ours if theirs[name] != ours[name]]
    if differ:
        values = "; ".join(
            f"{name} is {ours[name]!r} in [components.{component}] but {theirs[name]!r} in the batcher"
            for name in differ
        )
        raise ValueError(
            f"[components.{component}] and conner.ConsistencyBatcher.v1 disagree: {values}. The batcher adds "
            "dropout twins and conjugate pairs for the terms the component weighs, so alpha, beta and "
            "dropout_on must be the same in both (configs/conner.cfg sets them once, in [consistency])."
        )


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
