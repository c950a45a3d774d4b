"""Each translation engine against its stand-in (and apertium for real)."""

import json
import shutil
import time
from pathlib import Path

import pytest
from translation_fakes import FakeGoogle, FunctionEngine, ShortEngine

from conner.prepare.translation import (
    LineCountError,
    TranslationError,
    clean_line,
    engine_names,
    get_engine,
    register_engine,
)
from conner.prepare.translation.stored import MissingTranslationError, read_release

# The data mirror beside the repository (see .ci/run), where there is one.
RELEASE = (
    Path(__file__).resolve().parents[2]
    / "shared/assets/github/RandyZhouRan/ConNER"
    / "ead322eb7cb1e41c38071c77d40a8a50dc02b193/data/En2Es"
)


# ---------------------------------------------------------------- shared plumbing


def test_registry_knows_the_engines_and_rejects_unknown_names():
    assert {"apertium", "opus-mt", "google", "stored"} <= set(engine_names())
    with pytest.raises(ValueError, match="Unknown translation engine"):
        get_engine("babelfish", "es", "en")
    register_engine("fake", FunctionEngine)
    engine = get_engine("fake", "es", "en")
    assert engine.translate_batch(["el perro"]) == ["the perro"]


def test_clean_line_makes_one_line_without_control_characters():
    assert clean_line(" a\nb\r\nc\u2028d\x85e\tf\x00g\x07 ") == "a b c d e fg"
    assert clean_line("\n\n") == ""


def test_base_engine_skips_empty_texts_and_keeps_order():
    engine = FunctionEngine()
    out = engine.translate_batch(["el gato", "", "  ", "la casa\nde Ana"])
    assert out == ["the gato", "", "", "the casa of Ana"]
    assert engine.batches == [["el gato", "la casa de Ana"]]  # one call, no empties
    assert engine.stats["empty_texts"] == 2
    assert engine.stats["texts_cleaned"] == 1


def test_engine_returning_fewer_lines_raises_a_clear_error():
    with pytest.raises(LineCountError, match="returned 2 translations for 3 input lines"):
        ShortEngine().translate_batch(["a", "b", "c"])


# ---------------------------------------------------------------- apertium


def _apertium():
    if shutil.which("apertium") is None:
        pytest.skip("apertium binary missing (apt-get install apertium apertium-eng-spa)")
    return get_engine("apertium", "es", "en")


@pytest.mark.integration
def test_apertium_translates_each_line_on_its_own():
    engine = _apertium()
    assert engine.model == "apertium/spa-eng"
    # With single newlines as separators apertium returns "The white\nhouse":
    # transfer rules reorder words across lines.
    out = engine.translate_batch(["la casa", "blanca", "Bruce Willis nació en SPAN0 ."])
    assert out == ["The house", "White", "Bruce Willis was born in SPAN0 ."]


@pytest.mark.integration
def test_apertium_keeps_placeholders_and_line_count_on_awkward_input():
    engine = _apertium()
    texts = [
        "SPAN0 , SPAN1 y SPAN12 compraron ( SPAN3 ) .",
        "",
        "caracteres raros : 漢字 ☃ 🙂 ^ $ / [x] \\ <b> @ * # { } \x00\x07 café",
        " ".join(["palabra"] * 300),
        "línea uno\n\nlínea dos",
    ]
    out = engine.translate_batch(texts)
    assert len(out) == len(texts)
    assert out[0] == "SPAN0 , SPAN1 and SPAN12 bought ( SPAN3 ) ."
    assert out[1] == ""
    assert "漢字 ☃ 🙂" in out[2] and "coffee" in out[2]
    assert len(out[3].split()) == 300
    assert "\n" not in out[4]


@pytest.mark.integration
def test_apertium_unknown_direction_is_a_clear_error():
    _apertium()
    with pytest.raises(TranslationError, match="no direction 'spa-xxx'"):
        get_engine("apertium", "es", "xxx")


# ---------------------------------------------------------------- google (fake server)


def _google(fake, **options):
    options = {"api_key": "test-key", "base_url": fake.url, "backoff": 0.001, **options}
    return get_engine("google", "es", "en", **options)


