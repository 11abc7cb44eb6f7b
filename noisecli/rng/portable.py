"""Elementary functions with the same bits on every CPU: IEEE basic operations only.

numpy's and libm's ``exp``/``log``/``pow`` pick code paths per CPU and SIMD level and differ in
the last bits; these functions use only correctly rounded ``+ - * /``, exact operations
(``frexp``, ``ldexp``, ``floor``, ``rint``, comparisons, table lookups) and no FMA, in a fixed
order, so each result is a pure function of its arguments. The scalar (Python ``float``) and
the array (numpy float64, elementwise, no reductions) versions perform the same operations
in the same order and return the same bits.

``log2``: ``x = 2**e * m`` (``frexp``, folded to ``0.75 <= m < 1.5``), ``i = rint(128 m)``
(96..192), ``r_i`` = 128/i rounded to a multiple of ``2**-10``, ``T_i = -log2(r_i)``::

    z        = (m_hi r_i - 1) + m_lo r_i            (both products exact, |z| < 0.006)
    log2(x)  = e + T_i + log2(1 + z),   log2(1+z) = z/ln2 - z²/(2 ln2) + ... (to z**8)

``m = m_hi + m_lo`` (``m_hi`` = ``m`` truncated to a multiple of ``2**-41``), ``z`` and its
rounding error are kept as a double-double, ``e + T_i`` is exact (``T_i`` is stored as a
multiple of ``2**-42`` plus a correction), so ``log2`` is a pair ``hi + lo`` accurate to
``~2**-60`` relative.

``exp2`` of ``a + b`` (``a`` exact, ``|b|`` tiny): ``n = rint(a)``, ``r = (a - n) + b``,
``j = rint(64 r)``, ``f = r - j/64`` (``|f| <= 1/128``, all exact)::

    2**(a+b) = ldexp(E_j + (E_j p + E'_j), n),  p = 2**f - 1 = sum_k (f ln2)**k / k!  (k <= 6)

``E_j + E'_j`` = ``2**(j/64)`` as a double-double. ``exp(x) = exp2(x log2 e)`` and
``pow(x, y) = exp2(y log2 x)`` form their exponent as ``a + b`` with ``a`` an exact product
of Veltkamp halves (26 bits each), so the error stays ~1 ulp even where ``|y log2 x|`` is
near 1075. Tables and constants come, at import, from :mod:`decimal` (software
arbitrary precision, correctly rounded, no libm) and ``float(str)`` (correctly rounded).

Accuracy (checked in the tests against long-double references): ``log``, ``log2``, ``exp``,
``exp2``, ``pow`` within ~1 ulp (relative error < 4e-16) for normal results. Results in the
subnormal range are rounded once by ``ldexp`` from a ~1-ulp value (absolute error at most
about one subnormal ulp); inputs may be subnormal. ``lgamma`` (x > 0): relative error < 2e-15
(absolute < 1e-16 near its zeros at 1 and 2, where it is computed from a series in ``x-1`` or
``x-2``). Special values follow C99 (``inf``, ``nan``; no exceptions are raised).
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "HALF_LOG_2PI",
    "LN2",
    "exp",
    "exp2",
    "exp2_array",
    "exp_array",
    "lgamma",
    "log",
    "log2",
    "log2_array",
    "log_array",
    "pow",
    "pow_array",
]

F64 = NDArray[np.float64]

_PI = "3.14159265358979323846264338327950288419716939937510582097494459"
_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp split into two 26-bit halves
_CHUNK = 8192  # elements per pass of the array versions (keeps temporaries in cache)


def _tables() -> dict[str, Any]:
    """Constants and tables from 60-digit decimal arithmetic, rounded once to float64."""
    with localcontext() as ctx:
        ctx.prec = 60
        ln2 = Decimal(2).ln()
        inv_ln2 = 1 / ln2
        k_hi = float(round(inv_ln2 * 2**25)) * 2.0**-25  # 26 bits
        out: dict[str, Any] = {
            "ln2": float(ln2),
            "k_hi": k_hi,
            "k_lo": float(inv_ln2 - Decimal(k_hi)),
            "half_log_2pi": float(Decimal(2 * Decimal(_PI)).ln() / 2),
            # log2(1+z) = sum_k (-1)**(k+1) z**k / (k ln2); c[0] is the z**2 coefficient
            "log2_c": [float((-1) ** (k + 1) * inv_ln2 / k) for k in range(2, 9)],
            # 2**f - 1 = sum_k (f ln2)**k / k!
            "exp2_p": [float(ln2**k / math.factorial(k)) for k in range(1, 7)],
        }
        r_tab, t_hi, t_lo = [], [], []
        for i in range(96, 193):
            r = Decimal(round(Decimal(128 * 1024) / i)) / 1024  # multiple of 2**-10
            t = -(r.ln() / ln2)
            hi = float(round(t * 2**42)) * 2.0**-42
            r_tab.append(float(r))
            t_hi.append(hi)
            t_lo.append(float(t - Decimal(hi)))
        e_hi, e_lo = [], []
        for j in range(-48, 49):
            v = (ln2 * j / 64).exp()
            h = float(v)
            e_hi.append(h)
            e_lo.append(float(v - Decimal(h)))
        out.update(r=r_tab, t_hi=t_hi, t_lo=t_lo, e_hi=e_hi, e_lo=e_lo)
        out["lgamma_c"] = _lgamma_series(ctx.prec)
    return out


def _lgamma_series(prec: int) -> list[float]:
    """Coefficients of ``lgamma(2 + t) = sum_k c_k t**k``, ``k = 1..28``.

    ``c_1 = 1 - gamma``, ``c_k = (-1)**k (zeta(k) - 1) / k``; ``zeta(k) - 1`` by Euler-Maclaurin
    from ``n = 16`` (remainder < 1e-21 relative).
    """
    bern = [
        Decimal(1) / 6,
        Decimal(-1) / 30,
        Decimal(1) / 42,
        Decimal(-1) / 30,
        Decimal(5) / 66,
        Decimal(-691) / 2730,
        Decimal(7) / 6,
        Decimal(-3617) / 510,
    ]
    with localcontext() as ctx:
        ctx.prec = prec
        n0 = 16
        big = Decimal(n0)
        # Euler's gamma = H_N - ln N - 1/(2N) + sum_j B_2j / (2j N**2j)
        gamma = sum((Decimal(1) / n for n in range(1, n0 + 1)), Decimal(0))
        gamma -= big.ln() + 1 / (2 * big)
        for j, b in enumerate(bern, 1):
            gamma += b / (2 * j * big ** (2 * j))
        coeffs = [float(1 - gamma)]
        for k in range(2, 29):
            z = sum((Decimal(n) ** -k for n in range(2, n0)), Decimal(0))
            z += big ** (1 - k) / (k - 1) + big**-k / 2
            rising = Decimal(k)  # k (k+1) ... (k + 2j - 2)
            for j, b in enumerate(bern, 1):
                z += b / math.factorial(2 * j) * rising * big ** (-k - 2 * j + 1)
                rising *= (k + 2 * j - 1) * (k + 2 * j)
            coeffs.append(float((-1) ** k * z / k))
    return coeffs


_T = _tables()
LN2: float = _T["ln2"]
HALF_LOG_2PI: float = _T["half_log_2pi"]  # log(2 pi) / 2
_K_HI: float = _T["k_hi"]
_K_LO: float = _T["k_lo"]
_C2, _C3, _C4, _C5, _C6, _C7, _C8 = _T["log2_c"]
_P1, _P2, _P3, _P4, _P5, _P6 = _T["exp2_p"]
_R: list[float] = _T["r"]
_THI: list[float] = _T["t_hi"]
_TLO: list[float] = _T["t_lo"]
_EHI: list[float] = _T["e_hi"]
_ELO: list[float] = _T["e_lo"]
_LG: list[float] = _T["lgamma_c"]
_R_A = np.array(_R)
_THI_A = np.array(_THI)
_TLO_A = np.array(_TLO)
_EHI_A = np.array(_EHI)
_ELO_A = np.array(_ELO)
# Stirling: lgamma(x) = (x - 1/2) log x - x + log(2 pi)/2 + sum_k B_2k / (2k (2k-1) x**(2k-1))
_ST = [
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
    -3617.0 / 122400.0,
]
_Y_CLAMP = 2.0**64  # |y| beyond this: pow is 0, 1 or inf, as with y = +-2**64
_INF = math.inf
del _T


# ---------------------------------------------------------------------------------- scalar


def _log2_dd(x: float) -> tuple[float, float]:
    """``log2(x) = hi + lo`` for positive finite ``x`` (the module docstring's reduction)."""
    m, e = math.frexp(x)
    if m < 0.75:
        m = m * 2.0
        e = e - 1
    i = round(m * 128.0) - 96
    r = _R[i]
    mh = math.floor(m * 2.0**41) * 2.0**-41
    ml = m - mh
    zb = mh * r - 1.0
    zs = ml * r
    z = zb + zs
    bv = z - zb
    dz = (zb - (z - bv)) + (zs - bv)
    c = z * _SPLIT
    zh = c - (c - z)
    zl = z - zh
    a = float(e) + _THI[i]
    b = zh * _K_HI
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    q = z * z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * (_C6 + z * (_C7 + z * _C8))))))
    lo = ((((z * _K_LO + q) + zl * _K_HI) + dz * _K_HI) + _TLO[i]) + err
    hi = s + lo  # |lo| < |s|: renormalise so that |lo| <= ulp(hi) / 2
    return hi, lo - (hi - s)


