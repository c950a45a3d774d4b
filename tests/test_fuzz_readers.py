"""Fuzzing every reader: any input ends in a valid output or a clean error.

Each test draws files (half well-formed, half with hostile lines, bytes and
values mixed in) and feeds them to one reader: CoNLL, JSON lines,
UniversalNER iob2, plain text, the ConNER release (through
``conner import-release``), pair DocBins (``conner.consistency.pairs.load_pairs``)
and ``conner convert`` in every format. A reader must either give sentences
that a DocBin can hold, or raise its documented error: a ``ValueError``
(:class:`ConllFormatError` for a malformed line) that names the file, and the
line where the file has lines. A command must end with exit code 0 and its
output, or 1, a one-line message naming the input and no output at all (no
half-written or temporary file left). Any other exception fails the test.

The fuzz tests carry the ``fuzz`` marker. The "ci" profile (tests/conftest.py)
tries 25 inputs per test; the "fuzz" profile many more: ``python
scripts/fuzz.py``. Two unmarked tests check the harness itself: that the
strategies reach both valid inputs and errors, and scripts/fuzz.py's counts.
"""

import importlib.util
import json
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

import pytest
import spacy
from hypothesis import find, given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin
from typer.testing import CliRunner

from conner.cli import app
from conner.cli.import_release import import_release
from conner.consistency.extensions import (
    CONJUGATE_ID,
    CONJUGATE_ROLE,
    CONJUGATE_SPANS,
    get_conjugate_spans,
)
from conner.consistency.pairs import load_pairs
from conner.prepare.conll import SCHEMES, ConllFormatError, Sentence, read_conll, sentence_to_doc
from conner.prepare.jsonl import read_jsonl
from conner.prepare.release import TARGET_FILE, TRANSLATION_FILE
from conner.prepare.text import read_text
from conner.prepare.uner import read_uner

VOCAB = spacy.blank("xx").vocab

# ------------------------------------------------------------- strategies
# Every file strategy first draws ``hostile``: half the files are made of
# well-formed lines only (so that the readers' outputs are checked too), the
# other half mix in broken lines, values and bytes.

GOOD_TAGS = st.sampled_from(
    ["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-OTH", "I-OTH", "B-MISC"]
)
# Well-formed tags of every scheme: files that mix schemes or need repairs.
SCHEME_TAGS = st.sampled_from(
    ["O", "B-PER", "I-PER", "E-PER", "S-PER", "L-LOC", "U-LOC", "I-LOC", "B-ORG"]
)
TAGS = st.one_of(
    GOOD_TAGS,
    SCHEME_TAGS,
    st.sampled_from(["B-", "X-PER", "b-per", "B_PER", "I-PER-X", "O-", "-PER"]),
    st.text(max_size=5),
)


def file_tags(draw, hostile: bool) -> st.SearchStrategy:
    """The tags of one file: IOB2, or if hostile, any scheme's or anything at all."""
    return draw(st.sampled_from([SCHEME_TAGS, TAGS])) if hostile else GOOD_TAGS


GOOD_WORDS = st.one_of(
    st.sampled_from(
        ["Ana", "Roma", "de", ".", ",", "Zagreb", "L'Ajuntament", "1934an", "été", "漢字"]
    ),
    st.text(alphabet=st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=6),
)
WORDS = st.one_of(
    GOOD_WORDS,
    st.sampled_from(["-DOCSTART-", "#", "\u00a0", "\ufeff", "\u200b", "x y", "a\tb"]),
    st.text(min_size=1, max_size=6),
)
# Values of any JSON type, for the places a reader expects something else.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
LONE_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


def broken(draw, hostile: bool, ways: int) -> int:
    """-1 to keep the next item as it is; in a hostile file, one time in
    five, which of ``ways`` ways to break it (0 .. ways - 1)."""
    if not hostile or draw(st.integers(0, 4)):
        return -1
    return draw(st.integers(0, ways - 1))


