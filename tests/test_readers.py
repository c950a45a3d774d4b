"""The readers of conner.prepare (JSON lines, UniversalNER iob2, plain text)
and ``conner convert``'s --format, --label-map and folder inputs."""

import json
import zlib
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.tokens import DocBin
from typer.testing import CliRunner

from conner.cli import app
from conner.cli import convert as convert_script
from conner.prepare.conll import ConllFormatError, read_conll, sentence_to_doc
from conner.prepare.jsonl import read_jsonl
from conner.prepare.readers import parse_label_map, read_sentences, relabel
from conner.prepare.text import read_text
from conner.prepare.uner import read_uner

# BasqueGLUE's layout: one object per line, "idx" beside the tokens and tags.
BASQUE = [
    {
        "idx": 0,
        "tokens": ["Mikel", "Laboa", "Donostian", "jaio", "zen", "."],
        "tags": ["B-PER", "I-PER", "B-LOC", "O", "O", "O"],
    },
    {
        "idx": 1,
        "tokens": ["Eusko", "Jaurlaritzak", "Athletic", "bisitatu", "du", "."],
        "tags": ["B-ORG", "I-ORG", "B-ORG", "O", "O", "O"],
    },
]
# UniversalNER's layout: comments, then id, token, tag, a second tag column, "-".
CROATIAN = """\
# newdoc id =set.hr.2
# sent_id = set.hr-s36
# text = Ivo Sanader je posjetio Zagreb, a zatim Europljane.
1\tIvo\tB-PER\tB-PER\t-
2\tSanader\tI-PER\tI-PER\t-
3\tje\tO\tO\t-
4\tposjetio\tO\tO\t-
5\tZagreb\tB-LOC\tB-LOC\t-
6\t,\tO\tO\t-
7\ta\tO\tO\t-
8\tzatim\tO\tO\t-
9\tEuropljane\tB-OTH\tB-PER\t-
10\t.\tO\tO\t-

# sent_id = set.hr-s37
# text = Vlada Hrvatske
1\tVlada\tB-ORG\tB-ORG\t-
2\tHrvatske\tI-ORG\tI-ORG\t-

"""


def flat(text: str) -> str:
    """CLI output with whitespace normalised (wasabi wraps long lines)."""
    return " ".join(text.split())


def write_jsonl(path: Path, objects, extra_lines=()) -> Path:
    lines = [json.dumps(o, ensure_ascii=False) for o in objects] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_convert(source, output, *args):
    """``conner convert SOURCE -o OUTPUT ARGS`` in-process."""
    return CliRunner().invoke(app, ["convert", str(source), "-o", str(output), *map(str, args)])


def docbin_strings(path: Path):
    raw = zlib.decompress(path.read_bytes())
    return set(srsly.msgpack_loads(raw)["strings"])


