"""Tests of the CoNLL reader (conner.prepare.conll) and ``conner convert``."""

import zipfile
import zlib
from collections import Counter
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.tokens import DocBin
from typer.testing import CliRunner

from conner.cli import app
from conner.cli import convert as convert_script
from conner.prepare.conll import (
    ConllFormatError,
    chunks_from_tags,
    detect_scheme,
    find_repairs,
    iter_blocks,
    read_conll,
    sentence_to_doc,
)
from conner.tagger.tags import spans_from_tags

WORDS = [
    "Peter",
    "Blackburn",
    "visited",
    "New",
    "York",
    "and",
    "Paris",
    "Ann",
    "Lee",
    "Bob",
    "said",
    ".",
]
# (0,2) PER; (3,5) LOC; (6,7) LOC right before (7,9) PER, right before (9,10)
# PER: IOB1 needs its B- there, and BIOES/BILOU must close chunks on time.
ENTITIES = [(0, 2, "PER"), (3, 5, "LOC"), (6, 7, "LOC"), (7, 9, "PER"), (9, 10, "PER")]
TAGS = {
    "IOB1": "I-PER I-PER O I-LOC I-LOC O I-LOC I-PER I-PER B-PER O O",
    "IOB2": "B-PER I-PER O B-LOC I-LOC O B-LOC B-PER I-PER B-PER O O",
    "BIOES": "B-PER E-PER O B-LOC E-LOC O S-LOC B-PER E-PER S-PER O O",
    "BILOU": "B-PER L-PER O B-LOC L-LOC O U-LOC B-PER L-PER U-PER O O",
}


def write_conll(path: Path, sentences, sep: str = " ") -> Path:
    """Write sentences given as lists of row tuples, a blank line after each."""
    lines = []
    for rows in sentences:
        lines.extend(sep.join(row) for row in rows)
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows(words, tags):
    return list(zip(words, tags.split() if isinstance(tags, str) else tags))


@pytest.fixture(scope="module")
def vocab():
    return spacy.blank("xx").vocab


@pytest.mark.parametrize("scheme", sorted(TAGS))
def test_every_scheme_gives_the_same_entities(tmp_path, scheme):
    path = write_conll(tmp_path / "data.txt", [rows(WORDS, TAGS[scheme])])
    for requested in ("auto", scheme):
        sentences, report = read_conll(path, scheme=requested)
        assert report.scheme == scheme
        assert sentences[0].words == WORDS
        assert sentences[0].spans == ENTITIES
        assert report.repairs == Counter()
        assert report.entities == Counter({"PER": 3, "LOC": 2})


@pytest.mark.parametrize("scheme", ["BIOES", "BILOU"])
def test_legal_sequences_agree_with_spans_from_tags(scheme):
    tags = TAGS[scheme].split()
    assert chunks_from_tags(tags) == spans_from_tags(tags) == ENTITIES


# conlleval.pl (startOfChunk/endOfChunk, with its BIOES extension's S rules):
# a chunk STARTS at B or S, and at I or E after O, E, S or another label;
# a chunk ENDS after E or S, before O, B or S, and where the label changes;
# every sentence is read as if O came before and after it.
CONLLEVAL_CASES = [
    # I-LOC after I-PER: the label changes, so PER ends and LOC starts.
    ("I-PER I-LOC", [(0, 1, "PER"), (1, 2, "LOC")]),
    # E after O starts a chunk; the sentence end closes it.
    ("E-PER", [(0, 1, "PER")]),
    # O after B ends the chunk: a one-token chunk.
    ("B-PER O", [(0, 1, "PER")]),
    # An unclosed BIOES chunk runs to the sentence end.
    ("B-PER I-PER", [(0, 2, "PER")]),
    # E ends a chunk and B starts one: two chunks, not one.
    ("B-PER E-PER B-PER E-PER", [(0, 2, "PER"), (2, 4, "PER")]),
    # S ends at once; E after S starts a new chunk.
    ("S-PER E-PER", [(0, 1, "PER"), (1, 2, "PER")]),
    # I after E starts a new chunk even with the same label.
    ("E-PER I-PER", [(0, 1, "PER"), (1, 2, "PER")]),
    # B after I ends the chunk (IOB1 split of two same-label chunks).
    ("I-PER I-PER B-PER", [(0, 2, "PER"), (2, 3, "PER")]),
    # The label change inside B..E splits it; E-LOC is a one-token LOC chunk.
    ("B-PER I-PER E-LOC", [(0, 2, "PER"), (2, 3, "LOC")]),
    # S after B ends B's chunk and is a chunk of its own.
    ("B-PER S-PER", [(0, 1, "PER"), (1, 2, "PER")]),
    # A chunk may open with I after O.
    ("O I-MISC I-MISC O", [(1, 3, "MISC")]),
    # L and U are read as E and S.
    ("U-LOC L-LOC", [(0, 1, "LOC"), (1, 2, "LOC")]),
]


