"""Training-time callbacks referenced from the configs."""

from typing import Callable, cast

from spacy.language import Language
from spacy.util import registry
from spacy_transformers import Transformer
from spacy_transformers.layers.transformer_model import TransformerModel


@registry.callbacks("conner.freeze_embeddings.v1")
def create_freeze_embeddings(
    component: str = "transformer", freeze: bool = True
) -> Callable[[Language], Language]:
    """Stop training the transformer's input word embeddings.

    On a CPU most of a small multilingual encoder's update cost is its
    250k-row embedding matrix (its gradient is dense); freezing it makes a
    step ~40% cheaper and keeps the multilingual lexicon that zero-shot
    transfer relies on. Use as ``[initialize.after_init]``.
    """

    def freeze_embeddings(nlp: Language) -> Language:
        if freeze:
            # get_pipe is typed as a plain callable; this pipe's model is a TransformerModel.
            pipe = cast(Transformer, nlp.get_pipe(component))
            transformer = cast(TransformerModel, pipe.model).transformer
            transformer.get_input_embeddings().weight.requires_grad_(False)
        return nlp

    return freeze_embeddings
