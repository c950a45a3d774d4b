"""Conjugate spans on Docs, the pairs reader, the consistency batcher, grouping."""

import itertools

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from spacy.util import minibatch

from conner.consistency.batching import configure_consistency_batcher
from conner.consistency.extensions import DROPOUT_TWIN, get_conjugate_spans, set_conjugate_spans
from conner.consistency.groups import find_consistency_groups
from conner.consistency.pairs import create_conjugate_pairs_reader, load_pairs


def write_pairs(path, vocab, n=3):
    db = DocBin(store_user_data=True)
    for i in range(n):
        target = Doc(vocab, words=["Der", "Mann", f"Müller{i}", "wohnt", "in", "Berlin"])
        translation = Doc(vocab, words=["Mr", f"Müller{i}", "lives", "in", "Berlin"])
        set_conjugate_spans(target, f"p{i}", "target", [[1, 2, 3], [2, 5, 6]])
        # The translation lost span 2 but has an extra key 7: only key 1 is shared.
        set_conjugate_spans(translation, f"p{i}", "translation", [[1, 1, 2], [7, 4, 5]])
        db.add(target)
        db.add(translation)
    db.to_disk(path)


def labeled_examples(nlp, n):
    examples = []
    for i in range(n):
        ref = nlp.make_doc(f"Anna{i} visited Paris")
        ref.ents = [Span(ref, 0, 1, "PER"), Span(ref, 2, 3, "LOC")]
        examples.append(Example(nlp.make_doc(ref.text), ref))
    return examples


def test_conjugate_spans_survive_docbin(tmp_path):
    nlp = spacy.blank("xx")
    write_pairs(tmp_path / "pairs.spacy", nlp.vocab, n=1)
    docs = list(DocBin().from_disk(tmp_path / "pairs.spacy").get_docs(nlp.vocab))
    target, translation = docs
    assert target._.conjugate_id == translation._.conjugate_id == "p0"
    assert (target._.conjugate_role, translation._.conjugate_role) == ("target", "translation")
    assert {k: s.text for k, s in get_conjugate_spans(target).items()} == {
        1: "Müller0",
        2: "Berlin",
    }
    assert {k: s.text for k, s in get_conjugate_spans(translation).items()} == {
        1: "Müller0",
        7: "Berlin",
    }


def test_set_conjugate_spans_rejects_spans_outside_the_doc():
    doc = Doc(spacy.blank("xx").vocab, words=["a", "b"])
    with pytest.raises(ValueError, match="outside"):
        set_conjugate_spans(doc, "x", "target", [[0, 1, 3]])


def test_pairs_reader_cycles_with_seeded_shuffle(tmp_path):
    nlp = spacy.blank("xx")
    write_pairs(tmp_path / "pairs.spacy", nlp.vocab, n=3)
    reader = create_conjugate_pairs_reader(tmp_path / "pairs.spacy", seed=1)
    first = [t.predicted._.conjugate_id for t, _ in itertools.islice(reader(nlp.vocab), 9)]
    again = [t.predicted._.conjugate_id for t, _ in itertools.islice(reader(nlp.vocab), 9)]
    assert first == again  # same seed, same order
    assert (
        sorted(first[:3]) == sorted(first[3:6]) == ["p0", "p1", "p2"]
    )  # each pass sees every pair once
    target, translation = next(reader(nlp.vocab))
    assert not target.reference.has_annotation("ENT_IOB")  # no labels on the unlabeled side
    assert (
        create_conjugate_pairs_reader(None) is not None
        and list(create_conjugate_pairs_reader(None)(nlp.vocab)) == []
    )


