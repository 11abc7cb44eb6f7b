"""Portable elementary functions: accuracy, special values, scalar/array identity, same bits
with numpy's SIMD dispatch disabled, and golden digests.

References: numpy long double (x86 80-bit, 64-bit mantissa) where available, else float64
libm with a looser bound; ``lgamma`` against 50-digit :mod:`decimal` arithmetic (libm's
``lgamma`` is off by up to 1e-7 relative next to its zeros at 1 and 2).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest

from noisecli.rng import portable as P

ROOT = Path(__file__).resolve().parents[2]
EXTENDED = np.finfo(np.longdouble).nmant >= 63
REL = 4e-16 if EXTENDED else 1.5e-15  # the reference's own error when it is float64 libm
N = 200_000


def _wide(seed: int, n: int, lo: int = -1074, hi: int = 1023) -> np.ndarray:
    """Positive float64 spread over binades ``2**lo .. 2**hi`` (exact construction)."""
    rng = np.random.default_rng(seed)
    return np.ldexp(1.0 + rng.random(n), rng.integers(lo, hi, n, endpoint=True))


def _rel_err(got: np.ndarray, ref: np.ndarray) -> float:
    g = got.astype(np.longdouble)
    return float(np.max(np.abs(g - ref) / np.abs(ref)))


def _ld(x: np.ndarray) -> np.ndarray:
    return x.astype(np.longdouble)


# ------------------------------------------------------------------------------- accuracy


def test_log_and_log2_accuracy() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate(
        [
            _wide(2, N),
            1.0 + rng.uniform(-1e-3, 1e-3, N // 4),
            1.0 + rng.uniform(-1e-12, 1e-12, N // 8),
            rng.uniform(0.5, 2.0, N // 4),
        ]
    )
    x = x[x != 1.0]
    assert _rel_err(P.log2_array(x), np.log2(_ld(x))) < REL
    assert _rel_err(P.log_array(x), np.log(_ld(x))) < 2 * REL


def test_exp_and_exp2_accuracy() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-708.0, 709.7, N), rng.uniform(-1e-6, 1e-6, N // 8)])
    assert _rel_err(P.exp_array(x), np.exp(_ld(x))) < REL
    t = np.concatenate([rng.uniform(-1022.0, 1023.9, N), rng.uniform(-1e-9, 1e-9, N // 8)])
    assert _rel_err(P.exp2_array(t), np.exp2(_ld(t))) < REL


def test_subnormal_results_are_within_a_subnormal_ulp() -> None:
    x = np.random.default_rng(4).uniform(-745.1, -708.4, 50_000)
    got = P.exp_array(x)
    ref = np.exp(_ld(x))
    assert np.all(np.abs(got - ref) <= np.longdouble(2.0**-1074))
    assert P.exp(-745.2) == 0.0 and P.exp(-745.1) == 2.0**-1074


@pytest.mark.parametrize("y", [2.4, 1 / 2.4, 0.5, 2.0, -1.0, -3.7, 123.456, 1e5, -2e6, 1e-9])
def test_pow_accuracy(y: float) -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([_wide(6, N), rng.random(N // 4), 1.0 + rng.uniform(-1e-4, 1e-4, N // 4)])
    e = np.abs(np.log2(x) * y)
    x = x[(e < 1020.0) & (x != 1.0)]  # results in the normal range
    assert x.size > N // 4
    ref = np.power(_ld(x), np.longdouble(y))
    assert _rel_err(P.pow_array(x, y), ref) < REL


def test_srgb_exponents_on_unit_interval() -> None:
    x = np.linspace(0.0, 1.0, 100_001)[1:]
    for y in (2.4, 1 / 2.4):
        assert _rel_err(P.pow_array(x, y), np.power(_ld(x), np.longdouble(y))) < REL


def test_scalar_functions_match_libm_closely() -> None:
    rng = np.random.default_rng(7)
    for v in _wide(8, 2000):
        assert abs(P.log(v) - math.log(v)) <= 2 * REL * abs(math.log(v))
        assert P.log2(v) == pytest.approx(math.log2(v), rel=2 * REL)
    for v in rng.uniform(-700.0, 700.0, 2000):
        assert P.exp(v) == pytest.approx(math.exp(v), rel=2 * REL)
        assert P.exp2(v) == pytest.approx(2.0**v, rel=2 * REL)
    for a, b in zip(rng.uniform(0.0, 30.0, 2000), rng.uniform(-20.0, 20.0, 2000), strict=True):
        assert P.pow(a, b) == pytest.approx(math.pow(a, b), rel=2 * REL)


# ------------------------------------------------------------------------------- lgamma

_BERN = [(1, 6), (-1, 30), (1, 42), (-1, 30), (5, 66), (-691, 2730), (7, 6), (-3617, 510)]


def _lgamma_ref(x: float) -> float:
    """lgamma by Stirling at ``x + n >= 40`` and the recurrence, in 50-digit decimals."""
    with localcontext() as ctx:
        ctx.prec = 50
        xd = Decimal(x)
        n = max(0, 40 - math.floor(x))
        prod = Decimal(1)
        for k in range(n):
            prod *= xd + k
        y = xd + n
        s = (y - Decimal("0.5")) * y.ln() - y
        s += (2 * Decimal("3.14159265358979323846264338327950288419716939937510")).ln() / 2
        for k, (num, den) in enumerate(_BERN, 1):
            s += Decimal(num) / den / (2 * k * (2 * k - 1) * y ** (2 * k - 1))
        return float(s - prod.ln()) if n else float(s)


def test_lgamma_against_decimal_reference() -> None:
    rng = np.random.default_rng(9)
    pts = np.concatenate(
        [
            rng.uniform(0.0, 12.0, 600),
            1.0 + rng.uniform(-1e-6, 1e-6, 50),
            2.0 + rng.uniform(-1e-6, 1e-6, 50),
            np.ldexp(1.0 + rng.random(200), rng.integers(-1074, 300, 200)),
            [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 9.999999999999998, 10.0, 1e-300, 5e-324, 1e17],
        ]
    )
    for x in pts:
        ref = _lgamma_ref(float(x))
        got = P.lgamma(float(x))
        assert abs(got - ref) <= max(2e-15 * abs(ref), 1e-20), x
    assert P.lgamma(1.0) == 0.0 and P.lgamma(2.0) == 0.0


def test_lgamma_against_libm_away_from_zeros() -> None:
    for x in np.random.default_rng(10).uniform(2.6, 1e6, 5000):
        assert P.lgamma(x) == pytest.approx(math.lgamma(x), rel=2e-15)


# ------------------------------------------------------------------------- special values


def test_special_values() -> None:
    inf, nan = math.inf, math.nan
    tiny = 5e-324
    assert P.log(0.0) == -inf and P.log(-0.0) == -inf and P.log(inf) == inf
    assert math.isnan(P.log(-1.0)) and math.isnan(P.log(nan))
    assert P.log(1.0) == 0.0 and P.log2(1.0) == 0.0 and P.log2(8.0) == 3.0
    assert P.log2(tiny) == -1074.0 and P.log2(2.0**-1030) == -1030.0
    assert P.log(tiny) == pytest.approx(math.log(tiny), rel=REL)
    assert P.exp(0.0) == 1.0 and P.exp(-inf) == 0.0 and P.exp(inf) == inf
    assert P.exp(709.78) < inf and P.exp(709.79) == inf and P.exp(1e300) == inf
    assert P.exp(-1e300) == 0.0 and math.isnan(P.exp(nan))
    assert P.exp2(10.0) == 1024.0 and P.exp2(-1074.0) == tiny and P.exp2(1024.0) == inf
    assert P.pow(2.0, 10.0) == 1024.0 and P.pow(0.0, 2.4) == 0.0 and P.pow(0.0, -1.0) == inf
    assert P.pow(nan, 0.0) == 1.0 and P.pow(1.0, nan) == 1.0 and math.isnan(P.pow(-2.0, 0.5))
    assert P.pow(-2.0, 3.0) == -8.0 and P.pow(-2.0, 2.0) == 4.0 and P.pow(inf, -1.0) == 0.0
    assert P.pow(0.5, inf) == 0.0 and P.pow(2.0, inf) == inf and P.pow(3.0, 1.0) == 3.0
    assert P.pow(2.0, 1e300) == inf and P.pow(0.5, 1e300) == 0.0
    assert P.lgamma(0.0) == inf and P.lgamma(inf) == inf and math.isnan(P.lgamma(-1.0))
    x = np.array([0.0, -0.0, tiny, 1.0, inf, -1.0, nan, 2.0**-1022, 1.7976931348623157e308])
    logs = P.log_array(x)
    assert logs[0] == -inf and logs[1] == -inf and logs[3] == 0.0 and logs[4] == inf
    assert np.isnan(logs[5]) and np.isnan(logs[6])
    assert np.array_equal(P.log_array(x[[2, 7, 8]]), [P.log(v) for v in x[[2, 7, 8]]])
    e = P.exp_array(np.array([-inf, inf, nan, 0.0, 1e308, -1e308]))
    assert e[0] == 0.0 and e[1] == inf and np.isnan(e[2]) and e[3] == 1.0
    assert e[4] == inf and e[5] == 0.0
    p = P.pow_array(x, 2.4)
    assert p[0] == 0.0 and p[3] == 1.0 and p[4] == inf and np.isnan(p[5]) and np.isnan(p[6])
    assert p[2] == 0.0  # (5e-324)**2.4 underflows
    q = P.pow_array(x, -0.5)
    assert q[0] == inf and q[4] == 0.0 and q[3] == 1.0
    assert np.all(P.pow_array(x, 0.0) == 1.0)
    assert np.array_equal(P.pow_array(np.array([2.0, 0.0]), 1.0), [2.0, 0.0])
    assert P.pow_array(np.array([0.5, 1.0, 2.0]), inf).tolist() == [0.0, 1.0, inf]


def test_array_versions_keep_shape_and_accept_lists() -> None:
    x = np.arange(1.0, 13.0).reshape(3, 4)
    for fn in (P.log_array, P.log2_array, P.exp_array, P.exp2_array):
        assert fn(x).shape == (3, 4)
    assert P.pow_array(x, 2.0).shape == (3, 4)
    assert P.log_array([1.0, 2.0]).dtype == np.float64
    assert P.exp_array(np.float32(1.0)).shape == ()


# --------------------------------------------------------------- scalar/array identity


def _pow_y(x: float, y: float) -> float:
    return P.pow(x, y)


def test_scalar_and_array_give_the_same_bits() -> None:
    rng = np.random.default_rng(11)
    x = np.concatenate([_wide(12, 3000), rng.random(1000), 1.0 + rng.uniform(-1e-6, 1e-6, 500)])
    t = rng.uniform(-760.0, 720.0, 3000)
    pairs: list[tuple[Callable[[float], float], Callable[[np.ndarray], np.ndarray], np.ndarray]]
    pairs = [(P.log, P.log_array, x), (P.log2, P.log2_array, x), (P.exp, P.exp_array, t)]
    pairs.append((P.exp2, P.exp2_array, t * 1.5))
    for y in (2.4, 1 / 2.4, -7.25, 300.0):
        pairs.append((functools.partial(_pow_y, y=y), functools.partial(P.pow_array, y=y), x))
    for scalar, array, pts in pairs:
        got = array(pts)
        ref = np.array([scalar(float(v)) for v in pts])
        assert got.tobytes() == ref.tobytes()


def test_chunking_does_not_change_values() -> None:
    x = _wide(13, 3 * P._CHUNK + 17)
    whole = P.pow_array(x, 2.4)
    parts = np.concatenate([P.pow_array(x[:5], 2.4), P.pow_array(x[5:], 2.4)])
    assert whole.tobytes() == parts.tobytes()


# ------------------------------------------------------------------ determinism digests


def battery() -> dict[str, str]:
    """SHA-256 of each function over fixed inputs (shared by the in-process, subprocess and
    golden checks)."""
    x = _wide(20, 65_536)
    t = np.random.default_rng(21).uniform(-760.0, 720.0, 65_536)
    u = np.random.default_rng(22).random(65_536)
    outs = {
        "log": P.log_array(x),
        "log2": P.log2_array(x),
        "exp": P.exp_array(t),
        "exp2": P.exp2_array(t * 1.5),
        "pow2.4": P.pow_array(u, 2.4),
        "pow1/2.4": P.pow_array(u, 1 / 2.4),
        "pow-3.3": P.pow_array(x, -3.3),
        "lgamma": np.array([P.lgamma(v) for v in u[:2000] * 30.0]),
    }
    return {
        k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest() for k, v in outs.items()
    }


GOLDEN = {
    "log": "56a6329b4ea8be3d25d2a0479bddfdd0f7578c0c7a7dfbf31a346e69253c89e9",
    "log2": "950fd99d990b4b9826981b246718bcaea2ea17236a2337f77b9530246e8cae2e",
    "exp": "a23fb6c9b5a25ad78678c9cb4dc00839024cc5bc63bfe8dd797c500b4d337f1a",
    "exp2": "ccba3f8d396ab3b2984a59068a7864e4e4865084cd6836982f65bb97df489e09",
    "pow2.4": "292f953f958fcc3c097accf9b0004cfb59ad35da3b20cd4b627e62a1bb8f02a4",
    "pow1/2.4": "52d037107efc65fa4cb4f384f9e8fa1462b92e8c8f4ed2aef178b39033ca1061",
    "pow-3.3": "02d4fb5da56ac0c5b291e666875430273ae4cefc113e0a6af234a65665194638",
    "lgamma": "4ccd4df148616ba743e74929d98528d63ce63d0701d04f171ed6cea74bf4902b",
}


def _cpu_module() -> object:
    try:
        return importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:  # numpy < 2
        return importlib.import_module("numpy.core._multiarray_umath")


def simd_off_env() -> tuple[dict[str, str], list[str]]:
    """An environment that disables numpy's dispatched SIMD targets this numpy accepts.

    numpy refuses baseline features; names outside ``__cpu_dispatch__`` are ignored.
    """
    m = _cpu_module()
    dispatch = set(getattr(m, "__cpu_dispatch__", []))
    baseline = set(getattr(m, "__cpu_baseline__", []))
    wanted = ["X86_V4", "AVX512_ICL", "AVX512_SPR", "X86_V3", "AVX512F", "AVX512_SKX", "AVX2"]
    names = [f for f in wanted if f in dispatch and f not in baseline]
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=" ".join(names))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env, names


def run_child(code: str) -> object:
    """Run ``code`` (which prints one JSON value) with SIMD dispatch disabled."""
    env, names = simd_off_env()
    probe = (
        "import json\n"
        "try:\n from numpy._core._multiarray_umath import __cpu_features__ as f\n"
        "except ImportError:\n from numpy.core._multiarray_umath import __cpu_features__ as f\n"
        f"off = [n for n in {names!r} if f.get(n)]\n"
        "assert not off, off\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", probe + code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_same_digests_with_simd_dispatch_disabled() -> None:
    child = run_child("import json, tests.rng.test_portable as t\nprint(json.dumps(t.battery()))\n")
    assert child == battery()


def test_golden_digests() -> None:
    assert battery() == GOLDEN
