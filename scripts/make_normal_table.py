"""Build noisecli/rng/normal_table.bin: the cubic-per-cell inverse normal CDF table.

For a 31-bit ``t`` (see :mod:`noisecli.rng.normal`), ``x = float32(t) + 0.5`` (float32) has
exponent ``E`` (-1 .. 31) and mantissa ``1 + (m + f) / 64`` (``m``: 6 bits, ``f``: 17 bits);
its cell is ``(E + 1) * 64 + m`` and the target is ``z = -ndtri(q)`` at the midpoint tail
probability ``q = (t + 0.5) * 2**-32`` of every ``t`` that maps to the cell, evaluated as
``c0 + f*(c1 + f*(c2 + f*c3))`` in float32.

Per cell: with the ``W`` reachable values of ``x`` (interpolation through all of them when
``W <= 4``, else least squares over them) a cubic is fitted in
float64, rounded to float32, then ``c0`` and ``c1`` are nudged by up to 3 float32 ulps to
minimise the max error of the exact float32 Horner evaluation over the cell's points (all of
them when ``W <= 8192``, else 8193 evenly spread ones including both ends).

Output: 2112 x 4 little-endian float32, row = cell, columns ``c0 c1 c2 c3`` (unreachable
cells are zero). ``--verify`` evaluates all 2**31 values of ``t`` against float64 ``ndtri``
and prints the max error (a few minutes).

Usage: ``python scripts/make_normal_table.py [--verify] [-o noisecli/rng/normal_table.bin]``
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

SEGMENTS = 33  # exponents E = -1 .. 31 of x = float32(t) + 0.5
CELLS = SEGMENTS * 64
CELL_BIAS = (127 - 1) << 6  # cell = (bits(x) >> 17) - CELL_BIAS
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "noisecli" / "rng" / "normal_table.bin"


def x_of_t(t: NDArray[np.uint32]) -> NDArray[np.float32]:
    """x = float32(t) + 0.5 in float32 (t < 2**31)."""
    x = t.astype(np.int32).astype(np.float32)
    x += np.float32(0.5)
    return x


def target(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """|z| for 31-bit t: the upper quantile of the midpoint tail probability."""
    return np.asarray(-ndtri((t + 0.5) * 2.0**-32), np.float64)


def cell_points(cell: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(f, reference |z|) of every reachable x of a cell (possibly none).

    The reference is the mean of the targets of the t that round to x.
    """
    e, m = divmod(cell, 64)
    e -= 1
    # the t with x in [lo, hi) (x is monotone in t)
    lo = 2.0**e * (1 + m / 64)
    hi = 2.0**e * (1 + (m + 1) / 64)
    if e == 31:  # x = 2**31 exactly, from t = 2**31 - 64 .. 2**31 - 1
        if m:
            return np.zeros(0), np.zeros(0)
        return np.zeros(1), np.array([target(np.arange(2.0**31 - 64, 2.0**31)).mean()])
    if e >= 23:
        # too many t to list: the representable x of the cell (step 2**(e-23)); e = 23:
        # x = t + 0.5 rounded to even, reached from t = x - 1 and x (mean q = x * 2**-32);
        # e >= 24: x = float32(t), reached from t within half a step (mean q ~ (x + .5) 2**-32)
        xs: NDArray[np.float64] = lo + 2.0 ** (e - 23) * np.arange(1 << 17, dtype=np.float64)
        xs = xs[xs < hi]
        ref = target(xs - 0.5) if e == 23 else target(xs)
        f: NDArray[np.float64] = (xs / 2.0**e - 1) * 64 - m
        return f, ref
    t = np.arange(max(0, int(lo) - 2), min((1 << 31) - 1, int(hi) + 2) + 1, dtype=np.uint32)
    x = x_of_t(t).astype(np.float64)
    keep = (x >= lo) & (x < hi)
    t, x = t[keep], x[keep]
    if t.size == 0:
        return np.zeros(0), np.zeros(0)
    xu, inv = np.unique(x, return_inverse=True)
    ref = np.bincount(inv, weights=target(t.astype(np.float64))) / np.bincount(inv)
    f = (xu / 2.0**e - 1) * 64 - m
    return f, ref


