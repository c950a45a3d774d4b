"""Loading a trained pipeline for the commands that run one."""

import spacy
from spacy.language import Language

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
