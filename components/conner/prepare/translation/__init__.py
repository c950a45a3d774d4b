"""Alignment-free translation of target sentences into conjugate Docs (ConNER 2.3)."""

from .cache import CachedTranslator, TranslationCache
from .engines import (
    BaseEngine,
    LineCountError,
    TranslationEngine,
    TranslationError,
    clean_line,
    engine_names,
    get_engine,
    register_engine,
)
from .pipeline import SPAN_LABELS_KEY, TranslationSummary, build_doc, translate_docs
from .placeholders import Recovery, fill, find_placeholders, make_placeholder, mask_spans

__all__ = [
    "BaseEngine",
    "CachedTranslator",
    "LineCountError",
    "Recovery",
    "SPAN_LABELS_KEY",
    "TranslationCache",
    "TranslationEngine",
    "TranslationError",
    "TranslationSummary",
    "build_doc",
    "clean_line",
    "engine_names",
    "fill",
    "find_placeholders",
    "get_engine",
    "make_placeholder",
    "mask_spans",
    "register_engine",
    "translate_docs",
]
