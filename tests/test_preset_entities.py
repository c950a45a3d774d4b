"""Entities set before conner runs are constraints, as for spaCy's built-in ``ner``.

* tokens of a pre-set entity keep it (an ``entity_ruler`` in front of
  ``conner``), whatever its label;
* blocked tokens (``Doc.set_ents(blocked=...)``) are never entities;
* tokens marked ``O`` or missing are tagged by conner, as ``ner`` does: a
  component that sets ``doc.ents`` marks every other token ``O``;
* the Viterbi path stays legal BIOES around the fixed tokens; the
  constrained Viterbi is checked against brute force over all tag sequences;
* training learns from the gold, never from the pre-set entities.
"""

import itertools

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Span
from test_bad_input import entity_prone
from test_component import CONFIG, make_examples

from conner.tagger.bioes_crf import ConstrainedCRF, constrained_viterbi
from conner.tagger.tags import TagSet, preset_tags

DATA = [
    ("Rex the dog barked at Oslo station .", [(0, 1, "ANIMAL"), (5, 6, "CITY")]),
    ("The cat Tom Kitten moved to New York City .", [(2, 4, "ANIMAL"), (6, 9, "CITY")]),
]
TEXT = "Tom moved from Surrey to New York with Rex the dog ."
PATTERNS = [
    {"label": "ORG", "pattern": "Surrey"},  # a label conner does not know
    {"label": "CITY", "pattern": [{"LOWER": "new"}, {"LOWER": "york"}]},
]
SURREY, NEW_YORK = (3, 4, "ORG"), (5, 7, "CITY")


def examples(nlp, data=DATA):
    return make_examples(nlp, data)


def pipeline(ruler_first=True, overwrite_ents=False):
    nlp = spacy.blank("xx")
    if ruler_first:
        nlp.add_pipe("entity_ruler")
    nlp.add_pipe("conner", config=CONFIG)
    if not ruler_first:
        nlp.add_pipe("entity_ruler", config={"overwrite_ents": overwrite_ents})
    nlp.initialize(lambda: examples(nlp))
    nlp.get_pipe("entity_ruler").add_patterns(PATTERNS)  # initialize clears them
    return entity_prone(nlp)


def ents(doc):
    return [(e.start, e.end, e.label_) for e in doc.ents]


def is_legal(path, tagset):
    start, trans, end = tagset.allowed_transitions()
    return bool(
        start[path[0]] and end[path[-1]] and all(trans[a, b] for a, b in zip(path, path[1:]))
    )


# -------------------------------------------------------- in a pipeline


def test_a_ruler_entity_before_conner_survives_and_conner_tags_the_rest():
    nlp = pipeline(ruler_first=True)
    doc = nlp(TEXT)
    found = ents(doc)
    assert SURREY in found and NEW_YORK in found
    # The ruler marked every other token O; conner still tags them (as ner does).
    others = [e for e in found if e not in (SURREY, NEW_YORK)]
    assert others, [(t.text, t.ent_iob_, t.ent_type_) for t in doc]
    assert {t.i for s, e, _ in others for t in doc[s:e]}.isdisjoint({3, 5, 6})


def test_the_path_around_preset_entities_is_legal_and_keeps_them():
    nlp = pipeline(ruler_first=True)
    conner = nlp.get_pipe("conner")
    doc = nlp.get_pipe("entity_ruler")(nlp.make_doc(TEXT))
    (path,) = conner.predict([doc])
    tags = [conner.tagset.tags[i] for i in path]
    assert is_legal(path, conner.tagset)
    assert tags[5:7] == ["B-CITY", "E-CITY"]  # a known label: its exact tags
    assert tags[3] == "O"  # ORG is not conner's: O for the CRF, the entity kept by set_annotations
    assert any(tag != "O" for i, tag in enumerate(tags) if i not in (3, 5, 6))


def test_a_ruler_after_conner_with_overwrite_ents_wins():
    nlp = pipeline(ruler_first=False, overwrite_ents=True)
    conner_alone = nlp.get_pipe("conner")(nlp.make_doc(TEXT))
    assert not {SURREY, NEW_YORK} <= set(ents(conner_alone))  # conner tags them otherwise
    doc = nlp(TEXT)
    found = ents(doc)
    assert SURREY in found and NEW_YORK in found


def test_blocked_tokens_stay_outside_and_tokens_marked_o_are_tagged():
    nlp = pipeline(ruler_first=False)
    conner = nlp.get_pipe("conner")
    fresh = ents(conner(nlp.make_doc(TEXT)))
    assert fresh
    # Every token marked O, as `doc.ents = []` does: tagged as a fresh doc (ner does the same).
    marked_o = nlp.make_doc(TEXT)
    marked_o.ents = []
    assert all(t.ent_iob_ == "O" for t in marked_o)
    assert ents(conner(marked_o)) == fresh
    # Blocked tokens are never entities, and stay blocked.
    blocked = nlp.make_doc(TEXT)
    blocked.set_ents([], blocked=[blocked[0:2], blocked[8:11]], default="missing")
    tagged = conner(blocked)
    inside = {i for s, e, _ in ents(tagged) for i in range(s, e)}
    assert inside and inside.isdisjoint({0, 1, 8, 9, 10})
    assert all(tagged[i].ent_iob_ == "B" and tagged[i].ent_type_ == "" for i in (0, 1, 8, 9, 10))


def test_preset_entities_keep_their_kb_id():
    nlp = pipeline(ruler_first=False)
    doc = nlp.make_doc(TEXT)
    doc.set_ents([Span(doc, 3, 4, label="ORG", kb_id="Q23276")], default="missing")
    tagged = nlp.get_pipe("conner")(doc)
    surrey = [e for e in tagged.ents if e.start == 3]
    assert [(e.end, e.label_, e.kb_id_) for e in surrey] == [(4, "ORG", "Q23276")]


