"""int8 weights for the encoder's linear layers, for inference on the CPU.

On one CPU, ``nlp.pipe`` runs close to the speed of the fp32 encoder's
forward pass alone (:mod:`conner.transformer.length_batching`): what is left
to gain is less arithmetic per word. :func:`quantize_encoder` turns every
``torch.nn.Linear`` of a loaded pipeline's Hugging Face encoder into a
dynamically quantized one: int8 weights, activations quantized per call,
int8 matrix products. The word-piece embeddings, layer norms and the conner
head stay as they are.

Why torch's dynamic quantization (``torch.ao.quantization.quantize_dynamic``):

* it ships with torch: no extra install, nothing compiled at load time, and
  the quantized modules run inside spacy-transformers' PyTorch shim as the
  fp32 ones did;
* torchao's ``quantize_`` with ``Int8DynamicActivationInt8WeightConfig``
  (torchao 0.18, an extra install) ran a 12-layer, 384-wide BERT only 1.2x
  faster than fp32 in eager mode on a CPU, against 1.7x for
  ``quantize_dynamic`` on the same batch: its fast CPU path needs
  ``torch.compile``, i.e. a compiler toolchain and a compile at every load;
* onnxruntime (an extra install) would replace the whole encoder call with
  an exported graph outside spacy-transformers' model, windows and
  sub-batching.

torch has deprecated ``torch.ao.quantization`` in favour of torchao (it warns
that it will be removed; torch 2.13 still has it and so do its quantized
kernels). Those warnings are silenced within :func:`quantize_encoder`, where
the choice is deliberate; this module imports it only when asked for an
int8 encoder, and on a torch without it torchao's ``quantize_`` is the way
forward.

Measured (``scripts/bench_int8.py``; ConNER on multilingual-e5-small, 300
steps on 5 % of English train; the CoNLL De/Es/Nl/En test sets, 2 CPU
threads): ``nlp.pipe`` ran 2.1x as fast (1,559 -> 3,292 words/s) and lost
2.76/1.87/1.66/1.04 F1 points. The linear layers ran about 3x as fast, but
took only 75 % of the fp32 time: attention products, softmax, GELU, layer
norms and embeddings (18 %) and the rest of the pipeline (7 %) stay as they
were. The F1 lost comes from quantizing activations per tensor (one scale
for a whole batch); it is spread over all layer kinds (keeping any one kind
in fp32 recovers at most 1.4 points, at a large cost in speed). Check F1 on
your own dev set before using it.

The int8 encoder is for inference on the CPU only. :func:`quantize_encoder`
refuses a pipeline whose encoder is on a GPU, and the quantized pipeline
refuses to train and to be saved (``nlp.to_disk``, ``nlp.to_bytes``, the
transformer pipe's own): its weights would load into no pipeline config,
and the fp32 pipeline it came from is the one to keep. Saving is refused
before anything is written, so an fp32 pipeline on disk is never
overwritten by a partial one. Quantizing takes about a second; do it after
each load, either by calling the function::

    nlp = quantize_encoder(spacy.load("training/conner/model-best"))

or from the config, with the ``conner.int8_encoder.v1`` callback::

    nlp = spacy.load("training/conner/model-best", config=INT8_LOAD_CONFIG)
"""

import functools
import itertools
import warnings
from typing import Any, Callable, Dict, Iterator, NoReturn, cast

import torch
from spacy.language import Language
from spacy.util import registry
from spacy_transformers import Transformer
from spacy_transformers.layers.transformer_model import TransformerModel
from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear
from torch.ao.quantization import QConfig, quantize_dynamic
from torch.ao.quantization.observer import PerChannelMinMaxObserver, default_dynamic_quant_observer

from .adapter import hf_shim

INT8_CALLBACK = "conner.int8_encoder.v1"
# ``spacy.load(path, config=INT8_LOAD_CONFIG)`` loads the pipeline with an int8 encoder.
INT8_LOAD_CONFIG: Dict[str, Any] = {
    "nlp": {"after_pipeline_creation": {"@callbacks": INT8_CALLBACK}}
}
# torch's notices that torch.ao.quantization and quantized tensors are deprecated.
DEPRECATION_NOTICES = (r"torch\.ao\.quantization is deprecated", r"torch\.quantize_per_tensor")
# Weights: int8 per output channel, in [-64, 63] (7 bits); activations: uint8
# per call, all 8 bits (FullRangeInt8Linear). Either range halved keeps
# fbgemm's pairwise int16 sums of products from saturating on x86 CPUs
# without VNNI; on the Spanish and German test sets, halving the
# activations' range (torch's default) lost about 8 F1 points, the weights' about 2.
INT8_QCONFIG = QConfig(
    activation=default_dynamic_quant_observer,
    weight=PerChannelMinMaxObserver.with_args(
        dtype=torch.qint8, qscheme=torch.per_channel_symmetric, quant_min=-64, quant_max=63
    ),
)
NOT_SAVED = (
    "this pipeline's encoder is int8 (conner.transformer.int8.quantize_encoder), for CPU inference "
    "only, and is not saved: keep the fp32 pipeline it was loaded from, and quantize it after each "
    "load (quantize_encoder(spacy.load(path)), or spacy.load(path, config=INT8_LOAD_CONFIG))"
)
NOT_TRAINED = (
    "this pipeline's encoder is int8 (conner.transformer.int8.quantize_encoder), for inference only: "
    "train the fp32 pipeline instead"
)


class Int8Error(ValueError):
    """An int8 encoder cannot be made, or asked to do what it cannot (train, be saved)."""