def horner32(c: NDArray[np.float32], f: NDArray[np.float32]) -> NDArray[np.float32]:
    """c0 + f*(c1 + f*(c2 + f*c3)) in float32, one rounding per operation (as the kernels)."""
    p = np.float32(c[3]) * f
    p = np.float32(c[2]) + p
    p = p * f
    p = np.float32(c[1]) + p
    p = p * f
    return np.asarray(np.float32(c[0]) + p, np.float32)


def fit_cell(cell: int) -> tuple[NDArray[np.float32], float]:
    f64, ref = cell_points(cell)
    w = f64.size
    if w == 0:
        return np.zeros(4, np.float32), 0.0
    if w > 8193:
        pick = np.unique(np.round(np.linspace(0, w - 1, 8193)).astype(np.int64))
        f64, ref = f64[pick], ref[pick]
    if w <= 4:
        coef = np.zeros(4)
        coef[:w] = np.linalg.solve(np.vander(f64, w, increasing=True), ref)
    else:
        coef = np.asarray(np.polynomial.polynomial.polyfit(f64, ref, 3), np.float64)
    c32 = coef.astype(np.float32)
    f32 = f64.astype(np.float32)  # exact: f has 17 bits
    best = c32.copy()
    best_err = float(np.max(np.abs(horner32(c32, f32).astype(np.float64) - ref)))
    steps = range(-3, 4)
    for d1 in steps if w > 1 else [0]:
        for d0 in steps:
            c = c32.copy()
            c[0] = _ulps(c32[0], d0)
            c[1] = _ulps(c32[1], d1)
            err = float(np.max(np.abs(horner32(c, f32).astype(np.float64) - ref)))
            if err < best_err:
                best, best_err = c, err
    return best, best_err


def _ulps(x: np.float32, n: int) -> np.float32:
    """x moved by n float32 ulps."""
    y = np.array([x], np.float32)
    direction = np.float32(np.inf) if n > 0 else np.float32(-np.inf)
    for _ in range(abs(n)):
        y = np.nextafter(y, direction)
    res: np.float32 = y.astype(np.float32)[0]
    return res


def build() -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    table = np.zeros((CELLS, 4), np.float32)
    errs = np.zeros(CELLS)
    for cell in range(CELLS):
        table[cell], errs[cell] = fit_cell(cell)
    return table, errs


def evaluate(table: NDArray[np.float32], t: NDArray[np.uint32]) -> NDArray[np.float32]:
    """|z| of 31-bit t with the table (the documented formula, independent of the package)."""
    b = x_of_t(t).view(np.uint32)
    cell = (b >> np.uint32(17)) - np.uint32(CELL_BIAS)
    f = ((b & np.uint32(0x1FFFF)) << np.uint32(6) | np.uint32(0x3F800000)).view(np.float32)
    f -= np.float32(1.0)
    c = table[cell]
    p = c[:, 3] * f
    p = c[:, 2] + p
    p *= f
    p = c[:, 1] + p
    p *= f
    return np.asarray(c[:, 0] + p, np.float32)


def verify(table: NDArray[np.float32]) -> float:
    worst = 0.0
    step = 1 << 24
    for a in range(0, 1 << 31, step):
        t = np.arange(a, a + step, dtype=np.uint32)
        err = np.abs(evaluate(table, t).astype(np.float64) - target(t.astype(np.float64)))
        worst = max(worst, float(err.max()))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--verify", action="store_true", help="check all 2**31 magnitudes")
    args = ap.parse_args()
    table, errs = build()
    data = table.astype("<f4").tobytes()
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")
    print(f"max fitted error over the cells' test points: {errs.max():.3e}")
    print(f"max |z| (t = 0): {table[0, 0]:.6f}")
    if args.verify:
        print(f"max error over all 2**31 magnitudes: {verify(table):.3e}")


if __name__ == "__main__":
    main()
