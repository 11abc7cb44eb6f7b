"""The tabulated Gaussian: accuracy against ndtri, edge words, and the statistics of streams."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtri

from noisecli.rng import kernels
from noisecli.rng.normal import CELL_BIAS, CELLS, MAX_ABS_Z, TABLE, TABLE_PATH
from noisecli.rng.philox import Stream

BACKENDS = ["numpy"] + (["compiled"] if kernels.COMPILED is not None else [])
TABLE_SHA256 = "c5bb93e6ab946f24ac8256bab1722fefe788a4a06f0eb1c11e78f663c97351ee"


def reference(u: np.ndarray) -> np.ndarray:
    """Exact inverse CDF at the word's midpoint probability, float64."""
    t = (u & np.uint32(0x7FFFFFFF)).astype(np.float64)
    z = -ndtri((t + 0.5) * 2.0**-32)
    return np.where(u >= np.uint32(2**31), -z, z)


def boundary_words() -> np.ndarray:
    """Words around every sign, segment and cell boundary, and the extremes."""
    t = [0, 1, 2, 3, 31, 32, 63, 64, 65, 127, 128, 2**23 - 1, 2**23, 2**23 + 1, 2**24 - 1]
    t += [2**24, 2**24 + 1, 2**31 - 65, 2**31 - 64, 2**31 - 63, 2**31 - 2, 2**31 - 1]
    for e in range(-1, 31):
        for m in range(64):
            edge = 2.0**e * (1 + m / 64) - 0.5  # x = t + 0.5 reaches the cell edge
            c = math.ceil(edge)
            t += [c - 2, c - 1, c, c + 1]
            if e >= 23:  # x = float32(t) rounds: the edge moves by up to half a step
                half = 2 ** (e - 24)
                t += [c - half - 1, c - half, c + half - 1, c + half]
    tt = np.unique(np.clip(np.array(t, np.int64), 0, 2**31 - 1)).astype(np.uint32)
    return np.concatenate([tt, tt | np.uint32(2**31)])


def test_table_file() -> None:
    assert hashlib.sha256(TABLE_PATH.read_bytes()).hexdigest() == TABLE_SHA256
    assert TABLE.shape == (CELLS, 4) and TABLE.dtype == np.float32
    assert not TABLE.flags.writeable
    assert np.isfinite(TABLE).all()


def test_max_abs_z_from_the_table() -> None:
    """The largest |z| of all 2**32 words is the cell of t = 0 at f = 0: about 6.34 sigma."""
    assert MAX_ABS_Z >= 6.0
    assert abs(MAX_ABS_Z - -ndtri(2.0**-33)) < 1e-6
    assert TABLE[0, 0] == np.float32(MAX_ABS_Z)
    x0 = np.float32(0.5)  # t = 0
    assert (int(x0.view(np.uint32)) >> 17) - CELL_BIAS == 0
    # every cell is monotone enough that its start bounds the rest: |z| <= c0 of cell 0
    z = kernels.normal_from_bits(boundary_words())
    assert np.abs(z).max() == np.float32(MAX_ABS_Z)


@pytest.mark.parametrize("backend", BACKENDS)
def test_accuracy_against_ndtri(backend: str) -> None:
    using = kernels.backend(backend)
    rng = np.random.default_rng(20)
    u = np.concatenate(
        [rng.integers(0, 2**32, 10**6, dtype=np.uint64).astype(np.uint32), boundary_words()]
    )
    # words deep in the tail: every t < 2**20
    u = np.concatenate([u, np.arange(0, 2**20, dtype=np.uint32)])
    z = kernels.normal_from_bits(u, using=using)
    assert z.dtype == np.float32
    err = np.abs(z.astype(np.float64) - reference(u))
    assert err.max() < 5e-7


