"""Transformer windows that never exceed the encoder's sub-word limit.

spacy-transformers cuts its windows (``get_spans``, e.g. ``strided_spans.v1``:
128 words) into the encoder's input, and ``truncate_oversize_splits`` drops
every sub-word past ``tokenizer.model_max_length``: the words after the cut
align to nothing and get zero vectors, silently (one long base64 string or
URL is enough). A span getter cannot prevent that on its own: it receives
only the Docs, never the tokenizer (spaCy#6692).

``conner.TransformerModel.v1`` is ``spacy-transformers.TransformerModel.v3``
whose span getter is wrapped by :class:`SubwordLimitedSpans`: the windows of
the configured getter are kept as they are unless their sub-words exceed the
limit, in which case they are split, with the model's own tokenizer, into
the fewest consecutive windows that fit. On ordinary text nothing changes.
A single word longer than the limit is a window of its own: it keeps its
first pieces (enough for first-sub-word pooling) and no other word loses
its vector. The tokenizer's warning that such a text "will result in
indexing errors" is therefore false inside the model's forward pass, which
runs without it (:func:`without_length_warning`).
"""

import functools
from contextlib import contextmanager
from typing import Callable, Iterator, List, Sequence

from spacy.tokens import Doc, Span
from spacy.util import registry
from spacy_transformers.layers.transformer_model import TransformerModel

from .adapter import forward_function, set_forward_function
from .lean_load import LeanTransformerModel, make_lean
from .length_batching import sort_encoder_batches

SpanGetter = Callable[[List[Doc]], List[List[Span]]]
# The key under which a transformers tokenizer records that it has warned
# about a text longer than ``model_max_length`` (it warns once).
LENGTH_WARNING = "sequence-length-is-longer-than-the-specified-maximum"


class SubwordLimitedSpans:
    """``get_spans`` whose windows fit ``model.tokenizer.model_max_length``."""

    def __init__(self, get_spans: SpanGetter, model: TransformerModel) -> None:
        self.get_spans = get_spans
        self.model = model

    def __call__(self, docs: List[Doc]) -> List[List[Span]]:
        nested = self.get_spans(docs)
        tokenizer = self.model.tokenizer
        if tokenizer is None:  # not initialized: the model cannot run yet either
            return nested
        fitted = iter(fit_spans([span for spans in nested for span in spans], tokenizer))
        return [[piece for _ in spans for piece in next(fitted)] for spans in nested]


def piece_counts(tokenizer, texts: Sequence[str], special: bool) -> List[int]:
    """Number of sub-words of each text (with the special tokens if ``special``)."""
    if not texts:
        return []
    # verbose=False: counting a too-long text is why we are here, no warning.
    encoded = tokenizer(list(texts), add_special_tokens=special, verbose=False)
    return [len(ids) for ids in encoded["input_ids"]]


def fit_spans(spans: Sequence[Span], tokenizer) -> List[List[Span]]:
    """For each span, the spans that cover it and each fit the tokenizer's limit."""
    limit = tokenizer.model_max_length
    counts = piece_counts(tokenizer, [span.text for span in spans], special=True)
    return [
        [span] if n <= limit or len(span) <= 1 else split_span(span, tokenizer)
        for span, n in zip(spans, counts)
    ]


def split_span(span: Span, tokenizer) -> List[Span]:
    """Consecutive pieces of ``span`` that each fit the limit (single words may not)."""
    budget = tokenizer.model_max_length - tokenizer.num_special_tokens_to_add(pair=False)
    starts = [span.start]
    used = 0
    for i, n in zip(
        range(span.start, span.end), piece_counts(tokenizer, [t.text for t in span], special=False)
    ):
        if i > starts[-1] and used + n > budget:
            starts.append(i)
            used = 0
        used += n
    if len(starts) == 1:
        # The words fit one by one but not together (a word's pieces can
        # differ in context): halve, so that the recursion always ends.
        starts.append((span.start + span.end) // 2)
    ends = starts[1:] + [span.end]
    parts = [span.doc[start:end] for start, end in zip(starts, ends)]
    # Counted word by word; check each part in context and split it again if needed.
    return [piece for pieces in fit_spans(parts, tokenizer) for piece in pieces]


@contextmanager
def without_length_warning(tokenizer) -> Iterator[None]:
    """Within: ``tokenizer`` does not warn about texts longer than its
    maximum. After: it warns as it would have, once, where it had not yet."""
    seen = getattr(tokenizer, "deprecation_warnings", None)
    if seen is None:
        yield
        return
    had_warned = seen.get(LENGTH_WARNING)
    seen[LENGTH_WARNING] = True
    try:
        yield
    finally:
        if had_warned is None:
            seen.pop(LENGTH_WARNING, None)
        else:
            seen[LENGTH_WARNING] = had_warned


def forward_without_length_warning(
    forward: Callable, model: TransformerModel, docs: List[Doc], is_train: bool
):
    """``forward`` of a TransformerModel whose windows are fitted
    (:class:`SubwordLimitedSpans`), without the false length warning."""
    with without_length_warning(model.tokenizer):
        return forward(model, docs, is_train)


@registry.architectures("conner.TransformerModel.v1")
def create_transformer_model(
    name: str,
    get_spans: SpanGetter,
    # spacy-transformers' own defaults; each call passes copies on, since
    # spacy-transformers writes into transformer_config.
    tokenizer_config: dict = {},  # noqa: B006
    transformer_config: dict = {},  # noqa: B006
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},  # noqa: B006
    max_padded_subwords: int = 0,
    lean_load: bool = True,
) -> TransformerModel:
    """``spacy-transformers.TransformerModel.v3`` whose windows never lose
    sub-words (and draw no false length warning), with length-aware encoder
    batches and a leaner ``from_bytes``.

    The first six arguments are those of ``spacy-transformers.TransformerModel.v3``;
    the windows of ``get_spans`` that exceed the encoder's maximum number of
    sub-words are split further (see :class:`SubwordLimitedSpans`), so every
    word keeps a vector of its own.

    max_padded_subwords (int): the encoder runs on sub-batches of windows of
        similar length, each at most this many padded sub-words (longest
        window times windows; see :mod:`conner.transformer.length_batching`); 0 runs each
        batch in one call, as spacy-transformers does.
    lean_load (bool): load saved weights with one copy of them instead of
        four, and build the tokenizer when first used (see
        :mod:`conner.transformer.lean_load`; same format, same weights); false loads as
        spacy-transformers does.
    """
    model_cls = LeanTransformerModel if lean_load else TransformerModel
    model = model_cls(
        name,
        get_spans,
        dict(tokenizer_config),
        dict(transformer_config),
        mixed_precision,
        dict(grad_scaler_config),
    )
    if lean_load:
        make_lean(model)
    model.attrs["get_spans"] = SubwordLimitedSpans(get_spans, model)
    # A partial of module-level functions: the model still pickles.
    set_forward_function(
        model, functools.partial(forward_without_length_warning, forward_function(model))
    )
    if max_padded_subwords > 0:
        sort_encoder_batches(model.layers[0], max_padded_subwords)
    return model
