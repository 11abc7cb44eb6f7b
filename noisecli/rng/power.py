"""Exact power of a stretch of a normal stream, without keeping it.

``Σ z²`` in floating point depends on the order of the additions (and numpy picks its
order per SIMD level), so the sum is taken in integers: each ``z²`` (exact in float64, as
``z`` is float32) is truncated to a multiple of ``2**-40`` and the integers are added
exactly (:func:`noisecli.rng.kernels.normal_square_sum`, compiled or its numpy twin). The
result is a pure function of (stream, start, count) and differs from the real ``Σ z²`` by
less than ``count · 2**-40``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from noisecli.rng import kernels
from noisecli.rng.kernels import SQUARE_SCALE
from noisecli.rng.philox import Stream

__all__ = ["SQUARE_SCALE", "normal_mean_square"]


def normal_mean_square(
    stream: Stream, start: int, count: int, out: NDArray[np.float32] | None = None
) -> float:
    """Mean of ``z²`` over ``count`` positions from ``start`` (see the module docstring);
    the normals are written to ``out`` when given, for a caller that keeps them."""
    total = kernels.normal_square_sum(stream, start, count, out)
    return total / SQUARE_SCALE / count if count else 0.0
