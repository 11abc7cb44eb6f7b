"""Poisson variates from counter-based streams, the same bits on every CPU.

Value ``i`` (``i = start + j`` for element ``j`` of the output) depends only on
``(stream, i, lam_i)``: never on chunking or on the other values. Its try ``t`` reads the
Philox block ``i`` (words ``4i .. 4i+3``) of ``S_0 = stream`` for ``t = 0`` and of
``S_t = stream.child(f"poisson.try{t}")`` for ``t >= 1``. A uniform is
``u(a, b) = ((a >> 5) * 2**26 + (b >> 6)) * 2**-53`` of two words (53 bits in ``[0, 1)``, as
:meth:`noisecli.rng.philox.Draws.random`). All arithmetic is float64 ``+ - * / sqrt``,
``floor`` and :mod:`noisecli.rng.portable` (no libm, no FMA), in the order written here.

``lam < 10``: inversion by sequential search with ``u = u(w0, w1)`` of try 0::

    p_0 = exp(-lam), F_0 = p_0;  p_k = (p_{k-1} lam) / k,  F_k = F_{k-1} + p_k
    X = min{k : u < F_k}   (the search stops at the first k with F_k + p_{k+1} == F_k,
                            i.e. once the remaining mass is below float64 resolution)

``lam >= 10``: PTRS, Hörmann's transformed rejection with squeeze (Insurance: Math. Econ. 12,
1993), one try = ``U = u(w0, w1) - 1/2``, ``V = u(w2, w3)``, with ``s = sqrt(lam)``,
``b = 0.931 + 2.53 s``, ``a = -0.059 + 0.02483 b``, ``1/alpha = 1.1239 + 1.1328/(b - 3.4)``,
``v_r = 0.9277 - 3.6224/(b - 2)``, ``u_s = 1/2 - |U|``::

    k = floor(((2a)/u_s + b) U + lam + 0.43)
    accept k  if u_s >= 0.07 and V <= v_r
    reject    if k < 0, or u_s < 0.013 and V > u_s, or u_s == 0, or k > 2 lam + 2**20
    accept k  if log((V (1/alpha)) / (a/(u_s u_s) + b)) <= log f(k; lam)
    else next try

with ``log f`` the Poisson log-pmf in Loader's saddle-point form (no cancellation at large
``lam``): ``log f(0) = -lam``, ``log f(k) = ((-stirlerr(k) - bd0(k, lam)) - log(2 pi)/2)
- log(k)/2``, ``bd0(k, l) = k log(k/l) + l - k`` (by its series in ``v = (k-l)/(k+l)``
when ``|k - l| < (k + l)/10``), ``stirlerr(k) = log k! - (k + 1/2) log k + k - log(2 pi)/2``
(tabulated for ``k <= 15``, Stirling's series above).

Both methods are exact in real arithmetic; here the distribution differs from Poisson only
through float64 rounding (relative ~1e-15 in the cdf / acceptance ratio) and the 53-bit
resolution of the uniforms. PTRS accepts 75 % of tries at ``lam = 10``, 83 % at 40 and 89 % for
``lam >= 1e3``. ``lam`` must satisfy ``0 <= lam <= 2**50``; ``lam = 0`` gives 0.

:func:`poisson_u8` is a separate, cheaper definition for 8-bit images (one word per value,
a table lookup); it does not reproduce :func:`poisson`'s values (see its docstring).
"""

from __future__ import annotations

import functools
import math
import operator
import os
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from noisecli.rng import portable
from noisecli.rng.bits import M0, M1, ROUNDS, W0, W1
from noisecli.rng.philox import Stream

__all__ = ["LAM_MAX", "SMALL_LAM", "log_pmf", "poisson", "poisson_u8", "u8_tables"]

LAM_MAX = 2.0**50
SMALL_LAM = 10.0  # inversion below, PTRS from here up
_CHUNK = 1 << 16
_MAX_TRIES = 10_000
_MASK32 = 0xFFFFFFFF
_HALF_LOG_2PI = portable.HALF_LOG_2PI
_PI = "3.14159265358979323846264338327950288419716939937510582097494459"
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U32 = NDArray[np.uint32]


