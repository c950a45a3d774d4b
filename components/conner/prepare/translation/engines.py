"""The translation engine interface and the registry of engines.

Every engine translates a batch of single-line texts into as many lines, in
order. ``BaseEngine`` does the parts all engines share: it turns each text
into one clean line, never sends empty texts, and refuses results whose
length differs from the input's, so that a misbehaving engine raises instead
of silently shifting every later translation onto the wrong sentence.

Engines are registered by name and imported lazily, so that asking for
``apertium`` never imports ``transformers``.
"""

import importlib
import re
import unicodedata
from collections import Counter
from typing import Callable, Dict, List, Protocol, Union, runtime_checkable


class TranslationError(RuntimeError):
    """An engine failed to translate a batch."""


class LineCountError(TranslationError):
    """An engine returned a different number of lines than it was given."""


@runtime_checkable
class TranslationEngine(Protocol):
    """What the translation pipeline needs from an engine."""

    name: str
    model: str
    src_lang: str
    tgt_lang: str

    def translate_batch(self, texts: List[str]) -> List[str]:
        """Translate ``texts``; one output per input, in the same order."""
        ...


# Python's str.splitlines() and most engines treat all of these as line
# breaks; any of them inside a text would split it into two "sentences".
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


def clean_line(text: str) -> str:
    """``text`` as one line without control characters or outer whitespace."""
    text = _LINE_BREAKS.sub(" ", text)
    # Control characters (category Cc: NUL, DEL, ...) break line-based tools
    # and carry no meaning; tabs become spaces.
    text = "".join(
        " " if ch == "\t" else ch for ch in text if ch == "\t" or unicodedata.category(ch) != "Cc"
    )
    return text.strip()


def check_count(engine: str, given: int, got: int) -> None:
    """Raise ``LineCountError`` unless an engine returned ``given`` lines."""
    if given != got:
        raise LineCountError(
            f"Translation engine {engine!r} returned {got} translations for "
            f"{given} input lines; refusing to guess which lines correspond."
        )


class BaseEngine:
    """Shared plumbing: cleaning, skipping empty texts, checking counts.

    Subclasses implement ``_translate(lines)`` for non-empty clean lines.
    ``stats`` counts what the engine had to fix or could not do; the
    pipeline reports it in its summary.
    """

    name = "base"

    def __init__(self, src_lang: str, tgt_lang: str, model: str) -> None:
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self.model = model
        self.stats: Counter = Counter()

    def translate_batch(self, texts: List[str]) -> List[str]:
        lines = []
        for text in texts:
            line = clean_line(text)
            if line != text.strip():
                self.stats["texts_cleaned"] += 1
            lines.append(line)
        todo = [i for i, line in enumerate(lines) if line]
        self.stats["empty_texts"] += len(lines) - len(todo)
        results = [""] * len(lines)
        if todo:
            translated = self._translate([lines[i] for i in todo])
            check_count(self.name, len(todo), len(translated))
            for i, translation in zip(todo, translated):
                # An engine must not smuggle line breaks into its output.
                results[i] = clean_line(translation)
        self.stats["lines_translated"] += len(todo)
        return results

    def _translate(self, lines: List[str]) -> List[str]:  # pragma: no cover
        raise NotImplementedError


EngineFactory = Callable[..., TranslationEngine]

# name -> factory, or "module:attribute" imported on first use.
_REGISTRY: Dict[str, Union[str, EngineFactory]] = {
    "apertium": "conner.prepare.translation.apertium:ApertiumEngine",
    "opus-mt": "conner.prepare.translation.opus_mt:OpusMTEngine",
    "google": "conner.prepare.translation.google:GoogleEngine",
    "stored": "conner.prepare.translation.stored:StoredEngine",
}


def register_engine(name: str, factory: Union[str, EngineFactory]) -> None:
    """Make ``get_engine(name, ...)`` call ``factory(src_lang, tgt_lang, **options)``."""
    _REGISTRY[name] = factory


def engine_names() -> List[str]:
    return sorted(_REGISTRY)


def get_engine(name: str, src_lang: str, tgt_lang: str, **options) -> TranslationEngine:
    """Build the engine registered as ``name`` for ``src_lang`` -> ``tgt_lang``."""
    if name not in _REGISTRY:
        raise ValueError(f"Unknown translation engine {name!r}; known: {engine_names()}")
    factory = _REGISTRY[name]
    if isinstance(factory, str):
        module, attr = factory.split(":")
        factory = getattr(importlib.import_module(module), attr)
    return factory(src_lang, tgt_lang, **options)
