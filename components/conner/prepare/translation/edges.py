"""Trim the words a span's translation adds around the name it translates.

A span is translated on its own, and in languages that inflect names the
engine turns the inflection into English words around the name: Basque
"Gasteizen" -> "in Vitoria", "Barne Ministerioaren" -> "Of the inside
Ministry", Croatian "NATO-a" -> "NATO-and". If the conjugate span kept those
words, the English side's span distribution would put its mass on "neither
an entity nor O" (an entity never starts with "in"), and translation
consistency would pull the correct target span ("Gasteizen" = LOC) towards
that. Trimming keeps the words in the sentence and only moves the span's
edges onto the name.

Only closed-class words are trimmed (prepositions, "the", conjunctions, the
possessive) and the joiners left behind them, never a content word, and
never the whole span. "A" and "an" stay: an engine keeps them from names
such as "A Coruña" more often than it adds them.
"""

from typing import Dict, FrozenSet, Sequence, Tuple

# Closed-class English words that begin or end a span translation only when
# the engine rendered an inflection or a particle of the source as a word.
ENGLISH_EDGE_WORDS = frozenset(
    {
        "the",
        "of",
        "in",
        "into",
        "inside",
        "on",
        "onto",
        "at",
        "to",
        "towards",
        "toward",
        "from",
        "with",
        "without",
        "by",
        "for",
        "about",
        "as",
        "than",
        "through",
        "via",
        "within",
        "among",
        "between",
        "and",
        "or",
        "'s",
        "’s",
    }
)
# Punctuation that joined an inflection to a name ("NATO-a", "Bilbao'n").
JOINERS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015'’")

EDGE_WORDS: Dict[str, FrozenSet[str]] = {"en": ENGLISH_EDGE_WORDS}


def edge_words_for(lang: str) -> FrozenSet[str]:
    """The words trimmed from span translations into ``lang`` (empty: no trimming)."""
    return EDGE_WORDS.get(lang, frozenset())


def _is_edge(word: str, edge_words: FrozenSet[str]) -> bool:
    return word.lower() in edge_words or (bool(word) and all(c in JOINERS for c in word))


def trim_edges(words: Sequence[str], edge_words: FrozenSet[str]) -> Tuple[int, int]:
    """``(start, end)`` of ``words`` without edge words and joiners at either end.

    Returns ``(0, len(words))`` when nothing is trimmed, or when trimming
    would leave no word (the span then stays as the engine wrote it).
    """
    start, end = 0, len(words)
    while start < end and _is_edge(words[start], edge_words):
        start += 1
    while end > start and _is_edge(words[end - 1], edge_words):
        end -= 1
    if start == end:
        return 0, len(words)
    return start, end