def test_conll_tags_that_mix_bilou_and_bioes_name_the_line(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("Ana S-PER\nvive O\n\nen O\nRoma U-LOC\n", encoding="utf-8")
    with pytest.raises(ConllFormatError, match="mix BILOU") as error:
        read_conll(path)
    assert str(error.value).startswith(f"{path}, line 5: ") and "line 1" in str(error.value)


# ---------------------------------------------------------------- JSON lines


def test_jsonl_reads_tokens_and_iob2_tags(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", BASQUE[:1], extra_lines=["", "  "])
    with path.open("a", encoding="utf-8") as file_:
        file_.write(json.dumps(BASQUE[1]) + "\n")
    sentences, report = read_jsonl(path)
    assert [s.words for s in sentences] == [o["tokens"] for o in BASQUE]
    assert sentences[0].spans == [(0, 2, "PER"), (2, 3, "LOC")]
    assert sentences[1].spans == [(0, 2, "ORG"), (2, 3, "ORG")]
    # Line numbers of the file, blank lines counted.
    assert [s.line for s in sentences] == [1, 4]
    data = report.to_dict()
    assert data["format"] == "jsonl" and data["scheme"] == "IOB2"
    assert data["sentences"] == 2 and data["tokens"] == 12
    assert data["entities"] == {"LOC": 1, "ORG": 2, "PER": 1}
    assert data["skipped"] == {"blank_lines": 2}


def test_jsonl_unlabeled_never_reads_the_tags(tmp_path):
    objects = [
        {"tokens": ["Bilbo", "handia", "da"]},
        {"tokens": ["Gasteiz"], "tags": ["nonsense", 3]},
    ]
    sentences, report = read_jsonl(write_jsonl(tmp_path / "u.jsonl", objects), labeled=False)
    assert [s.words for s in sentences] == [["Bilbo", "handia", "da"], ["Gasteiz"]]
    assert all(s.spans is None for s in sentences)
    assert report.scheme is None and not report.entities


@pytest.mark.parametrize(
    "line,message",
    [
        ('{"tokens": ["a", "b"], "tags": ["O", "O"]', "not valid JSON"),
        ('["a", "b"]', "expected a JSON object"),
        ('{"words": ["a"], "tags": ["O"]}', "no 'tokens'"),
        ('{"tokens": "a b", "tags": ["O", "O"]}', "'tokens' must be a list of strings"),
        ('{"tokens": ["a", 7], "tags": ["O", "O"]}', "token 2 is not a string"),
        ('{"tokens": ["a", ""], "tags": ["O", "O"]}', "token 2 is empty"),
        ('{"tokens": ["a", "\\ud800"], "tags": ["O", "O"]}', "token 2 holds a lone surrogate"),
        ('{"tokens": ["a", "b"]}', "no 'tags'"),
        ('{"tokens": ["a", "b"], "tags": ["O", "O", "B-PER"]}', "3 tags for 2 tokens"),
        ('{"tokens": ["a", "b"], "tags": ["O", "X-PER"]}', "malformed tag 'X-PER'"),
        ('{"tokens": ["a", "b"], "tags": ["O", "E-PER"]}', "not valid in the IOB2 scheme"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ],
)
def test_jsonl_errors_name_file_and_line(tmp_path, line, message):
    path = write_jsonl(tmp_path / "bad.jsonl", BASQUE[:1], extra_lines=[line])
    with pytest.raises(ConllFormatError, match=message) as error:
        read_jsonl(path, scheme="IOB2" if "E-PER" in line else "auto")
    assert str(error.value).startswith(f"{path}, line 2: ")


def test_jsonl_empty_token_list_is_skipped_and_counted(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"tokens": [], "tags": []}] + BASQUE)
    sentences, report = read_jsonl(path)
    assert len(sentences) == 2 and report.to_dict()["skipped"] == {"empty_sentences": 1}


# --------------------------------------------------------- UniversalNER iob2


def test_iob2_reads_the_third_column_and_the_text_comment(tmp_path):
    path = tmp_path / "hr.iob2"
    path.write_text(CROATIAN, encoding="utf-8")
    sentences, report = read_uner(path)
    first, second = sentences
    assert first.words[:2] == ["Ivo", "Sanader"] and len(first.words) == 10
    # The third column, not the last one (the second tag column says B-PER).
    assert first.spans == [(0, 2, "PER"), (4, 5, "LOC"), (8, 9, "OTH")]
    assert second.spans == [(0, 2, "ORG")]
    assert (first.line, second.line) == (4, 17)
    # "# text =" gives the spacing back: no space before "," or ".".
    doc = sentence_to_doc(spacy.blank("hr").vocab, first)
    assert doc.text == "Ivo Sanader je posjetio Zagreb, a zatim Europljane."
    data = report.to_dict()
    assert data["format"] == "iob2" and data["scheme"] == "IOB2"
    assert data["entities"] == {"LOC": 1, "ORG": 1, "OTH": 1, "PER": 1}
    assert data["skipped"] == {"comment_lines": 5}
    assert data["spacing"] == {"from_text": 2}


def test_iob2_text_that_does_not_match_the_tokens_falls_back_to_single_spaces(tmp_path):
    path = tmp_path / "hr.iob2"
    path.write_text(
        "# text = Nešto posve drugo\n1\tVlada\tB-ORG\n2\tHrvatske\tI-ORG\n", encoding="utf-8"
    )
    (sentence,), report = read_uner(path)
    assert sentence_to_doc(spacy.blank("hr").vocab, sentence).text == "Vlada Hrvatske"
    assert report.to_dict()["spacing"] == {"text_not_matching_tokens": 1}


@pytest.mark.parametrize(
    "line,message",
    [
        ("Vlada\tB-ORG", "expected id<TAB>token<TAB>tag"),
        ("x\tVlada\tB-ORG", "id 'x' is not a number"),
        ("3\t\tB-ORG", "empty token"),
        ("3\tVlada\tB_ORG", "malformed tag 'B_ORG'"),
    ],
)
def test_iob2_errors_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.iob2"
    path.write_text(f"# text = a b\n1\ta\tO\n2\tb\tO\n\n{line}\n", encoding="utf-8")
    with pytest.raises(ConllFormatError, match=message) as error:
        read_uner(path)
    assert str(error.value).startswith(f"{path}, line 5: ")


def test_iob2_unlabeled_needs_only_id_and_token(tmp_path):
    path = tmp_path / "u.iob2"
    path.write_text("1\tVlada\n2\tHrvatske\tnot-a-tag\n", encoding="utf-8")
    (sentence,), _ = read_uner(path, labeled=False)
    assert sentence.words == ["Vlada", "Hrvatske"] and sentence.spans is None


# ---------------------------------------------------------------- plain text


def test_text_is_one_sentence_per_line_tokenized_for_the_language(tmp_path):
    path = tmp_path / "ca.txt"
    path.write_bytes(
        "\ufeffL'Ajuntament de Barcelona ho va dir-ho ahir.\n\n   \nAna  viu a\tRoma.\r\n".encode(
            "utf-8"
        )
    )
    sentences, report = read_text(path, "ca")
    nlp = spacy.blank("ca")
    assert [s.words for s in sentences] == [
        [t.text for t in nlp("L'Ajuntament de Barcelona ho va dir-ho ahir.")],
        [t.text for t in nlp("Ana viu a Roma.")],
    ]
    # Catalan's tokenizer splits the elision and the clitic; whitespace splitting would not.
    assert sentences[0].words[:2] == ["L'", "Ajuntament"] and "-ho" in sentences[0].words
    assert [s.line for s in sentences] == [1, 4]
    assert all(s.spans is None for s in sentences)
    docs = [sentence_to_doc(nlp.vocab, s) for s in sentences]
    # Runs of whitespace become one space; no space is invented before punctuation.
    assert [d.text for d in docs] == [
        "L'Ajuntament de Barcelona ho va dir-ho ahir.",
        "Ana viu a Roma.",
    ]
    assert report.to_dict()["skipped"] == {"blank_lines": 2}
    assert report.to_dict()["tokens"] == sum(len(s.words) for s in sentences)


def test_paragraphs_are_split_into_sentences_that_keep_their_line(tmp_path):
    path = tmp_path / "ca.txt"
    path.write_text(
        "El Barça va guanyar ahir. Joan Laporta ho va celebrar a Barcelona!  Quina nit?\n"
        "\n"
        "Una sola frase sense punt final\n",
        encoding="utf-8",
    )
    sentences, report = read_text(path, "ca", split_sentences=True)
    nlp = spacy.blank("ca")
    docs = [sentence_to_doc(nlp.vocab, s) for s in sentences]
    assert [d.text for d in docs] == [
        "El Barça va guanyar ahir.",
        "Joan Laporta ho va celebrar a Barcelona!",
        "Quina nit?",
        "Una sola frase sense punt final",
    ]
    # No sentence ends in the space that separated it from the next one.
    assert not any(d[-1].whitespace_ for d in docs)
    assert [s.line for s in sentences] == [1, 1, 1, 3]
    assert all(s.spans is None for s in sentences)
    assert report.to_dict()["format"] == "paragraphs"
    assert report.to_dict()["skipped"] == {"blank_lines": 1}
    # The same file as text: one sentence a line, the same words.
    lines, _ = read_text(path, "ca")
    assert [len(s.words) for s in lines] == [sum(len(d) for d in docs[:3]), len(docs[3])]


def test_convert_reads_paragraphs_unlabeled_only(tmp_path):
    source = tmp_path / "raw.txt"
    source.write_text("Primera frase. Segona frase.\n", encoding="utf-8")
    output = tmp_path / "ca.spacy"
    result = run_convert(source, output, "--format", "paragraphs", "--lang", "ca", "--unlabeled")
    assert result.exit_code == 0, result.output
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("ca").vocab))
    assert [d.text for d in docs] == ["Primera frase.", "Segona frase."]
    result = run_convert(source, tmp_path / "other.spacy", "--format", "paragraphs", "--lang", "ca")
    assert result.exit_code == 1 and "--unlabeled" in flat(result.output)


