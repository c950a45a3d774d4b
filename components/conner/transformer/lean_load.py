"""Loading the transformer pipe without spending four copies of its weights.

``spacy.load`` of a pipeline with a 470 MB transformer peaked at about
3.0 GB RSS. spacy-transformers' ``Transformer.from_disk`` reads the file
whole and hands the bytes to ``model.from_bytes``; from there on, the stock
path holds, all at once:

1. the file bytes (held by the caller until ``from_bytes`` returns);
2. a copy of the shim's bytes, from thinc's outer ``msgpack_loads``;
3. a copy of the state-dict bytes, from ``HFShim.from_bytes``' own
   ``msgpack_loads``;
4. the Hugging Face model built from its config, with random weights;
5. the state dict from ``torch.load``, copied into (4) by ``load_state_dict``.

Here (2) and (3) are memoryviews into (1) (:func:`unpack_views`, a msgpack
reader that does not copy large binary values), (4) is built without
initializing its weights (transformers' ``no_init_weights``; the untouched
allocations cost no RSS) and (5) is read straight from the memoryview into
the tensors' storage (:class:`ViewReader`) and becomes the model's
parameters (``load_state_dict(assign=True)``). Only (1) and (5) remain: the
bytes the caller already read, and one copy of the weights.

The tokenizer is built from its files when it is first used
(:class:`DeferredTokenizerHFObjects`): the Rust tokenizer of a 250k-piece
vocabulary takes about 280 MB, which then no longer adds to (1) + (5) while
the file bytes are alive. ``nlp(...)``, ``nlp.pipe``, ``nlp.to_disk`` and
every read of ``model.tokenizer`` build it. (Before ``nlp.pipe(...,
n_process=N)``, which forks, use the pipeline once so that the workers share
the parent's tokenizer instead of each building one.)

The serialized format is unchanged (``to_bytes`` is spacy-transformers'):
pipelines saved before and after load either way, with stock
spacy-transformers too. ``conner.TransformerModel.v1`` uses it unless its
``lean_load`` setting is false. If the saved state does not match the model
exactly (``load_state_dict`` with ``strict=True`` fails), it falls back to
the stock path, warning and loading with ``strict=False`` as stock does. A
missing, empty, truncated or corrupt file fails with an error that names it
(:func:`conner.transformer.adapter.name_damaged_transformer_files`). The
shim's internals are read and written through :mod:`conner.transformer.adapter`.
"""

import functools
import io
import json
import struct
import warnings
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, Optional, Tuple, Union, cast

import srsly
import torch
from spacy.util import SimpleFrozenDict
from spacy_transformers.data_classes import HFObjects
from spacy_transformers.layers.hf_shim import HFShim
from spacy_transformers.layers.transformer_model import TransformerModel
from spacy_transformers.util import make_tempdir
from thinc.api import get_torch_default_device
from thinc.util import convert_recursive, is_xp_array
from transformers.modeling_utils import no_init_weights

from .adapter import (
    hf_objects,
    hf_shim,
    restore_training_state,
    set_hf_objects,
    set_hf_shim,
    shim_training_state,
)

BytesLike = Union[bytes, bytearray, memoryview]

# Binary values at least this long are returned as memoryviews, not copied.
VIEW_MIN_BYTES = 1 << 16


# ---------------------------------------------------------------- msgpack


def unpack_views(data: BytesLike, view_min_bytes: int = VIEW_MIN_BYTES) -> Any:
    """``srsly.msgpack_loads(data)``, except that binary values of at least
    ``view_min_bytes`` are memoryviews into ``data`` instead of copies.

    Maps go through srsly's msgpack decoders (numpy arrays), as in
    ``srsly.msgpack_loads``; the binary values of those are copied.
    """
    view = memoryview(data).cast("B")
    try:
        obj, end = _unpack(view, 0, view_min_bytes)
    except (IndexError, struct.error):  # a length or value past the end
        raise ValueError(f"msgpack: truncated data ({len(view)} bytes)") from None
    if end != len(view):
        raise ValueError(f"msgpack: {len(view) - end} trailing bytes")
    return obj


