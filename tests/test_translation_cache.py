"""The on-disk translation cache: keys, counts, and resuming after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import spacy
from spacy.tokens import Doc, DocBin
from translation_fakes import FunctionEngine

from conner.consistency.extensions import get_conjugate_spans, set_conjugate_spans
from conner.prepare.translation import CachedTranslator, TranslationCache

TESTS = Path(__file__).resolve().parent


def test_cache_is_keyed_by_engine_model_and_languages(tmp_path):
    engine = FunctionEngine()
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        cache.put_many(engine, {"el gato": "the cat", "la nada": ""})
        assert cache.get_many(engine, ["el gato", "la nada", "el perro"]) == {"el gato": "the cat"}
        assert (cache.hits, cache.misses) == (1, 2)
        assert len(cache) == 1  # empty translations are not stored
        assert cache.get_many(FunctionEngine(model="fake-2"), ["el gato"]) == {}
        assert cache.get_many(FunctionEngine(tgt_lang="de"), ["el gato"]) == {}
    with TranslationCache(tmp_path / "c.sqlite") as reopened:
        assert reopened.get_many(engine, ["el gato"]) == {"el gato": "the cat"}


def test_cached_translator_sends_only_new_distinct_texts(tmp_path):
    engine = FunctionEngine()
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        translator = CachedTranslator(engine, cache)
        assert translator.translate(["el gato", "la casa", "el gato"]) == [
            "the gato",
            "the casa",
            "the gato",
        ]
        assert translator.translate(["la casa", "el perro"]) == ["the casa", "the perro"]
        assert translator.translate(["el perro"]) == ["the perro"]
    assert engine.batches == [["el gato", "la casa"], ["el perro"]]
    assert translator.engine_calls == 2
    assert (cache.hits, cache.misses) == (2, 3)


RUNNER = """
import sys
sys.path[:0] = [{tests!r}]
from conner.cli import app
from conner.prepare.translation import register_engine
from translation_fakes import SlowLoggingEngine
register_engine("slow-fake", SlowLoggingEngine)
app(args=["translate", *sys.argv[1:]], prog_name="conner")
"""


def _run(tmp_path: Path, log: Path, delay: float) -> subprocess.Popen:
    code = RUNNER.format(tests=str(TESTS))
    args = [
        sys.executable,
        "-c",
        code,
        str(tmp_path / "in.spacy"),
        "-o",
        str(tmp_path / "out.spacy"),
        "--translator",
        "slow-fake",
        "--option",
        f"log={log}",
        "--option",
        f"delay={delay}",
        "--cache",
        str(tmp_path / "cache.sqlite"),
        "--sentences-per-call",
        "5",
        "--no-progress",
    ]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _starts(log: Path):
    if not log.exists():
        return []
    return [json.loads(line)["lines"] for line in log.read_text().splitlines() if line.strip()]


def test_a_killed_run_resumes_without_retranslating_or_losing_anything(tmp_path):
    nlp = spacy.blank("es")
    docs = []
    for i in range(30):
        doc = Doc(nlp.vocab, words=f"frase {i} sobre Persona{i} .".split())
        set_conjugate_spans(doc, f"s{i}", "target", [[0, 3, 4]])
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "in.spacy")

    # Run 1: six batches of 5 sentences + 5 spans, 0.5 s each; kill it while
    # the third batch is inside the engine.
    log1 = tmp_path / "run1.jsonl"
    first = _run(tmp_path, log1, delay=0.5)
    deadline = time.time() + 90
    while len(_starts(log1)) < 3:
        assert first.poll() is None, first.stdout.read().decode()
        assert time.time() < deadline, "the first run never reached its third batch"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL
    assert not (tmp_path / "out.spacy").exists()
    finished = {text for batch in _starts(log1)[:2] for text in batch}
    assert len(finished) == 20

    # Run 2: the same command again.
    log2 = tmp_path / "run2.jsonl"
    second = _run(tmp_path, log2, delay=0.0)
    output = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, output
    retranslated = {text for batch in _starts(log2) for text in batch}
    assert not retranslated & finished  # nothing finished is translated again
    assert len(retranslated) == 40  # everything else is
    summary = json.loads((tmp_path / "out.summary.json").read_text())
    assert (summary["cache_hits"], summary["cache_misses"]) == (20, 40)

    # Nothing lost: every sentence has its pair with the span in place.
    out = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(nlp.vocab))
    translations = [d for d in out if d._.conjugate_role == "translation"]
    assert [d._.conjugate_id for d in translations] == [f"s{i}" for i in range(30)]
    for i, doc in enumerate(translations):
        assert doc.text == f"frase {i} sobre Persona{i} ."
        assert {k: s.text for k, s in get_conjugate_spans(doc).items()} == {0: f"Persona{i}"}
    with TranslationCache(tmp_path / "cache.sqlite") as cache:
        assert len(cache) == 60