@pytest.mark.parametrize("tags,expected", CONLLEVAL_CASES)
def test_chunks_are_read_as_conlleval_reads_them(tags, expected):
    assert chunks_from_tags(tags.split()) == expected


@pytest.mark.parametrize(
    "scheme,tags,expected",
    [
        ("IOB2", "O I-PER", [(1, "I_without_B")]),
        ("IOB2", "B-PER I-LOC", [(1, "type_change")]),
        ("IOB2", "B-PER B-PER I-PER O", []),
        ("IOB1", "O B-PER", [(1, "B_not_after_same_type")]),
        ("IOB1", "I-PER B-LOC", [(1, "B_not_after_same_type")]),
        ("IOB1", "I-PER B-PER I-LOC", []),
        ("BIOES", "I-PER E-PER", [(0, "I_without_B")]),
        ("BIOES", "S-PER E-PER", [(1, "E_without_B")]),
        ("BIOES", "B-PER I-LOC E-LOC", [(1, "type_change")]),
        ("BIOES", "B-PER O", [(1, "chunk_not_closed")]),
        # Index len(tags) is the sentence end.
        ("BIOES", "B-PER I-PER", [(2, "chunk_not_closed")]),
        ("BIOES", "B-PER S-LOC", [(1, "chunk_not_closed")]),
        ("BILOU", "L-PER", [(0, "E_without_B")]),
        ("BILOU", "B-PER U-PER", [(1, "chunk_not_closed")]),
    ],
)
def test_repairs_are_found_where_the_scheme_is_broken(scheme, tags, expected):
    assert find_repairs(tags.split(), scheme) == expected


def test_report_counts_each_repair_kind(tmp_path):
    sentences = [
        rows(["a", "b"], "I-PER E-PER"),
        rows(["c"], "E-LOC"),
        rows(["d", "e", "f"], "B-PER I-LOC E-LOC"),
        rows(["g", "h"], "B-ORG O"),
        rows(["i", "j"], "B-ORG I-ORG"),
        rows(["k", "l"], "B-MISC E-MISC"),
    ]
    path = write_conll(tmp_path / "bioes.txt", sentences)
    parsed, report = read_conll(path)
    assert report.scheme == "BIOES"
    assert report.repairs == Counter(
        {"I_without_B": 1, "E_without_B": 1, "type_change": 1, "chunk_not_closed": 2}
    )
    assert [s.spans for s in parsed] == [
        [(0, 2, "PER")],
        [(0, 1, "LOC")],
        [(0, 1, "PER"), (1, 3, "LOC")],
        [(0, 1, "ORG")],
        [(0, 2, "ORG")],
        [(0, 2, "MISC")],
    ]


def test_report_counts_iob_repairs(tmp_path):
    iob2 = write_conll(tmp_path / "iob2.txt", [rows("a b c d".split(), "O I-PER B-PER I-LOC")])
    assert read_conll(iob2, scheme="IOB2")[1].repairs == Counter(
        {"I_without_B": 1, "type_change": 1}
    )
    iob1 = write_conll(tmp_path / "iob1.txt", [rows("a b c".split(), "O B-PER I-LOC")])
    assert read_conll(iob1, scheme="IOB1")[1].repairs == Counter({"B_not_after_same_type": 1})


def test_entity_broken_by_a_sentence_break_is_two_chunks(tmp_path):
    # As in ConNER's En2Es/test.txt: a blank line inside "Holding de ... Industriales".
    path = write_conll(
        tmp_path / "split.txt",
        [rows(["Holding"], "B-ORG"), rows(["de", "Industriales"], "I-ORG E-ORG")],
    )
    sentences, report = read_conll(path)
    assert [s.spans for s in sentences] == [[(0, 1, "ORG")], [(0, 2, "ORG")]]
    assert report.repairs == Counter({"chunk_not_closed": 1, "I_without_B": 1})


