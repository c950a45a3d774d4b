"""Length-aware batching inside spacy-transformers' TransformerModel.

spacy-transformers pads every span of a batch to the longest one and runs
the encoder once. A ConNER training batch mixes short and long sentences
(labeled sentences, their dropout twins, target sentences, translations):
measured on the CPU profile, about 2.9 padded sub-words per real one. Here
the encoder call is split into sub-batches of spans of similar length, each
padded only to its own longest span and capped at ``max_padded_subwords``
padded sub-words; the outputs are put back in the original order and padded
layout, so everything downstream (alignment, pooling, listeners) sees what
the single call would have produced. With the attention mask, a span's
outputs do not depend on the other spans of its batch, so values and
gradients are the same as the unsorted path's up to float rounding.

``conner.TransformerModel.v1`` (:mod:`conner.transformer.windows`) applies it with its
``max_padded_subwords`` setting, in training, ``nlp(...)``, ``nlp.pipe`` and
evaluation alike.
"""

from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch
from spacy_transformers.data_classes import WordpieceBatch
from thinc.api import Model, get_array_module
from transformers.file_utils import ModelOutput

from .adapter import forward_function, set_forward_function


def length_groups(lengths: Sequence[int], max_padded: int) -> List[List[int]]:
    """Indices grouped by ascending length, each group's ``longest * size``
    at most ``max_padded`` (a single span longer than that is its own group)."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    groups: List[List[int]] = []
    for i in order:
        if groups and lengths[i] * (len(groups[-1]) + 1) <= max_padded:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def sort_encoder_batches(wrapper: Model, max_padded: int) -> None:
    """Make the HF wrapper layer run its input in length-sorted sub-batches.

    The layer's own forward (spacy-transformers' conversion and the torch
    shim) is kept and called once per sub-batch.
    """
    # Re-applying it replaces the cap instead of nesting two sorters.
    encode = forward_function(wrapper)
    if isinstance(encode, SortedForward):
        encode = encode.unsorted
    wrapper.attrs["max_padded_subwords"] = max_padded
    set_forward_function(wrapper, SortedForward(encode, max_padded))


class SortedForward:
    """A forward function that runs ``unsorted`` once per length group.

    A class rather than a closure so that a pipeline using it can be
    pickled (``nlp.pipe(n_process=...)`` with the spawn start method).
    """

    def __init__(self, unsorted: Callable, max_padded: int) -> None:
        self.unsorted = unsorted
        self.max_padded = max_padded

    def __call__(
        self, model: Model, wordpieces: WordpieceBatch, is_train: bool
    ) -> Tuple[ModelOutput, Callable]:
        groups = length_groups(list(wordpieces.lengths), self.max_padded)
        if len(groups) <= 1:
            return self.unsorted(model, wordpieces, is_train)
        n_spans, width = wordpieces.input_ids.shape
        parts = []
        for group in groups:
            sub = take_spans(wordpieces, group)
            parts.append((group, sub.input_ids.shape[1], *self.unsorted(model, sub, is_train)))
        output = scatter_outputs([(g, out) for g, _, out, _ in parts], n_spans, width)

        def backprop(d_output: ModelOutput) -> List:
            for group, length, _, backprop_part in parts:
                backprop_part(gather_outputs(d_output, group, length))
            return []

        return output, backprop


def take_spans(wordpieces: WordpieceBatch, indices: Sequence[int]) -> WordpieceBatch:
    """The spans ``indices`` of a padded batch, padded to their own longest."""
    rows = get_array_module(wordpieces.input_ids).asarray(indices)
    length = max(wordpieces.lengths[i] for i in indices)
    return WordpieceBatch(
        strings=[wordpieces.strings[i] for i in indices],
        input_ids=wordpieces.input_ids[rows, :length],
        attention_mask=wordpieces.attention_mask[rows, :length],
        lengths=[wordpieces.lengths[i] for i in indices],
        token_type_ids=None
        if wordpieces.token_type_ids is None
        else wordpieces.token_type_ids[rows, :length],
    )


def scatter_outputs(
    parts: List[Tuple[List[int], ModelOutput]], n_spans: int, width: int
) -> ModelOutput:
    """One ModelOutput in the original span order and padded width.

    Sequence outputs (spans, length, dim) are zero beyond each span's
    sub-batch length, like the padding of a single call; per-span outputs
    (spans, dim) are scattered by row; tuples (e.g. hidden states of every
    layer) element-wise. The result holds no autograd graph: each sub-batch
    is back-propagated through its own backprop callback.
    """
    first = parts[0][1]
    merged: Dict[str, Any] = {}
    with torch.no_grad():
        for key in first.keys():
            values = [(group, out[key]) for group, out in parts]
            if isinstance(values[0][1], tuple):
                merged[key] = tuple(
                    _scatter([(g, v[j]) for g, v in values], n_spans, width)
                    for j in range(len(values[0][1]))
                )
            else:
                merged[key] = _scatter(values, n_spans, width)
    return first.__class__(**merged)


def _scatter(
    values: List[Tuple[List[int], torch.Tensor]], n_spans: int, width: int
) -> torch.Tensor:
    sample = values[0][1]
    if sample.dim() not in (2, 3):
        raise ValueError(f"can't re-assemble an encoder output of shape {tuple(sample.shape)}")
    shape = (
        (n_spans, width, *sample.shape[2:]) if sample.dim() == 3 else (n_spans, *sample.shape[1:])
    )
    full = sample.new_zeros(shape)
    for group, value in values:
        rows = torch.as_tensor(group, device=value.device)
        if value.dim() == 3:
            full[rows, : value.shape[1]] = value.detach()
        else:
            full[rows] = value.detach()
    return full


def gather_outputs(d_output: ModelOutput, group: List[int], length: int) -> ModelOutput:
    """The gradients of one sub-batch: its rows, cut to its padded length."""
    out = ModelOutput()
    for key, value in d_output.items():
        rows = torch.as_tensor(group, device=value.device)
        out[key] = value[rows, :length] if value.dim() == 3 else value[rows]
    return out