def _stirlerr_table() -> F64:
    """``stirlerr(k)`` for ``k = 0..15`` from 50-digit decimals (``stirlerr(0)`` unused)."""
    out = [0.0]
    with localcontext() as ctx:
        ctx.prec = 50
        half_log_2pi = (2 * Decimal(_PI)).ln() / 2
        for k in range(1, 16):
            d = Decimal(k)
            v = Decimal(math.factorial(k)).ln() - (d + Decimal("0.5")) * d.ln() + d
            out.append(float(v - half_log_2pi))
    return np.array(out)


_STIRLERR = _stirlerr_table()
_S0, _S1, _S2, _S3, _S4, _S5 = (
    1.0 / 12.0,
    1.0 / 360.0,
    1.0 / 1260.0,
    1.0 / 1680.0,
    1.0 / 1188.0,
    691.0 / 360360.0,
)


def _stirlerr(k: F64) -> F64:
    """``stirlerr`` of integral ``k >= 1`` (float64)."""
    big = k > 15.0
    kk = np.where(big, k, 16.0)
    nn = kk * kk
    series = (_S0 - (_S1 - (_S2 - (_S3 - (_S4 - _S5 / nn) / nn) / nn) / nn) / nn) / kk
    small = _STIRLERR.take(np.where(big, 0, k).astype(np.intp))
    res: F64 = np.where(big, series, small)
    return res


def _bd0(k: F64, lam: F64) -> F64:
    """``k log(k/lam) + lam - k`` for ``k >= 1``, ``lam > 0``, without cancellation."""
    d = k - lam
    sm = k + lam
    near = np.abs(d) < 0.1 * sm
    v = d / sm
    s = d * v
    ej = (2.0 * k) * v
    v2 = v * v
    for j in range(1, 10):
        ej = ej * v2
        s = s + ej / float(2 * j + 1)
    far = ~near
    if far.any():
        kf, lf = k[far], lam[far]
        s[far] = (kf * portable.log_array(kf / lf) + lf) - kf
    res: F64 = s
    return res


