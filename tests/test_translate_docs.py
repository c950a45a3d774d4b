"""translate_docs and ``conner translate``: conjugate spans on both sides, counts, errors."""

import json
import shutil

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from translation_fakes import FakeGoogle, FunctionEngine, ShortEngine
from typer.testing import CliRunner

from conner.cli import app
from conner.consistency.extensions import get_conjugate_spans, set_conjugate_spans
from conner.prepare.translation import (
    SPAN_LABELS_KEY,
    LineCountError,
    TranslationSummary,
    get_engine,
    register_engine,
    translate_docs,
)

ES = spacy.blank("es")
EN = spacy.blank("en")


def target_doc(words, spans, pair_id=None):
    doc = Doc(ES.vocab, words=words)
    set_conjugate_spans(doc, pair_id, "target", spans)
    return doc


def spans_text(doc):
    return {key: span.text for key, span in get_conjugate_spans(doc).items()}


def upper_spans(text: str) -> str:
    """Translate span-only lines to upper case, sentences word by word."""
    if "SPAN" in text:
        return text.replace("nació en", "was born in").replace("y", "and")
    return text.upper()


def test_pairs_point_at_exactly_the_inserted_tokens():
    docs = [
        target_doc(
            "Bruce Willis nació en Alemania Occidental .".split(), [[0, 0, 2], [7, 4, 6]], "a"
        ),
        target_doc("( Ana ) y Luis".split(), [[0, 1, 2], [1, 4, 5]]),
    ]
    engine = FunctionEngine(function=upper_spans)
    summary = TranslationSummary()
    pairs = list(translate_docs(docs, engine, EN, summary=summary, batch_size=8))
    assert len(pairs) == 2
    (t0, x0), (t1, x1) = pairs
    assert x0.text == "BRUCE WILLIS was born in ALEMANIA OCCIDENTAL ."
    assert spans_text(x0) == {0: "BRUCE WILLIS", 7: "ALEMANIA OCCIDENTAL"}
    assert x0._.conjugate_spans == [[0, 0, 2], [7, 5, 7]]
    assert spans_text(t0) == {0: "Bruce Willis", 7: "Alemania Occidental"}
    assert (t0._.conjugate_id, x0._.conjugate_id) == ("a", "a")
    assert (t0._.conjugate_role, x0._.conjugate_role) == ("target", "translation")
    # The engine glued nothing here, but the span boundaries come from the
    # pieces, so "(" and ")" are tokens of their own either way.
    assert [t.text for t in x1] == ["(", "ANA", ")", "and", "LUIS"]
    assert spans_text(x1) == {0: "ANA", 1: "LUIS"}
    assert t1._.conjugate_id == x1._.conjugate_id == "1"
    # One engine call for both sentences and all four spans.
    assert len(engine.batches) == 1 and len(engine.batches[0]) == 6
    assert (summary.pairs_kept, summary.spans_in, summary.spans_kept) == (2, 4, 4)


def test_glued_placeholders_give_exact_token_boundaries():
    doc = target_doc("Vive en Madrid , cerca de Roma .".split(), [[0, 2, 3], [1, 6, 7]])
    translations = {
        "Vive en SPAN0 , cerca de SPAN1 .": "Lives in xSPAN0,near(SPAN1).",
        "Madrid": "Madrid",
        "Roma": "Rome",
    }
    engine = FunctionEngine(function=translations.__getitem__)
    summary = TranslationSummary()
    ((target, translation),) = translate_docs([doc], engine, EN, summary=summary)
    assert spans_text(translation) == {0: "Madrid", 1: "Rome"}
    assert translation.text == "Lives in xMadrid,near(Rome)."
    assert summary.placeholders == {
        "exact": 2,
        "attached_text": 1,
        "attached_punctuation": 1,
        "dropped": 0,
        "repeated": 0,
    }


def test_batches_are_one_engine_call_each():
    docs = [target_doc(f"frase {i} de Ana".split(), [[0, 3, 4]]) for i in range(10)]
    engine = FunctionEngine()
    pairs = list(translate_docs(docs, engine, EN, batch_size=4))
    assert len(pairs) == 10
    # 4 + 4 + 2 sentences; "Ana" is sent once per call (deduplicated).
    assert [len(b) for b in engine.batches] == [5, 5, 3]