def test_pairs_reader_pools_a_directory_with_ids_scoped_per_file(tmp_path):
    nlp = spacy.blank("xx")
    (tmp_path / "pool" / "more").mkdir(parents=True)
    # Both files use the ids p0, p1: pooled, they are still four distinct pairs.
    write_pairs(tmp_path / "pool" / "de.spacy", nlp.vocab, n=2)
    write_pairs(tmp_path / "pool" / "more" / "es.spacy", nlp.vocab, n=2)
    (tmp_path / "pool" / "notes.txt").write_text("not a DocBin")
    pairs = load_pairs(tmp_path / "pool", nlp.vocab)
    assert len(pairs) == 4
    assert all(t._.conjugate_id == tr._.conjugate_id for t, tr in pairs)
    reader = create_conjugate_pairs_reader(tmp_path / "pool", shuffle=False)
    assert len(list(itertools.islice(reader(nlp.vocab), 8))) == 8
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="without .spacy files"):
        load_pairs(tmp_path / "empty", nlp.vocab)
    with pytest.raises(FileNotFoundError, match="missing"):
        load_pairs(tmp_path / "missing.spacy", nlp.vocab)


@pytest.mark.parametrize(
    "alpha,beta,dropout_on,expected",
    [
        (0.5, 0.5, "labeled", 4 + 4 + 2 * 2),  # labeled, twins of labeled, 2 pairs
        (0.0, 0.5, "labeled", 4 + 2 * 2),
        (0.5, 0.0, "labeled", 4 + 4),
        (0.0, 0.0, "labeled", 4),
        (0.5, 0.5, "unlabeled", 4 + 2 * 2 + 2),  # twins of the 2 unlabeled targets
    ],
)
def test_batcher_composition(tmp_path, alpha, beta, dropout_on, expected):
    nlp = spacy.blank("xx")
    write_pairs(tmp_path / "pairs.spacy", nlp.vocab, n=3)
    batcher = configure_consistency_batcher(
        labeled=lambda items: minibatch(items, 4),
        pairs=create_conjugate_pairs_reader(tmp_path / "pairs.spacy"),
        pairs_per_batch=2,
        alpha=alpha,
        beta=beta,
        dropout_on=dropout_on,
    )
    batches = list(batcher(labeled_examples(nlp, 8)))
    assert [len(b) for b in batches] == [expected, expected]
    groups = find_consistency_groups([eg.predicted for eg in batches[0]])
    n_twins = 0 if alpha == 0 else (4 if dropout_on == "labeled" else 2)
    assert len(groups.twins[0]) == n_twins
    for a, b in zip(*groups.twins):
        assert batches[0][a].predicted.text == batches[0][b].predicted.text
        assert batches[0][a].predicted is not batches[0][b].predicted
    assert len(groups.unlabeled_spans) == (2 if beta > 0 else 0)  # one shared key per pair
    for (t, s, e), (tr, s2, e2) in zip(groups.unlabeled_spans, groups.translated_spans):
        assert batches[0][t].predicted[s:e].text == batches[0][tr].predicted[s2:e2].text


def test_pair_stream_continues_across_epochs(tmp_path):
    nlp = spacy.blank("xx")
    write_pairs(tmp_path / "pairs.spacy", nlp.vocab, n=3)
    batcher = configure_consistency_batcher(
        labeled=lambda items: minibatch(items, 2),
        pairs=create_conjugate_pairs_reader(tmp_path / "pairs.spacy", shuffle=False),
        pairs_per_batch=1,
        alpha=0.0,
    )
    examples = labeled_examples(nlp, 2)
    seen = []
    for _ in range(3):  # spaCy calls the batcher once per epoch
        for batch in batcher(examples):
            seen.append(batch[2].predicted._.conjugate_id)
    assert seen == ["p0", "p1", "p2"]


def test_twins_are_not_mistaken_for_pair_sides(tmp_path):
    nlp = spacy.blank("xx")
    write_pairs(tmp_path / "pairs.spacy", nlp.vocab, n=1)
    batcher = configure_consistency_batcher(
        labeled=lambda items: minibatch(items, 1),
        pairs=create_conjugate_pairs_reader(tmp_path / "pairs.spacy"),
        pairs_per_batch=1,
        dropout_on="unlabeled",
    )
    batch = next(batcher(labeled_examples(nlp, 1)))
    docs = [eg.predicted for eg in batch]
    twin = docs[-1]
    assert twin._.get(DROPOUT_TWIN) is not None and twin._.conjugate_id is None
    groups = find_consistency_groups(docs)
    assert len(groups.unlabeled_spans) == 1
