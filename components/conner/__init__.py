"""ConNER for spaCy: cross-lingual NER with a CRF head and consistency training."""
from .extensions import register_extensions
from .pooling import first_subword  # noqa: F401 (registers conner.first_subword.v1)

register_extensions()