def test_bad_input_is_counted_not_crashing():
    docs = [
        target_doc([], []),  # empty line
        target_doc("sin entidades".split(), []),  # no candidate span
        target_doc(["palabra"] * 299 + ["Ana"], [[0, 299, 300]]),  # 300 tokens
        target_doc(["hola", "\x00\x07", "漢字", "Ana"], [[0, 3, 4]]),  # odd characters
        target_doc("Ana y Luis".split(), [[0, 0, 1], [1, 0, 3], [2, 2, 3]]),  # overlap
    ]
    summary = TranslationSummary()
    pairs = list(translate_docs(docs, FunctionEngine(), EN, summary=summary))
    assert (summary.sentences, summary.empty, summary.no_spans) == (5, 1, 1)
    assert summary.overlapping_spans == 1
    assert len(pairs) == 3
    long_target, long_translation = pairs[0]
    assert len(long_translation) == 300 and spans_text(long_translation) == {0: "Ana"}
    assert "\x00" not in pairs[1][1].text and spans_text(pairs[1][1]) == {0: "Ana"}
    assert spans_text(pairs[2][0]) == {0: "Ana", 2: "Luis"}
    assert summary.engine_stats["texts_cleaned"] == 1

    summary = TranslationSummary()
    assert (
        list(translate_docs(docs[2:3], FunctionEngine(), EN, max_tokens=128, summary=summary)) == []
    )
    assert summary.too_long == 1


def test_engine_returning_fewer_lines_stops_the_run():
    docs = [target_doc("Ana vive".split(), [[0, 0, 1]])]
    with pytest.raises(LineCountError, match="returned 1 translations for 2 input lines"):
        list(translate_docs(docs, ShortEngine(), EN))


def test_mangled_placeholders_are_repaired_counted_or_dropped():
    words = "Ana , Luis , Eva y Juan".split()
    docs = [
        target_doc(words, [[0, 0, 1], [1, 2, 3], [2, 4, 5], [3, 6, 7]]),
        target_doc("Pedro".split(), [[0, 0, 1]]),
    ]
    summary = TranslationSummary()
    with FakeGoogle() as fake:
        fake.script.append("mangle")
        engine = get_engine("google", "es", "en", api_key="k", base_url=fake.url)
        pairs = list(translate_docs(docs, engine, EN, summary=summary))
    # mangle(): SPAN0 -> "span 0", SPAN1 -> "(SPAN1)", SPAN2 vanishes,
    # SPAN3 -> "SPAN3 SPAN3"; the lone SPAN0 of "Pedro" becomes "span 0".
    ((target, translation), (pedro, pedro_translation)) = pairs
    assert spans_text(target) == {0: "Ana", 1: "Luis", 3: "Juan"}
    assert spans_text(translation) == {0: "Ana", 1: "Luis", 3: "Juan"}
    assert translation.text == "Ana , (Luis) ,  y Juan Juan"  # mangle() does not translate
    assert summary.placeholders["spacing"] == 2
    assert summary.placeholders["exact"] == 2
    assert summary.placeholders["attached_punctuation"] == 1
    assert summary.placeholders["dropped"] == 1
    assert summary.placeholders["repeated"] == 1
    assert (summary.spans_in, summary.spans_kept) == (5, 4)
    assert summary.to_dict()["survival_rate"] == pytest.approx(0.8)
    assert len(fake.requests) == 1  # sentences and spans in one request


def test_sentence_is_dropped_only_when_no_placeholder_survives():
    docs = [target_doc("Ana vive".split(), [[0, 0, 1]])]
    engine = FunctionEngine(function=lambda t: "she lives" if "SPAN" in t else t)
    summary = TranslationSummary()
    assert list(translate_docs(docs, engine, EN, summary=summary)) == []
    assert (summary.sentences_dropped, summary.placeholders["dropped"]) == (1, 1)


