"""The one place that reaches into the internals of spacy-transformers and Thinc.

conner needs a few things that neither library offers through its public API:

* the torch module inside a Thinc ``PyTorchWrapper`` (the CRF's transition
  tables, read by the consistency losses and the diagnostics);
* the Hugging Face objects inside spacy-transformers' ``HFShim``, which the
  lean loader (:mod:`conner.transformer.lean_load`) replaces;
* a torch shim's training state (optimizer, mixed precision, gradient
  scaler), carried over when the lean loader swaps the shim;
* a model's forward function, which :mod:`conner.transformer.windows` and
  :mod:`conner.transformer.length_batching` wrap;
* the batch a ``TransformerListener`` holds in training.

Each function below names the attribute it reads or writes. Other versions
of these libraries may rename them, so the installed versions are checked
against :data:`SUPPORTED` when this module is imported: an unsupported
version fails here, naming the version and the supported range, instead of
as an ``AttributeError`` deep inside training or loading.

Importing this module also makes spacy-transformers' ``Transformer.from_disk``
name a damaged ``cfg`` or ``model`` file of the transformer component
(:func:`name_damaged_transformer_files`).
"""

import functools
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import torch
from packaging.specifiers import SpecifierSet
from spacy.tokens import Doc
from spacy_transformers import Transformer
from spacy_transformers.data_classes import HFObjects, TransformerData
from spacy_transformers.layers import TransformerListener
from spacy_transformers.layers.hf_shim import HFShim
from thinc.api import Model, PyTorchGradScaler, PyTorchShim

from ..files.saved_files import DamagedFileError, naming_damaged, read_json_object

# The versions whose internals this module was written against (the same
# ranges as the package's dependencies in pyproject.toml).
SUPPORTED: Dict[str, str] = {
    "spacy-transformers": ">=1.4,<1.5",
    "thinc": ">=8.3,<8.4",
}


class UnsupportedVersionError(RuntimeError):
    """An installed library whose internals conner was not written against."""


def installed_version(distribution: str) -> Optional[str]:
    """The installed version of ``distribution`` (None if not installed)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def check_versions(supported: Dict[str, str] = SUPPORTED) -> None:
    """Raise :class:`UnsupportedVersionError` unless every library of
    ``supported`` is installed in its range."""
    for distribution, spec in supported.items():
        version = installed_version(distribution)
        # Pre-releases inside the range count as in range.
        if version is not None and SpecifierSet(spec).contains(version, prereleases=True):
            continue
        installed = "is not installed" if version is None else f"{version} is installed"
        raise UnsupportedVersionError(
            f"conner supports {distribution}{spec}, but {distribution} {installed}: "
            f"conner uses internals of {distribution} that other versions may "
            f'change. Install a supported version: pip install "{distribution}{spec}"'
        )


check_versions()


# ---------------------------------------------------------------- Thinc


def _torch_shim(model: Model) -> PyTorchShim:
    shims = model.shims
    if not shims or not isinstance(shims[0], PyTorchShim):
        raise TypeError(f"layer '{model.name}' wraps no PyTorch module (no PyTorchShim)")
    return shims[0]


def torch_module(model: Model) -> torch.nn.Module:
    """The torch module that a ``PyTorchWrapper`` layer (or spacy-transformers'
    HF wrapper layer) runs.

    Reads Thinc's ``Shim._model`` of ``model.shims[0]``: Thinc keeps the
    wrapped module only there and has no accessor for it.
    """
    return _torch_shim(model)._model


class ShimTrainingState(NamedTuple):
    """What a torch shim carries between updates besides its module."""

    optimizer: Any
    mixed_precision: bool
    grad_scaler: PyTorchGradScaler


def shim_training_state(shim: PyTorchShim) -> ShimTrainingState:
    """The optimizer, mixed-precision flag and gradient scaler of ``shim``.

    Reads Thinc's ``Shim._optimizer`` and ``PyTorchShim._mixed_precision``
    and ``_grad_scaler``: Thinc sets them in the constructor only and has no
    accessors, and a shim that replaces another must keep them (the scaler
    holds its current scale).
    """
    return ShimTrainingState(shim._optimizer, shim._mixed_precision, shim._grad_scaler)


def restore_training_state(shim: PyTorchShim, state: ShimTrainingState) -> None:
    """Give ``shim`` the training state of another (:func:`shim_training_state`).

    Writes the attributes that function reads; the constructor would build
    a new gradient scaler instead of keeping the old one.
    """
    shim._optimizer = state.optimizer
    shim._mixed_precision = state.mixed_precision
    shim._grad_scaler = state.grad_scaler


def forward_function(model: Model) -> Callable:
    """The forward function of ``model``, to wrap it.

    Reads Thinc's ``Model._func``: ``Model.replace_callbacks`` sets it, but
    nothing public returns it.
    """
    return model._func


def set_forward_function(model: Model, forward: Callable) -> None:
    """Make ``forward`` the forward function of ``model``, keeping its init."""
    # replace_callbacks also replaces init (with None unless given one).
    model.replace_callbacks(forward, init=model.init)


# ---------------------------------------------------------------- spacy-transformers


def hf_shim(model: Model) -> HFShim:
    """The ``HFShim`` of a spacy-transformers ``TransformerModel`` (the shim of
    its first layer, the HF wrapper)."""
    shim = model.layers[0].shims[0] if model.layers and model.layers[0].shims else None
    if not isinstance(shim, HFShim):
        raise TypeError(f"model '{model.name}' is not a spacy-transformers TransformerModel")
    return shim


def set_hf_shim(model: Model, shim: HFShim) -> None:
    """Make ``shim`` the shim of ``model``'s HF wrapper layer (see :func:`hf_shim`)."""
    model.layers[0].shims[0] = shim


