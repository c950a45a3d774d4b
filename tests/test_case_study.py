"""The case-study page: difference classification, the HTML, and the page
as a browser draws it (headless Chromium)."""

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy
import pytest
import spacy
from PIL import Image
from spacy.tokens import Doc, DocBin, Span

from conner.cli.case_study import case_study, classify_differences, group_cases

# (words, gold entities); the two rulers below tag them differently.
SENTENCES = [
    ("Angela Merkel visitó Madrid ayer .", [(0, 2, "PER"), (3, 4, "LOC")]),  # type: A right
    ("El Banco de España subió los tipos .", [(1, 4, "ORG")]),  # boundary: B right
    ("Lionel Messi juega en Barcelona .", [(0, 2, "PER"), (4, 5, "LOC")]),  # found: B right
    ("Nada pasa aquí .", []),  # no difference: not on the page
    ("Juan llegó a Sevilla .", [(0, 1, "PER"), (3, 4, "LOC")]),  # lost: A right
    (
        "La ONU habló con Siemens .",
        [(1, 2, "ORG"), (4, 5, "ORG")],
    ),  # type, neither right; found: B right
]
PATTERNS_A = [
    ("PER", "Angela Merkel"),
    ("LOC", "Madrid"),
    ("ORG", "Banco"),
    ("LOC", "Barcelona"),
    ("PER", "Juan"),
    ("LOC", "Sevilla"),
    ("LOC", "ONU"),
]
PATTERNS_B = [
    ("PER", "Angela Merkel"),
    ("ORG", "Madrid"),
    ("ORG", "Banco de España"),
    ("LOC", "Barcelona"),
    ("PER", "Lionel Messi"),
    ("LOC", "Sevilla"),
    ("PER", "ONU"),
    ("ORG", "Siemens"),
]


def test_each_kind_of_difference_and_who_matches_gold():
    gold = [(0, 2, "PER"), (3, 4, "LOC")]
    assert classify_differences(gold, gold, gold) == []
    (diff,) = classify_differences(
        gold, [(0, 2, "PER"), (3, 4, "LOC")], [(0, 2, "PER"), (3, 4, "ORG")]
    )
    assert (diff.kind, diff.start, diff.end, diff.matches_gold) == ("type", 3, 4, "a")
    assert (
        diff.a == ((3, 4, "LOC"),) and diff.b == ((3, 4, "ORG"),) and diff.gold == ((3, 4, "LOC"),)
    )
    # One span split in two: a boundary difference, however the labels go.
    (diff,) = classify_differences(
        [(0, 1, "PER"), (1, 3, "ORG")], [(0, 3, "ORG")], [(0, 1, "PER"), (1, 3, "ORG")]
    )
    assert (diff.kind, diff.start, diff.end, diff.matches_gold) == ("boundary", 0, 3, "b")
    (diff,) = classify_differences(gold, [(0, 2, "PER")], gold)
    assert (diff.kind, diff.a, diff.b, diff.matches_gold) == ("found", (), ((3, 4, "LOC"),), "b")
    (diff,) = classify_differences(gold, gold, [(3, 4, "LOC")])
    assert (diff.kind, diff.a, diff.b, diff.matches_gold) == ("lost", ((0, 2, "PER"),), (), "a")
    # A spurious entity: tagging nothing there is what gold says.
    (diff,) = classify_differences([], [], [(5, 6, "MISC")])
    assert (diff.kind, diff.matches_gold, diff.gold) == ("found", "a", ())
    # Neither side right.
    (diff,) = classify_differences([(0, 2, "ORG")], [(0, 2, "PER")], [(0, 2, "LOC")])
    assert (diff.kind, diff.matches_gold) == ("type", None)
    # Several differences in one sentence, in token order; shared entities are ignored.
    diffs = classify_differences(
        [(0, 1, "LOC"), (2, 4, "ORG"), (6, 7, "PER")],
        [(0, 1, "LOC"), (2, 3, "ORG"), (6, 7, "PER")],
        [(0, 1, "ORG"), (2, 4, "ORG"), (6, 7, "PER"), (8, 9, "MISC")],
    )
    assert [(d.kind, d.start, d.end, d.matches_gold) for d in diffs] == [
        ("type", 0, 1, "a"),
        ("boundary", 2, 4, "b"),
        ("found", 8, 9, "a"),
    ]


def make_pipeline(path: Path, patterns) -> str:
    nlp = spacy.blank("xx")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": label, "pattern": text} for label, text in patterns])
    nlp.to_disk(path)
    return str(path)