@pytest.mark.parametrize("backend", BACKENDS)
def test_symmetry_and_monotonicity(backend: str) -> None:
    using = kernels.backend(backend)
    t = np.unique(
        np.concatenate(
            [
                boundary_words() & np.uint32(0x7FFFFFFF),
                np.random.default_rng(3).integers(0, 2**31, 10**5).astype(np.uint32),
            ]
        )
    )
    pos = kernels.normal_from_bits(t, using=using)
    neg = kernels.normal_from_bits(t | np.uint32(2**31), using=using)
    assert (neg.view(np.uint32) == (pos.view(np.uint32) ^ np.uint32(2**31))).all()
    # |z| decreases with t up to float32 noise of the fit
    assert (np.diff(pos.astype(np.float64)) < 1e-6).all()
    assert (pos >= 0).all()


def test_edge_words_identical_in_both_paths() -> None:
    if kernels.COMPILED is None:
        pytest.skip("compiled kernel not built")
    u = boundary_words()
    a = kernels.normal_from_bits(u, using=kernels.NUMPY)
    b = kernels.normal_from_bits(u, using=kernels.COMPILED)
    assert a.tobytes() == b.tobytes()
    for w in (0, 1, 2**31 - 1, 2**31, 2**32 - 1):
        one = np.array([w], np.uint32)
        assert (
            kernels.normal_from_bits(one, using=kernels.NUMPY).tobytes()
            == kernels.normal_from_bits(one, using=kernels.COMPILED).tobytes()
        )


def test_mean_and_variance() -> None:
    n = 10**6
    z = Stream.derive(1, b"", "moments").normal(0, n).astype(np.float64)
    se_mean = 1 / math.sqrt(n)
    se_var = math.sqrt(2 / n)
    assert abs(z.mean()) < 5 * se_mean
    assert abs(z.var() - 1) < 5 * se_var
    assert abs(stats.skew(z)) < 5 * math.sqrt(6 / n)
    assert abs(stats.kurtosis(z)) < 5 * math.sqrt(24 / n)


def test_kolmogorov_smirnov() -> None:
    z = Stream.derive(2, b"", "ks").normal(0, 10**7)
    res = stats.kstest(z, "norm")
    assert res.pvalue > 1e-4, res


def test_tail_counts() -> None:
    n, chunk = 10**8, 10**7
    s = Stream.derive(3, b"", "tails")
    counts = np.zeros(3, np.int64)
    for a in range(0, n, chunk):
        z = np.abs(s.normal(a, chunk))
        counts += [(z > 4).sum(), (z > 5).sum(), (z > 6).sum()]
    for c, k in zip(counts, (4, 5, 6), strict=True):
        p = 2 * stats.norm.sf(k)
        mu, sd = n * p, math.sqrt(n * p * (1 - p))
        assert abs(c - mu) < 5 * sd + 1, (k, c, mu)


def test_correlations() -> None:
    n = 10**6
    z = Stream.derive(4, b"", "corr").normal(0, n).astype(np.float64)
    lim = 5 / math.sqrt(n)
    for lag in (1, 2, 3, 4):
        assert abs(np.corrcoef(z[:-lag], z[lag:])[0, 1]) < lim
    # streams of neighbouring keys (last key word +1) and of neighbouring seeds
    base = Stream.derive(4, b"", "corr")
    k = bytearray(base.key)
    k[12] ^= 1
    other = Stream(bytes(k)).normal(0, n).astype(np.float64)
    assert abs(np.corrcoef(z, other)[0, 1]) < lim
    seed_next = Stream.derive(5, b"", "corr").normal(0, n).astype(np.float64)
    assert abs(np.corrcoef(z, seed_next)[0, 1]) < lim


def test_bits_uniform_bytes_chi_square() -> None:
    w = Stream.derive(6, b"", "bytes").bits(0, 2**22)
    counts = np.bincount(w.view(np.uint8), minlength=256)
    expected = w.size * 4 / 256
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    # 255 dof: mean 255, sd ~22.6
    assert chi2 < 255 + 6 * 22.6
    # each bit position is fair
    bits = np.unpackbits(w.view(np.uint8)).reshape(-1, 32).mean(axis=0)
    assert np.abs(bits - 0.5).max() < 6 * 0.5 / math.sqrt(w.size)