def log_pmf(k: ArrayLike, lam: ArrayLike) -> F64:
    """``log P(X = k)``, ``X ~ Poisson(lam)``, for integral ``k >= 0`` and ``lam > 0`` (float64;
    the saddle-point form of the module docstring, elementwise)."""
    kf = np.asarray(k, dtype=np.float64)
    lf = np.asarray(lam, dtype=np.float64)
    kf, lf = np.broadcast_arrays(kf, lf)
    pos = kf >= 1.0
    k1 = np.where(pos, kf, 1.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        body = ((-_stirlerr(k1) - _bd0(k1, lf)) - _HALF_LOG_2PI) - 0.5 * portable.log_array(k1)
    res: F64 = np.where(pos, body, -lf)
    return res


# ------------------------------------------------------------------------ random blocks


def _philox_gather(key: tuple[int, int, int, int], blocks: NDArray[np.uint64]) -> U32:
    """Philox4x32-10 blocks at arbitrary indices ``blocks``: ``(n, 4)`` uint32 words.

    Same function as :meth:`Stream.bits` (block ``b`` = words ``4b .. 4b+3``), for the sparse
    retries.
    """
    k0, k1, k2, k3 = key
    mask = np.uint64(_MASK32)
    sh = np.uint64(32)
    c0 = blocks & mask
    c1 = blocks >> sh
    c2 = np.full(blocks.shape, k2, np.uint64)
    c3 = np.full(blocks.shape, k3, np.uint64)
    m0, m1 = np.uint64(M0), np.uint64(M1)
    for r in range(ROUNDS):
        if r:
            k0 = (k0 + W0) & _MASK32
            k1 = (k1 + W1) & _MASK32
        p0 = c0 * m0
        p1 = c2 * m1
        c0, c1, c2, c3 = (
            (p1 >> sh) ^ c1 ^ np.uint64(k0),
            p1 & mask,
            (p0 >> sh) ^ c3 ^ np.uint64(k1),
            p0 & mask,
        )
    out = np.empty((blocks.size, 4), np.uint32)
    out[:, 0] = c0
    out[:, 1] = c1
    out[:, 2] = c2
    out[:, 3] = c3
    return out


def _u53(a: U32, b: U32) -> F64:
    hi = (a >> np.uint32(5)).astype(np.float64)
    lo = (b >> np.uint32(6)).astype(np.float64)
    res: F64 = (hi * 67108864.0 + lo) * 2.0**-53
    return res


# ---------------------------------------------------------------------------- samplers


def _inversion(u: F64, lam: F64) -> I64:
    """``min{k : u < F_k}`` (module docstring), vectorised over the values still searching."""
    p = portable.exp_array(-lam)
    res = np.zeros(u.shape, np.int64)
    pos = np.flatnonzero(u >= p)
    u, lam, p = u[pos], lam[pos], p[pos]
    f = p
    k = 0
    while pos.size:
        k += 1
        p = (p * lam) / float(k)
        fn = f + p
        stuck = fn == f  # remaining mass below resolution: the last k that added mass
        done = u < fn
        res[pos[stuck]] = k - 1
        res[pos[done]] = k
        keep = ~(stuck | done)
        pos, u, lam, p, f = pos[keep], u[keep], lam[keep], p[keep], fn[keep]
    return res


class _PtrsParams:
    """Per-value PTRS constants (module docstring) for ``lam >= 10``."""

    __slots__ = ("a", "b", "inv_alpha", "lam", "two_a", "vr")

    def __init__(self, lam: F64) -> None:
        s = np.sqrt(lam)
        self.lam = lam
        self.b = 0.931 + 2.53 * s
        self.a = -0.059 + 0.02483 * self.b
        self.two_a = 2.0 * self.a
        self.inv_alpha = 1.1239 + 1.1328 / (self.b - 3.4)
        self.vr = 0.9277 - 3.6224 / (self.b - 2.0)

    def take(self, i: NDArray[np.intp]) -> _PtrsParams:
        q = object.__new__(_PtrsParams)
        for name in self.__slots__:
            setattr(q, name, getattr(self, name)[i])
        return q


def _ptrs_try(w: U32, q: _PtrsParams) -> tuple[NDArray[np.bool_], I64]:
    """One PTRS try per value from its block ``w`` (n, 4): (accepted, k)."""
    uu = _u53(w[:, 0], w[:, 1]) - 0.5
    v = _u53(w[:, 2], w[:, 3])
    us = 0.5 - np.abs(uu)
    ok = us > 0.0
    us_safe = np.where(ok, us, 1.0)
    kf = np.floor(((q.two_a / us_safe + q.b) * uu + q.lam) + 0.43)
    ok &= (kf >= 0.0) & (kf <= 2.0 * q.lam + 2.0**20)
    kf = np.where(ok, kf, 0.0)
    fast = ok & (us >= 0.07) & (v <= q.vr)
    ok &= ~((us < 0.013) & (v > us))
    check = ok & ~fast
    acc = fast
    if check.any():
        i = np.flatnonzero(check)
        usi = us_safe[i]
        ratio = (v[i] * q.inv_alpha[i]) / (q.a[i] / (usi * usi) + q.b[i])
        good = portable.log_array(ratio) <= log_pmf(kf[i], q.lam[i])
        acc = acc.copy()
        acc[i[good]] = True
    return acc, kf.astype(np.int64)


def _check_lam(lam: F64) -> None:
    if lam.size and not (np.all(lam >= 0.0) and np.all(lam <= LAM_MAX)):
        raise ValueError("lam must be finite and in [0, 2**50]")


def _poisson_chunk(stream: Stream, first: int, lam: F64) -> I64:
    """Values ``first .. first + len(lam) - 1``."""
    n = lam.size
    w0 = stream.bits(4 * first, 4 * n).reshape(n, 4)
    small = lam < SMALL_LAM
    res = np.zeros(n, np.int64)
    si = np.flatnonzero(small & (lam > 0.0))
    if si.size:
        res[si] = _inversion(_u53(w0[si, 0], w0[si, 1]), lam[si])
    pos = np.flatnonzero(~small)
    if not pos.size:
        return res
    params = _PtrsParams(lam[pos])
    acc, k = _ptrs_try(w0[pos], params)
    res[pos[acc]] = k[acc]
    keep = np.flatnonzero(~acc)
    pos, params = pos[keep], params.take(keep)
    t = 0
    while pos.size:
        t += 1
        if t > _MAX_TRIES:
            raise RuntimeError("poisson: rejection did not terminate")  # pragma: no cover
        blocks = (pos + first).astype(np.uint64)
        w = _philox_gather(stream.child(f"poisson.try{t}").words, blocks)
        acc, k = _ptrs_try(w, params)
        res[pos[acc]] = k[acc]
        keep = np.flatnonzero(~acc)
        pos, params = pos[keep], params.take(keep)
    return res


def poisson(stream: Stream, start: int, lam: ArrayLike) -> I64:
    """Poisson variates (int64, the shape of ``lam``) for values ``start, start + 1, ...``.

    Value ``start + j`` uses ``lam.flat[j]`` and the stream positions of the module docstring,
    so any split of the index range gives the same values.
    """
    start = operator.index(start)
    lam_a = np.asarray(lam, dtype=np.float64)
    flat = lam_a.reshape(-1)
    _check_lam(flat)
    if start < 0 or start + flat.size > 1 << 64:
        raise ValueError("value range outside [0, 2**64)")
    out = np.empty(flat.size, np.int64)
    for a in range(0, flat.size, _CHUNK):
        out[a : a + _CHUNK] = _poisson_chunk(stream, start + a, flat[a : a + _CHUNK])
    return out.reshape(lam_a.shape)


# --------------------------------------------------------------------------- uint8 path

N_CLASSES = 257  # output values 0..255, and 256 = "255, clipped"
_LEVEL_GROUP = 16


@functools.lru_cache(maxsize=16)
def u8_tables(photons: float) -> tuple[U32, NDArray[np.uint16]]:
    """Inverse-cdf tables of :func:`poisson_u8` for ``photons``: ``(upper, guide)``.

    ``upper`` is uint32 ``(256, 257)``, ``guide`` uint16 ``(256, 256)``, both C-contiguous and
    read-only (construction rule: :func:`poisson_u8`).
    """
    k = float(photons)
    if not 0.0 < k < math.inf:
        raise ValueError("photons must be positive and finite")
    lam = (np.arange(256, dtype=np.float64) / 255.0) * k
    half = np.ceil(9.0 * np.sqrt(lam) + 20.0)
    lo = np.maximum(np.floor(lam) - half, 0.0)
    hi = np.floor(lam) + half
    thresh = np.zeros((256, N_CLASSES), np.float64)
    thresh[0] = 1.0  # level 0: lam = 0, X = 0
    classes = np.arange(N_CLASSES)
    for g in range(1, 256, _LEVEL_GROUP):  # groups of levels bound the temporaries' size
        rows = slice(g, min(g + _LEVEL_GROUP, 256))
        width = int(np.max(hi[rows] - lo[rows])) + 1
        n = lo[rows, None] + np.arange(width, dtype=np.float64)[None, :]
        lam2 = np.broadcast_to(lam[rows, None], n.shape)
        v = (n * 255.0) / k
        cls = np.where(v > 255.0, 256.0, np.rint(np.minimum(v, 255.0))).astype(np.int64)
        pmf = portable.exp_array(log_pmf(n, lam2))
        pmf[n > hi[rows, None]] = 0.0
        cum = np.cumsum(pmf, axis=1)  # sequential per row: c_i = c_{i-1} + p_i
        for r in range(cum.shape[0]):
            last = np.searchsorted(cls[r], classes, side="right") - 1
            thresh[g + r] = np.where(last >= 0, cum[r].take(np.maximum(last, 0)), 0.0)
    t = np.minimum(np.rint(thresh * 2.0**32), 2.0**32)
    t[:, -1] = 2.0**32
    ti = t.astype(np.int64)
    upper = np.ascontiguousarray(np.maximum(ti - 1, 0).astype(np.uint32))
    buckets = np.arange(256, dtype=np.int64) << 24
    guide = np.empty((256, 256), np.uint16)
    for x in range(256):
        guide[x] = np.searchsorted(ti[x], buckets, side="right")
    upper.flags.writeable = False
    guide.flags.writeable = False
    return upper, guide


def _compiled() -> Any:
    """The compiled lookup (``noisecli.rng._poisson``) unless absent or ``NOISECLI_PURE=1``."""
    if os.environ.get("NOISECLI_PURE", "") == "1":
        return None
    try:
        from noisecli.rng import _poisson  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _poisson


def _u8_lookup(
    upper: U32, guide: NDArray[np.uint16], w: U32, x: NDArray[np.uint8]
) -> NDArray[np.intp]:
    """Class ``min{c : w < T_x[c]}`` of each value (numpy twin of the C loop)."""
    xi = x.astype(np.intp)
    bucket = (xi << 8) | (w >> np.uint32(24)).astype(np.intp)
    c: NDArray[np.intp] = guide.reshape(-1).take(bucket).astype(np.intp)
    flat_upper = upper.reshape(-1)
    base = xi * N_CLASSES
    pos = np.flatnonzero(w > flat_upper.take(base + c))
    while pos.size:
        c[pos] += 1
        more = w[pos] > flat_upper.take(base[pos] + c[pos])
        pos = pos[more]
    return c


def poisson_u8(
    stream: Stream, start: int, x: NDArray[np.uint8], photons: float, out: NDArray[np.uint8]
) -> int:
    """``out = clip(rint(Pois((x/255) k) 255/k), 0, 255)`` for uint8 ``x``; returns the count of
    values with ``Pois 255/k > 255`` (clipped). ``out`` may be ``x``.

    Value ``j`` uses the single word ``w = stream word (start + j)`` and level ``x_j``::

        lam_x  = (x / 255) k,                 N ~ Poisson(lam_x)
        c(N)   = 256 if (N 255)/k > 255 else rint((N 255)/k)       (class; 256 = clipped 255)
        T_x[c] = rint(2**32 sum_{N in W_x, c(N) <= c} f(N; lam_x)),  T_x[256] = 2**32
        class  = min{c : w < T_x[c]},   out = min(class, 255),   clipped += (class == 256)

    with ``f = exp(log_pmf)`` (portable), summed left to right over the window
    ``W_x = [max(floor(lam) - h, 0), floor(lam) + h]``, ``h = ceil(9 sqrt(lam) + 20)``
    (outside mass < 1e-17), ``T`` capped at ``2**32``. So ``P(class <= c) = T_x[c] / 2**32``:
    the exact distribution of the rounded output, quantised to ``2**-32``. The tables
    (:func:`u8_tables`) store ``upper = max(T - 1, 0)`` and ``guide[x, b] = class(b 2**24)``;
    the lookup is ``c = guide[x, w >> 24]; while w > upper[x, c]: c += 1``.

    This is its own definition (one word per value): it does not reproduce
    :func:`poisson`'s values for the same stream, only its distribution (to ``2**-32``).
    """
    start = operator.index(start)
    if x.dtype != np.uint8 or out.dtype != np.uint8 or out.shape != x.shape:
        raise ValueError("x and out must be uint8 arrays of the same shape")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if start < 0 or start + x.size > 1 << 66:
        raise ValueError("word range outside [0, 2**66)")
    upper, guide = u8_tables(float(photons))
    xf = np.ascontiguousarray(x).reshape(-1)
    res = np.empty(xf.size, np.uint8)
    clipped = 0
    compiled = _compiled()
    for a in range(0, xf.size, _CHUNK):
        xs = xf[a : a + _CHUNK]
        w = stream.bits(start + a, xs.size)
        if compiled is not None:
            clipped += compiled.lookup(upper, guide, w, xs, res[a : a + xs.size])
            continue
        c = _u8_lookup(upper, guide, w, xs)
        clipped += int(np.count_nonzero(c == 256))
        res[a : a + xs.size] = np.minimum(c, 255)
    out[...] = res.reshape(x.shape)
    return clipped