@pytest.fixture()
def study(tmp_path):
    """Two saved rule pipelines and a gold test DocBin."""
    nlp = spacy.blank("es")
    docbin = DocBin()
    for text, ents in SENTENCES:
        doc = Doc(nlp.vocab, words=text.split())
        doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
        docbin.add(doc)
    test_path = tmp_path / "es_test.spacy"
    docbin.to_disk(test_path)
    return (
        make_pipeline(tmp_path / "vanilla", PATTERNS_A),
        make_pipeline(tmp_path / "conner", PATTERNS_B),
        test_path,
    )


class Marks(HTMLParser):
    """displaCy's entity marks (text and label) and the page's section ids."""

    def __init__(self):
        super().__init__()
        self.marks, self.sections, self._text, self._in_mark = [], [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "mark" and attrs.get("class") == "entity":
            self._in_mark, self._text = True, []
        elif tag == "section":
            self.sections.append(attrs["id"])

    def handle_data(self, data):
        if self._in_mark:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "mark" and self._in_mark:
            self._in_mark = False
            *words, label = " ".join(self._text).split()
            self.marks.append((" ".join(words), label))


def expected_marks(cases, limit=0):
    """(text, label) of every entity of gold, A and B of each shown sentence."""
    marks = []
    for members in group_cases(cases).values():
        for case in members[:limit] if limit else members:
            for doc in (case.gold, case.a, case.b):
                marks.extend((ent.text, ent.label_) for ent in doc.ents)
    return marks


def test_page_groups_sentences_by_kind_with_counts(study):
    page, cases = case_study(*study, names=("vanilla", "ConNER"), limit=0)
    assert [c.index for c in cases] == [0, 1, 2, 4, 5]
    groups = group_cases(cases)
    assert {k: [c.index for c in v] for k, v in groups.items()} == {
        "type": [0, 5],
        "boundary": [1],
        "found": [2, 5],
        "lost": [4],
    }
    parser = Marks()
    parser.feed(page)
    assert parser.sections == ["type", "boundary", "found", "lost"]
    assert sorted(parser.marks) == sorted(expected_marks(cases))
    assert ("Banco de España", "ORG") in parser.marks and ("Banco", "ORG") in parser.marks
    # The counts table: sentences, differences, A / B / neither matching gold per kind.
    assert (
        "<td>Type changed (same span, another label)</td><td>2</td><td>2</td><td>1</td><td>0</td><td>1</td>"
        in page
    )
    assert (
        "<td>Entity found (only ConNER tags it)</td><td>2</td><td>2</td><td>0</td><td>2</td><td>0</td>"
        in page
    )
    assert "Nada pasa" not in page
    # Deterministic: the same inputs give the same page.
    assert case_study(*study, names=("vanilla", "ConNER"), limit=0)[0] == page


def test_limit_caps_sentences_per_kind_but_not_counts(study):
    page, cases = case_study(*study, names=("vanilla", "ConNER"), limit=1)
    parser = Marks()
    parser.feed(page)
    assert sorted(parser.marks) == sorted(expected_marks(cases, limit=1))
    assert 'id="s5"' not in page  # second of both "type" and "found"
    assert "Type changed (same span, another label): 2 sentences, first 1 shown" in page


def screenshot(page: Path, out: Path) -> Image.Image:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={out}",
            "--window-size=1200,1600",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Image.open(out).convert("RGB")


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="chromium is not installed (.ci/run installs the Debian package)",
)
def test_page_as_chromium_draws_it(study, tmp_path):
    page, cases = case_study(*study, names=("vanilla", "ConNER"), limit=0)
    html_path = tmp_path / "case_study.html"
    html_path.write_text(page, encoding="utf8")
    pixels = (
        numpy.asarray(screenshot(html_path, tmp_path / "case_study.png")).reshape(-1, 3).astype(int)
    )
    assert len(pixels) == 1200 * 1600
    # Not blank: text and entity boxes cover part of the page in many colours.
    assert (pixels.min(axis=1) < 240).mean() > 0.02
    assert len(numpy.unique(pixels, axis=0)) > 50
    # Each label's displaCy colour is drawn (LOC #ff9561, ORG #7aecec, PER #aa9cfc).
    for colour in ((0xFF, 0x95, 0x61), (0x7A, 0xEC, 0xEC), (0xAA, 0x9C, 0xFC)):
        assert (numpy.abs(pixels - colour).max(axis=1) <= 3).sum() > 500, colour
    parser = Marks()
    parser.feed(page)
    assert len(parser.marks) == len(expected_marks(cases)) > 0