def test_text_with_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("bon dia\n".encode("utf-8") + b"caf\xe9\n")
    with pytest.raises(ConllFormatError, match="byte 0xe9") as error:
        read_text(path, "ca")
    assert str(error.value).startswith(f"{path}, line 2: ")


def test_text_needs_unlabeled():
    with pytest.raises(ValueError, match="--unlabeled"):
        read_sentences(Path("any.txt"), "text", lang="ca", labeled=True)


# ------------------------------------------------------------- label maps


def test_label_maps_parse_and_relabel(tmp_path):
    assert parse_label_map(["OTH=MISC", "PERSON=PER"]) == {"OTH": "MISC", "PERSON": "PER"}
    for bad in (["OTH"], ["=MISC"], ["OTH="], ["OTH=MI SC"], ["OTH=MISC", "OTH=PER"]):
        with pytest.raises(ValueError, match="--label-map"):
            parse_label_map(bad)
    path = tmp_path / "hr.iob2"
    path.write_text(CROATIAN, encoding="utf-8")
    sentences, _ = read_uner(path)
    relabeled, counts = relabel(sentences, {"OTH": "MISC"})
    assert relabeled[0].spans == [(0, 2, "PER"), (4, 5, "LOC"), (8, 9, "MISC")]
    assert counts == {"OTH": 1}
    assert sentences[0].spans[2] == (8, 9, "OTH")  # the input is not changed


