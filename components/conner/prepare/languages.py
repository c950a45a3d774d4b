"""Language codes checked before any work, so a typo fails at once."""

from spacy.util import get_lang_class


def has_language(code: str) -> bool:
    """Whether spaCy has a language class of ``code``."""
    try:
        get_lang_class(code)
    except ImportError:
        return False
    return True


def require_language(code: str) -> None:
    """Raise ``ValueError`` naming ``code`` if spaCy has no language of that code."""
    if not has_language(code):
        raise ValueError(
            f"unknown language code {code!r}: spaCy has no such language "
            "(e.g. en, de, es, nl, or xx for any language)"
        )


def spacy_language(code: str) -> str:
    """``code`` where spaCy has that language, else ``"xx"`` (its multi-language class).

    A translation engine names languages by its own codes, and some of them
    have no spaCy class (apertium's Galician ``gl``, Esperanto ``eo``). The
    Docs of such a language are read and built with spaCy's ``xx`` vocab, as
    the ``unlabeled`` step tokenized them; the engine still gets ``code``.
    """
    return code if has_language(code) else "xx"