def _exp2_dd(a: float, b: float) -> float:
    """``2**(a + b)``; ``a`` exactly representable with ``a - rint(a)`` exact, ``|b|`` small."""
    a = min(max(a, -1200.0), 1200.0)
    b = min(max(b, -0.25), 0.25)
    n = round(a)
    r = (a - float(n)) + b
    j = round(r * 64.0)
    f = r - float(j) * 0.015625
    p = f * (_P1 + f * (_P2 + f * (_P3 + f * (_P4 + f * (_P5 + f * _P6)))))
    t = _EHI[j + 48]
    v = t + (t * p + _ELO[j + 48])
    if n > 1024:
        return _INF
    try:
        return math.ldexp(v, n)
    except OverflowError:
        return _INF


def log2(x: float) -> float:
    """Base-2 logarithm (``-inf`` at 0, ``nan`` below 0)."""
    x = float(x)
    if not 0.0 < x < _INF:
        return -_INF if x == 0.0 else (x if x == _INF or x != x else math.nan)
    hi, lo = _log2_dd(x)
    return hi + lo


def log(x: float) -> float:
    """Natural logarithm: ``(hi + lo) * ln2`` of :func:`log2`'s pair."""
    x = float(x)
    if not 0.0 < x < _INF:
        return -_INF if x == 0.0 else (x if x == _INF or x != x else math.nan)
    hi, lo = _log2_dd(x)
    return (hi + lo) * LN2


