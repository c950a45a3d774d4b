"""Corpus runs over shards (``conner.shards``): finding and reading shards,
bad input named by file, one failing shard among good ones, resuming after
a kill, and the Ray engine giving the local engine's bytes."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from test_transformer_pipeline import build_nlp
from typer.testing import CliRunner

from conner.cli import app
from conner.consistency.extensions import get_conjugate_spans
from conner.shards import (
    ShardError,
    TagJob,
    WeakTagJob,
    find_shards,
    plan_shards,
    read_chunks,
    run_shards,
)

FIXTURE_PIPELINE = Path(__file__).parent / "fixtures" / "pipeline_before_move"
NAMES = ["Ana", "Rex", "Oslo", "Tom Kitten", "New York City", "Buenos Aires"]


def ruler_pipeline(path: Path) -> str:
    """A fast, deterministic tagger: an entity ruler."""
    nlp = spacy.blank("es")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PER", "pattern": "Ana"},
            {"label": "LOC", "pattern": [{"LOWER": "buenos"}, {"LOWER": "aires"}]},
        ]
    )
    nlp.to_disk(path)
    return str(path)


def sentence(i: int) -> str:
    return f"{NAMES[i % len(NAMES)]} saw {NAMES[(i * 7 + 3) % len(NAMES)]} on day {i} ."


def write_corpus(folder: Path, shards: int = 3, docs: int = 7) -> Path:
    """Text shards, a JSON-lines shard in a subfolder and a DocBin shard."""
    (folder / "sub").mkdir(parents=True)
    for s in range(shards):
        lines = [sentence(s * 100 + i) for i in range(docs)]
        (folder / f"part{s}.txt").write_text("\n".join(lines) + "\n\n", encoding="utf8")
    records = [{"text": sentence(500 + i), "id": i} for i in range(docs)]
    (folder / "sub" / "news.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf8"
    )
    nlp = spacy.blank("xx")
    DocBin(docs=[nlp(sentence(900 + i)) for i in range(docs)]).to_disk(folder / "docs.spacy")
    (folder / ".hidden.txt").write_text("never read\n", encoding="utf8")
    return folder


def outputs(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


# Finding, naming and reading shards


def test_a_folder_is_read_recursively_without_hidden_files(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    found = [p.relative_to(corpus).as_posix() for p in find_shards(str(corpus))]
    assert found == ["docs.spacy", "part0.txt", "part1.txt", "part2.txt", "sub/news.jsonl"]


def test_a_glob_keeps_the_relative_names_below_its_fixed_part(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    shards = plan_shards(f"{corpus}/**/*.jsonl", tmp_path / "out", ".spacy")
    assert [s.output for s in shards] == [tmp_path / "out" / "sub" / "news.spacy"]


@pytest.mark.parametrize("pattern", ["missing", "empty", "nothing*.txt"])
def test_no_input_shard_is_an_error_naming_the_input(tmp_path, pattern):
    (tmp_path / "empty").mkdir()
    inputs = str(tmp_path / pattern)
    with pytest.raises(ShardError, match="no such file|no input shard") as err:
        find_shards(inputs)
    assert inputs in str(err.value)


def test_two_inputs_that_would_write_one_output_are_named(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("a.txt", "a.jsonl"):
        (tmp_path / "in" / name).write_text('{"text": "x"}\n', encoding="utf8")
    with pytest.raises(ShardError, match=r"a\.jsonl and .*a\.txt would both write"):
        plan_shards(str(tmp_path / "in"), tmp_path / "out", ".jsonl")


def test_chunks_cover_every_document_once_in_order(tmp_path):
    corpus = write_corpus(tmp_path / "in", docs=7)
    chunks = read_chunks(corpus / "part1.txt", 3, ("text",))
    assert [(c.index, c.count, c.first) for c in chunks] == [(0, 3, 0), (1, 3, 3), (2, 3, 6)]
    texts = [r["text"] for c in chunks for r in json.loads(c.data)]
    assert texts == [sentence(100 + i) for i in range(7)]


def bad_shard(tmp_path: Path, kind: str) -> Path:
    if kind == "empty":
        path = tmp_path / "empty.txt"
        path.write_text("\n\n", encoding="utf8")
    elif kind == "not a DocBin":
        path = tmp_path / "fake.spacy"
        path.write_bytes(b"this is text, not msgpack")
    elif kind == "bad JSON line":
        path = tmp_path / "bad.jsonl"
        path.write_text('{"text": "fine"}\n{"text": \n', encoding="utf8")
    elif kind == "not UTF-8":
        path = tmp_path / "latin.txt"
        path.write_bytes("Málaga\n".encode("latin-1"))
    else:  # unreadable: the kernel refuses to read it, even for root
        path = tmp_path / "unreadable.txt"
        path.symlink_to("/proc/self/mem")
    return path


@pytest.mark.parametrize(
    "kind,message",
    [
        ("empty", "holds no document"),
        ("not a DocBin", "not a spaCy DocBin"),
        ("bad JSON line", r"bad\.jsonl:2: not JSON"),
        ("not UTF-8", "not UTF-8 text"),
        ("unreadable", "cannot be read"),
    ],
)
def test_a_bad_shard_is_an_error_naming_its_file(tmp_path, kind, message):
    path = bad_shard(tmp_path, kind)
    with pytest.raises(ShardError, match=message) as err:
        read_chunks(path, 10, ("spacy", "jsonl", "text"))
    assert str(path) in str(err.value)


def test_a_shard_in_a_format_the_command_does_not_read_is_named(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("Ana vive aquí .\n", encoding="utf8")
    with pytest.raises(ShardError, match=r"plain\.txt: a text shard; this command reads spacy"):
        read_chunks(path, 10, ("spacy",))


# The local engine through the commands


def test_tag_writes_one_output_shard_per_input_and_skips_them_next_time(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    model = ruler_pipeline(tmp_path / "ruler")
    out = tmp_path / "out"
    args = ["tag", model, str(corpus), "-o", str(out), "--chunk-docs", "3", "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "5 shards written, 0 already done, 0 failed; 35 documents" in result.output
    assert sorted(outputs(out)) == [
        "docs.jsonl",
        "part0.jsonl",
        "part1.jsonl",
        "part2.jsonl",
        "sub/news.jsonl",
    ]
    records = [json.loads(line) for line in (out / "sub" / "news.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == list(range(7))  # the input's keys travel
    ana = [r for r in records if r["text"].startswith("Ana ")]
    assert ana and all(e["label"] == "PER" for r in ana for e in r["entities"][:1])
    before = outputs(out)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "0 shards written, 5 already done" in again.output
    assert outputs(out) == before


def test_a_failing_shard_is_named_and_the_others_are_written(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    bad = bad_shard(corpus, "bad JSON line")
    model = ruler_pipeline(tmp_path / "ruler")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["tag", model, str(corpus), "-o", str(out), "--no-progress"])
    assert result.exit_code == 1
    assert f"Failed: {bad}: {bad}:2: not JSON" in result.output
    assert "5 shards written, 0 already done, 1 failed" in result.output
    assert "bad.jsonl" not in outputs(out) and len(outputs(out)) == 5


def test_weak_tag_shards_give_unique_pair_ids_and_the_whole_file_spans(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    model = ruler_pipeline(tmp_path / "ruler")
    out = tmp_path / "out"
    args = [
        "weak-tag",
        model,
        str(corpus),
        "-o",
        str(out),
        "--id-prefix",
        "es-",
        "--chunk-docs",
        "2",
    ]
    result = CliRunner().invoke(app, [*args, "--no-progress"])
    assert result.exit_code == 0, result.output
    nlp = spacy.load(model)
    docs = {
        name: list(DocBin().from_bytes(data).get_docs(nlp.vocab))
        for name, data in outputs(out).items()
        if name.endswith(".spacy")
    }
    ids = [doc._.conjugate_id for shard in docs.values() for doc in shard]
    assert len(ids) == 35 and len(set(ids)) == 35
    assert docs["part1.spacy"][4]._.conjugate_id == "es-part1-4"
    # Each Doc's spans are the ruler's entities on the same words.
    for doc in docs["part1.spacy"]:
        expected = [(e.start, e.end) for e in nlp(Doc(nlp.vocab, words=[t.text for t in doc])).ents]
        spans = get_conjugate_spans(doc).values()
        assert sorted((span.start, span.end) for span in spans) == expected


def test_a_killed_run_resumes_where_it_stopped(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    for s in range(12):
        lines = [sentence(s * 1000 + i) for i in range(300)]
        (corpus / f"part{s:02d}.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    model = str(FIXTURE_PIPELINE)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "conner", "tag", model, str(corpus), "-o", str(out)]
    command += ["--chunk-docs", "20", "--no-progress"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while not list(out.glob("*.jsonl")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    done = sorted(p.name for p in out.glob("*.jsonl"))
    assert 1 <= len(done) < 12, "the run must be killed mid-way"
    for path in out.glob("*.jsonl"):  # only whole shards are there
        assert len(path.read_text(encoding="utf8").splitlines()) == 300
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{12 - len(done)} shards written, {len(done)} already done" in resumed.stdout
    clean = tmp_path / "clean"
    subprocess.run([*command[:-5], "-o", str(clean), *command[-3:]], check=True, timeout=600)
    assert outputs(out) == outputs(clean)


# The Ray engine


@pytest.fixture(scope="module")
def embedded_ray():
    """One Ray started in this process for the tests that use it (the engine
    then neither starts nor stops Ray), on the loopback address."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1")
    yield ray
    ray.shutdown()


