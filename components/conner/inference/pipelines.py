"""Loading a trained pipeline and running it, for the commands that do."""

from typing import Iterable, Iterator, List, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from ..files import saved_files


def load_pipeline(model: str, gpu_id: int = -1, int8: bool = False) -> Language:
    """``spacy.load(model)`` on ``gpu_id``, its encoder in int8 with ``int8``
    (CPU only); a one-line ValueError where that fails (no GPU, int8 on a GPU,
    a damaged pipeline file, named by :mod:`conner.files.saved_files`)."""
    if int8 and gpu_id >= 0:
        raise ValueError(
            f"--int8 is for the CPU (torch's int8 kernels have no GPU version); drop --gpu-id {gpu_id}"
        )
    if gpu_id >= 0:
        try:
            spacy.require_gpu(gpu_id)
        except Exception as err:  # no GPU (ValueError), or no such device (CUDA's own errors)
            raise ValueError(f"--gpu-id {gpu_id}: {' '.join(str(err).split())}") from None
    nlp = saved_files.load_pipeline(model)
    if int8:
        from ..transformer.int8 import (
            quantize_encoder,  # torch's quantization: only when asked for
        )

        quantize_encoder(nlp)  # Int8Error is a ValueError
    return nlp


def pipe_by_words(
    nlp: Language, inputs: Iterable[Union[str, Doc]], batch_words: int
) -> Iterator[Doc]:
    """``nlp.pipe`` over ``inputs`` (texts or Docs) in batches of at most
    ``batch_words`` words, in input order; a document longer than that is a
    batch of its own. Batches in words cost the same whatever the documents'
    length, where ``nlp.pipe``'s ``batch_size`` counts documents."""
    batch: List[Doc] = []
    words = 0
    for item in inputs:
        doc = nlp.make_doc(item) if isinstance(item, str) else item
        if batch and words + len(doc) > batch_words:
            yield from nlp.pipe(batch, batch_size=len(batch))
            batch, words = [], 0
        batch.append(doc)
        words += len(doc)
    if batch:
        yield from nlp.pipe(batch, batch_size=len(batch))