def exp2(x: float) -> float:
    """``2**x``."""
    x = float(x)
    if x != x:
        return x
    return _exp2_dd(min(max(x, -1200.0), 1200.0), 0.0)


def exp(x: float) -> float:
    """``e**x`` as ``exp2(x_h K_hi + (x_l K_hi + x K_lo))``, ``K = log2 e``."""
    x = float(x)
    if x != x:
        return x
    x = min(max(x, -800.0), 800.0)
    c = x * _SPLIT
    xh = c - (c - x)
    xl = x - xh
    return _exp2_dd(xh * _K_HI, xl * _K_HI + x * _K_LO)


def _split(y: float) -> tuple[float, float]:
    c = y * _SPLIT
    yh = c - (c - y)
    return yh, y - yh


def _pow_pos(x: float, y: float, yh: float, yl: float) -> float:
    """``x**y`` for positive finite ``x`` and finite ``|y| <= 2**64``."""
    hi, lo = _log2_dd(x)
    c = hi * _SPLIT
    lh = c - (c - hi)
    ll = hi - lh
    return _exp2_dd(lh * yh, (yh * ll + yl * lh) + (yl * ll + y * lo))


def pow(x: float, y: float) -> float:
    """``x**y`` (C99 special cases; a negative ``x`` needs an integer ``y``, else ``nan``)."""
    x = float(x)
    y = float(y)
    if y == 0.0 or x == 1.0:
        return 1.0
    if x != x or y != y:
        return math.nan
    if y == 1.0:
        return x
    sign = 1.0
    if x < 0.0:
        if y != math.floor(y):
            return math.nan
        x = -x
        if abs(y) < 2.0**53 and int(y) % 2 == 1:
            sign = -1.0
    if x == 0.0:
        return sign * (0.0 if y > 0.0 else _INF)
    if x == _INF:
        return sign * (_INF if y > 0.0 else 0.0)
    if y == _INF or y == -_INF:
        return 0.0 if (x < 1.0) == (y > 0.0) else _INF
    y = min(max(y, -_Y_CLAMP), _Y_CLAMP)
    yh, yl = _split(y)
    return sign * _pow_pos(x, y, yh, yl)


