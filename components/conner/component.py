"""The ``conner`` pipeline component: a CRF entity tagger on shared word vectors."""

from pathlib import Path
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy
import srsly
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, set_dropout_rate
from thinc.types import Floats2d

from .consistency.batching import check_batch_settings
from .consistency.groups import find_consistency_groups
from .consistency.layer import build_consistency_loss
from .files.saved_files import DamagedFileError, load_model_file, read_json_object
from .settings import (
    ALPHA,
    BETA,
    DEFAULTS,
    DETACH_REFERENCE,
    DIVERGENCE,
    DROPOUT_ON,
    NLL_WEIGHT,
    SPAN_OUTCOMES,
    TOKEN_DISTRIBUTION,
    TRANSITIONS,
    Divergence,
    DropoutOn,
    SpanOutcomes,
    TokenDistribution,
    Transitions,
)
from .tagger.crf import pad_emissions
from .tagger.model import attach_crf
from .tagger.pieceless import blank_tokens, outside_tags, piece_counts
from .tagger.tags import OUTSIDE, TagSet, preset_tags, spans_from_tags


def fixed_tags(doc: Doc) -> List[Optional[str]]:
    """The tag each token of ``doc`` must keep (None: free), from the
    entities and blocked tokens set before conner runs (:func:`conner.tagger.tags.preset_tags`)."""
    iob = doc.to_array("ENT_IOB")
    if not ((iob == 1) | (iob == 3)).any():  # nothing set, or only O: all free
        return [None] * len(doc)
    return preset_tags([token.ent_iob_ for token in doc], [token.ent_type_ for token in doc])


class ConsistencyWeights(NamedTuple):
    """Weights of the three training terms: NLL + alpha * L_drop + beta * L_trans."""

    nll: float = NLL_WEIGHT
    alpha: float = ALPHA
    beta: float = BETA


DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "conner.ConnerTagger.v1"
nO = null

[model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "*"

[model.tok2vec.pooling]
# Zeros for a word without a sub-word, where reduce_first.v1 raises.
@layers = "conner.first_subword.v1"
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]


@Language.factory(
    "conner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_MODEL,
        **DEFAULTS,
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    },
    default_score_weights={
        "ents_f": 1.0,
        "ents_p": 0.0,
        "ents_r": 0.0,
        "ents_per_type": None,
    },
)
def make_conner(
    nlp: Language,
    name: str,
    model: Model,
    nll_weight: float,
    alpha: float,
    beta: float,
    divergence: Divergence,
    dropout_on: DropoutOn,
    token_distribution: TokenDistribution,
    transitions: Transitions,
    detach_reference: bool,
    span_outcomes: SpanOutcomes,
    scorer: Optional[Callable],
) -> "ConnerTagger":
    """Create a ConNER entity tagger.

    model (Model[List[Doc], List[Floats2d]]): maps Docs to emission scores;
        a CRF over the BIOES tags of the labels is attached at initialization.
    nll_weight (float): weight of the CRF NLL on labeled sentences.
    alpha (float): weight of dropout consistency (L_drop); 0 turns it off.
    beta (float): weight of translation consistency (L_trans); 0 turns it off.
    divergence (Divergence): "bi", "kl_unlabeled" or "kl_translation" (paper, Table 5).
    dropout_on (DropoutOn): "labeled" or "unlabeled" sentences get dropout
        twins (added by conner.ConsistencyBatcher.v1, which must be given the
        same alpha, beta and dropout_on).
    token_distribution (TokenDistribution): "softmax" of the emissions
        (paper) or exact "crf" marginals.
    transitions (Transitions): "constrained" forbids illegal BIOES moves in the CRF
        likelihood as well as in decoding; "learned" trains free transitions
        (the reference implementation) and enforces legal BIOES only when
        decoding, so the emissions must tell B, I, E and S apart.
    detach_reference (bool): treat the reference side of each KL as a constant.
    span_outcomes (SpanOutcomes): the outcomes the span distributions of
        translation consistency range over: "all" (paper, "illegal"
        included) or the "legal" ones (entity types and O), renormalised.
    scorer (Optional[Callable]): the scoring method, spaCy's entity scorer.
    """
    return ConnerTagger(
        nlp.vocab,
        model,
        name,
        weights=ConsistencyWeights(nll_weight, alpha, beta),
        divergence=divergence,
        dropout_on=dropout_on,
        token_distribution=token_distribution,
        transitions=transitions,
        detach_reference=detach_reference,
        span_outcomes=span_outcomes,
        scorer=scorer,
    )