@st.composite
def file_bytes(draw, lines: Sequence[str], hostile: bool) -> bytes:
    """``lines`` as a file: \n or \r\n ends, maybe a BOM; if hostile, maybe stray bytes."""
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + draw(st.sampled_from([end, ""]))
    if draw(st.booleans()):
        text = "\ufeff" + text
    # surrogatepass: a lone surrogate becomes bytes that are not valid UTF-8.
    data = text.encode("utf-8", "surrogatepass")
    if broken(draw, hostile, 1) == 0:
        garbage = draw(st.binary(min_size=1, max_size=3))
        position = draw(st.integers(0, len(data)))
        data = data[:position] + garbage + data[position:]
    return data


@st.composite
def conll_files(draw) -> bytes:
    hostile = draw(st.booleans())
    separator = draw(st.sampled_from([" ", "\t"]))
    n_columns = draw(st.integers(2, 3))
    words = WORDS if hostile else GOOD_WORDS.filter(lambda w: " " not in w)
    tags = file_tags(draw, hostile)
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = broken(draw, hostile, 2)
        if kind == 1:
            lines.append(draw(st.text(max_size=12)))
        else:
            columns = [draw(words) for _ in range(n_columns - 1)] + [draw(tags)]
            if kind == 0:
                columns = columns[: draw(st.integers(1, n_columns))]
            lines.append(separator.join(columns))
        extra = draw(st.integers(0, 19))
        if extra < 5:
            lines.append("")  # a sentence break
        elif extra == 5:
            lines.append(
                draw(st.sampled_from(["-DOCSTART- -X- O", "-DOCSTART-\t0\tO", "-DOCSTART-"]))
            )
    return draw(file_bytes(lines, hostile))


@st.composite
def jsonl_line(draw, hostile: bool) -> str:
    kind = broken(draw, hostile, 8)
    if kind == 0:
        return draw(st.sampled_from(["", "   ", "[" * 3000, "{", "null", "1e999999", "9" * 5000]))
    if kind == 1:
        return json.dumps(draw(JSON_VALUES))
    if kind == 2:
        return draw(st.text(max_size=20))
    words = WORDS if hostile else GOOD_WORDS
    tokens: List = draw(st.lists(words, max_size=6))
    tags: List = draw(
        st.lists(file_tags(draw, hostile), min_size=len(tokens), max_size=len(tokens))
    )
    record: Dict = {"idx": draw(st.integers(0, 10**6)), "tokens": tokens, "tags": tags}
    if kind == 3:
        del record[draw(st.sampled_from(["tokens", "tags"]))]
    elif kind == 4:
        record[draw(st.sampled_from(["tokens", "tags"]))] = draw(JSON_VALUES)
    elif kind == 5:
        record["tags"] = tags + [draw(TAGS)]
    elif kind == 6 and tokens:
        tokens[draw(st.integers(0, len(tokens) - 1))] = draw(
            JSON_VALUES | LONE_SURROGATES | st.just("")
        )
    elif kind == 7 and tags:
        tags[draw(st.integers(0, len(tags) - 1))] = draw(JSON_VALUES | LONE_SURROGATES)
    return json.dumps(record, ensure_ascii=draw(st.booleans()))


@st.composite
def jsonl_files(draw) -> bytes:
    hostile = draw(st.booleans())
    return draw(file_bytes(draw(st.lists(jsonl_line(hostile), max_size=8)), hostile))


@st.composite
def iob2_files(draw) -> bytes:
    hostile = draw(st.booleans())
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        tokens = draw(st.lists(WORDS if hostile else GOOD_WORDS, min_size=1, max_size=5))
        glue = draw(st.sampled_from([" ", "", "  "]))
        text = draw(st.sampled_from([glue.join(tokens), " ".join(tokens) + ".", ""])) or draw(
            st.text(max_size=10)
        )
        lines += draw(st.sampled_from([[], ["# sent_id = s1"], ["# newdoc id = d1", "# url = NA"]]))
        lines.append(f"# text = {text}")
        for number, token in enumerate(tokens, start=1):
            columns = [str(number), token, draw(file_tags(draw, hostile)), draw(TAGS), "-"]
            kind = broken(draw, hostile, 3)
            if kind == 0:
                columns = columns[: draw(st.integers(0, 2))]
            elif kind == 1:
                columns[0] = draw(st.sampled_from(["x", "1-2", "1.1", "", "\u0663"]))
            elif kind == 2:
                columns[1] = draw(st.sampled_from(["", " "]))
            lines.append("\t".join(columns))
        lines.append(draw(st.sampled_from(["", "   ", "#"])) if hostile else "")
    if hostile and draw(st.booleans()):
        lines.append(draw(st.text(max_size=15)))
    return draw(file_bytes(lines, hostile))