def _lgamma2(t: float) -> float:
    """``lgamma(2 + t)`` for ``|t| <= 1/2`` by its Taylor series (28 terms, Horner)."""
    s = _LG[27]
    for k in range(26, -1, -1):
        s = _LG[k] + t * s
    return t * s


def _stirling(x: float) -> float:
    """``lgamma(x)`` for ``x >= 10``."""
    w = 1.0 / x
    w2 = w * w
    s = _ST[7]
    for k in range(6, -1, -1):
        s = _ST[k] + w2 * s
    return ((x - 0.5) * log(x) - x) + HALF_LOG_2PI + w * s


def lgamma(x: float) -> float:
    """``log Gamma(x)`` for ``x > 0`` (``inf`` at 0 and inf, ``nan`` below 0).

    ``x >= 10``: Stirling to ``x**-15``; ``2.5 <= x < 10``: ``lgamma(x-n) + log((x-1)...(x-n))``
    down to ``[1.5, 2.5)``; there ``lgamma(2 + t)`` by its series in ``t = x - 2``;
    ``[0.5, 1.5)``: ``lgamma(2 + (x-1)) - log x``; ``(0, 0.5)``: ``lgamma(2 + x) - log(x (1+x))``.
    """
    x = float(x)
    if not 0.0 < x < _INF:
        return _INF if x == 0.0 or x == _INF else math.nan
    if x >= 10.0:
        return _stirling(x)
    if x >= 2.5:
        n = math.floor(x - 1.5)
        p = x - 1.0
        for k in range(2, n + 1):
            p = p * (x - float(k))
        return _lgamma2(x - float(n + 2)) + log(p)
    if x >= 1.5:
        return _lgamma2(x - 2.0)
    if x >= 0.5:
        return _lgamma2(x - 1.0) - log(x)
    return _lgamma2(x) - log(x * (1.0 + x))


# ----------------------------------------------------------------------------------- arrays


def _log2_dd_a(x: F64) -> tuple[F64, F64]:
    """Array twin of :func:`_log2_dd` (positive finite ``x``)."""
    m, e = np.frexp(x)
    fold = m < 0.75
    m = np.where(fold, m * 2.0, m)
    ef = e.astype(np.float64) - fold
    i = np.rint(m * 128.0).astype(np.intp) - 96
    r = _R_A.take(i)
    mh = np.floor(m * 2.0**41) * 2.0**-41
    ml = m - mh
    zb = mh * r - 1.0
    zs = ml * r
    z = zb + zs
    bv = z - zb
    dz = (zb - (z - bv)) + (zs - bv)
    c = z * _SPLIT
    zh = c - (c - z)
    zl = z - zh
    a = ef + _THI_A.take(i)
    b = zh * _K_HI
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    q = z * z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * (_C6 + z * (_C7 + z * _C8))))))
    lo = ((((z * _K_LO + q) + zl * _K_HI) + dz * _K_HI) + _TLO_A.take(i)) + err
    hi = s + lo
    return hi, lo - (hi - s)


def _exp2_dd_a(a: F64, b: F64 | float) -> F64:
    """Array twin of :func:`_exp2_dd`."""
    a = np.clip(a, -1200.0, 1200.0)
    b = np.clip(b, -0.25, 0.25)
    n = np.rint(a)
    r = (a - n) + b
    j = np.rint(r * 64.0)
    f = r - j * 0.015625
    p = f * (_P1 + f * (_P2 + f * (_P3 + f * (_P4 + f * (_P5 + f * _P6)))))
    idx = j.astype(np.intp) + 48
    t = _EHI_A.take(idx)
    v = t + (t * p + _ELO_A.take(idx))
    with np.errstate(over="ignore"):
        res: F64 = np.ldexp(v, n.astype(np.int32))
    return res


def _as_f64(x: ArrayLike) -> F64:
    return np.asarray(x, dtype=np.float64)


