"""Poisson variates: moments, pmf, independence from chunking, the uint8 table path, the C
loop (when built), same bits with numpy's SIMD dispatch disabled, golden digests.

Tolerances (fixed seeds, one stream per case): mean within 5 SE, ``SE = sqrt(lam/n)``;
sample variance within 5 SE, ``SE = sqrt((mu4 - lam**2)/n) = sqrt((lam + 2 lam**2)/n)``;
chi-square goodness of fit at level 1e-3 (bins pooled to expected counts >= 5).
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
from collections.abc import Callable
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from noisecli.rng import poisson as pm
from noisecli.rng.philox import Stream
from tests.rng.test_portable import run_child

N = 1 << 17
LAMS = [0.0, 0.01, 0.5, 3.0, 9.9, 10.1, 29.0, 31.0, 100.0, 1e3, 1e5]
_PI = "3.14159265358979323846264338327950288419716939937510"


def _stream(tag: str) -> Stream:
    return Stream.derive(2024, b"test_poisson", tag)


def _chi2_pvalue(observed: np.ndarray, expected: np.ndarray) -> float:
    """Chi-square p-value after pooling adjacent bins to expected counts >= 5."""
    obs, exp = [], []
    o_acc = e_acc = 0.0
    for o, e in zip(observed, expected, strict=True):
        o_acc += o
        e_acc += e
        if e_acc >= 5.0:
            obs.append(o_acc)
            exp.append(e_acc)
            o_acc = e_acc = 0.0
    if e_acc or o_acc:
        obs[-1] += o_acc
        exp[-1] += e_acc
    o_a, e_a = np.array(obs), np.array(exp)
    stat = float(np.sum((o_a - e_a) ** 2 / e_a))
    return float(stats.chi2.sf(stat, len(o_a) - 1))


# ------------------------------------------------------------------------- general path


@pytest.mark.parametrize("lam", LAMS)
def test_mean_and_variance(lam: float) -> None:
    x = pm.poisson(_stream(f"moments{lam}"), 0, np.full(N, lam))
    assert x.dtype == np.int64 and x.shape == (N,)
    if lam == 0.0:
        assert not x.any()
        return
    assert abs(x.mean() - lam) < 5 * np.sqrt(lam / N)
    assert abs(x.var() - lam) < 5 * np.sqrt((lam + 2 * lam * lam) / N)
    assert x.min() >= 0


@pytest.mark.parametrize("lam", [0.01, 0.5, 3.0, 9.9, 10.1, 17.5, 29.0, 31.0])
def test_pmf_chi_square(lam: float) -> None:
    n = 1 << 18
    x = pm.poisson(_stream(f"pmf{lam}"), 7, np.full(n, lam))
    top = int(x.max()) + 1
    counts = np.bincount(x, minlength=top)
    expected = stats.poisson.pmf(np.arange(top), lam) * n
    expected[-1] += stats.poisson.sf(top - 1, lam) * n
    assert _chi2_pvalue(counts, expected) > 1e-3


def test_mixed_rates_in_one_call() -> None:
    lam = np.tile(np.array([0.0, 0.2, 4.0, 12.0, 250.0]), N // 4)
    x = pm.poisson(_stream("mixed"), 3, lam.reshape(-1, 5))
    assert x.shape == (N // 4, 5)
    for col, rate in enumerate([0.0, 0.2, 4.0, 12.0, 250.0]):
        v = x[:, col]
        n = v.size
        assert abs(v.mean() - rate) <= 5 * np.sqrt(rate / n)


def test_chunk_invariance_and_start_offsets() -> None:
    rng = np.random.default_rng(5)
    n = pm._CHUNK + 12_345
    lam = np.where(rng.random(n) < 0.5, rng.uniform(0, 10, n), rng.uniform(10, 500, n))
    s = _stream("chunks")
    whole = pm.poisson(s, 100, lam)
    for k in (1, 777, pm._CHUNK - 1, pm._CHUNK + 5):
        parts = np.concatenate([pm.poisson(s, 100, lam[:k]), pm.poisson(s, 100 + k, lam[k:])])
        assert np.array_equal(whole, parts)
    assert not np.array_equal(whole, pm.poisson(s, 101, lam))


def test_value_depends_only_on_its_index_and_rate() -> None:
    rng = np.random.default_rng(6)
    lam = rng.uniform(0, 60, 4000)
    s = _stream("local")
    a = pm.poisson(s, 0, lam)
    other = lam.copy()
    other[::2] = rng.uniform(0, 60, 2000)
    b = pm.poisson(s, 0, other)
    assert np.array_equal(a[1::2], b[1::2])
    single = [int(pm.poisson(s, j, lam[j : j + 1])[0]) for j in range(0, 4000, 397)]
    assert single == a[::397].tolist()


def test_retries_come_from_child_streams() -> None:
    # values rejected at try 0 are redrawn from stream.child("poisson.try1"), ...: a stream
    # whose try-0 words are all taken shows up in which values differ
    s = _stream("retries")
    lam = np.full(20_000, 40.0)
    base = pm.poisson(s, 0, lam)
    w = s.bits(0, 4 * lam.size).reshape(-1, 4)
    acc, k = pm._ptrs_try(w, pm._PtrsParams(lam))
    assert 0.8 < acc.mean() < 0.99
    assert np.array_equal(base[acc], k[acc])


def test_philox_gather_matches_stream_bits() -> None:
    s = _stream("gather")
    blocks = np.array([0, 1, 5, 1 << 33, (1 << 40) + 3], np.uint64)
    got = pm._philox_gather(s.words, blocks)
    for b, row in zip(blocks.tolist(), got, strict=True):
        assert np.array_equal(row, s.bits(4 * b, 4))


def _log_pmf_ref(k: int, lam: float) -> float:
    """``-lam + k log lam - log k!`` in 60-digit decimals (Stirling to 1/y**9 for large k)."""
    with localcontext() as ctx:
        ctx.prec = 60
        kd, ld = Decimal(k), Decimal(lam)
        if k < 300:
            lfact = Decimal(math.factorial(k)).ln()
        else:
            y = kd + 1
            lfact = (y - Decimal("0.5")) * y.ln() - y + (2 * Decimal(_PI)).ln() / 2
            lfact += 1 / (12 * y) - 1 / (360 * y**3) + 1 / (1260 * y**5) - 1 / (1680 * y**7)
            lfact += 1 / (1188 * y**9)
        return float(-ld + kd * ld.ln() - lfact) if k else -lam


def test_log_pmf_against_decimal_reference() -> None:
    for lam in (0.01, 0.7, 3.0, 10.0, 45.5, 1e3, 1e5, 1e9):
        sd = math.sqrt(lam)
        ks = sorted({0, 1, 2, 15, 16, *(max(0, int(lam + z * sd)) for z in range(-12, 13))})
        got = pm.log_pmf(np.array(ks), lam)
        for k, g in zip(ks, got, strict=True):
            ref = _log_pmf_ref(k, lam)
            # float64 rounding of the terms of bd0 = k log(k/lam) + lam - k bounds the error
            scale = max(1.0, abs(ref), k * abs(math.log(k / lam)) if k else 0.0)
            assert abs(g - ref) <= 4e-15 * scale, (k, lam)


def test_rejects_bad_rates() -> None:
    s = _stream("bad")
    for bad in ([-1.0], [np.nan], [np.inf], [2.0**51]):
        with pytest.raises(ValueError):
            pm.poisson(s, 0, np.array(bad))
    with pytest.raises(ValueError):
        pm.poisson(s, -1, np.array([1.0]))
    assert pm.poisson(s, 0, np.array([])).shape == (0,)


# ---------------------------------------------------------------------------- uint8 path


def _exact_u8(level: int, photons: float) -> tuple[np.ndarray, float]:
    """Exact distribution of out = clip(rint(N 255/k)) (257 classes) and P(clipped)."""
    lam = level / 255.0 * photons
    top = int(lam + 40 * np.sqrt(lam) + 60)
    n = np.arange(top)
    p = stats.poisson.pmf(n, lam) if lam > 0 else (n == 0).astype(float)
    v = n * 255.0 / photons
    cls = np.where(v > 255.0, 256, np.rint(np.minimum(v, 255.0))).astype(int)
    dist = np.bincount(cls, weights=p, minlength=257)
    return dist, float(dist[256])


@pytest.mark.parametrize("photons", [0.7, 10.0, 100.0, 3000.0])
def test_u8_tables_match_the_exact_distribution(photons: float) -> None:
    upper, guide = pm.u8_tables(photons)
    assert upper.shape == (256, 257) and guide.shape == (256, 256)
    t = upper.astype(np.int64) + 1
    for level in range(256):
        dist, _ = _exact_u8(level, photons)
        cdf = np.cumsum(dist)
        reached = cdf > 2.0**-33
        tl = np.where(reached, t[level], 0)
        assert np.all(np.abs(tl / 2.0**32 - np.minimum(cdf, 1.0)) <= 2.0**-32 + 1e-12)
        assert upper[level, 256] == 0xFFFFFFFF


@pytest.mark.parametrize("photons", [1.0, 10.0, 100.0])
def test_u8_output_statistics(photons: float) -> None:
    levels = [0, 1, 37, 128, 200, 250, 255]
    x = np.repeat(np.array(levels, np.uint8), N // 4)
    out = np.empty_like(x)
    clipped = pm.poisson_u8(_stream(f"u8-{photons}"), 11, x, photons, out)
    exp_clipped = 0.0
    for level in levels:
        dist, pclip = _exact_u8(level, photons)
        exp_clipped += pclip * (N // 4)
        o = out[x == level]
        if level == 0:
            assert not o.any()
            continue
        counts = np.bincount(o, minlength=256).astype(float)
        expected = np.concatenate([dist[:255], [dist[255] + dist[256]]]) * o.size
        assert _chi2_pvalue(counts, expected) > 1e-3
    sd = np.sqrt(max(exp_clipped, 1.0))
    assert abs(clipped - exp_clipped) < 5 * sd + 1


def test_u8_clip_count_and_in_place() -> None:
    x = np.full((300, 400), 255, np.uint8)
    x[:, :200] = 0
    s = _stream("inplace")
    out = np.empty_like(x)
    clipped = pm.poisson_u8(s, 0, x, 5.0, out)
    y = x.copy()
    assert pm.poisson_u8(s, 0, y, 5.0, y) == clipped
    assert np.array_equal(y, out)
    assert not out[:, :200].any()
    assert abs(clipped / 60_000 - stats.poisson.sf(5, 5.0)) < 5 * np.sqrt(0.4 / 60_000)


def test_u8_chunk_invariance() -> None:
    rng = np.random.default_rng(8)
    x = rng.integers(0, 256, pm._CHUNK + 999).astype(np.uint8)
    s = _stream("u8chunks")
    whole = np.empty_like(x)
    c = pm.poisson_u8(s, 42, x, 30.0, whole)
    a, b = np.empty(500, np.uint8), np.empty(x.size - 500, np.uint8)
    c2 = pm.poisson_u8(s, 42, x[:500], 30.0, a) + pm.poisson_u8(s, 542, x[500:], 30.0, b)
    assert c == c2 and np.array_equal(whole, np.concatenate([a, b]))


def test_u8_rejects_bad_arguments() -> None:
    s = _stream("u8bad")
    x = np.zeros(4, np.uint8)
    with pytest.raises(ValueError):
        pm.poisson_u8(s, 0, x, 0.0, x)
    with pytest.raises(ValueError):
        pm.poisson_u8(s, 0, x, float("nan"), x)
    with pytest.raises(ValueError):
        pm.poisson_u8(s, 0, x.astype(np.uint16), 1.0, x)


def _c_poisson_u8() -> Callable[..., int]:
    """The C loop of ``_poisson.c``, called straight from the built extension (its exported
    ``noisecli_poisson_u8``), or from ``$NOISECLI_POISSON_SO`` when that names another build.
    Skipped without the extension, except under CI=true, where it must be built."""
    so = os.environ.get("NOISECLI_POISSON_SO")
    if so is None:
        try:
            from noisecli.rng import _poisson  # type: ignore[attr-defined]
        except ImportError:
            if os.environ.get("CI") == "true":
                pytest.fail("noisecli.rng._poisson is not built (CI requires it)")
            pytest.skip("noisecli.rng._poisson not built")
        so = _poisson.__file__
    elif not Path(so).exists():
        pytest.fail(f"NOISECLI_POISSON_SO={so} does not exist")
    fn = ctypes.CDLL(so).noisecli_poisson_u8
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_void_p] * 5 + [ctypes.c_size_t]
    return fn


@pytest.mark.parametrize("photons", [0.3, 1.0, 55.5, 100.0, 1e4])
def test_c_loop_matches_numpy_twin(photons: float) -> None:
    fn = _c_poisson_u8()
    rng = np.random.default_rng(9)
    x = rng.integers(0, 256, 300_001).astype(np.uint8)
    s = _stream("c-vs-numpy")
    ref = np.empty_like(x)
    clipped = pm.poisson_u8(s, 3, x, photons, ref)
    upper, guide = pm.u8_tables(photons)
    words = s.bits(3, x.size)
    out = np.empty_like(x)
    got = fn(
        upper.ctypes.data, guide.ctypes.data, words.ctypes.data, x.ctypes.data,
        out.ctypes.data, x.size,
    )  # fmt: skip
    assert got == clipped and np.array_equal(out, ref)
    edge = np.array([0, 0xFFFFFFFF, 0x00FFFFFF, 0x01000000, 0x7FFFFFFF], np.uint32)
    xe = np.array([0, 255, 255, 1, 128], np.uint8)
    oe = np.empty_like(xe)
    fn(upper.ctypes.data, guide.ctypes.data, edge.ctypes.data, xe.ctypes.data, oe.ctypes.data, 5)
    assert np.array_equal(oe, np.minimum(pm._u8_lookup(upper, guide, edge, xe), 255))


# ------------------------------------------------------------------- determinism digests


def battery() -> dict[str, str]:
    """SHA-256 of fixed outputs (in-process, under disabled SIMD, and golden)."""
    rng = np.random.default_rng(31)
    lam = np.concatenate(
        [rng.uniform(0, 10, 20_000), rng.uniform(10, 300, 20_000), rng.uniform(1e3, 1e6, 5000)]
    )
    s = Stream.derive(99, b"golden", "poisson")
    x = rng.integers(0, 256, 100_000).astype(np.uint8)
    outs: dict[str, bytes] = {"general": pm.poisson(s, 12345, lam).tobytes()}
    for photons in (3.0, 100.0):
        o = np.empty_like(x)
        c = pm.poisson_u8(s, 777, x, photons, o)
        outs[f"u8-{photons:g}"] = o.tobytes() + c.to_bytes(8, "little")
        upper, guide = pm.u8_tables(photons)
        outs[f"tables-{photons:g}"] = upper.tobytes() + guide.tobytes()
    return {k: hashlib.sha256(v).hexdigest() for k, v in outs.items()}


GOLDEN = {
    "general": "b8f8ff176b3d01b290c4326c63780098ebf57ddc4a4f8ec352bcb23a78960437",
    "u8-3": "bc1ab2b79c6faacf44a0437f2ce9cca433ec0d92d3cdd799c26b3c44451f7714",
    "tables-3": "c97698ecc590a9d4fa637d5b945610c8475ef4042a57fe829eb7289627bd58ee",
    "u8-100": "6704404ecd6bc47c201fe547deea9285897107159d0b0881f8620bd8002419bc",
    "tables-100": "bb3bc8e0d96193de22aa73a9fa930e31c756addc24ad8b3f07750a7b45230357",
}


def test_same_digests_with_simd_dispatch_disabled() -> None:
    child = run_child("import json, tests.rng.test_poisson as t\nprint(json.dumps(t.battery()))\n")
    assert child == battery()


def test_golden_digests() -> None:
    assert battery() == GOLDEN
