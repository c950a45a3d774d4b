"""Conjugate pairs are validated where they are read.

Training, the pair collector and translation stop at a broken pair with one
line that names the file and the pair id; a pair whose sides share no span
key is dropped and counted in a warning.
"""

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from translation_fakes import FunctionEngine
from typer.testing import CliRunner

from conner.cli import app
from conner.consistency.extensions import CONJUGATE_ID, CONJUGATE_SPANS, set_conjugate_spans
from conner.consistency.pairs import (
    PairError,
    create_conjugate_pairs_reader,
    load_pairs,
    write_pairs,
)
from conner.prepare.translation import register_engine

ES, EN = spacy.blank("es"), spacy.blank("en")
SPANS = [[0, 0, 1], [1, 3, 5]]


def pair(pair_id: str):
    target = Doc(ES.vocab, words="Ana vive en Buenos Aires .".split())
    translation = Doc(EN.vocab, words="Ana lives in Buenos Aires .".split())
    set_conjugate_spans(target, pair_id, "target", SPANS)
    set_conjugate_spans(translation, pair_id, "translation", SPANS)
    return target, translation


def pair_file(path, broken=None):
    """Three pairs p0..p2; ``broken(target, translation)`` changes p1 as a hand edit would."""
    docs = []
    for i in range(3):
        target, translation = pair(f"p{i}")
        if i == 1 and broken is not None:
            broken(target, translation)
        docs += [target, translation]
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


def target_spans(spans):
    return lambda target, translation: target._.set(CONJUGATE_SPANS, spans)