def _chunked(x: F64, fn: Any) -> F64:
    """``fn`` over cache-sized pieces of the flattened ``x`` (results are elementwise)."""
    flat = x.reshape(-1)
    out = np.empty(flat.shape, np.float64)
    for a in range(0, flat.size, _CHUNK):
        out[a : a + _CHUNK] = fn(flat[a : a + _CHUNK])
    return out.reshape(x.shape)


def _log_special(x: F64, fn: Any) -> F64:
    good = (x > 0.0) & (x < _INF)
    res: F64 = fn(np.where(good, x, 1.0))
    if not good.all():
        bad = np.where(x == 0.0, -_INF, np.where(x == _INF, _INF, math.nan))
        res = np.where(good, res, bad)
    return res


def _log2_chunk(x: F64) -> F64:
    def core(v: F64) -> F64:
        hi, lo = _log2_dd_a(v)
        return hi + lo

    return _log_special(x, core)


def _log_chunk(x: F64) -> F64:
    def core(v: F64) -> F64:
        hi, lo = _log2_dd_a(v)
        res: F64 = (hi + lo) * LN2
        return res

    return _log_special(x, core)


def _exp_chunk(x: F64) -> F64:
    nan = np.isnan(x)
    v = np.clip(np.where(nan, 0.0, x), -800.0, 800.0)
    c = v * _SPLIT
    xh = c - (c - v)
    xl = v - xh
    res = _exp2_dd_a(xh * _K_HI, xl * _K_HI + v * _K_LO)
    return np.where(nan, x, res) if nan.any() else res


def _exp2_chunk(x: F64) -> F64:
    nan = np.isnan(x)
    res = _exp2_dd_a(np.clip(np.where(nan, 0.0, x), -1200.0, 1200.0), 0.0)
    return np.where(nan, x, res) if nan.any() else res


def log2_array(x: ArrayLike) -> F64:
    """Elementwise :func:`log2` (same bits) as float64."""
    return _chunked(_as_f64(x), _log2_chunk)


def log_array(x: ArrayLike) -> F64:
    """Elementwise :func:`log` (same bits) as float64."""
    return _chunked(_as_f64(x), _log_chunk)


def exp_array(x: ArrayLike) -> F64:
    """Elementwise :func:`exp` (same bits) as float64."""
    return _chunked(_as_f64(x), _exp_chunk)


def exp2_array(x: ArrayLike) -> F64:
    """Elementwise :func:`exp2` (same bits) as float64."""
    return _chunked(_as_f64(x), _exp2_chunk)


def pow_array(x: ArrayLike, y: float) -> F64:
    """Elementwise ``x**y`` for ``x >= 0`` and a scalar ``y`` (same bits as :func:`pow`).

    ``0**y`` is 0 for ``y > 0``, ``inf`` for ``y < 0``; ``x**0 = 1`` and ``1**y = 1``;
    ``x < 0`` or ``nan`` gives ``nan``.
    """
    xa = _as_f64(x)
    y = float(y)
    if y == 0.0:
        return np.ones(xa.shape, np.float64)
    if y != y:
        return np.where(xa == 1.0, 1.0, math.nan)
    if y == 1.0:
        return np.where(xa >= 0.0, xa, math.nan)
    yc = min(max(y, -_Y_CLAMP), _Y_CLAMP)
    yh, yl = _split(yc)
    y_inf = y == _INF or y == -_INF
    zero_val = 0.0 if y > 0.0 else _INF
    inf_val = _INF if y > 0.0 else 0.0

    def chunk(v: F64) -> F64:
        good = (v > 0.0) & (v < _INF)
        w = np.where(good, v, 1.0)
        hi, lo = _log2_dd_a(w)
        c = hi * _SPLIT
        lh = c - (c - hi)
        ll = hi - lh
        res = _exp2_dd_a(lh * yh, (yh * ll + yl * lh) + (yl * ll + yc * lo))
        if y_inf:
            res = np.where((w < 1.0) == (y > 0.0), 0.0, _INF)
            res = np.where(w == 1.0, 1.0, res)
        if not good.all():
            bad = np.where(v == 0.0, zero_val, np.where(v == _INF, inf_val, math.nan))
            res = np.where(good, res, bad)
        return res

    return _chunked(xa, chunk)