@pytest.mark.parametrize(
    "tags,scheme",
    [
        (["O I-PER I-PER O", "I-LOC B-LOC"], "IOB1"),
        (["O B-PER I-PER O", "B-LOC B-LOC", "I-ORG"], "IOB2"),
        (["O", "B-PER E-PER"], "BIOES"),
        (["U-PER"], "BILOU"),
        (["O O"], "IOB2"),
    ],
)
def test_detect_scheme(tags, scheme):
    assert detect_scheme(t.split() for t in tags) == scheme


def test_detect_scheme_rejects_mixed_bilou_and_bioes():
    with pytest.raises(ValueError, match="mix"):
        detect_scheme([["U-PER", "S-LOC"]])


def test_docstart_is_dropped_without_splitting_the_sentence(tmp_path):
    text = (
        "-DOCSTART- -DOCSTART- O\n"
        "Peter NNP B-PER\n"
        "-DOCSTART- -DOCSTART- O\n"
        "Blackburn NNP I-PER\n"
        "left VBD O\n"
        "\n"
        "-DOCSTART- -DOCSTART- O\n"
        "\n"
        "EU NNP B-ORG\n"
    )
    path = tmp_path / "ned.txt"
    path.write_text(text, encoding="utf-8")
    sentences, report = read_conll(path)
    assert [s.words for s in sentences] == [["Peter", "Blackburn", "left"], ["EU"]]
    assert [s.spans for s in sentences] == [[(0, 2, "PER")], [(0, 1, "ORG")]]
    assert [s.line for s in sentences] == [2, 9]
    assert report.docstarts_dropped == 3
    assert report.sentences == 2 and report.tokens == 4


def test_marker_only_blocks_are_kept_for_alignment(tmp_path):
    path = tmp_path / "blocks.txt"
    path.write_text("-DOCSTART-\t0\tO\n\nHallo\t0\tO\n\n\n\nWelt\t1\tS-LOC\n", encoding="utf-8")
    blocks = list(iter_blocks(path))
    assert [b.rows for b in blocks] == [[], [["Hallo", "0", "O"]], [["Welt", "1", "S-LOC"]]]
    assert [b.docstarts for b in blocks] == [1, 0, 0]


def make_zip(tmp_path: Path) -> Path:
    archive = tmp_path / "conll2002.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("conll2002/", "")
        zf.writestr("conll2002/esp.train", "Sao NC B-LOC\nPaulo VMI I-LOC\n( Fpa O\n\n")
        zf.writestr("conll2002/ned.train", "De Art O\n\n")
        zf.writestr("other/ned.train", "Het Art O\n\n")
    return archive


def test_zip_member_is_read_in_place(tmp_path):
    archive = make_zip(tmp_path)
    for member in ("esp.train", "conll2002/esp.train"):
        sentences, report = read_conll(archive, member)
        assert sentences[0].words == ["Sao", "Paulo", "("]
        assert sentences[0].spans == [(0, 2, "LOC")]
        assert report.source == f"{member} in {archive}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conll2002.zip"]


@pytest.mark.parametrize("member", ["missing.train", "ned.train"])
def test_unknown_or_ambiguous_member_is_an_error(tmp_path, member):
    archive = make_zip(tmp_path)
    with pytest.raises(ValueError, match="matches [02] files"):
        read_conll(archive, member)


def test_multi_column_files_use_first_and_last_columns(tmp_path):
    path = write_conll(
        tmp_path / "four.txt",
        [
            [
                ("EU", "NNP", "I-NP", "B-ORG"),
                ("rejects", "VBZ", "I-VP", "O"),
                ("German", "JJ", "I-NP", "B-MISC"),
            ]
        ],
    )
    sentences, _ = read_conll(path)
    assert sentences[0].words == ["EU", "rejects", "German"]
    assert sentences[0].spans == [(0, 1, "ORG"), (2, 3, "MISC")]


def test_tab_and_space_separated_files_read_alike(tmp_path):
    sentence = [("Peter", "B-PER"), ("Blackburn", "E-PER"), ("bei", "O")]
    by_space = read_conll(write_conll(tmp_path / "space.txt", [sentence], sep=" "))[0]
    by_tab = read_conll(write_conll(tmp_path / "tab.txt", [sentence], sep="\t"))[0]
    assert by_space == by_tab
    assert by_tab[0].spans == [(0, 2, "PER")]


