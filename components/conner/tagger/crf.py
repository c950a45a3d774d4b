"""The BIOES CRF as a Thinc layer, and padding of per-doc emission scores.

The layer wraps :class:`conner.tagger.bioes_crf.ConstrainedCRF` (pure torch) and
takes ``(emissions, mask, tags)``:

* with ``tags`` it returns the CRF negative log-likelihood averaged over
  sentences (so its scale does not depend on the batch size), and its
  backward pass returns the gradient of the emission scores;
* with ``tags=None`` it returns the Viterbi paths, padded with -1; an
  optional fourth item, ``allowed`` (batch, length, n_tags) booleans, keeps
  each token to its allowed tags (:func:`conner.tagger.bioes_crf.constrained_viterbi`).

Gradients of the transition parameters stay inside the PyTorch shim and are
applied by ``Model.finish_update`` like any other Thinc parameter.
"""

from typing import Any, Callable, Optional, Tuple, Union, cast

import numpy
import torch
from thinc.api import ArgsKwargs, Model, PyTorchShim, PyTorchWrapper_v2, torch2xp, xp2torch
from thinc.types import Array3d, Floats2d, Floats3d, Ints2d

from ..settings import TRANSITIONS, Transitions
from ..transformer.adapter import torch_module
from .bioes_crf import ConstrainedCRF
from .tags import TagSet

# (emissions, mask, gold tags or None), or (emissions, mask, None, allowed tags) to decode.
CRFInput = Union[
    Tuple[Floats3d, Floats2d, Optional[Ints2d]], Tuple[Floats3d, Floats2d, None, Array3d]
]


def build_crf(tagset: TagSet, transitions: Transitions = TRANSITIONS) -> Model[CRFInput, Any]:
    """Wrap a ConstrainedCRF over ``tagset`` for Thinc (``transitions``: see
    the module docstring)."""
    return PyTorchWrapper_v2(
        ConstrainedCRF(tagset, transitions),
        convert_inputs=_convert_inputs,
        convert_outputs=_convert_outputs,
    )


def crf_module(crf: Model) -> ConstrainedCRF:
    """The torch module inside a layer made by :func:`build_crf` (its
    transition tables are what CRF marginals read)."""
    return cast(ConstrainedCRF, torch_module(crf))


def _convert_inputs(
    model: Model, inputs: CRFInput, is_train: bool
) -> Tuple[ArgsKwargs, Callable[[ArgsKwargs], Floats3d]]:
    emissions, mask, tags, *constraints = inputs
    # PyTorchWrapper_v2's only shim is a PyTorchShim (Model.shims is typed as the base Shim).
    device = cast(PyTorchShim, model.shims[0]).device
    emissions_t = xp2torch(emissions, requires_grad=is_train, device=device)
    mask_t = xp2torch(mask, device=device).bool()
    tags_t = None if tags is None else xp2torch(tags, device=device).long()
    allowed_t = xp2torch(constraints[0], device=device).bool() if constraints else None
    args = ArgsKwargs(args=(emissions_t, mask_t), kwargs={"tags": tags_t, "allowed": allowed_t})

    def emissions_gradient(d_inputs: ArgsKwargs) -> Floats3d:
        # torch2xp is typed for any array; the gradient has the emissions' shape.
        return cast(Floats3d, torch2xp(d_inputs.args[0]))

    return args, emissions_gradient


def _convert_outputs(
    model: Model, inputs_outputs: Tuple[Any, torch.Tensor], is_train: bool
) -> Tuple[Any, Callable[[Any], ArgsKwargs]]:
    _, output = inputs_outputs
    if output.dim() == 0:
        value = float(output.detach().cpu())

        def loss_gradient(d_loss: float) -> ArgsKwargs:
            grad = torch.full_like(output, float(d_loss))
            return ArgsKwargs(args=(output,), kwargs={"grad_tensors": grad})

        return value, loss_gradient
    return torch2xp(output), lambda d: ArgsKwargs(args=(), kwargs={})


def pad_emissions(emissions: list, xp: Any = numpy) -> Tuple[Floats3d, Floats2d]:
    """Stack per-doc (n_tokens, n_tags) arrays into (batch, max_len, n_tags) + mask."""
    lengths = [len(e) for e in emissions]
    n_tags = emissions[0].shape[1]
    padded = xp.zeros((len(emissions), max(lengths), n_tags), dtype="float32")
    mask = xp.zeros((len(emissions), max(lengths)), dtype="float32")
    for i, (e, n) in enumerate(zip(emissions, lengths)):
        padded[i, :n] = e
        mask[i, :n] = 1.0
    return padded, mask
