"""conner.consistency.pairs: the one writer of the pair DocBin layout, its reader, and bare copies of Docs."""

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span

from conner.consistency.extensions import conjugate_id, get_conjugate_spans, set_conjugate_spans
from conner.consistency.pairs import bare_copy, load_pairs, write_pairs
from conner.prepare.conll import doc_from_words

DE, EN = spacy.blank("de"), spacy.blank("en")


def pair(pair_id: str, roles=("target", "translation")):
    target = Doc(DE.vocab, words="Angela Merkel besucht Paris".split())
    translation = Doc(EN.vocab, words="Angela Merkel visits Paris".split())
    set_conjugate_spans(target, pair_id, roles[0], [[1, 0, 2], [2, 3, 4]])
    set_conjugate_spans(translation, pair_id, roles[1], [[1, 0, 2], [2, 3, 4]])
    return target, translation


def spans_text(doc: Doc):
    return {key: span.text for key, span in get_conjugate_spans(doc).items()}


def test_written_pairs_are_read_back_in_order(tmp_path):
    path = tmp_path / "out" / "pairs.spacy"
    # A generator: the writer streams what it is given.
    assert write_pairs((pair(f"p{i}") for i in range(3)), path) == 3
    docs = list(DocBin().from_disk(path).get_docs(EN.vocab))
    assert [(conjugate_id(d), d._.conjugate_role) for d in docs[:2]] == [
        ("p0", "target"),
        ("p0", "translation"),
    ]
    loaded = load_pairs(path, EN.vocab)
    assert [(conjugate_id(t), conjugate_id(r)) for t, r in loaded] == [
        ("p0", "p0"),
        ("p1", "p1"),
        ("p2", "p2"),
    ]
    assert spans_text(loaded[0][1]) == {1: "Angela Merkel", 2: "Paris"}
    assert not list(tmp_path.glob("out/*.part"))


def test_no_pair_writes_nothing(tmp_path):
    assert write_pairs([], tmp_path / "pairs.spacy") == 0
    assert not (tmp_path / "pairs.spacy").exists()


@pytest.mark.parametrize("roles", [("translation", "target"), ("target", "target")])
def test_sides_in_the_wrong_roles_are_refused(tmp_path, roles):
    with pytest.raises(ValueError, match="roles"):
        write_pairs([pair("p0", roles)], tmp_path / "pairs.spacy")
    assert not (tmp_path / "pairs.spacy").exists()


def test_sides_of_different_pairs_are_refused(tmp_path):
    (target, _), (_, translation) = pair("p0"), pair("p1")
    with pytest.raises(ValueError, match="share a conjugate_id"):
        write_pairs([(target, translation)], tmp_path / "pairs.spacy")
    bare = Doc(DE.vocab, words=["a"])
    with pytest.raises(ValueError, match="roles"):
        write_pairs([(bare, bare)], tmp_path / "pairs.spacy")


def test_bare_copy_keeps_words_and_whitespace_only():
    doc = Doc(DE.vocab, words=["Ana", "lacht", "!"], spaces=[True, False, False])
    doc.ents = [Span(doc, 0, 1, label="PER")]
    set_conjugate_spans(doc, "p0", "target", [[0, 0, 1]])
    copy = bare_copy(doc)
    assert copy.text == "Ana lacht!" and copy.vocab is DE.vocab
    assert copy.ents == () and not copy.has_annotation("ENT_IOB")
    assert conjugate_id(copy) is None and copy.user_data == {}
    assert bare_copy(doc, EN.vocab).vocab is EN.vocab


def test_doc_from_words_joins_words_by_single_spaces():
    doc = doc_from_words(DE.vocab, ["Ana", "lacht", "."])
    assert doc.text == "Ana lacht ." and doc.text_with_ws == "Ana lacht ."
    assert len(doc_from_words(DE.vocab, [])) == 0
