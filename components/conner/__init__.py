"""ConNER for spaCy: cross-lingual NER with a CRF head and consistency training."""

from .consistency.extensions import register_extensions
from .transformer.pooling import first_subword  # noqa: F401 (registers conner.first_subword.v1)

register_extensions()