def test_tab_files_keep_tokens_with_spaces_and_unicode_blanks(tmp_path):
    path = write_conll(
        tmp_path / "tab.txt", [[("New York", "S-LOC"), ("\u00a0", "O"), ("x", "O")]], sep="\t"
    )
    sentences, _ = read_conll(path)
    assert sentences[0].words == ["New York", "\u00a0", "x"]


def test_crlf_line_ends_are_accepted(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Peter B-PER\r\nBlackburn I-PER\r\n\r\nEU B-ORG\r\n")
    sentences, _ = read_conll(path)
    assert [s.spans for s in sentences] == [[(0, 2, "PER")], [(0, 1, "ORG")]]


def test_non_utf8_byte_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Peter B-PER\nM\u00fcller I-PER\n".encode("latin-1"))
    with pytest.raises(ConllFormatError) as err:
        read_conll(path)
    assert err.value.line == 2
    assert f"{path}, line 2" in str(err.value)
    assert "0xfc" in str(err.value)
    sentences, _ = read_conll(path, encoding="latin-1")
    assert sentences[0].words == ["Peter", "M\u00fcller"]


def test_non_utf8_byte_in_zip_member_names_member_and_line(tmp_path):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("esp.train", "a O\n\nb O\nEspa\xf1a B-LOC\n".encode("latin-1"))
    with pytest.raises(ConllFormatError, match=r"esp\.train in .*data\.zip, line 4"):
        read_conll(archive, "esp.train")


def test_ragged_line_names_file_and_line(tmp_path):
    path = tmp_path / "ragged.txt"
    path.write_text("Peter NNP B-PER\nBlackburn NNP I-PER\n\nEU B-ORG\n", encoding="utf-8")
    with pytest.raises(ConllFormatError, match=r"ragged\.txt, line 4: expected 3"):
        read_conll(path)


def test_empty_column_is_a_ragged_line(tmp_path):
    path = tmp_path / "double.txt"
    path.write_text("Peter B-PER\nBlackburn  I-PER\n", encoding="utf-8")
    with pytest.raises(ConllFormatError, match="line 2"):
        read_conll(path)


def test_single_column_line_is_an_error_when_tags_are_expected(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("Peter\nBlackburn\n", encoding="utf-8")
    with pytest.raises(ConllFormatError, match=r"words\.txt, line 1: expected a token and a tag"):
        read_conll(path)
    sentences, _ = read_conll(path, labeled=False)
    assert sentences[0].words == ["Peter", "Blackburn"] and sentences[0].spans is None


@pytest.mark.parametrize(
    "text,scheme,message",
    [
        ("a O\nb PERSON\n", "auto", "line 2: malformed tag 'PERSON'"),
        ("a O\nb X-PER\n", "auto", "line 2: malformed tag"),
        ("a B-PER\nb S-PER\n", "IOB2", "line 2: tag 'S-PER' is not valid in the IOB2 scheme"),
        ("a U-PER\nb S-PER\n", "auto", "mix"),
    ],
)
def test_bad_tags_are_errors(tmp_path, text, scheme, message):
    path = tmp_path / "tags.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_conll(path, scheme=scheme)


def test_docs_have_entities_and_outside_tokens(tmp_path, vocab):
    path = write_conll(
        tmp_path / "d.txt", [rows(WORDS, TAGS["IOB2"]), rows(["nothing", "here"], "O O")]
    )
    sentences, _ = read_conll(path)
    docs = [sentence_to_doc(vocab, s) for s in sentences]
    assert [(e.start, e.end, e.label_) for e in docs[0].ents] == ENTITIES
    assert docs[0].ents[3].text == "Ann Lee"
    # A sentence without entities is still annotated: its tokens are O.
    assert docs[1].has_annotation("ENT_IOB")
    assert [t.ent_iob_ for t in docs[1]] == ["O", "O"]


def test_unlabeled_docs_are_not_annotated(tmp_path, vocab):
    path = write_conll(tmp_path / "u.txt", [rows(WORDS, TAGS["BIOES"])])
    sentences, report = read_conll(path, labeled=False)
    assert sentences[0].spans is None
    assert report.entities == Counter() and report.scheme is None
    doc = sentence_to_doc(vocab, sentences[0])
    assert not doc.has_annotation("ENT_IOB")
    assert len(doc.ents) == 0


def docbin_strings(path: Path):
    """The string table of a .spacy file, and its decompressed bytes."""
    raw = zlib.decompress(path.read_bytes())
    return set(srsly.msgpack_loads(raw)["strings"]), raw


def test_convert_unlabeled_leaves_no_label_in_the_docbin(tmp_path):
    # Tags are nonsense labels that cannot occur in the words.
    tags = "B-SECRETA E-SECRETA O B-SECRETB E-SECRETB O S-SECRETC B-SECRETA E-SECRETA S-SECRETA O O"
    path = write_conll(tmp_path / "unlabel.txt", [rows(WORDS, tags)], sep="\t")
    output = tmp_path / "out.spacy"
    report = convert_script.convert(path, output, lang="de", unlabeled=True)
    assert report["written"] == {"sentences": 1, "tokens": len(WORDS), "entities": {}}
    strings, raw = docbin_strings(output)
    assert b"SECRET" not in raw
    assert "Peter" in strings
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("de").vocab))
    assert [t.text for t in docs[0]] == WORDS
    assert not docs[0].has_annotation("ENT_IOB")
    # The same file, labeled, does carry the labels: the check above can fail.
    convert_script.convert(path, output, lang="de")
    assert "SECRETA" in docbin_strings(output)[0]