# -------------------------------------------------------------- convert.py


def test_convert_iob2_maps_oth_to_misc_by_default_and_says_so(tmp_path):
    source = tmp_path / "hr_set-ud-dev.iob2"
    source.write_text(CROATIAN, encoding="utf-8")
    output, report_path = tmp_path / "hr.spacy", tmp_path / "hr.json"
    result = run_convert(
        source, output, "--format", "iob2", "--lang", "hr", "--report", report_path
    )
    assert result.exit_code == 0, result.output
    report = srsly.read_json(report_path)
    assert report["format"] == "iob2"
    assert report["label_map"] == {"OTH": "MISC"} and report["relabeled"] == {"OTH": 1}
    assert report["read"]["entities"]["OTH"] == 1
    assert report["written"]["entities"] == {"LOC": 1, "MISC": 1, "ORG": 1, "PER": 1}
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("hr").vocab))
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("Ivo Sanader", "PER"),
        ("Zagreb", "LOC"),
        ("Europljane", "MISC"),
    ]
    # An explicit map replaces the default one: OTH=OTH keeps the label.
    result = run_convert(
        source, output, "--format", "iob2", "--lang", "hr", "--label-map", "OTH=OTH"
    )
    assert result.exit_code == 0, result.output
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("hr").vocab))
    assert docs[0].ents[2].label_ == "OTH"


