"""The ``conner.ConnerTagger.v1`` architecture: word vectors -> emission scores (+ CRF).

The model's forward pass maps Docs to one ``(n_tokens, n_tags)`` array of
emission scores per Doc. The CRF over those scores is a separate layer
(ref ``"crf"``), because its size depends on the labels, which are only
known when the component is initialized (or loaded from disk).
"""

from typing import List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, with_array
from thinc.types import Floats2d

from ..settings import TRANSITIONS, Transitions
from .crf import build_crf
from .tags import TagSet


@registry.architectures("conner.ConnerTagger.v1")
def build_conner_tagger(
    tok2vec: Model[List[Doc], List[Floats2d]], nO: Optional[int] = None
) -> Model[List[Doc], List[Floats2d]]:
    """Build the ConNER tagger.

    tok2vec (Model[List[Doc], List[Floats2d]]): one vector per token, usually a
        TransformerListener pooling the first sub-word of each word.
    nO (Optional[int]): number of BIOES tags; inferred from the labels if None.
    """
    emission_scorer: Model[List[Floats2d], List[Floats2d]] = with_array(Linear(nO=nO))
    return Model(
        "conner_tagger",
        forward,
        layers=[tok2vec, emission_scorer],
        refs={"tok2vec": tok2vec, "emission_scorer": emission_scorer},
        dims={"nO": nO},
        init=init,
    )


def forward(model: Model, docs: List[Doc], is_train: bool):
    tok2vec = model.get_ref("tok2vec")
    scorer = model.get_ref("emission_scorer")
    vectors, backprop_tok2vec = tok2vec(docs, is_train)
    emissions, backprop_scorer = scorer(vectors, is_train)

    def backprop(d_emissions: List[Floats2d]) -> List[Doc]:
        return backprop_tok2vec(backprop_scorer(d_emissions))

    return emissions, backprop


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    if model.has_dim("nO"):
        model.get_ref("emission_scorer").layers[0].set_dim("nO", model.get_dim("nO"))
    tok2vec = model.get_ref("tok2vec")
    tok2vec.initialize(X=X)
    vectors = tok2vec.predict(X) if X else None
    model.get_ref("emission_scorer").initialize(X=vectors)


def attach_crf(model: Model, tagset: TagSet, transitions: Transitions = TRANSITIONS) -> None:
    """Give ``model`` a CRF over ``tagset`` (once; sizes must then agree).

    transitions (Transitions): "constrained" (illegal BIOES moves forbidden in the
        likelihood too) or "learned" (free in training, legal in decoding).
    """
    if model.has_ref("crf"):
        if model.get_dim("nO") != tagset.n_tags:
            raise ValueError(
                f"The CRF has {model.get_dim('nO')} tags but the labels need {tagset.n_tags}"
            )
        return
    if model.has_dim("nO") and model.get_dim("nO") not in (None, tagset.n_tags):
        raise ValueError(f"nO={model.get_dim('nO')} does not fit {tagset.n_tags} BIOES tags")
    model.set_dim("nO", tagset.n_tags, force=True)
    crf = build_crf(tagset, transitions)
    model.layers.append(crf)
    model.set_ref("crf", crf)
