"""Exact power of a stretch of a normal stream, without keeping it.

``Σ z²`` in floating point depends on the order of the additions (and numpy picks its
order per SIMD level), so the sum is taken in integers: each ``z²`` (exact in float64, as
``z`` is float32) is truncated to a multiple of ``2**-40`` and the integers are added
exactly. The result is a pure function of (stream, start, count) and differs from the
real ``Σ z²`` by less than ``count · 2**-40``.
"""

from __future__ import annotations

import numpy as np

from noisecli.rng.philox import Stream

SQUARE_SCALE = 2.0**40  # z² < 41 (|z| < 6.4): z²·2**40 < 2**46, 2**16 of them < 2**62
_BLOCK = 1 << 16


def normal_square_sum(stream: Stream, start: int, count: int) -> int:
    """``Σ floor(z_j² · 2**40)`` over stream positions ``start .. start+count-1``."""
    total = 0
    z = np.empty(min(count, _BLOCK), np.float32)
    sq = np.empty(len(z), np.float64)
    for first in range(0, count, _BLOCK):
        n = min(_BLOCK, count - first)
        stream.normal(start + first, n, out=z[:n])
        np.multiply(z[:n], z[:n], out=sq[:n], dtype=np.float64)
        sq[:n] *= SQUARE_SCALE
        total += int(np.sum(sq[:n].astype(np.int64), dtype=np.int64))
    return total


def normal_mean_square(stream: Stream, start: int, count: int) -> float:
    """Mean of ``z²`` over ``count`` positions from ``start`` (see the module docstring)."""
    return normal_square_sum(stream, start, count) / SQUARE_SCALE / count if count else 0.0
