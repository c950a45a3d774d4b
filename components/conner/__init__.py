"""ConNER for spaCy: cross-lingual NER with a CRF head and consistency training."""
from .extensions import register_extensions

register_extensions()