_STRUCT = {
    0xCA: (">f", 4),
    0xCB: (">d", 8),
    0xCC: (">B", 1),
    0xCD: (">H", 2),
    0xCE: (">I", 4),
    0xCF: (">Q", 8),
    0xD0: (">b", 1),
    0xD1: (">h", 2),
    0xD2: (">i", 4),
    0xD3: (">q", 8),
}
_LENGTH = {1: ">B", 2: ">H", 4: ">I"}


def _length(view: memoryview, pos: int, size: int) -> Tuple[int, int]:
    return struct.unpack_from(_LENGTH[size], view, pos)[0], pos + size


def _unpack(view: memoryview, pos: int, view_min: int) -> Tuple[Any, int]:
    """The object starting at ``pos`` and the position after it."""
    code = view[pos]
    pos += 1
    if code <= 0x7F:
        return code, pos
    if code >= 0xE0:
        return code - 0x100, pos
    if 0x80 <= code <= 0x8F:
        return _unpack_map(view, pos, code & 0x0F, view_min)
    if 0x90 <= code <= 0x9F:
        return _unpack_array(view, pos, code & 0x0F, view_min)
    if 0xA0 <= code <= 0xBF:
        return _str(view, pos, code & 0x1F)
    if code == 0xC0:
        return None, pos
    if code == 0xC2:
        return False, pos
    if code == 0xC3:
        return True, pos
    if code in (0xC4, 0xC5, 0xC6):  # bin 8/16/32
        n, pos = _length(view, pos, 1 << (code - 0xC4))
        if pos + n > len(view):
            raise ValueError("msgpack: truncated data")
        value = view[pos : pos + n]
        return (value if n >= view_min else value.tobytes()), pos + n
    if code in _STRUCT:
        fmt, size = _STRUCT[code]
        return struct.unpack_from(fmt, view, pos)[0], pos + size
    if code in (0xD9, 0xDA, 0xDB):  # str 8/16/32
        n, pos = _length(view, pos, 1 << (code - 0xD9))
        return _str(view, pos, n)
    if code in (0xDC, 0xDD):  # array 16/32
        n, pos = _length(view, pos, 2 << (code - 0xDC))
        return _unpack_array(view, pos, n, view_min)
    if code in (0xDE, 0xDF):  # map 16/32
        n, pos = _length(view, pos, 2 << (code - 0xDE))
        return _unpack_map(view, pos, n, view_min)
    if code in (0xC7, 0xC8, 0xC9, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8):  # ext: rare, copy
        if code >= 0xD4:
            end = pos + 1 + (1 << (code - 0xD4))
        else:
            n, body = _length(view, pos, 1 << (code - 0xC7))
            end = body + 1 + n
        return srsly.msgpack_loads(view[pos - 1 : end].tobytes()), end
    raise ValueError(f"msgpack: invalid type byte 0x{code:02x} at {pos - 1}")


def _str(view: memoryview, pos: int, n: int) -> Tuple[str, int]:
    if pos + n > len(view):
        raise ValueError("msgpack: truncated data")
    return str(view[pos : pos + n], "utf-8"), pos + n


def _unpack_array(view: memoryview, pos: int, n: int, view_min: int) -> Tuple[list, int]:
    items = []
    for _ in range(n):
        item, pos = _unpack(view, pos, view_min)
        items.append(item)
    return items, pos


def _unpack_map(view: memoryview, pos: int, n: int, view_min: int) -> Tuple[Any, int]:
    obj = {}
    for _ in range(n):
        key, pos = _unpack(view, pos, view_min)
        value, pos = _unpack(view, pos, view_min)
        obj[key] = value
    if b"nd" in obj or b"complex" in obj:  # srsly's numpy encoding: own the data
        obj = {k: v.tobytes() if isinstance(v, memoryview) else v for k, v in obj.items()}
    return _decode_hooks()(obj), pos


def _decode_hooks() -> Callable[[dict], Any]:
    """srsly's chain of msgpack object hooks (the numpy decoder and any registered)."""
    hook: Optional[Callable] = None
    for decoder in srsly.msgpack.msgpack_decoders.get_all().values():
        hook = _chain(decoder, hook)
    return hook or (lambda obj: obj)