@st.composite
def text_files(draw) -> bytes:
    hostile = draw(st.booleans())
    line = st.one_of(
        st.text(max_size=40),
        st.sampled_from(["", " \t ", "Bon dia, Roma.", "\u2028x\u2029", "a\x00b"]),
    )
    return draw(file_bytes(draw(st.lists(line, max_size=8)), hostile))


@st.composite
def release_side(draw, n_blocks: int, hostile: bool) -> List[List[str]]:
    """Blocks of ``token<TAB>span-id<TAB>tag`` lines, some of them hostile."""
    blocks = []
    for _ in range(n_blocks):
        if draw(st.integers(0, 9)) == 0:
            blocks.append(["-DOCSTART-\t0\tO"])
            continue
        rows = []
        for _ in range(draw(st.integers(1, 5))):
            span_id = draw(st.sampled_from(["0", "0", "1", "1", "2", "3"]))
            row = [draw(WORDS if hostile else GOOD_WORDS), span_id, draw(TAGS)]
            kind = broken(draw, hostile, 2)
            if kind == 0:
                row[1] = draw(st.sampled_from(["x", "-1", "", "\u00b2", "1.5"]))
            elif kind == 1:
                row = row[:1]
            rows.append("\t".join(row))
        blocks.append(rows)
    return blocks


@st.composite
def release_folders(draw):
    """The two files of an En2XX folder of the ConNER release."""
    hostile = draw(st.booleans())
    n_blocks = draw(st.integers(0, 5))
    sides = []
    for _ in (TARGET_FILE, TRANSLATION_FILE):
        # Now and then one side has a sentence more or less.
        n = n_blocks + (draw(st.integers(-1, 1)) if broken(draw, hostile, 1) == 0 else 0)
        lines = [line for block in draw(release_side(max(n, 0), hostile)) for line in block + [""]]
        sides.append(draw(file_bytes(lines, hostile)))
    return sides


@st.composite
def pair_files(draw) -> bytes:
    """A pair DocBin: well-formed pairs or, if hostile, broken ones or damaged bytes."""
    hostile = draw(st.booleans())
    docs = []
    for number in range(draw(st.integers(0 if hostile else 1, 4))):
        pair_id = f"p{number}"
        roles = ["target", "translation"]
        if hostile:
            pair_id = draw(st.sampled_from(["p0", "p1", "p2"]) | st.integers(0, 2) | JSON_VALUES)
            roles = draw(
                st.sampled_from([roles, ["target"], ["translation", "target"]])
                | st.lists(st.sampled_from(roles + ["source"]) | JSON_VALUES, max_size=2)
            )
        for role in roles:
            words = draw(
                st.lists(
                    st.sampled_from(["Ana", "vive", "en", "Roma", "."]), min_size=1, max_size=5
                )
            )
            doc = Doc(VOCAB, words=words)
            n = len(words)
            # Well-formed: disjoint one-token spans with distinct keys.
            starts = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=3))
            spans = [[key, start, start + 1] for key, start in enumerate(sorted(starts))]
            if hostile:
                spans = draw(
                    st.just(spans)
                    | JSON_VALUES
                    | st.lists(
                        st.tuples(
                            st.integers(0, 3), st.integers(-1, n + 1), st.integers(-1, n + 1)
                        ).map(list),
                        max_size=3,
                    )
                )
            for name, value in (
                (CONJUGATE_ID, pair_id),
                (CONJUGATE_ROLE, role),
                (CONJUGATE_SPANS, spans),
            ):
                if broken(draw, hostile, 1) != 0:  # now and then an attribute is missing
                    doc.user_data[("._.", name, None, None)] = value
            docs.append(doc)
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    damage = draw(st.integers(0, 5)) if hostile else -1
    if damage == 0:
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == 1 and data:
        position = draw(st.integers(0, len(data) - 1))
        data = (
            data[:position]
            + bytes([data[position] ^ draw(st.integers(1, 255))])
            + data[position + 1 :]
        )
    elif damage == 2:
        data = draw(st.binary(max_size=40))
    return data


