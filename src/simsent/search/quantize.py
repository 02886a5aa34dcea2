"""Quantised sentence vectors: int8 (scalar, calibrated per dimension) and binary (one sign bit each).

As sentence-transformers' ``quantize_embeddings``: int8 maps each dimension's calibrated range
``[min, max]`` onto 256 steps (-128..127); ``ubinary`` keeps the sign of each component, 8 to a byte
(32x smaller than float32). A binary first stage ranks by Hamming distance; rescoring the top
candidates with the float query against their int8 vectors restores most of float32's ranking.

Example:
    >>> vecs = np.array([[0.5, -1.0, 0.25, 0.0, 1.0, -0.5, 0.1, -0.1]], dtype=np.float32)
    >>> quantize(vecs, "ubinary").tolist()  # signs + - + - + - + -: 0b10101010
    [[170]]
    >>> ranges = int8_ranges(np.array([[-1.0, 0.0], [1.0, 2.0]]))
    >>> quantize(np.array([[-1.0, 2.0]]), "int8", ranges).tolist()  # each range's ends
    [[-128, 127]]
"""

from __future__ import annotations

import numpy as np

from simsent.errors import ConfigError

PRECISIONS = ("float32", "int8", "ubinary")


def int8_ranges(calibration: np.ndarray) -> np.ndarray:
    """Per-dimension ``[min, max]`` of ``calibration`` vectors, shape (2, d)."""
    calibration = np.asarray(calibration, dtype=np.float32)
    return np.stack([calibration.min(axis=0), calibration.max(axis=0)])


def quantize(vectors: np.ndarray, precision: str, ranges: np.ndarray | None = None) -> np.ndarray:
    """``vectors`` as ``float32``, ``int8`` (needs ``ranges``, see :func:`int8_ranges`) or packed
    ``ubinary`` (uint8, d / 8 bytes per row; d a multiple of 8)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if precision == "float32":
        return vectors
    if precision == "int8":
        if ranges is None:
            raise ConfigError("int8 quantisation needs calibration ranges (int8_ranges of sample vectors)")
        low, high = ranges
        steps = np.maximum(high - low, 1e-12) / 255.0
        return np.clip(np.round((vectors - low) / steps) - 128, -128, 127).astype(np.int8)
    if precision == "ubinary":
        if vectors.shape[1] % 8:
            raise ConfigError(f"binary vectors need a dimension divisible by 8, got {vectors.shape[1]}")
        return np.packbits(vectors > 0, axis=1)
    raise ConfigError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")


def dequantize_int8(codes: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """The float vectors that int8 ``codes`` stand for (the middle of each step)."""
    low, high = ranges
    steps = np.maximum(high - low, 1e-12) / 255.0
    return (np.asarray(codes, dtype=np.float32) + 128.0) * steps + low


def rescore(queries: np.ndarray, candidates: np.ndarray, codes: np.ndarray, ranges: np.ndarray | None,
            k: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank each query's ``candidates`` (positions into ``codes``, -1 = none) by the cosine of the
    float query with the candidates' dequantised int8 vectors (float32 ``codes`` when ``ranges`` is
    None); the top ``k`` (scores, positions).

    ``codes`` may be a memory-mapped array: only the candidates' rows are read.
    """
    n = len(queries)
    scores = np.full((n, k), np.nan, dtype=np.float32)
    positions = np.full((n, k), -1, dtype=np.int64)
    for i, (q, cand) in enumerate(zip(queries, candidates, strict=True)):
        cand = cand[cand >= 0]
        if not len(cand):
            continue
        order = np.argsort(cand)  # read the memory-mapped rows in file order
        rows = codes[cand[order]]
        vecs = np.asarray(rows, np.float32) if ranges is None else dequantize_int8(rows, ranges)
        s = (vecs @ q) / np.maximum(np.linalg.norm(vecs, axis=1), 1e-12)
        best = np.argsort(-s, kind="stable")[:k]
        scores[i, : len(best)] = s[best]
        positions[i, : len(best)] = cand[order][best]
    return scores, positions