BROKEN = {
    "outside the doc": (
        target_spans([[0, 0, 1], [1, 3, 9]]),
        "span 1 [3, 9) lies outside its 6 tokens",
    ),
    "inverted": (target_spans([[0, 0, 1], [1, 5, 3]]), "span 1 [5, 3) is empty or inverted"),
    "empty": (target_spans([[0, 0, 1], [1, 3, 3]]), "span 1 [3, 3) is empty or inverted"),
    "negative": (target_spans([[0, -1, 1]]), "span 0 [-1, 1) lies outside its 6 tokens"),
    "overlapping": (target_spans([[0, 0, 4], [1, 3, 5]]), "spans 0 [0, 4) and 1 [3, 5) overlap"),
    "key twice": (target_spans([[1, 0, 1], [1, 3, 5]]), "span key 1 is used twice"),
    "not a span": (target_spans([[0, 1]]), "[0, 1] is not [key, start, end]"),
    "ids differ": (
        lambda t, r: r._.set(CONJUGATE_ID, "p9"),
        "has a target Doc but no translation Doc",
    ),
    "role twice": (lambda t, r: r._.set("conjugate_role", "target"), "has two target Docs"),
    "unknown role": (
        lambda t, r: r._.set("conjugate_role", "source"),
        "unknown conjugate_role 'source'",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_pair_is_an_error_naming_the_file_and_pair(tmp_path, case):
    broken, problem = BROKEN[case]
    path = pair_file(tmp_path / "pairs.spacy", broken)
    with pytest.raises(PairError) as info:
        load_pairs(path, EN.vocab)
    message = str(info.value)
    assert message.startswith(f"{path}: pair 'p1'"), message
    assert problem in message and "\n" not in message


@pytest.mark.parametrize("bad_id", [{"a": 1}, ["p1"], 1.5, True])
def test_a_pair_id_that_is_not_a_string_or_integer_is_an_error(tmp_path, bad_id):
    path = pair_file(tmp_path / "pairs.spacy", lambda t, r: t._.set(CONJUGATE_ID, bad_id))
    with pytest.raises(
        PairError, match=r"doc 2: conjugate_id must be a string or an integer"
    ) as info:
        load_pairs(path, EN.vocab)
    assert str(info.value).startswith(str(path))


def test_training_stops_at_a_broken_pair_before_the_first_update(tmp_path):
    path = pair_file(tmp_path / "pairs.spacy", target_spans([[0, 0, 1], [1, 3, 9]]))
    stream = create_conjugate_pairs_reader(path, shuffle=False)(EN.vocab)
    with pytest.raises(
        PairError, match=r"pairs.spacy: pair 'p1': target: span 1 \[3, 9\) lies outside"
    ):
        next(stream)


def test_pairs_without_a_shared_span_key_are_dropped_and_counted(tmp_path):
    def disjoint_keys(target, translation):
        translation._.set(CONJUGATE_SPANS, [[7, 0, 1]])

    path = pair_file(tmp_path / "pairs.spacy", disjoint_keys)
    with pytest.warns(UserWarning, match=r"pairs.spacy: 1 of 3 pairs share no span key .* dropped"):
        pairs = load_pairs(path, EN.vocab)
    assert [t._.conjugate_id for t, _ in pairs] == ["p0", "p2"]


def test_valid_pairs_load_without_a_warning(tmp_path, recwarn):
    path = tmp_path / "pairs.spacy"
    assert write_pairs([pair(f"p{i}") for i in range(3)], path) == 3
    assert len(load_pairs(path, EN.vocab)) == 3
    assert not [w for w in recwarn if "span key" in str(w.message)]


def invoke(command: str, args):
    return CliRunner().invoke(app, [command, *map(str, args)])


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_translate_refuses_an_inverted_span_naming_the_file_and_pair(tmp_path):
    register_engine("fake", FunctionEngine)
    doc = Doc(ES.vocab, words="Ana vive en Buenos Aires .".split())
    set_conjugate_spans(doc, "d0", "target", [[0, 0, 1]])
    doc._.set(CONJUGATE_SPANS, [[0, 3, 1]])
    data = tmp_path / "in.spacy"
    DocBin(docs=[doc], store_user_data=True).to_disk(data)
    line = one_error_line(
        invoke(
            "translate",
            [data, "-o", tmp_path / "out.spacy", "--translator", "fake", "--no-progress"],
        )
    )
    assert line == f"Error: {data}: pair 'd0': target: span 0 [3, 1) is empty or inverted"
    assert not (tmp_path / "out.spacy").exists()


def test_translate_refuses_translation_docs_as_input(tmp_path):
    register_engine("fake", FunctionEngine)
    data = pair_file(tmp_path / "pairs.spacy")
    line = one_error_line(
        invoke(
            "translate",
            [data, "-o", tmp_path / "out.spacy", "--translator", "fake", "--no-progress"],
        )
    )
    assert f"{data}: pair 'p0'" in line and "role 'translation'" in line


def test_collect_pairs_refuses_what_is_not_a_pair_docbin(tmp_path):
    text = tmp_path / "pairs.txt"
    text.write_text("Ana vive en Buenos Aires .\n", encoding="utf-8")
    plain = tmp_path / "plain.spacy"
    DocBin(docs=[Doc(ES.vocab, words=["Ana"])]).to_disk(plain)
    empty = tmp_path / "empty.spacy"
    DocBin(docs=[]).to_disk(empty)
    broken = pair_file(tmp_path / "broken.spacy", target_spans([[0, 0, 1], [1, 3, 9]]))
    expected = {
        text: f"Error: {text}: not a spaCy DocBin",
        plain: f"Error: {plain}: doc 0 has no conjugate_id or conjugate_role: not a DocBin of conjugate pairs",
        empty: f"Error: {empty}: holds no conjugate pair",
        broken: f"Error: {broken}: pair 'p1': target: span 1 [3, 9) lies outside its 6 tokens",
    }
    for path, start in expected.items():
        line = one_error_line(invoke("collect-pairs", [path, "-o", tmp_path / "pool"]))
        assert line.startswith(start), line
        assert not (tmp_path / "pool").exists()


def test_collect_pairs_copies_valid_pair_files_and_counts_them(tmp_path):
    good = pair_file(tmp_path / "good.spacy")
    result = invoke("collect-pairs", [good, "-o", tmp_path / "pool"])
    assert result.exit_code == 0, result.output
    assert "good.spacy (3 pairs)" in result.output
    assert (tmp_path / "pool" / "good.spacy").read_bytes() == good.read_bytes()


def test_train_py_stops_at_a_broken_pair_with_one_line_before_spacy_train(tmp_path):
    from test_command_options import assert_clear_error, run_command

    path = pair_file(tmp_path / "pairs.spacy", target_spans([[0, 0, 1], [1, 3, 9]]))
    output = tmp_path / "training"
    result = run_command(
        "train",
        [
            "conner-mine",
            "--pairs",
            path,
            "--train",
            "t.spacy",
            "--dev",
            "d.spacy",
            "--output",
            output,
        ],
    )
    assert_clear_error(
        result, "Invalid value for '--pairs'", "pair 'p1': target: span 1 [3, 9) lies outside"
    )
    # Stopped before spaCy started: no training folder, no command echoed.
    assert not output.exists() and "spacy train" not in result.stdout
    missing = run_command(
        "train", ["conner-mine", "--pairs", tmp_path / "nope", "--output", output]
    )
    assert_clear_error(missing, "no such file or folder of conjugate pairs")