# ------------------------------------------------------------- checks


@contextmanager
def workdir() -> Iterator[Path]:
    """A fresh folder per example (pytest's tmp_path is one per test)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def n_lines(data: bytes) -> int:
    """How many lines a reader that splits at \\n sees."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def assert_clean_error(error: Exception, path: Path, data: bytes) -> None:
    """A documented error: one line naming the file, and an existing line of it."""
    message = str(error)
    assert isinstance(error, ValueError), f"{type(error).__name__}: {message}"
    assert "\n" not in message, message
    assert str(path) in message, message
    if isinstance(error, ConllFormatError):
        assert error.source == str(path)
        assert message.startswith(f"{path}, line {error.line}: "), message
        assert 1 <= error.line <= n_lines(data), (error.line, n_lines(data))


def assert_storable(sentences: Sequence[Sentence], labeled: bool) -> None:
    """Sentences that become Docs and survive a DocBin round trip unchanged."""
    docs = []
    for sentence in sentences:
        assert sentence.words and all(isinstance(w, str) and w for w in sentence.words)
        assert (sentence.spans is not None) == labeled
        for start, end, label in sentence.spans or []:
            assert 0 <= start < end <= len(sentence.words) and label
        if sentence.spaces is not None:
            assert len(sentence.spaces) == len(sentence.words)
        docs.append(sentence_to_doc(VOCAB, sentence))
    loaded = list(DocBin(docs=docs).from_bytes(DocBin(docs=docs).to_bytes()).get_docs(VOCAB))
    assert [[t.text for t in d] for d in loaded] == [s.words for s in sentences]
    assert [[(e.start, e.end, e.label_) for e in d.ents] for d in loaded] == [
        list(s.spans or []) for s in sentences
    ]


def read_or_fail(reader, data: bytes, name: str, expect_labels: bool, **options) -> None:
    """Read ``data`` as a file called ``name``: storable sentences or a clean error."""
    with workdir() as folder:
        path = folder / name
        path.write_bytes(data)
        try:
            sentences, report = reader(path, **options)
        except Exception as error:  # anything but a clean error fails below
            assert_clean_error(error, path, data)
            return
        assert_storable(sentences, expect_labels)
        assert report.sentences == len(sentences)
        assert report.tokens == sum(len(s.words) for s in sentences)


def invoke(command: str, args):
    """``conner COMMAND ARGS`` in-process; returns click's result."""
    return CliRunner().invoke(app, [command, *map(str, args)])