def _chain(decoder: Callable, chain: Optional[Callable]) -> Callable:
    return lambda obj: decoder(obj, chain=chain)


class ViewReader(io.RawIOBase):
    """A read-only, seekable file over a buffer that ``readinto`` copies from
    directly (``io.BytesIO`` would copy the whole buffer first)."""

    def __init__(self, data: BytesLike) -> None:
        super().__init__()
        self._view = memoryview(data).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        target = memoryview(buffer).cast("B")
        n = max(0, min(len(target), len(self._view) - self._pos))
        target[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        try:
            self._view.release()
        except BufferError:  # still exported: dropped with the reader
            pass
        super().close()


# ---------------------------------------------------------------- tokenizer


class DeferredTokenizerHFObjects(HFObjects):
    """``HFObjects`` whose tokenizer is built from its saved files when first read."""

    def __init__(
        self, build_tokenizer: Callable[[], Tuple[Any, Optional[bytes]]], transformer: Any
    ) -> None:
        self._build_tokenizer: Optional[Callable] = build_tokenizer
        self._tokenizer = None
        self._vocab_file_contents = None
        super().__init__(None, transformer, None, SimpleFrozenDict(), SimpleFrozenDict())

    def _built(self) -> None:
        if self._build_tokenizer is not None:
            build, self._build_tokenizer = self._build_tokenizer, None
            self._tokenizer, self._vocab_file_contents = build()

    @property  # type: ignore[override]
    def tokenizer(self):
        self._built()
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, value) -> None:
        if getattr(self, "_build_tokenizer", None) is not None and value is None:
            return  # HFObjects.__init__: keep the deferred one
        self._build_tokenizer = None
        self._tokenizer = value

    @property  # type: ignore[override]
    def vocab_file_contents(self):
        self._built()
        return self._vocab_file_contents

    @vocab_file_contents.setter
    def vocab_file_contents(self, value) -> None:
        if getattr(self, "_build_tokenizer", None) is not None and value is None:
            return
        self._vocab_file_contents = value

    @property
    def tokenizer_built(self) -> bool:
        return self._build_tokenizer is None


def tokenizer_from_files(
    files: Dict[str, bytes], kwargs: Dict[str, Any], tokenizer_cls
) -> Tuple[Any, Optional[bytes]]:
    """The tokenizer and vocab file contents, as ``HFShim.from_bytes`` builds them."""
    with make_tempdir() as temp_dir:
        for name, contents in files.items():
            Path(temp_dir / name).write_bytes(contents)
        tokenizer = tokenizer_cls.from_pretrained(str(temp_dir.absolute()), **kwargs)
        vocab_file_contents = None
        if hasattr(tokenizer, "vocab_file"):
            vocab_file_name = tokenizer.vocab_files_names["vocab_file"]
            with open(str((temp_dir / vocab_file_name).absolute()), "rb") as fileh:
                vocab_file_contents = fileh.read()
    return tokenizer, vocab_file_contents


# ---------------------------------------------------------------- shim and model


