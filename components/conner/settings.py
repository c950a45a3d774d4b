"""The settings of the conner component: each choice's type and each default, written once.

A choice is a ``Literal`` type, as spaCy types its parser's ``state_type``.
The factory and the registered functions annotate their arguments with
these types, so spaCy's config validation (``nlp.add_pipe``, ``spacy.load``,
resolving a training config) refuses any other value with a message that
names the setting and its allowed values, before anything is built. The
defaults below are the factory's default config and the defaults of every
function that takes the same setting.

Code called from Python without a config (the pure-torch CRF and losses)
guards its choices with :func:`check_choice`, which reads the same types.
"""

from typing import Dict, Literal, Tuple, Union, get_args

# How two distributions P (unlabeled side or first dropout pass) and Q
# (translation or second pass) are compared: the paper's Table 5.
Divergence = Literal["bi", "kl_unlabeled", "kl_translation"]
# The token distributions the consistency terms compare: the softmax of the
# emission scores (the paper) or exact CRF marginals.
TokenDistribution = Literal["softmax", "crf"]
# Where the CRF forbids illegal BIOES moves: likelihood and decoding
# ("constrained") or decoding only ("learned", the reference code).
Transitions = Literal["constrained", "learned"]
# Which sentences get dropout twins: the labeled ones (the paper) or the
# unlabeled target side of the conjugate pairs (Table 4).
DropoutOn = Literal["labeled", "unlabeled"]
# The outcomes a span distribution of translation consistency ranges over:
# all of Algorithm 1's, "illegal" included (the paper), or the "legal" ones
# (the entity types and O), renormalised. Over the legal outcomes the
# softmax's per-token normalisers cancel: what is compared is how the
# emission scores rank the span's whole-span labelings, which the CRF reads,
# and not the mass the softmax puts on moves the CRF forbids.
SpanOutcomes = Literal["all", "legal"]

CHOICES: Dict[str, object] = {
    "divergence": Divergence,
    "token_distribution": TokenDistribution,
    "transitions": Transitions,
    "dropout_on": DropoutOn,
    "span_outcomes": SpanOutcomes,
}

NLL_WEIGHT = 1.0
# The paper's weights of L_drop and L_trans; 0 and 0 is vanilla training.
ALPHA = 0.5
BETA = 0.5
DIVERGENCE: Divergence = "bi"
DROPOUT_ON: DropoutOn = "labeled"
TOKEN_DISTRIBUTION: TokenDistribution = "softmax"
TRANSITIONS: Transitions = "constrained"
SPAN_OUTCOMES: SpanOutcomes = "all"
DETACH_REFERENCE = False

# The factory's settings and their defaults, in the order a config lists them.
DEFAULTS: Dict[str, Union[float, str, bool]] = {
    "nll_weight": NLL_WEIGHT,
    "alpha": ALPHA,
    "beta": BETA,
    "divergence": DIVERGENCE,
    "dropout_on": DROPOUT_ON,
    "token_distribution": TOKEN_DISTRIBUTION,
    "transitions": TRANSITIONS,
    "detach_reference": DETACH_REFERENCE,
    "span_outcomes": SPAN_OUTCOMES,
}


def choices(setting: str) -> Tuple[str, ...]:
    """The values ``setting`` allows, e.g. ``("softmax", "crf")`` for ``token_distribution``."""
    return get_args(CHOICES[setting])


def check_choice(setting: str, value: str) -> None:
    """Refuse a value that ``setting``'s type does not allow.

    Config validation already refuses these; this is the cheap guard of code
    that Python callers reach without a config.
    """
    allowed = choices(setting)
    if value not in allowed:
        raise ValueError(f"{setting} must be one of {allowed}, got {value!r}")
