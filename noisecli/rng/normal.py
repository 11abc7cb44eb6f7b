"""N(0, 1) from one 32-bit word by a tabulated inverse CDF: no libm, exact in every path.

For a word ``u`` (all float32 operations rounded to nearest even, no FMA)::

    t    = u & 0x7FFFFFFF                       (31 bits)
    x    = float32(t) + 0.5                     (exact for t < 2**23; x ~ q * 2**32 with the
                                                 tail probability q = (t + 1/2) * 2**-32)
    b    = bits(x)                              (x = 2**E * (1 + (m + f) / 64), E = -1 .. 31)
    cell = (b >> 17) - 8064                     (= (E + 1) * 64 + m, 0 .. 2111)
    f    = float32(bits 0x3F800000 | (b & 0x1FFFF) << 6) - 1   (exact, 0 <= f < 1)
    |z|  = c0 + f*(c1 + f*(c2 + f*c3))          (coefficients of the cell; this order)
    z    = |z| with its sign bit set to the top bit of u

so ``|z| ~ -ndtri(q)``: ``z`` is the inverse normal CDF at the midpoint of one of the 2**32
equal-probability cells of (0, 1). In the tails (``t < 2**23``, ``|z| > 2.9``) every word gives
its own exact ``x``; above, ``float32(t)`` merges up to 128 neighbouring ``t`` whose ``z`` differ
by less than 1e-7 (about one float32 spacing of ``z`` there; included in the bound below). Only
integer operations, one int-to-float conversion and float32 ``+ - *`` are used, so numpy and C
agree bit for bit.

The 2112 x 4 float32 coefficients (``normal_table.bin``, made by
``scripts/make_normal_table.py``: a float64 cubic per cell, interpolating when the cell has at
most 4 values of ``x``, else a least-squares fit over them, then float32 rounding with ``c0, c1``
nudged by a few ulps to minimise the error of the float32 evaluation) give
``max |z - (-ndtri(q))| < 5e-7`` over all 2**32 words (about 1 float32 ulp at ``|z| >= 4``;
checked exhaustively by ``make_normal_table.py --verify``). The extreme values are
``|z| = 6.3379...`` (``t = 0``, ``q = 2**-33``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SEGMENTS = 33
CELLS = SEGMENTS * 64
CELL_BIAS = (127 - 1) << 6
TABLE_PATH = Path(__file__).with_name("normal_table.bin")


def load_table(path: Path = TABLE_PATH) -> NDArray[np.float32]:
    """The coefficient table as a read-only (2112, 4) float32 array (rows = cells)."""
    raw = np.fromfile(path, dtype="<f4")
    if raw.size != CELLS * 4:
        raise RuntimeError(f"{path}: expected {CELLS * 4} float32 values, found {raw.size}")
    table = raw.astype(np.float32).reshape(CELLS, 4)
    table.flags.writeable = False
    return table


TABLE = load_table()
_CELLS16 = np.ascontiguousarray(TABLE).view(np.complex128).reshape(-1)  # one 16-byte row per cell
MAX_ABS_Z = float(np.max(np.abs(TABLE[:, 0])))  # |z| at f = 0 of each cell; t = 0 is the max

_CHUNK = 1 << 15
_SIGN = np.uint32(0x80000000)
_LOW31 = np.uint32(0x7FFFFFFF)


def _normal_chunk(u: NDArray[np.uint32], out: NDArray[np.float32]) -> None:
    """The formula above on one cache-sized chunk."""
    t = u & _LOW31
    x = t.view(np.int32).astype(np.float32)
    x += np.float32(0.5)
    b = x.view(np.uint32)
    cell = b >> np.uint32(17)
    cell -= np.uint32(CELL_BIAS)
    b &= np.uint32(0x1FFFF)
    b <<= np.uint32(6)
    b |= np.uint32(0x3F800000)
    f = x  # b is x's buffer: f = 1 + frac
    f -= np.float32(1.0)
    c = _CELLS16.take(cell).view(np.float32).reshape(-1, 4)
    p = c[:, 3] * f
    p += c[:, 2]
    p *= f
    p += c[:, 1]
    p *= f
    p += c[:, 0]
    pv = p.view(np.uint32)
    pv ^= u & _SIGN
    out[...] = p


def normal_from_bits(
    u: NDArray[np.uint32], out: NDArray[np.float32] | None = None
) -> NDArray[np.float32]:
    """z ~ N(0, 1) (float32) of each word of ``u`` (the numpy twin of the compiled kernel)."""
    u = np.asarray(u)
    if u.dtype != np.uint32:
        raise TypeError("normal_from_bits takes uint32 words")
    res = np.empty(u.shape, np.float32) if out is None else out
    if res.shape != u.shape or res.dtype != np.float32 or not res.flags.c_contiguous:
        raise ValueError("out must be C-contiguous float32 with the shape of u")
    flat_u = u.reshape(-1)
    flat_r = res.reshape(-1)
    for a in range(0, flat_u.size, _CHUNK):
        _normal_chunk(flat_u[a : a + _CHUNK], flat_r[a : a + _CHUNK])
    return res