class LeanHFShim(HFShim):
    """``HFShim`` whose ``from_bytes`` keeps one copy of the weights (see module doc).

    defer_tokenizer (bool): build the tokenizer when it is first used, not in
        ``from_bytes``.
    """

    def __init__(self, *args, defer_tokenizer: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.defer_tokenizer = defer_tokenizer

    def from_bytes(self, bytes_data: BytesLike) -> "LeanHFShim":
        msg = unpack_views(bytes_data)
        config_dict = msg["config"]
        if not config_dict:
            uninitialized = HFObjects(
                None, None, None, msg["_init_tokenizer_config"], msg["_init_transformer_config"]
            )
            set_hf_objects(self, uninitialized)
            return self
        tok_dict = dict(msg["tokenizer"])
        tok_kwargs = tok_dict.pop("kwargs", {})
        tok_files = {name: bytes(contents) for name, contents in tok_dict.items()}
        with make_tempdir() as temp_dir:
            config_file = temp_dir / "config.json"
            # Python's json, not srsly's: srsly writes floats with 9 digits,
            # so spacy-transformers loads BERT's layer_norm_eps 1e-12 as 0.0.
            config_file.write_text(json.dumps(dict(config_dict)), encoding="utf8")
            config = self.config_cls.from_pretrained(config_file)
        device = get_torch_default_device()
        with ViewReader(msg.pop("state")) as reader:
            # torch.load reads any seekable binary file; its stub names only typing.IO.
            state = torch.load(cast(BinaryIO, reader), map_location=device, weights_only=True)
        del msg
        with no_init_weights():
            transformer = self.model_cls.from_config(config)
        if not assign_state_dict(transformer, state):
            del transformer
            transformer = self.model_cls.from_config(config)
            load_state_dict_fallback(transformer, state)
        del state
        transformer.to(device)
        # A partial, not a closure: the deferred tokenizer stays picklable.
        build_tokenizer = functools.partial(
            tokenizer_from_files, tok_files, tok_kwargs, self.tokenizer_cls
        )
        if self.defer_tokenizer:
            objects: HFObjects = DeferredTokenizerHFObjects(build_tokenizer, transformer)
        else:
            tokenizer, vocab_file_contents = build_tokenizer()
            objects = HFObjects(
                tokenizer, transformer, vocab_file_contents, SimpleFrozenDict(), SimpleFrozenDict()
            )
        set_hf_objects(self, objects)
        return self


def assign_state_dict(transformer: torch.nn.Module, state: Dict[str, torch.Tensor]) -> bool:
    """Make the tensors of ``state`` the parameters and buffers of ``transformer``
    (no copy); False, with ``transformer`` unusable, if they do not match exactly."""
    expected = transformer.state_dict(keep_vars=True)
    if set(expected) != set(state):
        return False
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            return False
        if tensor.dtype != expected[name].dtype or not tensor.is_contiguous():
            # As load_state_dict's copy would: the module's dtype, contiguous.
            state[name] = tensor.to(expected[name].dtype).contiguous()
    try:
        transformer.load_state_dict(state, strict=True, assign=True)
    except RuntimeError:
        return False
    tie_weights = getattr(transformer, "tie_weights", None)  # Hugging Face models have it
    if tie_weights is not None:
        tie_weights()
    return True


def load_state_dict_fallback(transformer: torch.nn.Module, state: Dict[str, torch.Tensor]) -> None:
    """What ``HFShim.from_bytes`` does with a state it cannot load strictly."""
    try:
        transformer.load_state_dict(state)
    except RuntimeError:
        warnings.warn(
            "Error loading saved torch state_dict with strict=True, likely due to "
            "differences between 'transformers' versions. Attempting to load with "
            "strict=False as a fallback...\n\nIf you see errors or degraded "
            "performance, download a newer compatible model or retrain your custom "
            "model with the current 'transformers' and 'spacy-transformers' versions. "
            "For more details and available updates, run: python -m spacy validate",
            stacklevel=2,
        )
        transformer.load_state_dict(state, strict=False)


class LeanTransformerModel(TransformerModel):
    """``TransformerModel`` whose ``from_bytes`` does not copy its shim's bytes."""

    def from_bytes(self, bytes_data: BytesLike) -> "LeanTransformerModel":
        msg = unpack_views(bytes_data)
        msg = convert_recursive(is_xp_array, self.ops.asarray, msg)
        # Model.from_dict returns self, typed as the base Model.
        return cast(LeanTransformerModel, self.from_dict(msg))


def make_lean(model: TransformerModel, defer_tokenizer: bool = True) -> None:
    """Give ``model`` (a :class:`LeanTransformerModel`) a :class:`LeanHFShim`
    holding what its shim held, training state included."""
    old = hf_shim(model)
    state = shim_training_state(old)
    lean = LeanHFShim(
        hf_objects(old),
        config=old.cfg,
        optimizer=state.optimizer,
        mixed_precision=state.mixed_precision,
        grad_scaler_config={"enabled": state.mixed_precision},
        config_cls=old.config_cls,
        model_cls=old.model_cls,
        tokenizer_cls=old.tokenizer_cls,
        defer_tokenizer=defer_tokenizer,
    )
    # The old gradient scaler, not the new one the constructor built.
    restore_training_state(lean, state)
    set_hf_shim(model, lean)