def test_typed_placeholders_use_stored_labels_and_remove_them():
    doc = target_doc("Ana vive en Roma".split(), [[0, 0, 1], [1, 3, 4]])
    doc.user_data[SPAN_LABELS_KEY] = [[0, "PER"], [1, "LOC"]]
    engine = FunctionEngine()
    ((target, translation),) = translate_docs([doc], engine, EN, typed_placeholders=True)
    assert engine.batches[0][0] == "PER0 vive en LOC1"
    assert SPAN_LABELS_KEY not in target.user_data
    assert spans_text(translation) == {0: "Ana", 1: "Roma"}
    bare = target_doc("Ana vive".split(), [[0, 0, 1]])
    with pytest.raises(ValueError, match="--keep-labels"):
        list(translate_docs([bare], FunctionEngine(), EN, typed_placeholders=True))


def test_input_docs_are_not_modified():
    doc = target_doc("Ana y Luis".split(), [[0, 0, 1], [1, 2, 3]], "x")
    engine = FunctionEngine(function=lambda t: t.replace("SPAN1", "él"))
    ((target, _),) = translate_docs([doc], engine, EN)
    assert target._.conjugate_spans == [[0, 0, 1]]
    assert doc._.conjugate_spans == [[0, 0, 1], [1, 2, 3]]