def test_ray_on_this_machine_writes_the_local_engines_bytes(tmp_path, tiny_encoder, embedded_ray):
    corpus = write_corpus(tmp_path / "in")
    model = str(FIXTURE_PIPELINE)
    with_transformer = tmp_path / "with-transformer"
    build_nlp(tiny_encoder)[0].to_disk(with_transformer)
    jobs = {
        "tag": TagJob(model),
        "weak-tag": WeakTagJob(model, id_prefix="x-"),
        # The int8 encoder on Ray too (a pipeline without a transformer pipe is refused).
        "tag-int8": TagJob(str(with_transformer), int8=True),
    }
    for name, job in jobs.items():
        local = plan_shards(str(corpus), tmp_path / f"local-{name}", job.output_suffix)
        on_ray = plan_shards(str(corpus), tmp_path / f"ray-{name}", job.output_suffix)
        a = run_shards(job, local, "local", chunk_docs=3, progress=False)
        b = run_shards(job, on_ray, "ray", 3, False, {"workers": 2, "cpus_per_worker": 1})
        assert not a.failed and not b.failed and b.duplicates == 0, name
        assert a.docs == b.docs == 35, name
        assert outputs(tmp_path / f"ray-{name}") == outputs(tmp_path / f"local-{name}"), name


def test_ray_names_a_failing_shard_and_writes_the_others(tmp_path, embedded_ray):
    corpus = write_corpus(tmp_path / "in")
    bad = bad_shard(corpus, "not a DocBin")
    shards = plan_shards(str(corpus), tmp_path / "out", ".jsonl")
    report = run_shards(TagJob(str(FIXTURE_PIPELINE)), shards, "ray", 4, False, {"workers": 1})
    assert list(report.failed) == [str(bad)]
    assert "not a spaCy DocBin" in report.failed[str(bad)]
    assert len(report.written) == 5


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
def test_translation_on_ray_gives_the_local_pairs_and_summaries(tmp_path):
    pytest.importorskip("ray")
    corpus = tmp_path / "in"
    corpus.mkdir()
    model = ruler_pipeline(tmp_path / "ruler")
    for s in range(2):
        lines = [f"Ana vive en Buenos Aires desde el año {s * 10 + i} ." for i in range(6)]
        (corpus / f"part{s}.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    weak = tmp_path / "weak"
    result = CliRunner().invoke(
        app, ["weak-tag", model, str(corpus), "-o", str(weak), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    for engine in ("local", "ray"):
        args = ["translate", str(weak), "-o", str(tmp_path / engine), "--lang", "es"]
        args += ["--engine", engine, "--chunk-docs", "4", "--no-progress"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    assert outputs(tmp_path / "ray") == outputs(tmp_path / "local")
    summary = json.loads((tmp_path / "local" / "part0.summary.json").read_text())
    assert summary["sentences"] == 6 and summary["pairs_kept"] == 6 and summary["spans_in"] == 12
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(tmp_path / "local" / "part1.spacy").get_docs(nlp.vocab))
    assert [d._.conjugate_role for d in docs] == ["target", "translation"] * 6


def test_the_benchmark_deals_one_file_into_text_shards_round_robin(tmp_path):
    from conner.cli.bench_shards import parse_workers, split_into_shards

    nlp = spacy.blank("xx")
    DocBin(docs=[nlp(sentence(i)) for i in range(7)]).to_disk(tmp_path / "all.spacy")
    (tmp_path / "shards").mkdir()
    folder = split_into_shards(tmp_path / "all.spacy", 3, tmp_path / "shards")
    texts = [Path(p).read_text().splitlines() for p in sorted(Path(folder).iterdir())]
    assert texts == [[sentence(i) for i in range(k, 7, 3)] for k in range(3)]
    assert parse_workers("1,2") == [1, 2]
    with pytest.raises(Exception, match="worker counts"):
        parse_workers("0")