def test_google_batches_requests_and_sends_the_v2_body():
    texts = [f"el caso {i}" for i in range(300)]
    with FakeGoogle() as fake:
        out = _google(fake).translate_batch(texts)
    assert out == [f"the caso {i}" for i in range(300)]
    assert [len(r["body"]["q"]) for r in fake.requests] == [128, 128, 44]
    first = fake.requests[0]
    assert first["key"] == "test-key"
    assert (first["body"]["source"], first["body"]["target"], first["body"]["format"]) == (
        "es",
        "en",
        "text",
    )


@pytest.mark.parametrize("status", [429, 500, 503])
def test_google_retries_after_rate_limits_and_server_errors(status):
    with FakeGoogle() as fake:
        fake.script.extend([status, status, "ok"])
        engine = _google(fake)
        assert engine.translate_batch(["el gato"]) == ["the gato"]
    assert len(fake.requests) == 3
    assert engine.stats["http_retries"] == 2


def test_google_gives_up_with_a_clear_error():
    with FakeGoogle() as fake:
        fake.script.extend([500] * 10)
        engine = _google(fake, max_retries=3)
        started = time.perf_counter()
        with pytest.raises(TranslationError, match="after 4 attempts; last error: HTTP 500"):
            engine.translate_batch(["el gato"])
    assert len(fake.requests) == 4
    assert time.perf_counter() - started < 5


def test_google_does_not_retry_client_errors():
    with FakeGoogle() as fake:
        fake.script.append(403)
        with pytest.raises(TranslationError, match="HTTP 403"):
            _google(fake).translate_batch(["el gato"])
    assert len(fake.requests) == 1


def test_google_short_response_is_a_line_count_error():
    with FakeGoogle() as fake:
        fake.script.append("short")
        with pytest.raises(LineCountError):
            _google(fake).translate_batch(["a", "b"])


def test_google_needs_an_api_key(monkeypatch):
    monkeypatch.delenv("GOOGLE_TRANSLATE_API_KEY", raising=False)
    with pytest.raises(TranslationError, match="GOOGLE_TRANSLATE_API_KEY"):
        get_engine("google", "es", "en")
    monkeypatch.setenv("GOOGLE_TRANSLATE_API_KEY", "from-env")
    with FakeGoogle() as fake:
        get_engine("google", "es", "en", base_url=fake.url).translate_batch(["x"])
    assert fake.requests[0]["key"] == "from-env"


# ---------------------------------------------------------------- stored


