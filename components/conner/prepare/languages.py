"""Language codes checked before any work, so a typo fails at once."""

from spacy.util import get_lang_class


def require_language(code: str) -> None:
    """Raise ``ValueError`` naming ``code`` if spaCy has no language of that code."""
    try:
        get_lang_class(code)
    except ImportError:
        raise ValueError(
            f"unknown language code {code!r}: spaCy has no such language "
            "(e.g. en, de, es, nl, or xx for any language)"
        ) from None
