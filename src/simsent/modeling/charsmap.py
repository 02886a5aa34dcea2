"""A SentencePiece "precompiled charsmap" built from a per-character normalisation table, so a Hugging Face
``tokenizers`` ``Precompiled`` normaliser applies it exactly as the table says.

The format (SentencePiece's, read by ``tokenizers``): a little-endian u32 with the trie's size in bytes,
the trie as darts-clone double-array units (u32 each), then the replacement strings, each ended by a NUL.
A key is one character's UTF-8 bytes; its value is where its replacement starts. Units: bits 0-7 the
label, bit 8 "a key ends here" (its value sits in the unit at the node's base), bits 10-31 the offset
that leads from a node to its children's base (XOR); a value unit has bit 31 set.

Example:
    >>> from tokenizers import normalizers
    >>> blob = precompiled_charsmap({"Ａ": "A", "\\u3000": " ", "\\x07": ""})
    >>> normalizers.Precompiled(blob).normalize_str("Ａ\\u3000b\\x07")
    'A b'
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

_LEAF, _VALUE = 1 << 8, 1 << 31
_MAX_OFFSET = 1 << 21  # offsets below this need no extension bit


def precompiled_charsmap(table: Mapping[str, str]) -> bytes:
    """The charsmap blob mapping each one-character key of ``table`` to its replacement (may be empty)."""
    strings, where = bytearray(), {}
    for key in sorted(table):
        if len(key) != 1 or key == "\x00":
            raise ValueError(f"charsmap keys are single non-NUL characters, got {key!r}")
        out = table[key]
        if out not in where:
            where[out] = len(strings)
            strings += out.encode("utf-8") + b"\x00"
    units = _double_array({k.encode("utf-8"): where[v] for k, v in table.items()})
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _double_array(keys: Mapping[bytes, int]) -> list[int]:
    """darts-clone units for ``keys`` (byte strings -> values), built breadth first, each node's base the
    first unused one whose slots are all free."""
    trie: dict = {}
    for key, value in keys.items():
        node = trie
        for b in key:
            node = node.setdefault(b, {})
        node[None] = value  # None: the value of the key ending at this node
    units, used, bases = [0], {0}, set()  # a base serves one node only, or a walk could cross into another
    queue, lowest = [(0, trie)], 1
    while queue:
        index, node = queue.pop(0)
        labels = sorted(b for b in node if b is not None)
        slots = labels + ([0] if None in node else [])
        if not slots:
            continue
        while lowest in used:
            lowest += 1
        free = lowest  # try the free slots from the lowest up as the place of the first label
        while True:
            base = free ^ slots[0]
            if base not in bases and all((base ^ s) not in used and (base ^ s) != 0 for s in slots):
                break
            free += 1
            while free in used:
                free += 1
        bases.add(base)
        offset = index ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("normalisation table too large for a charsmap")
        _grow(units, base | 0xFF)
        units[index] |= offset << 10
        for b in labels:
            child = base ^ b
            used.add(child)
            units[child] = b | (_LEAF if None in node[b] else 0)
            queue.append((child, node[b]))
        if None in node:
            used.add(base)
            units[base] = _VALUE | node[None]
    return units


def _grow(units: list[int], last: int) -> None:
    if last >= len(units):
        units.extend([0] * (last + 1 - len(units)))