def test_training_on_docs_with_preset_entities_learns_from_the_gold(monkeypatch):
    nlp = spacy.blank("xx")
    # Wrong on purpose: a training step that read the preset would learn ORG on Oslo.
    ruler = nlp.add_pipe("entity_ruler")
    conner = nlp.add_pipe("conner", config={**CONFIG, "alpha": 0.0, "beta": 0.0})
    nlp.initialize(lambda: examples(nlp))
    ruler.add_patterns([{"label": "ORG", "pattern": "Oslo"}, {"label": "CITY", "pattern": "Rex"}])
    seen = []
    update = conner.update

    def recording_update(batch, **kwargs):
        batch = list(batch)
        seen.append([[(e.text, e.label_) for e in eg.predicted.ents] for eg in batch])
        return update(batch, **kwargs)

    monkeypatch.setattr(conner, "update", recording_update)
    plain = nlp.update(examples(nlp), sgd=False, drop=0.0)
    with_presets = nlp.update(examples(nlp), sgd=False, drop=0.0, annotates=["entity_ruler"])
    assert seen[0][0] == [] and seen[1][0] == [("Rex", "CITY"), ("Oslo", "ORG")]
    assert with_presets["conner"] == pytest.approx(plain["conner"], rel=1e-6)
    optimizer = nlp.resume_training()
    for _ in range(3):
        losses = nlp.update(examples(nlp), sgd=optimizer, drop=0.1, annotates=["entity_ruler"])
    assert numpy.isfinite(losses["conner"])


# --------------------------------------------- the constrained Viterbi


def score(emissions, start, transitions, end, path):
    total = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
    for i in range(1, len(path)):
        total = total + transitions[path[i - 1], path[i]] + emissions[i, path[i]]
    return float(total)


def test_constrained_viterbi_equals_brute_force_over_all_tag_sequences():
    torch.manual_seed(0)
    n_tags, lengths = 4, [4, 3]
    emissions = torch.randn(2, 4, n_tags) * 2
    start, end = torch.randn(n_tags), torch.randn(n_tags)
    transitions = torch.randn(n_tags, n_tags)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    allowed = torch.rand(2, 4, n_tags) > 0.4
    allowed[:, :, 0] |= ~allowed.any(-1)  # at least one tag per token
    paths = constrained_viterbi(emissions, mask, allowed, start, transitions, end)
    for b, n in enumerate(lengths):
        feasible = [
            p
            for p in itertools.product(range(n_tags), repeat=n)
            if all(allowed[b, i, t] for i, t in enumerate(p))
        ]
        best = max(feasible, key=lambda p: score(emissions[b], start, transitions, end, p))
        assert paths[b, :n].tolist() == list(best)
        assert (paths[b, n:] == -1).all()
    # Nothing forbidden: the plain best path over all sequences.
    free = constrained_viterbi(emissions, mask, torch.ones_like(allowed), start, transitions, end)
    best = max(
        itertools.product(range(n_tags), repeat=4),
        key=lambda p: score(emissions[0], start, transitions, end, p),
    )
    assert free[0].tolist() == list(best)


@pytest.mark.parametrize("mode", ["constrained", "learned"])
def test_crf_decoding_with_presets_is_the_best_legal_path_that_keeps_them(mode):
    torch.manual_seed(1)
    tagset = TagSet.from_labels(["A", "B"])
    crf = ConstrainedCRF(tagset, transitions=mode)
    # The preset of each sentence: free (None), O, or an entity's own tag.
    presets = [[None, "B-A", "E-A", None], [None, "O", None, "S-B"]]
    emissions = torch.randn(2, 4, tagset.n_tags) * 3
    emissions[:, :, tagset.prefix_indices("I")] += 4  # the free path would go elsewhere
    allowed = torch.from_numpy(numpy.stack([tagset.allowed_tags(p) for p in presets]))
    paths = crf.decode(emissions, mask=torch.ones(2, 4, dtype=torch.bool), allowed=allowed)
    raw = (crf.start_scores.detach(), crf.transition_scores.detach(), crf.end_scores.detach())
    for b, preset in enumerate(presets):
        legal = [
            p
            for p in itertools.product(range(tagset.n_tags), repeat=4)
            if is_legal(p, tagset)
            and all(fixed is None or tagset.tags[t] == fixed for t, fixed in zip(p, preset))
        ]
        best = max(legal, key=lambda p: score(emissions[b], raw[0], raw[1], raw[2], p))
        assert paths[b] == list(best)


def test_preset_tags_read_spacy_iob():
    # Surrey (one word), New York (two words), a blocked token, O and missing tokens.
    iob = ["", "O", "B", "B", "I", "B", "O"]
    types = ["", "", "ORG", "CITY", "CITY", "", ""]
    assert preset_tags(iob, types) == [None, None, "S-ORG", "B-CITY", "E-CITY", "O", None]
    assert preset_tags(["B", "I", "I", "B"], ["X", "X", "X", "X"]) == ["B-X", "I-X", "E-X", "S-X"]


def test_allowed_tags_of_a_preset():
    tagset = TagSet.from_labels(["CITY"])
    allowed = tagset.allowed_tags([None, "O", "B-CITY", "E-CITY", "S-ORG"])
    assert allowed.shape == (5, tagset.n_tags)
    assert allowed[0].all()
    assert allowed[1].tolist() == [True, False, False, False, False]
    assert allowed[2].tolist() == [False, True, False, False, False]
    assert allowed[3].tolist() == [False, False, False, True, False]
    # A label the tagger does not know: O for the CRF (set_annotations keeps the entity).
    assert allowed[4].tolist() == [True, False, False, False, False]