def test_translate_script_writes_pairs_and_summary(tmp_path):
    register_engine("fake", FunctionEngine)
    docs = [
        target_doc("Bruce Willis nació en Alemania .".split(), [[0, 0, 2], [1, 4, 5]], "d0"),
        target_doc("nada aquí".split(), [], "d1"),
        target_doc("( Madrid ) y París".split(), [[0, 1, 2], [1, 4, 5]], "d2"),
    ]
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "in.spacy")
    result = CliRunner().invoke(
        app,
        [
            "translate",
            str(tmp_path / "in.spacy"),
            "-o",
            str(tmp_path / "out.spacy"),
            "--translator",
            "fake",
            "--cache",
            str(tmp_path / "cache.sqlite"),
            "--sentences-per-call",
            "2",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    out = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(EN.vocab))
    assert [d._.conjugate_role for d in out] == ["target", "translation"] * 2
    assert [d._.conjugate_id for d in out] == ["d0", "d0", "d2", "d2"]
    assert spans_text(out[0]) == {0: "Bruce Willis", 1: "Alemania"}
    assert out[1].text == "Bruce Willis was born in Alemania ."
    assert spans_text(out[1]) == {0: "Bruce Willis", 1: "Alemania"}
    # msgpack gives tuples back after a DocBin round trip.
    assert [list(s) for s in out[1]._.conjugate_spans] == [[0, 0, 2], [1, 5, 6]]
    assert spans_text(out[3]) == {0: "Madrid", 1: "París"}
    # The training reader takes the file as it is.
    from conner.consistency.pairs import load_pairs

    assert [t._.conjugate_id for t, _ in load_pairs(tmp_path / "out.spacy", EN.vocab)] == [
        "d0",
        "d2",
    ]
    summary = json.loads((tmp_path / "out.summary.json").read_text())
    assert (summary["sentences"], summary["no_spans"], summary["pairs_kept"]) == (3, 1, 2)
    # d1 has no span, so d0 and d2 make one batch: 2 sentences + 4 spans.
    assert (summary["cache_misses"], summary["cache_hits"], summary["engine_calls"]) == (6, 0, 1)
    assert summary["engine"] == "fake" and summary["model"] == "fake-1"


@pytest.mark.integration
def test_apertium_pairs_end_to_end(tmp_path):
    if shutil.which("apertium") is None:
        pytest.skip("apertium binary missing (apt-get install apertium apertium-eng-spa)")
    engine = get_engine("apertium", "es", "en")
    docs = [
        target_doc("Bruce Willis nació en Alemania Occidental .".split(), [[0, 0, 2], [1, 4, 6]]),
        target_doc(
            "El presidente de ( Argentina ) , Carlos Menem , habló hoy .".split(),
            [[0, 4, 5], [1, 7, 9]],
        ),
    ]
    pairs = list(translate_docs(docs, engine, EN))
    assert spans_text(pairs[0][1]) == {0: "Bruce Willis", 1: "Western Germany"}
    assert pairs[1][1].text == "The president of ( Argentina ) , Carlos Menem , spoke today ."
    assert spans_text(pairs[1][1]) == {0: "Argentina", 1: "Carlos Menem"}


# ------------------------------------------- words a span's translation added


def inflected_spans(text: str) -> str:
    """Render case suffixes as English words, as apertium does for Basque."""
    words = {"Gasteizen": "in Vitoria", "NATO-a": "NATO-and", "Udalak": "The municipality"}
    return " ".join(words.get(word, word) for word in text.split())


def test_span_edges_move_past_the_words_a_translation_added():
    doc = target_doc(
        "Udalak Gasteizen NATO-a ikusi du .".split(), [[0, 0, 1], [1, 1, 2], [2, 2, 3]]
    )
    summary = TranslationSummary()
    engine = FunctionEngine(function=inflected_spans)
    ((_, translation),) = translate_docs([doc], engine, EN, summary=summary)
    assert translation.text == "The municipality in Vitoria NATO-and ikusi du ."
    assert spans_text(translation) == {0: "municipality", 1: "Vitoria", 2: "NATO"}
    assert summary.span_edges_trimmed == 3
    assert summary.to_dict()["span_edges_trimmed"] == 3


def test_keeping_span_edges_keeps_the_translation_whole():
    doc = target_doc("Gasteizen NATO-a .".split(), [[0, 0, 1], [1, 1, 2]])
    summary = TranslationSummary()
    engine = FunctionEngine(function=inflected_spans)
    ((_, translation),) = translate_docs([doc], engine, EN, summary=summary, trim_span_edges=False)
    assert spans_text(translation) == {0: "in Vitoria", 1: "NATO-and"}
    assert summary.span_edges_trimmed == 0


def test_span_edges_are_trimmed_only_for_english_translations():
    doc = target_doc("Gasteizen .".split(), [[0, 0, 1]])
    engine = FunctionEngine(function=inflected_spans)
    ((_, translation),) = translate_docs([doc], engine, spacy.blank("de"))
    assert spans_text(translation) == {0: "in Vitoria"}


def test_translate_cli_keeps_span_edges_on_request(tmp_path):
    register_engine("inflected", lambda src, tgt: FunctionEngine(src, tgt, inflected_spans))
    source = tmp_path / "weak.spacy"
    DocBin(
        docs=[target_doc("Gasteizen .".split(), [[0, 0, 1]], "p")], store_user_data=True
    ).to_disk(source)
    spans = {}
    for flag in ("--trim-span-edges", "--keep-span-edges"):
        out = tmp_path / f"{flag}.spacy"
        result = CliRunner().invoke(
            app,
            ["translate", str(source), "-o", str(out), "--translator", "inflected", flag],
        )
        assert result.exit_code == 0, result.output
        docs = list(DocBin().from_disk(out).get_docs(EN.vocab))
        spans[flag] = spans_text(docs[1])
        summary = json.loads(out.with_suffix(".summary.json").read_text())
        assert summary["span_edges_trimmed"] == (flag == "--trim-span-edges")
    assert spans == {"--trim-span-edges": {0: "Vitoria"}, "--keep-span-edges": {0: "in Vitoria"}}


def test_translate_shards_keep_span_edges_on_request(tmp_path):
    register_engine("inflected", lambda src, tgt: FunctionEngine(src, tgt, inflected_spans))
    shards = tmp_path / "weak"
    shards.mkdir()
    doc = target_doc("Gasteizen .".split(), [[0, 0, 1]], "p")
    DocBin(docs=[doc], store_user_data=True).to_disk(shards / "a.spacy")
    spans = {}
    for flag in ("--trim-span-edges", "--keep-span-edges"):
        out = tmp_path / flag
        result = CliRunner().invoke(
            app,
            ["translate", str(shards), "-o", str(out), "--translator", "inflected", flag],
        )
        assert result.exit_code == 0, result.output
        docs = list(DocBin().from_disk(out / "a.spacy").get_docs(EN.vocab))
        spans[flag] = spans_text(docs[1])
    assert spans == {"--trim-span-edges": {0: "Vitoria"}, "--keep-span-edges": {0: "in Vitoria"}}