def test_stored_tsv_and_jsonl(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_text("el  gato\tthe cat\nla casa\tthe house\n", encoding="utf-8")
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text(json.dumps({"source": "SPAN0 nació", "translation": "SPAN0 was born"}) + "\n")
    engine = get_engine("stored", "es", "en", paths=f"{tsv},{jsonl}")
    assert engine.translate_batch(["el gato", " la  casa ", "SPAN0 nació"]) == [
        "the cat",
        "the house",
        "SPAN0 was born",
    ]
    with pytest.raises(MissingTranslationError, match="1 of 2 texts have no stored translation"):
        engine.translate_batch(["el gato", "el perro"])
    lenient = get_engine("stored", "es", "en", paths=[tsv], on_missing="empty")
    assert lenient.translate_batch(["el gato", "el perro"]) == ["the cat", ""]
    assert lenient.stats["missing"] == 1


def _write_release(folder: Path) -> None:
    folder.mkdir()
    (folder / "unlabel.txt").write_text(
        "Daryl\t1\tB-PER\nWilliams\t1\tE-PER\nvive\t0\tO\nen\t0\tO\nMadrid\t2\tS-LOC\n\n"
        "Madrid\t1\tS-LOC\ny\t0\tO\nRoma\t2\tS-LOC\n\n"
        "Ana\t1\tS-PER\nen\t0\tO\nFECSUR\t2\tS-ORG\n\n",
        encoding="utf-8",
    )
    (folder / "trans.txt").write_text(
        "Daryl\t1\tB-PER\nWilliams\t1\tE-PER\nlives\t0\tO\nin\t0\tO\nMadrid\t2\tS-LOC\n\n"
        "Madrid\t1\tS-LOC\nand\t0\tO\nRome\t2\tS-LOC\n\n"
        "Ana\t1\tS-PER\nin\t0\tO\nit\t0\tO\n\n",
        encoding="utf-8",
    )


def test_stored_reads_the_release_format_in_placeholder_form(tmp_path):
    _write_release(tmp_path / "En2Es")
    mapping, stats = read_release(tmp_path / "En2Es")
    assert mapping["SPAN0 vive en SPAN1"] == "SPAN0 lives in SPAN1"
    assert mapping["SPAN0 y SPAN1"] == "SPAN0 and SPAN1"
    assert mapping["Daryl Williams"] == "Daryl Williams"
    assert mapping["Roma"] == "Rome"
    # The release lost FECSUR's span: known lost ("") rather than missing.
    assert mapping["SPAN0 en SPAN1"] == "SPAN0 in it"
    assert mapping["FECSUR"] == ""
    assert (stats.sentences, stats.spans, stats.lost_spans) == (3, 6, 1)
    assert stats.ambiguous_span_texts == 0


@pytest.mark.integration
def test_stored_reads_the_real_release():
    if not RELEASE.exists():
        pytest.skip(f"ConNER release not mirrored at {RELEASE}")
    mapping, stats = read_release(RELEASE)
    assert stats.sentences == 8382
    assert mapping["SPAN0 ( SPAN1 ) , 25 may ( SPAN2 ) ."] == "SPAN0 ( SPAN1 ) , May 25 ( SPAN2 ) ."
    assert mapping["Melbourne"] == "Melbourne"
    assert 0 < stats.ambiguous_occurrences < 0.06 * stats.spans


# ---------------------------------------------------------------- opus-mt (tiny local Marian)

TRAIN = [
    "El presidente de Argentina habló hoy en Buenos Aires .",
    "La empresa compró acciones de Telefónica en Madrid .",
    "Bruce Willis nació en Alemania Occidental .",
    "The president of Argentina spoke today in Buenos Aires .",
    "The company bought shares of Telefónica in Madrid .",
    "Bruce Willis was born in West Germany .",
] * 3


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory) -> Path:
    """A randomly initialised MarianMT model with a real sentencepiece tokenizer."""
    spm = pytest.importorskip("sentencepiece")
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder = tmp_path_factory.mktemp("marian")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAIN),
        model_prefix=str(folder / "sp"),
        vocab_size=120,
        hard_vocab_limit=False,
        character_coverage=1.0,
        user_defined_symbols=["SPAN0", "SPAN1"],
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        pad_id=-1,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_file=str(folder / "sp.model"))
    vocab = {"</s>": 0, "<unk>": 1}
    for i in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    model_dir = folder / "model"
    MarianTokenizer(
        vocab=str(folder / "vocab.json"),
        source_spm=str(folder / "sp.model"),
        target_spm=str(folder / "sp.model"),
        model_max_length=64,
    ).save_pretrained(model_dir)
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=vocab["<pad>"],
        eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=0,
    )
    torch.manual_seed(0)
    MarianMTModel(config).save_pretrained(model_dir)
    return model_dir


def test_opus_mt_generates_one_string_per_input_in_few_calls(tiny_marian):
    engine = get_engine("opus-mt", "es", "en", model=str(tiny_marian), batch_size=2, num_beams=1)
    assert engine.device in ("cpu", "cuda")
    calls = []
    generate = engine.network.generate
    engine.network.generate = lambda **kw: calls.append(kw["input_ids"].shape) or generate(**kw)
    texts = [
        "El presidente de SPAN0 habló .",
        "",
        "La empresa SPAN1 compró SPAN0 .",
        "Bruce",
        " ".join(["palabra"] * 300),
        "en Madrid",
    ]
    out = engine.translate_batch(texts)
    assert len(out) == len(texts) and all(isinstance(t, str) for t in out)
    assert out[1] == ""
    assert len(calls) == 3  # 5 non-empty texts, 2 per generate call
    assert all(shape[1] <= 64 for shape in calls)  # the 300-word text was cut
    assert engine.stats["truncated"] == 1


def test_opus_mt_puts_sorted_batches_back_in_order(tiny_marian):
    engine = get_engine("opus-mt", "es", "en", model=str(tiny_marian), batch_size=2, num_beams=1)
    # An identity "model" makes every output equal its input, so any
    # mix-up in sorting, batching or padding shows.
    engine.network.generate = lambda input_ids, attention_mask, **kw: input_ids
    texts = [
        "en Madrid .",
        "El presidente de SPAN0 habló hoy en Buenos Aires .",
        "Bruce Willis",
        "La empresa SPAN1 compró acciones de SPAN0 .",
    ]
    assert engine.translate_batch(texts) == texts