class ConnerTagger(TrainablePipe):
    """Tag entities with a BIOES-constrained CRF over transformer word vectors."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "conner",
        *,
        weights: ConsistencyWeights = ConsistencyWeights(),
        divergence: Divergence = DIVERGENCE,
        dropout_on: DropoutOn = DROPOUT_ON,
        token_distribution: TokenDistribution = TOKEN_DISTRIBUTION,
        transitions: Transitions = TRANSITIONS,
        detach_reference: bool = DETACH_REFERENCE,
        span_outcomes: SpanOutcomes = SPAN_OUTCOMES,
        scorer: Optional[Callable] = None,
    ) -> None:
        """Create a ConNER tagger; the settings are those of :func:`make_conner`,
        whose types spaCy's config validation checks."""
        for weight_name, value in weights._asdict().items():
            # A negative weight would maximise its term.
            if value < 0:
                name_in_config = "nll_weight" if weight_name == "nll" else weight_name
                raise ValueError(f"{name_in_config} must be >= 0, got {value}")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.weights = weights
        self.divergence = divergence
        self.dropout_on = dropout_on
        self.token_distribution = token_distribution
        self.transitions = transitions
        self.detach_reference = detach_reference
        self.span_outcomes = span_outcomes
        self.cfg: Dict = {"labels": []}
        self._consistency_loss: Optional[Model] = None

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> Tuple[str, ...]:
        return self.labels

    @property
    def tagset(self) -> TagSet:
        return TagSet.from_labels(self.labels)

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(f"Entity labels must be strings, got {label!r}")
        if label in self.labels:
            return 0
        if self.model.has_ref("crf"):
            raise ValueError("Labels can't be added after the CRF is built (initialize).")
        self.cfg["labels"] = sorted(self.labels + (label,))
        return 1

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        """Collect the labels, build the CRF and initialize the model."""
        validate_get_examples(get_examples, "ConnerTagger.initialize")
        if labels is not None:
            for label in labels:
                self.add_label(label)
        else:
            for example in get_examples():
                for ent in example.reference.ents:
                    self.add_label(ent.label_)
        if not self.labels:
            raise ValueError(
                f"[{self.name}] found no entity labels in the training data: "
                "check that the training DocBin has doc.ents set."
            )
        attach_crf(self.model, self.tagset, self.transitions)
        doc_sample = [eg.reference for _, eg in zip(range(10), get_examples())]
        self.model.initialize(X=doc_sample)

    # -- inference --------------------------------------------------------

    def predict(self, docs: Iterable[Doc]) -> List[List[int]]:
        """Viterbi tag indices for each doc (empty list for an empty doc).

        Entities set before conner runs keep their tags, blocked tokens and
        blank words (:mod:`conner.tagger.pieceless`) get ``O``; the rest of the path
        is the best legal one around them.
        """
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [[] for _ in docs]
        emissions = self.model.predict(docs)
        allowed = [
            self._allowed_tags(doc, blank) for doc, blank in zip(docs, self.blank_words(docs))
        ]
        return self._decode(emissions, allowed)

    def _allowed_tags(self, doc: Doc, blank: numpy.ndarray) -> numpy.ndarray:
        """The tags each token of ``doc`` may take, (n_tokens, n_tags) booleans."""
        fixed = fixed_tags(doc)
        # A blank word is never an entity, unless one set before conner holds it.
        fixed = [
            OUTSIDE if tag is None and is_blank else tag for tag, is_blank in zip(fixed, blank)
        ]
        return self.tagset.allowed_tags(fixed)

    def _decode(self, emissions: List[Floats2d], allowed: List[numpy.ndarray]) -> List[List[int]]:
        nonempty = [i for i, e in enumerate(emissions) if len(e)]
        paths: List[List[int]] = [[] for _ in emissions]
        if not nonempty:
            return paths
        xp = self.model.ops.xp
        padded, mask = pad_emissions([emissions[i] for i in nonempty], xp)
        inputs: tuple = (padded, mask, None)
        if not all(allowed[i].all() for i in nonempty):
            allowed_padded = numpy.ones(padded.shape, dtype=bool)
            for row, i in enumerate(nonempty):
                allowed_padded[row, : len(emissions[i])] = allowed[i]
            inputs = (padded, mask, None, xp.asarray(allowed_padded))
        decoded = self.model.ops.to_numpy(self.model.get_ref("crf").predict(inputs))
        for row, i in enumerate(nonempty):
            paths[i] = decoded[row, : len(emissions[i])].tolist()
        return paths

    def set_annotations(self, docs: Iterable[Doc], paths: List[List[int]]) -> None:
        """Set the entities of the paths on the tokens that were free; keep
        the entities and blocked tokens set before conner ran."""
        tags = self.tagset.tags
        for doc, path in zip(docs, paths):
            fixed = fixed_tags(doc)
            preset = list(doc.ents) if any(tag is not None for tag in fixed) else []
            blocked = [doc[i : i + 1] for i, tag in enumerate(fixed) if tag == OUTSIDE]
            spans = [
                Span(doc, s, e, label=label)
                for s, e, label in spans_from_tags([tags[i] for i in path])
                if all(tag is None for tag in fixed[s:e])
            ]
            doc.set_ents(preset + spans, blocked=blocked, default="outside")

    def blank_words(self, docs: Sequence[Doc]) -> List[numpy.ndarray]:
        """Per doc, the words that are never entities: one rule
        (:func:`conner.tagger.pieceless.blank_tokens`) in training and at inference."""
        return [
            blank_tokens(doc, counts) for doc, counts in zip(docs, piece_counts(self.model, docs))
        ]

    # -- training ---------------------------------------------------------

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn from a batch of examples: CRF NLL averaged over sentences."""
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "ConnerTagger.update")
        weights = self.weights
        check_batch_settings(examples, weights.alpha, weights.beta, self.dropout_on, self.name)
        docs = [eg.predicted for eg in examples]
        if not any(len(doc) for doc in docs):
            return losses
        set_dropout_rate(self.model, drop)
        # One pass over the whole batch: labeled sentences, their dropout
        # twins and the conjugate pairs all share the transformer's output.
        emissions, backprop = self.model.begin_update(docs)
        # The weight enters the CRF's backward pass, so it scales the
        # gradients of the transition scores as well as the emissions'.
        nll, d_emissions = self._nll_and_gradient(examples, emissions, weights.nll)
        total = weights.nll * nll
        if weights.alpha > 0 or weights.beta > 0:
            terms, d_consistency = self.get_consistency_loss(docs, emissions)
            for term, value in terms.items():
                losses[f"{self.name}_{term}"] = losses.get(f"{self.name}_{term}", 0.0) + value
            total += weights.alpha * terms["drop"] + weights.beta * terms["trans"]
            d_emissions = [a + b for a, b in zip(d_emissions, d_consistency)]
        losses[f"{self.name}_nll"] = losses.get(f"{self.name}_nll", 0.0) + nll
        backprop(d_emissions)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += total
        return losses

    def get_consistency_loss(
        self, docs: List[Doc], emissions: List[Floats2d]
    ) -> Tuple[Dict[str, float], List[Floats2d]]:
        """L_drop and L_trans over the batch's twins and pairs, and the
        gradient of ``alpha * L_drop + beta * L_trans`` for every doc."""
        padded, mask = pad_emissions(emissions, self.model.ops.xp)
        groups = find_consistency_groups(docs)
        (drop, trans), backprop = self.consistency_loss.begin_update((padded, mask, groups))
        d_padded = backprop((self.weights.alpha, self.weights.beta))
        d_emissions = [d_padded[i, : len(e)] for i, e in enumerate(emissions)]
        return {"drop": drop, "trans": trans}, d_emissions

    @property
    def consistency_loss(self) -> Model:
        """The Thinc layer of the consistency losses (built once the CRF exists)."""
        crf = self.model.get_ref("crf")
        settings = {
            "divergence": self.divergence,
            "token_distribution": self.token_distribution,
            "detach_reference": self.detach_reference,
            "span_outcomes": self.span_outcomes,
        }
        layer = self._consistency_loss
        if (
            layer is None
            or layer.get_ref("crf") is not crf
            or any(layer.attrs[k] != v for k, v in settings.items())
        ):
            layer = self._consistency_loss = build_consistency_loss(
                self.tagset,
                crf,
                divergence=self.divergence,
                token_distribution=self.token_distribution,
                detach_reference=self.detach_reference,
                span_outcomes=self.span_outcomes,
            )
        return layer

    def get_loss(
        self, examples: Iterable[Example], emissions: List[Floats2d]
    ) -> Tuple[float, List[Floats2d]]:
        """CRF NLL over the annotated, non-empty examples and its gradient."""
        return self._nll_and_gradient(examples, emissions, 1.0)

    def _nll_and_gradient(
        self, examples: Iterable[Example], emissions: List[Floats2d], weight: float
    ) -> Tuple[float, List[Floats2d]]:
        """The CRF NLL and the gradient of ``weight * NLL`` (emissions and,
        inside the CRF layer, its transition scores)."""
        examples = list(examples)
        xp = self.model.ops.xp
        d_emissions = [self.model.ops.alloc2f(*e.shape) for e in emissions]
        blank = self.blank_words([eg.predicted for eg in examples])
        rows = [
            i
            for i, eg in enumerate(examples)
            if len(eg.predicted) and eg.reference.has_annotation("ENT_IOB")
        ]
        if not rows:
            return 0.0, d_emissions
        padded, mask = pad_emissions([emissions[i] for i in rows], xp)
        tags = xp.zeros(mask.shape, dtype="int64")
        for row, i in enumerate(rows):
            tags[row, : len(emissions[i])] = xp.asarray(self._gold_tags(examples[i], blank[i]))
        loss, backprop = self.model.get_ref("crf").begin_update((padded, mask, tags))
        d_padded = backprop(weight)
        for row, i in enumerate(rows):
            d_emissions[i] = d_padded[row, : len(emissions[i])]
        return loss, d_emissions

    def _gold_tags(self, example: Example, blank: Optional[numpy.ndarray] = None) -> List[int]:
        """BIOES tag indices of the reference entities on the predicted tokens
        (``blank``: the predicted words that are never entities)."""
        if blank is None:
            blank = self.blank_words([example.predicted])[0]
        tagset = self.tagset
        # Tokens that don't align (None) or unknown labels count as outside.
        tags = [
            tag if tag and tag != "-" and tag[2:] in tagset.labels else "O"
            for tag in example.get_aligned_ner()
        ]
        # As at inference, blank words are outside every entity. Entities set
        # on the predicted doc are not read: training learns the gold.
        return [tagset.index(tag) for tag in outside_tags(tags, blank)]

    # -- serialization ----------------------------------------------------

    def from_disk(self, path, *, exclude=tuple()) -> "ConnerTagger":
        """Load the pipe from disk; a missing, empty, truncated or corrupt
        ``cfg`` or ``model`` raises a ``DamagedFileError`` that names it."""
        path = Path(path)
        if "cfg" not in exclude:
            cfg = read_json_object(path / "cfg")
            labels = cfg.get("labels")
            if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
                raise DamagedFileError(path / "cfg", "corrupt (no list of labels)")
            self._restore_crf(cfg)
        super().from_disk(path, exclude=[*exclude, "model"])
        if "model" not in exclude:
            load_model_file(self.model, path / "model")
        return self

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> "ConnerTagger":
        msg = srsly.msgpack_loads(bytes_data)
        if "cfg" in msg and "cfg" not in exclude:
            self._restore_crf(srsly.json_loads(msg["cfg"]))
        return super().from_bytes(bytes_data, exclude=exclude)

    def _restore_crf(self, cfg: Dict) -> None:
        # The CRF's shape depends on the labels, so it must exist before the
        # model's weights are read.
        self.cfg.update(cfg)
        if self.labels:
            attach_crf(self.model, self.tagset, self.transitions)