def test_sampling_is_deterministic_per_seed(tmp_path):
    sentences = read_conll(
        write_conll(tmp_path / "many.txt", [rows([f"w{i}"], "S-PER") for i in range(200)])
    )[0]
    first = convert_script.sample_sentences(sentences, 0.05, seed=0)
    again = convert_script.sample_sentences(sentences, 0.05, seed=0)
    other = convert_script.sample_sentences(sentences, 0.05, seed=1)
    assert len(first) == 10
    assert [s.words for s in first] == [s.words for s in again]
    assert [s.words for s in first] != [s.words for s in other]
    # File order is kept.
    assert [s.line for s in first] == sorted(s.line for s in first)
    assert convert_script.sample_sentences(sentences, 1.0, seed=3) == sentences
    assert len(convert_script.sample_sentences(sentences, 0.001, seed=0)) == 1
    with pytest.raises(ValueError):
        convert_script.sample_sentences(sentences, 0.0, seed=0)


def test_convert_writes_docbin_and_report(tmp_path):
    text = "-DOCSTART- -X- O\n\n" + "".join(
        f"w{i} NN {'B-PER' if i % 2 else 'I-LOC'}\n\n" for i in range(40)
    )
    path = tmp_path / "train.txt"
    path.write_text(text, encoding="utf-8")
    output = tmp_path / "corpus" / "train.spacy"
    report = convert_script.convert(path, output, lang="en", fraction=0.25, seed=7)
    assert report["read"]["sentences"] == 40
    assert report["read"]["docstarts_dropped"] == 1
    assert report["read"]["entities"] == {"LOC": 20, "PER": 20}
    assert report["read"]["repairs"] == {"I_without_B": 20}
    assert report["written"]["sentences"] == 10
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("en").vocab))
    assert [d.text for d in docs] == [
        " ".join(s.words)
        for s in convert_script.sample_sentences(read_conll(path)[0], 0.25, seed=7)
    ]
    assert sum(len(d.ents) for d in docs) == sum(report["written"]["entities"].values())


def test_convert_cli(tmp_path):
    archive = make_zip(tmp_path)
    output, report_path = tmp_path / "es.spacy", tmp_path / "es.json"
    args = [
        "convert",
        str(archive),
        "-o",
        str(output),
        "--lang",
        "es",
        "--member",
        "esp.train",
        "--report",
        str(report_path),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = srsly.read_json(report_path)
    assert report["member"] == "esp.train"
    assert report["read"]["entities"] == {"LOC": 1}
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("es").vocab))
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Sao Paulo", "LOC")]
    # A format error ends the command with its message, not a traceback.
    bad = tmp_path / "bad.txt"
    bad.write_text("a B-PER\nb\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["convert", str(bad), "-o", str(output)])
    assert result.exit_code == 1
    # wasabi wraps long messages, so compare with whitespace normalised.
    assert f"{bad}, line 2" in " ".join(result.output.split())


def test_convert_limit_and_lowercase_scheme(tmp_path):
    from conner.cli.convert import convert

    source = tmp_path / "train.txt"
    source.write_text("A B-PER\nb O\n\nC B-LOC\n\nD O\n\n", encoding="utf8")
    report = convert(source, tmp_path / "out.spacy", lang="en", scheme="iob2", limit=2)
    assert report["written"]["sentences"] == 2
    assert report["written"]["entities"] == {"LOC": 1, "PER": 1}