@pytest.mark.parametrize("input_format", ["jsonl", "iob2"])
def test_convert_unlabeled_drops_the_labels_of_every_format(tmp_path, input_format):
    if input_format == "jsonl":
        objects = [
            {"tokens": o["tokens"], "tags": [t.replace("PER", "SECRETP") for t in o["tags"]]}
            for o in BASQUE
        ]
        source = write_jsonl(tmp_path / "train.jsonl", objects)
    else:
        source = tmp_path / "train.iob2"
        source.write_text(
            CROATIAN.replace("B-PER", "B-SECRETP").replace("I-PER", "I-SECRETP"), encoding="utf-8"
        )
    output = tmp_path / "out.spacy"
    result = run_convert(source, output, "--format", input_format, "--lang", "xx", "--unlabeled")
    assert result.exit_code == 0, result.output
    assert not any("SECRET" in s for s in docbin_strings(output))
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("xx").vocab))
    assert len(docs) == 2 and not any(d.has_annotation("ENT_IOB") for d in docs)
    # Labeled, the same file does carry them: the check above can fail.
    result = run_convert(source, output, "--format", input_format, "--lang", "xx")
    assert result.exit_code == 0, result.output
    assert "SECRETP" in docbin_strings(output)


def test_convert_text_folder_reads_every_file_in_name_order(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "b.txt").write_text("Segona frase.\n", encoding="utf-8")
    (folder / "a.txt").write_text("Primera frase.\n\nTercera, i última.\n", encoding="utf-8")
    (folder / ".hidden").write_text("no\n", encoding="utf-8")
    output, report_path = tmp_path / "ca.spacy", tmp_path / "ca.json"
    result = run_convert(
        folder, output, "--format", "text", "--lang", "ca", "--unlabeled", "--report", report_path
    )
    assert result.exit_code == 0, result.output
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("ca").vocab))
    assert [d.text for d in docs] == ["Primera frase.", "Tercera, i última.", "Segona frase."]
    assert srsly.read_json(report_path)["read"]["files"] == [
        str(folder / "a.txt"),
        str(folder / "b.txt"),
    ]
    # An error inside the folder names the file and the line.
    (folder / "c.txt").write_bytes(b"ok\n\xff\n")
    result = run_convert(
        folder, tmp_path / "other.spacy", "--format", "text", "--lang", "ca", "--unlabeled"
    )
    assert result.exit_code == 1
    assert f"{folder / 'c.txt'}, line 2" in flat(result.output)
    assert not (tmp_path / "other.spacy").exists()


def test_convert_format_errors_are_one_line(tmp_path):
    source = write_jsonl(tmp_path / "d.jsonl", BASQUE)
    output = tmp_path / "out.spacy"
    for args, message in [
        (["--format", "xml"], "--format must be one of conll, jsonl, iob2, text"),
        (["--format", "text"], "--unlabeled"),
        (["--format", "jsonl", "--label-map", "OTH"], "--label-map"),
        (["--format", "jsonl", "--member", "x"], "--member"),
        (["--format", "conll"], "line 1"),  # a JSON line is no CoNLL line
    ]:
        result = run_convert(source, output, "--lang", "eu", *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in flat(result.output), (args, result.output)
        assert "Traceback" not in result.output
        assert not output.exists()


def test_conll_is_the_default_format_and_unchanged(tmp_path):
    source = tmp_path / "es.txt"
    source.write_text("Ana B-PER\nvive O\nen O\nRoma B-LOC\n\n", encoding="utf-8")
    default, explicit = tmp_path / "a.spacy", tmp_path / "b.spacy"
    assert run_convert(source, default, "--lang", "es").exit_code == 0
    assert run_convert(source, explicit, "--lang", "es", "--format", "conll").exit_code == 0
    assert default.read_bytes() == explicit.read_bytes()
    report = convert_script.convert(source, tmp_path / "c.spacy", lang="es")
    # A CoNLL report keeps its keys: nothing format-specific is added.
    assert set(report) == {
        "input",
        "member",
        "output",
        "lang",
        "encoding",
        "labeled",
        "fraction",
        "seed",
        "limit",
        "read",
        "written",
    }
    assert report["read"] == read_conll(source)[1].to_dict()