class FullRangeInt8Linear(DynamicInt8Linear):
    """torch's dynamically quantized ``Linear``, with activations quantized to
    all 8 bits: torch's own halves their range (``reduce_range=True``) for
    fbgemm's sake, which :data:`INT8_QCONFIG` does with the weights instead."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packed = self._packed_params._packed_params
        return torch.ops.quantized.linear_dynamic(x, packed, reduce_range=False).to(x.dtype)


def quantize_encoder(nlp: Language, pipe_name: str = "transformer") -> Language:
    """Give the transformer pipe ``pipe_name`` of ``nlp`` int8 linear layers, in place.

    Every ``torch.nn.Linear`` of its Hugging Face encoder becomes a
    :class:`FullRangeInt8Linear` (int8 weights per output channel,
    activations quantized per call, see :data:`INT8_QCONFIG`); the rest
    stays as it was. Quantizing a quantized
    pipeline changes nothing. Afterwards the pipeline refuses to train and
    to be saved (see the module's doc).

    nlp (Language): a loaded (or initialized) pipeline, on the CPU.
    pipe_name (str): the spacy-transformers ``transformer`` pipe to quantize.
    RETURNS (Language): ``nlp``.
    Raises Int8Error where there is no such pipe, it holds no encoder yet, or
    the encoder is on a GPU.
    """
    pipe = transformer_pipe(nlp, pipe_name)
    encoder = hf_encoder(pipe)
    devices = sorted(
        {str(t.device) for t in itertools.chain(encoder.parameters(), encoder.buffers())}
    )
    if devices != ["cpu"]:
        raise Int8Error(
            f"the encoder of '{pipe_name}' is on {', '.join(devices)}: int8 quantization is for the CPU "
            "(torch's dynamic int8 kernels have no GPU version); load the pipeline without a GPU "
            "(no --gpu-id, spacy.require_gpu or prefer_gpu)"
        )
    if not any(True for _ in int8_linear_layers(encoder)):
        with warnings.catch_warnings():
            for notice in DEPRECATION_NOTICES:
                warnings.filterwarnings("ignore", message=notice)
            quantize_dynamic(
                encoder,
                {torch.nn.Linear: INT8_QCONFIG},
                dtype=torch.qint8,
                mapping={torch.nn.Linear: FullRangeInt8Linear},
                inplace=True,
            )
    _refuse_training_and_saving(nlp, pipe)
    return nlp


@registry.callbacks(INT8_CALLBACK)
def create_int8_encoder(pipe_name: str = "transformer") -> Callable[[Language], Language]:
    """An ``[nlp.after_pipeline_creation]`` callback: the pipe ``pipe_name``
    is quantized (:func:`quantize_encoder`) each time its weights are loaded
    (``from_disk``, ``from_bytes``), i.e. by ``spacy.load``.

    pipe_name (str): the spacy-transformers ``transformer`` pipe to quantize.
    """
    return functools.partial(_quantize_after_loading, pipe_name=pipe_name)


def int8_linear_layers(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """The dynamically quantized linear layers of ``module``."""
    return (m for m in module.modules() if isinstance(m, DynamicInt8Linear))


def transformer_pipe(nlp: Language, pipe_name: str) -> Transformer:
    """The spacy-transformers pipe ``pipe_name`` of ``nlp``; Int8Error if it is not one."""
    if pipe_name not in nlp.component_names:
        raise Int8Error(
            f"the pipeline has no '{pipe_name}' pipe (its pipes: {', '.join(nlp.component_names)})"
        )
    pipe = nlp.get_pipe(pipe_name)
    if not isinstance(pipe, Transformer):
        raise Int8Error(
            f"'{pipe_name}' is a {type(pipe).__name__}, not a spacy-transformers Transformer"
        )
    return pipe


def hf_encoder(pipe: Transformer) -> torch.nn.Module:
    """The Hugging Face model behind a transformer pipe; Int8Error before it has one."""
    # The pipe's model is typed as a plain Model; it is a TransformerModel.
    encoder = cast(TransformerModel, pipe.model).transformer
    if encoder is None:
        raise Int8Error(
            "the transformer pipe holds no encoder yet: initialize or load the pipeline first"
        )
    return encoder


def _quantize_after_loading(nlp: Language, pipe_name: str) -> Language:
    pipe = transformer_pipe(nlp, pipe_name)
    # Language.from_disk/from_bytes look the pipe's methods up when they call them.
    for method in ("from_disk", "from_bytes"):
        load = getattr(pipe, method)
        setattr(pipe, method, functools.partial(_load_then_quantize, load, nlp, pipe_name))
    return nlp


def _load_then_quantize(
    load: Callable, nlp: Language, pipe_name: str, *args, **kwargs
) -> Transformer:
    pipe = load(*args, **kwargs)
    quantize_encoder(nlp, pipe_name)
    return pipe


def _refuse_training_and_saving(nlp: Language, pipe: Transformer) -> None:
    """Make every way of saving the int8 weights, or training them, raise Int8Error.

    The shim's ``to_bytes`` is where every save of the weights ends up;
    ``to_disk`` of the pipeline and of the pipe are refused too, before they
    create a folder or open (and empty) a file. ``begin_update`` is where the
    pipe's forward pass for training starts.
    """
    shim = hf_shim(pipe.model)
    refusals = (
        (shim, "to_bytes", NOT_SAVED),
        (pipe, "to_disk", NOT_SAVED),
        (nlp, "to_disk", NOT_SAVED),
        (shim, "begin_update", NOT_TRAINED),
    )
    for owner, method, message in refusals:
        setattr(owner, method, functools.partial(_refuse, message))


def _refuse(message: str, *args, **kwargs) -> NoReturn:
    raise Int8Error(message)