def hf_objects(shim: HFShim) -> HFObjects:
    """The tokenizer, transformer and configs that ``shim`` holds.

    Reads spacy-transformers' ``HFShim._hfmodel``: ``TransformerModel``'s
    ``tokenizer`` and ``transformer`` properties read single fields of it,
    and nothing public returns or replaces the whole.
    """
    return shim._hfmodel


def set_hf_objects(shim: HFShim, objects: HFObjects) -> None:
    """Make ``objects`` what ``shim`` holds, as ``HFShim.from_bytes`` does.

    Writes ``HFShim._hfmodel`` and, where ``objects`` has a transformer,
    Thinc's ``Shim._model`` (the module the shim runs).
    """
    shim._hfmodel = objects
    if objects.transformer is not None:
        shim._model = objects.transformer


def listener_outputs(
    listener: TransformerListener, docs: List[Doc]
) -> Optional[List[TransformerData]]:
    """The transformer outputs ``listener`` holds if they are those of ``docs``
    (in training, what the transformer sent it for this batch), else None.

    Reads spacy-transformers' ``TransformerListener._outputs`` and
    ``_batch_id``: ``verify_inputs`` compares them but raises instead of
    answering, and nothing public returns the outputs.
    """
    outputs = listener._outputs
    if outputs is None or len(outputs) != len(docs):
        return None
    if listener._batch_id != TransformerListener.get_batch_id(docs):
        return None
    return outputs


# ---------------------------------------------------------------- damaged files


def check_transformer_files(from_disk: Callable) -> Callable:
    """spacy-transformers' ``Transformer.from_disk``, with its ``cfg`` and
    ``model`` checked first and errors while reading ``model`` naming it
    (:class:`conner.files.saved_files.DamagedFileError`)."""

    @functools.wraps(from_disk)
    def from_disk_naming_files(self, path, *, exclude=tuple()):
        path = Path(path)
        if "cfg" not in exclude:
            read_json_object(path / "cfg")
        model_file = path / "model"
        # A folder is the layout of spacy-transformers 1.0, which from_disk converts.
        if "model" in exclude or model_file.is_dir():
            return from_disk(self, path, exclude=exclude)
        if not model_file.exists():
            raise DamagedFileError(model_file, "missing")
        if model_file.stat().st_size == 0:
            raise DamagedFileError(model_file, "empty (0 bytes)")
        with naming_damaged(model_file):
            return from_disk(self, path, exclude=exclude)

    from_disk_naming_files.names_damaged_files = True  # type: ignore[attr-defined]
    return from_disk_naming_files


def name_damaged_transformer_files() -> None:
    """Wrap ``Transformer.from_disk`` with :func:`check_transformer_files` (once).

    spacy-transformers reads the transformer's files and hands their bytes
    on, so a damaged file surfaced as an error about bytes that named no
    file. Pipelines that load cleanly load exactly as before.
    """
    if not getattr(Transformer.from_disk, "names_damaged_files", False):
        Transformer.from_disk = check_transformer_files(Transformer.from_disk)  # type: ignore[method-assign]


name_damaged_transformer_files()