def assert_script_outcome(result, named: Sequence, outputs: Sequence[Path], folder: Path) -> None:
    """Exit 0 with every output, or 1 with a message naming one of ``named``
    (the input, or the option at fault) and no output."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an unexpected exception, with its traceback
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    # Nothing half-written: no temporary sibling of an output is left behind.
    assert not [p for p in folder.rglob("*.part")], result.output
    if result.exit_code == 0:
        assert all(p.is_file() and p.stat().st_size for p in outputs), result.output
    else:
        assert not any(p.exists() for p in outputs), result.output
        flat = " ".join(result.output.split())
        assert any(str(name) in flat for name in named), result.output


# ------------------------------------------------------------- readers


@pytest.mark.fuzz
@given(data=conll_files(), labeled=st.booleans(), scheme=st.sampled_from(("auto",) + SCHEMES))
def test_conll_reader(data, labeled, scheme):
    read_or_fail(read_conll, data, "data.conll", labeled, scheme=scheme, labeled=labeled)


@pytest.mark.fuzz
@given(data=jsonl_files(), labeled=st.booleans(), scheme=st.sampled_from(("auto", "IOB2", "BIOES")))
def test_jsonl_reader(data, labeled, scheme):
    read_or_fail(read_jsonl, data, "data.jsonl", labeled, scheme=scheme, labeled=labeled)


@pytest.mark.fuzz
@given(data=iob2_files(), labeled=st.booleans())
def test_iob2_reader(data, labeled):
    read_or_fail(read_uner, data, "data.iob2", labeled, labeled=labeled)


@pytest.mark.fuzz
@given(data=text_files(), lang=st.sampled_from(["ca", "eu", "hr", "xx"]))
def test_text_reader(data, lang):
    read_or_fail(read_text, data, "data.txt", False, lang=lang)
    try:
        lines = data.decode("utf-8").lstrip("\ufeff").split("\n")
    except UnicodeDecodeError:
        return
    # One sentence per line that holds more than whitespace, none for the rest.
    with workdir() as folder:
        (folder / "t.txt").write_bytes(data)
        sentences, _ = read_text(folder / "t.txt", lang)
    assert len(sentences) == sum(bool(line.split()) for line in lines)
    assert all(not word.isspace() for s in sentences for word in s.words)


@pytest.mark.fuzz
@given(data=release_folders(), lang=st.sampled_from(["de", "es"]))
def test_conner_release_import(data, lang):
    with workdir() as folder:
        release = folder / "En2Xx"
        release.mkdir()
        for name, content in zip((TARGET_FILE, TRANSLATION_FILE), data):
            (release / name).write_bytes(content)
        output, report = folder / "out" / "pairs.spacy", folder / "out" / "report.json"
        result = invoke(
            "import-release", [release, "-o", output, "--lang", lang, "--report", report]
        )
        # "0 of N pairs kept" names the output it did not write.
        assert_script_outcome(result, [release, output], [output], folder)
        if result.exit_code == 0:
            for target, translation in load_pairs(output, spacy.blank(lang).vocab):
                assert set(get_conjugate_spans(target)) == set(get_conjugate_spans(translation))
        elif not report.exists():
            # Failing before the report: a format error naming its file and line.
            message = " ".join(result.output.split())
            assert TARGET_FILE in message or TRANSLATION_FILE in message, result.output


@pytest.mark.fuzz
@given(data=pair_files())
def test_pair_docbin_reader(data):
    with workdir() as folder:
        path = folder / "pairs.spacy"
        path.write_bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pairs = load_pairs(path, VOCAB)
            except Exception as error:
                message = str(error)
                assert isinstance(error, ValueError), f"{type(error).__name__}: {message}"
                assert str(path) in message and "\n" not in message, message
                return
    for target, translation in pairs:
        assert (target._.get(CONJUGATE_ROLE), translation._.get(CONJUGATE_ROLE)) == (
            "target",
            "translation",
        )
        assert target._.get(CONJUGATE_ID) == translation._.get(CONJUGATE_ID)
        shared = set(get_conjugate_spans(target)) & set(get_conjugate_spans(translation))
        assert shared
        for doc in (target, translation):
            for _, start, end in doc._.get(CONJUGATE_SPANS):
                assert 0 <= start < end <= len(doc)


# ------------------------------------------------------------- convert.py

FORMAT_FILES = {
    "conll": conll_files(),
    "jsonl": jsonl_files(),
    "iob2": iob2_files(),
    "text": text_files(),
}


@pytest.mark.fuzz
@pytest.mark.parametrize("input_format", sorted(FORMAT_FILES))
@given(data=st.data(), unlabeled=st.booleans())
def test_convert_script(input_format, data, unlabeled):
    content = data.draw(FORMAT_FILES[input_format], label="file")
    label_map = data.draw(
        st.sampled_from([[], ["OTH=MISC"], ["PER=X", "LOC=X"], ["bad"]]), label="label map"
    )
    with workdir() as folder:
        source = folder / f"input.{input_format}"
        source.write_bytes(content)
        output, report = folder / "corpus" / "out.spacy", folder / "corpus" / "report.json"
        args = [source, "-o", output, "--format", input_format, "--lang", "hr", "--report", report]
        args += ["--unlabeled"] * unlabeled + [f"--label-map={item}" for item in label_map]
        result = invoke("convert", args)
        assert_script_outcome(
            result, [source, "--label-map", "--unlabeled"], [output, report], folder
        )
        if result.exit_code == 0:
            docs = list(DocBin().from_disk(output).get_docs(spacy.blank("hr").vocab))
            assert docs and len(docs) == json.loads(report.read_text())["written"]["sentences"]
            assert all(not d.has_annotation("ENT_IOB") for d in docs) or not unlabeled


@pytest.mark.parametrize("name", ["conll", "jsonl", "iob2", "text", "release", "pairs"])
def test_the_strategies_reach_both_valid_input_and_errors(name):
    """Neither all errors nor all valid: the fuzz tests see both outcomes."""
    strategies = {
        "conll": (conll_files(), read_conll),
        "jsonl": (jsonl_files(), read_jsonl),
        "iob2": (iob2_files(), read_uner),
        "text": (text_files(), lambda p: read_text(p, "ca")),
        "release": (release_folders(), None),
        "pairs": (pair_files(), None),
    }
    strategy, reader = strategies[name]

    def outcome(data) -> str:
        with workdir() as folder:
            try:
                if name == "release":
                    for file_name, content in zip((TARGET_FILE, TRANSLATION_FILE), data):
                        (folder / file_name).write_bytes(content)
                    found = import_release(
                        folder / TARGET_FILE, folder / TRANSLATION_FILE, VOCAB, VOCAB
                    )[0]
                else:
                    (folder / "f").write_bytes(data)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        found = (
                            load_pairs(folder / "f", VOCAB)
                            if reader is None
                            else reader(folder / "f")[0]
                        )
            except ValueError:
                return "error"
        return "output" if found else "empty"

    for wanted in ("output", "error"):
        find(
            strategy,
            lambda data, wanted=wanted: outcome(data) == wanted,
            settings=settings(max_examples=300, database=None),
        )


def load_fuzz_script():
    """scripts/fuzz.py, a checkout's tool (it runs this test suite), loaded from its file."""
    path = Path(__file__).resolve().parent.parent / "scripts" / "fuzz.py"
    spec = importlib.util.spec_from_file_location("fuzz_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fuzz_script_counts_inputs_and_tracebacks_per_test():
    fuzz = load_fuzz_script()

    output = """\
tests/test_fuzz_readers.py::test_jsonl_reader:

  - during generate phase (1.20 seconds):
    - Typical runtimes: ~ 1-3 ms, of which < 1ms in data generation
    - 300 passing examples, 0 failing examples, 12 invalid examples

  - Stopped because settings.max_examples=300


tests/test_fuzz_readers.py::test_convert_script[iob2]:

  - during generate phase (0.90 seconds):
    - 16 passing examples, 1 failing examples, 1 invalid examples
    - Found 1 distinct error in this phase

  - during shrink phase (5.58 seconds):
    - 94 passing examples, 19 failing examples, 148 invalid examples
    - Tried 261 shrinks of which 17 were successful

PASSED tests/test_fuzz_readers.py::test_jsonl_reader
FAILED tests/test_fuzz_readers.py::test_convert_script[iob2] - AssertionError: ...
PASSED tests/test_fuzz_commands.py::test_no_hypothesis
"""
    tests = fuzz.parse_output(output)
    jsonl = tests["tests/test_fuzz_readers.py::test_jsonl_reader"]
    iob2 = tests["tests/test_fuzz_readers.py::test_convert_script[iob2]"]
    assert (jsonl.tried, jsonl.failing, jsonl.invalid, jsonl.outcome) == (300, 0, 12, "PASSED")
    assert (iob2.tried, iob2.failing, iob2.distinct_errors, iob2.outcome) == (130, 20, 1, "FAILED")
    assert tests["tests/test_fuzz_commands.py::test_no_hypothesis"].tried == 0
    rows = fuzz.table(tests)
    assert rows[-1].split() == ["total", "430", "20"]
    page = fuzz.markdown_table(tests, 300).splitlines()
    assert "| test_convert_script[iob2] | 130 | 20 | 149 | FAILED |" in page
    assert page[-1] == "| total | 430 | 20 | | |"
