"""Every Doc extension attribute and Doc-level key of the package.

Conjugate spans (translation consistency). An unlabeled target sentence and its translation are two Docs that share a
``conjugate_id``. Each holds ``conjugate_spans``: a list of
``[span_key, start, end]`` token offsets (end exclusive). A span in the
target Doc and a span in the translation with the same ``span_key`` form a
conjugate pair. Plain lists of ints keep the values msgpack-serializable, so
they travel in DocBin files (``store_user_data=True``).

Dropout twins (dropout consistency). The batcher copies each labeled (or
unlabeled) sentence and gives both copies the same ``dropout_twin`` key, so
the component can find the two dropout passes of one sentence in a batch.

Batch settings. ``doc.user_data[BATCH_SETTINGS_KEY]`` holds the
``(alpha, beta, dropout_on)`` that conner.ConsistencyBatcher.v1 built the
doc's batch for, which the component checks against its own settings.

Weak labels of conjugate spans. ``doc.user_data[SPAN_LABELS_KEY]`` holds
``[[span_key, label], ...]`` from weak tagging, read by the translation
step's placeholders and dropped from its outputs.
"""

from typing import Dict, List, Optional

from spacy.tokens import Doc, Span

CONJUGATE_ID = "conjugate_id"
CONJUGATE_SPANS = "conjugate_spans"
CONJUGATE_ROLE = "conjugate_role"
ROLES = ("target", "translation")
DROPOUT_TWIN = "dropout_twin"
BATCH_SETTINGS_KEY = "conner_batch_settings"
SPAN_LABELS_KEY = "conner_span_labels"


def register_extensions() -> None:
    """Register the extension attributes once (safe to call repeatedly)."""
    for name in (CONJUGATE_ID, CONJUGATE_SPANS, CONJUGATE_ROLE, DROPOUT_TWIN):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


def set_conjugate_spans(doc: Doc, pair_id: str, role: str, spans: List[List[int]]) -> None:
    """Mark ``doc`` as one side (``role``) of the pair ``pair_id``."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    for key, start, end in spans:
        if not 0 <= start < end <= len(doc):
            raise ValueError(
                f"Conjugate span {key} [{start}, {end}) is outside doc {pair_id!r} "
                f"of {len(doc)} tokens"
            )
    doc._.set(CONJUGATE_ID, pair_id)
    doc._.set(CONJUGATE_ROLE, role)
    doc._.set(CONJUGATE_SPANS, [[int(k), int(s), int(e)] for k, s, e in spans])


def get_conjugate_spans(doc: Doc) -> Dict[int, Span]:
    """The doc's conjugate spans as ``{span_key: Span}`` (empty if none)."""
    spans = doc._.get(CONJUGATE_SPANS) or []
    return {key: doc[start:end] for key, start, end in spans}


def conjugate_id(doc: Doc) -> Optional[str]:
    return doc._.get(CONJUGATE_ID)


register_extensions()
