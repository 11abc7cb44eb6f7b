"""Variates and fused add kernels: a compiled path and its numpy twin, byte-identical.

The compiled extension ``noisecli.rng._kernel`` is used when it imports and the environment
does not set ``NOISECLI_PURE=1``; :data:`ACTIVE` names the path in use: the best of AVX-512,
AVX2 and scalar code the CPU runs, or the one ``NOISECLI_ISA`` names (``avx2``, ``generic``).
All paths compute exactly the same IEEE float32 operations in the same order (no FMA), so
every output is a pure function of (stream, position) on every CPU and SIMD level.

Fused add (``add_normal`` / ``add_uniform``), for flat sample index ``j`` of ``x`` and word
``w = stream word (start + j // repeat)``, all in float32 (``scale, offset, lo, hi`` first
rounded to float32)::

    v = z(w)                                   (normal: see noisecli.rng.normal)
    v = float32(int(w >> 8) - 2**23) * 2**-23  (uniform: exact, in [-1, 1))
    n = scale * v + offset
    y = float32(x[j]) + n
    clipped += (y < lo) or (y > hi)
    y = lo if y < lo else (hi if y > hi else y)
    out[j] = rint(y) (round half to even) cast to the dtype;  float32: out[j] = y

For integer dtypes ``lo``/``hi`` default to the dtype's range and are rounded inward to
integral float32 values inside it (``int32``: at most ``2**31 - 128``); for float32 they default
to ``-inf``/``inf`` (no clipping, count 0). A NaN in a float32 ``x`` stays NaN and is not counted.

``add_values`` is the same add with the values ``v`` given (normals made by ``normal``
before, for a second pass over the same stretch): sample ``j`` takes ``v[j // repeat]``.

Exact sums of squares, in integers (so that no order of additions can change them):
``normal_square_sum`` is ``Σ floor(z_j² · 2**40)`` over stream positions (the normals also
written to ``out`` if given), ``square_sum_i16`` is ``Σ x²`` or ``Σ (y − x)²`` of int16 arrays.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from noisecli.rng.bits import WORD_LIMIT, _check_range, _out_array, bits_numpy
from noisecli.rng.normal import TABLE
from noisecli.rng.normal import normal_from_bits as _normal_from_bits_numpy

if TYPE_CHECKING:
    from noisecli.rng.philox import Stream

__all__ = [
    "ACTIVE",
    "COMPILED",
    "NUMPY",
    "Backend",
    "add_normal",
    "add_uniform",
    "add_values",
    "bits",
    "normal",
    "normal_from_bits",
    "normal_square_sum",
    "square_sum_i16",
    "uniform",
]

_U32 = np.dtype(np.uint32)
_F32 = np.dtype(np.float32)
DTYPES: dict[np.dtype[Any], int] = {
    np.dtype(np.uint8): 0,
    np.dtype(np.uint16): 1,
    np.dtype(np.int16): 2,
    np.dtype(np.int32): 3,
    np.dtype(np.float32): 4,
}
_NORMAL, _UNIFORM = 0, 1
_CHUNK = 1 << 15  # samples per numpy chunk (about 128 KiB of float32)
_SQUARES_BLOCK = 1 << 17  # values per compiled normal square sum: terms < 2**46, sum < 2**63
_I16_BLOCK = 1 << 29  # values per compiled int16 square sum (the C side takes fewer than 2**31)
SQUARE_SCALE = 2.0**40  # z² < 41 (|z| < 6.4): z²·2**40 < 2**46


class Backend(Protocol):
    """One implementation of the kernels (both have identical results)."""

    name: str

    def bits(self, k: Stream, start: int, count: int, out: NDArray[np.uint32]) -> None: ...
    def uniform(self, k: Stream, start: int, count: int, out: NDArray[np.float32]) -> None: ...
    def normal(self, k: Stream, start: int, count: int, out: NDArray[np.float32]) -> None: ...
    def normal_from_bits(self, u: NDArray[np.uint32], out: NDArray[np.float32]) -> None: ...
    def normal_square_sum(
        self, k: Stream, start: int, count: int, out: NDArray[np.float32] | None
    ) -> int: ...
    def square_sum_i16(self, x: NDArray[np.int16], y: NDArray[np.int16] | None) -> int: ...
    def add(
        self,
        variate: int,
        x: NDArray[Any],
        out: NDArray[Any],
        k: Stream,
        start: int,
        scale: float,
        offset: float,
        lo: float,
        hi: float,
        repeat: int,
    ) -> int: ...
    def add_values(
        self,
        z: NDArray[np.float32],
        x: NDArray[Any],
        out: NDArray[Any],
        scale: float,
        offset: float,
        lo: float,
        hi: float,
        repeat: int,
    ) -> int: ...


def _uniform_from_bits(w: NDArray[np.uint32], out: NDArray[np.float32]) -> None:
    np.multiply((w >> np.uint32(8)).astype(np.float32), np.float32(2.0**-24), out=out)


def _symmetric_from_bits(w: NDArray[np.uint32]) -> NDArray[np.float32]:
    v = (w >> np.uint32(8)).astype(np.int32)
    v -= np.int32(1 << 23)
    f: NDArray[np.float32] = v.astype(np.float32)
    f *= np.float32(2.0**-23)
    return f


class _Numpy:
    name = "numpy"

    def bits(self, k: Stream, start: int, count: int, out: NDArray[np.uint32]) -> None:
        bits_numpy(k.words, start, count, out)

    def uniform(self, k: Stream, start: int, count: int, out: NDArray[np.float32]) -> None:
        for a in range(0, count, _CHUNK):
            n = min(_CHUNK, count - a)
            _uniform_from_bits(bits_numpy(k.words, start + a, n), out[a : a + n])

    def normal(self, k: Stream, start: int, count: int, out: NDArray[np.float32]) -> None:
        for a in range(0, count, _CHUNK):
            n = min(_CHUNK, count - a)
            _normal_from_bits_numpy(bits_numpy(k.words, start + a, n), out[a : a + n])

    def normal_from_bits(self, u: NDArray[np.uint32], out: NDArray[np.float32]) -> None:
        _normal_from_bits_numpy(u, out)

    def normal_square_sum(
        self, k: Stream, start: int, count: int, out: NDArray[np.float32] | None
    ) -> int:
        total = 0
        for a in range(0, count, _CHUNK):
            n = min(_CHUNK, count - a)
            z = _normal_from_bits_numpy(
                bits_numpy(k.words, start + a, n), None if out is None else out[a : a + n]
            )
            total += _square_sum_numpy(z)
        return total

    def square_sum_i16(self, x: NDArray[np.int16], y: NDArray[np.int16] | None) -> int:
        total = 0
        for a in range(0, x.size, _CHUNK):
            part = x[a : a + _CHUNK].astype(np.float64)
            if y is not None:
                np.subtract(y[a : a + _CHUNK], part, out=part)
            np.square(part, out=part)  # every partial sum is an integer below 2**53: exact
            total += int(part.sum())
        return total

    def add(
        self,
        variate: int,
        x: NDArray[Any],
        out: NDArray[Any],
        k: Stream,
        start: int,
        scale: float,
        offset: float,
        lo: float,
        hi: float,
        repeat: int,
    ) -> int:
        def values(w0: int, nw: int) -> NDArray[np.float32]:
            w = bits_numpy(k.words, start + w0, nw)
            return _normal_from_bits_numpy(w) if variate == _NORMAL else _symmetric_from_bits(w)

        return _add_numpy(values, x, out, scale, offset, lo, hi, repeat)

    def add_values(
        self,
        z: NDArray[np.float32],
        x: NDArray[Any],
        out: NDArray[Any],
        scale: float,
        offset: float,
        lo: float,
        hi: float,
        repeat: int,
    ) -> int:
        return _add_numpy(
            lambda w0, nw: z[w0 : w0 + nw].copy(), x, out, scale, offset, lo, hi, repeat
        )


def _square_sum_numpy(z: NDArray[np.float32]) -> int:
    """``Σ floor(z² · 2**40)``: each product is exact in float64 (z has 24 bits), and the
    truncated terms are added as integers."""
    sq = np.multiply(z, z, dtype=np.float64)
    sq *= SQUARE_SCALE
    return int(np.sum(sq.astype(np.int64), dtype=np.int64))


def _add_numpy(
    values: Callable[[int, int], NDArray[np.float32]],
    x: NDArray[Any],
    out: NDArray[Any],
    scale: float,
    offset: float,
    lo: float,
    hi: float,
    repeat: int,
) -> int:
    """The twin's fused add (module docstring), ``values(w0, nw)`` giving the variates of
    words ``w0 .. w0+nw-1`` counted from the first sample's; returns the clipped count."""
    xf = x.reshape(-1)
    of = out.reshape(-1)
    total = xf.size
    s32, o32 = np.float32(scale), np.float32(offset)
    lo32, hi32 = np.float32(lo), np.float32(hi)
    rounding = x.dtype != _F32
    step = max(1, _CHUNK // repeat) * repeat
    clipped = 0
    for j0 in range(0, total, step):
        n = min(step, total - j0)
        v = values(j0 // repeat, -(-n // repeat))
        v *= s32
        v += o32
        if repeat > 1:
            v = np.repeat(v, repeat)[:n]
        y = xf[j0 : j0 + n].astype(np.float32)
        y += v
        below = y < lo32
        above = y > hi32
        clipped += int(np.count_nonzero(below)) + int(np.count_nonzero(above))
        np.copyto(y, lo32, where=below)
        np.copyto(y, hi32, where=above)
        if rounding:
            np.rint(y, out=y)
        of[j0 : j0 + n] = y
    return clipped


_API = (
    "set_table",
    "bits",
    "normal",
    "uniform",
    "normal_from_bits",
    "add",
    "square_sum_normal",
    "square_sum_i16",
    "add_values",
    "isa",
    "available",
)


def _load_compiled() -> ModuleType | None:
    """The extension with the table loaded, or None (absent, or a stale build: see the tests)."""
    try:
        from noisecli.rng import _kernel  # type: ignore[attr-defined]
    except ImportError:
        return None
    mod: ModuleType = _kernel
    if not all(hasattr(mod, name) for name in _API):
        return None
    try:
        mod.set_table(np.ascontiguousarray(TABLE, dtype="<f4").tobytes())
    except (ValueError, RuntimeError):
        return None
    isa = os.environ.get("NOISECLI_ISA", "")
    if isa:  # a narrower code path, to compare paths on one machine (same bytes)
        try:
            mod.set_isa(isa)
        except ValueError:
            raise RuntimeError(
                f"NOISECLI_ISA={isa}: this CPU runs {', '.join(mod.available())}"
            ) from None
    return mod


class _Compiled:
    def __init__(self, mod: ModuleType) -> None:
        self.mod = mod
        self.name = f"compiled ({mod.isa()})"

    def bits(self, k: Stream, start: int, count: int, out: NDArray[np.uint32]) -> None:
        a, b, c, d = k.words
        self.mod.bits(a, b, c, d, start >> 2, start & 3, out)

    def uniform(self, k: Stream, start: int, count: int, out: NDArray[np.float32]) -> None:
        a, b, c, d = k.words
        self.mod.uniform(a, b, c, d, start >> 2, start & 3, out)

    def normal(self, k: Stream, start: int, count: int, out: NDArray[np.float32]) -> None:
        a, b, c, d = k.words
        self.mod.normal(a, b, c, d, start >> 2, start & 3, out)

    def normal_from_bits(self, u: NDArray[np.uint32], out: NDArray[np.float32]) -> None:
        self.mod.normal_from_bits(np.ascontiguousarray(u), out)

    def normal_square_sum(
        self, k: Stream, start: int, count: int, out: NDArray[np.float32] | None
    ) -> int:
        a, b, c, d = k.words
        total = 0
        for first in range(start, start + count, _SQUARES_BLOCK):
            n = min(_SQUARES_BLOCK, start + count - first)
            dst = None if out is None else out[first - start : first - start + n]
            total += self.mod.square_sum_normal(a, b, c, d, first >> 2, first & 3, n, dst)
        return total

    def square_sum_i16(self, x: NDArray[np.int16], y: NDArray[np.int16] | None) -> int:
        total = 0
        for a in range(0, x.size, _I16_BLOCK):
            part = slice(a, a + _I16_BLOCK)
            total += self.mod.square_sum_i16(x[part], None if y is None else y[part])
        return total

    def add(
        self,
        variate: int,
        x: NDArray[Any],
        out: NDArray[Any],
        k: Stream,
        start: int,
        scale: float,
        offset: float,
        lo: float,
        hi: float,
        repeat: int,
    ) -> int:
        a, b, c, d = k.words
        count: int = self.mod.add(
            variate,
            DTYPES[x.dtype],
            x,
            out,
            a,
            b,
            c,
            d,
            start >> 2,
            start & 3,
            float(np.float32(scale)),
            float(np.float32(offset)),
            float(lo),
            float(hi),
            repeat,
        )
        return count

    def add_values(
        self,
        z: NDArray[np.float32],
        x: NDArray[Any],
        out: NDArray[Any],
        scale: float,
        offset: float,
        lo: float,
        hi: float,
        repeat: int,
    ) -> int:
        count: int = self.mod.add_values(
            DTYPES[x.dtype],
            x,
            out,
            z,
            float(np.float32(scale)),
            float(np.float32(offset)),
            float(lo),
            float(hi),
            repeat,
        )
        return count


NUMPY: Backend = _Numpy()
_MOD = _load_compiled()
COMPILED: Backend | None = _Compiled(_MOD) if _MOD is not None else None
PURE = os.environ.get("NOISECLI_PURE", "") == "1"
_ACTIVE: Backend = NUMPY if PURE or COMPILED is None else COMPILED
ACTIVE: str = _ACTIVE.name


def backend(name: str | None = None) -> Backend:
    """The active backend, or ``"numpy"`` / ``"compiled"`` explicitly (KeyError if absent)."""
    if name is None:
        return _ACTIVE
    if name == "numpy":
        return NUMPY
    if name == "compiled" and COMPILED is not None:
        return COMPILED
    raise KeyError(name)


def bits(
    k: Stream,
    start: int,
    count: int,
    out: NDArray[np.uint32] | None = None,
    *,
    using: Backend | None = None,
) -> NDArray[np.uint32]:
    """Words ``start .. start+count-1`` of stream ``k`` (uint32)."""
    start, count = _check_range(start, count)
    res = _out_array(out, count, _U32)
    (using or _ACTIVE).bits(k, start, count, res)
    return res


def uniform(
    k: Stream,
    start: int,
    count: int,
    out: NDArray[np.float32] | None = None,
    *,
    using: Backend | None = None,
) -> NDArray[np.float32]:
    """``(w >> 8) * 2**-24`` for words ``start ..``: float32 in [0, 1)."""
    start, count = _check_range(start, count)
    res = _out_array(out, count, _F32)
    (using or _ACTIVE).uniform(k, start, count, res)
    return res


def normal(
    k: Stream,
    start: int,
    count: int,
    out: NDArray[np.float32] | None = None,
    *,
    using: Backend | None = None,
) -> NDArray[np.float32]:
    """N(0, 1) float32 for words ``start ..`` (see :mod:`noisecli.rng.normal`)."""
    start, count = _check_range(start, count)
    res = _out_array(out, count, _F32)
    (using or _ACTIVE).normal(k, start, count, res)
    return res


def normal_from_bits(
    u: NDArray[np.uint32],
    out: NDArray[np.float32] | None = None,
    *,
    using: Backend | None = None,
) -> NDArray[np.float32]:
    """z of given words (any shape); exposes the variate for edge-case tests."""
    u = np.ascontiguousarray(u)
    if u.dtype != _U32:
        raise TypeError("normal_from_bits takes uint32 words")
    res = np.empty(u.shape, np.float32) if out is None else out
    if res.shape != u.shape or res.dtype != _F32 or not res.flags.c_contiguous:
        raise ValueError("out must be C-contiguous float32 with the shape of u")
    (using or _ACTIVE).normal_from_bits(u, res)
    return res


def normal_square_sum(
    k: Stream,
    start: int,
    count: int,
    out: NDArray[np.float32] | None = None,
    *,
    using: Backend | None = None,
) -> int:
    """``Σ floor(z_j² · 2**40)`` over words ``start .. start+count-1``: exact, any backend;
    the normals themselves are written to ``out`` when given (``count`` float32)."""
    start, count = _check_range(start, count)
    dst = None if out is None else _out_array(out, count, _F32)
    return (using or _ACTIVE).normal_square_sum(k, start, count, dst)


def square_sum_i16(
    x: NDArray[np.int16], y: NDArray[np.int16] | None = None, *, using: Backend | None = None
) -> int:
    """``Σ x²``, or ``Σ (y − x)²`` with ``y``, of int16 arrays (any shape): exact."""
    xs = np.ascontiguousarray(x).reshape(-1)
    ys = None if y is None else np.ascontiguousarray(y).reshape(-1)
    if xs.dtype != np.int16 or (ys is not None and (ys.dtype != np.int16 or ys.size != xs.size)):
        raise TypeError("square_sum_i16 takes int16 arrays of one size")
    return (using or _ACTIVE).square_sum_i16(xs, ys)


@functools.lru_cache(maxsize=256)
def _bounds(dtype: np.dtype[Any], lo: float | None, hi: float | None) -> tuple[float, float]:
    """Clip bounds as float32 values (returned as Python floats); cached, as a tiled caller
    asks for the same bounds thousands of times."""
    if dtype == _F32:
        flo = -math.inf if lo is None else float(np.float32(lo))
        fhi = math.inf if hi is None else float(np.float32(hi))
    else:
        info = np.iinfo(dtype)
        ilo = info.min if lo is None else max(info.min, math.ceil(lo))
        ihi = info.max if hi is None else min(info.max, math.floor(hi))
        flo = float(np.float32(ilo))
        if flo < ilo:
            flo = float(np.nextafter(np.float32(flo), np.float32(np.inf)))
        fhi = float(np.float32(ihi))
        if fhi > ihi:
            fhi = float(np.nextafter(np.float32(fhi), np.float32(-np.inf)))
    if math.isnan(flo) or math.isnan(fhi) or flo > fhi:
        raise ValueError(f"bad clip bounds [{lo}, {hi}]")
    return flo, fhi


def _add(
    variate: int,
    x: NDArray[Any],
    out: NDArray[Any],
    k: Stream,
    start: int,
    scale: float,
    offset: float,
    lo: float | None,
    hi: float | None,
    repeat: int,
    using: Backend | None,
) -> int:
    x, repeat = _checked(x, out, repeat)
    start = int(start)
    nwords = -(-x.size // repeat)
    if start < 0 or start + nwords > WORD_LIMIT:
        raise ValueError("word range outside [0, 2**66)")
    flo, fhi = _bounds(x.dtype, lo, hi)
    if x.size == 0:
        return 0
    return (using or _ACTIVE).add(variate, x, out, k, start, scale, offset, flo, fhi, repeat)


def _checked(x: NDArray[Any], out: NDArray[Any], repeat: int) -> tuple[NDArray[Any], int]:
    """``(x, repeat)`` of an add, checked; ``x`` copied if it partly overlaps ``out``."""
    if x.dtype not in DTYPES:
        raise TypeError(f"unsupported dtype {x.dtype} (uint8, uint16, int16, int32, float32)")
    if not x.flags.c_contiguous:
        raise ValueError("x must be C-contiguous")
    if out.dtype != x.dtype or out.shape != x.shape or not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous with the dtype and shape of x")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    repeat = int(repeat)
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    if out is not x and np.may_share_memory(x, out):
        same = (
            x.__array_interface__["data"][0] == out.__array_interface__["data"][0]
            and x.strides == out.strides
        )
        if not same:
            x = x.copy()
    return x, repeat


def add_normal(
    x: NDArray[Any],
    out: NDArray[Any],
    stream: Stream,
    start: int,
    sigma: float,
    mean: float = 0.0,
    lo: float | None = None,
    hi: float | None = None,
    repeat: int = 1,
    *,
    using: Backend | None = None,
) -> int:
    """``out = clip(x + (sigma * z + mean))`` (rounded for integers); returns the clipped count.

    ``z`` of value ``j`` is the normal of word ``start + j // repeat`` (exact order: module
    docstring). ``out`` may be ``x``.
    """
    return _add(_NORMAL, x, out, stream, start, sigma, mean, lo, hi, repeat, using)


def add_uniform(
    x: NDArray[Any],
    out: NDArray[Any],
    stream: Stream,
    start: int,
    scale: float,
    offset: float = 0.0,
    lo: float | None = None,
    hi: float | None = None,
    repeat: int = 1,
    *,
    using: Backend | None = None,
) -> int:
    """``out = clip(x + (scale * v + offset))``, ``v`` uniform on [-1, 1) (exact form above).

    Uniform noise on ``[a, b)`` is ``scale = (b - a) / 2, offset = (a + b) / 2``.
    """
    return _add(_UNIFORM, x, out, stream, start, scale, offset, lo, hi, repeat, using)


def add_values(
    x: NDArray[Any],
    out: NDArray[Any],
    z: NDArray[np.float32],
    scale: float,
    offset: float = 0.0,
    lo: float | None = None,
    hi: float | None = None,
    repeat: int = 1,
    *,
    using: Backend | None = None,
) -> int:
    """``out = clip(x + (scale * v + offset))`` with the values ``v = z[j // repeat]`` given
    (float32): the bytes and count of ``add_normal`` when ``z`` is ``normal(stream, start, …)``,
    without making the normals again."""
    x, repeat = _checked(x, out, repeat)
    zf = np.ascontiguousarray(z).reshape(-1)
    if zf.dtype != _F32:
        raise TypeError("add_values takes float32 values")
    if zf.size < -(-x.size // repeat):
        raise ValueError(f"{zf.size} values for {x.size} samples at repeat {repeat}")
    if np.may_share_memory(zf, out):
        zf = zf.copy()
    flo, fhi = _bounds(x.dtype, lo, hi)
    if x.size == 0:
        return 0
    return (using or _ACTIVE).add_values(zf, x, out, scale, offset, flo, fhi, repeat)
