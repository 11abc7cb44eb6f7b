"""The Box–Muller block generator behind the audio noises: Gaussian, independent, seekable.

Statistical tolerances (n = 2^20 ≈ 10^6 values, fixed seeds):
- Kolmogorov–Smirnov: √n·D follows the Kolmogorov distribution under H0, whose 0.999
  quantile is 1.95, so D < 1.95/√n is a test at level 0.001.
- mean: SE 1/√n; variance: SE √(2/n) (the variance of Z² is 2); we allow 5 SE.
- tail fractions P(|Z| > k): binomial SE √(p(1-p)/n); we allow 5 SE.
- correlations of independent unit-variance values: SE 1/√n; we allow 5 SE.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from noisecli.rng.fastnormal import PAIRS, NormalBlocks, NormalField

BLOCKS = (1 << 20) // (2 * PAIRS)
N = BLOCKS * 2 * PAIRS


def _values(seed: int = 3) -> np.ndarray:
    blocks = NormalBlocks(np.random.default_rng(seed))
    return np.concatenate([blocks.next() for _ in range(BLOCKS)]).astype(np.float64)


def test_is_standard_normal() -> None:
    z = _values()
    assert N >= 10**6
    assert stats.kstest(z, "norm").statistic < 1.95 / np.sqrt(N)
    assert abs(z.mean()) < 5 / np.sqrt(N)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / N)


@pytest.mark.parametrize("k", [1.0, 2.0, 3.0, 4.0])
def test_tails_are_present_in_the_right_proportion(k: float) -> None:
    z = _values(4)
    p = 2 * stats.norm.sf(k)
    assert abs(np.mean(np.abs(z) > k) - p) < 5 * np.sqrt(p * (1 - p) / N)


def test_extreme_values_reach_beyond_five_sigma_over_many_values() -> None:
    # P(|Z| > 5) = 5.7e-7: over 2^24 values about 9.6 are expected, P(none) = e^-9.6
    blocks = NormalBlocks(np.random.default_rng(5))
    peak = max(float(np.abs(blocks.next()).max()) for _ in range(1 << 24 >> 14))
    assert 5.0 < peak <= np.sqrt(2 * 25 * np.log(2))


@pytest.mark.parametrize("lag", [1, 2, 3, PAIRS])  # PAIRS: the two halves of one pair
def test_values_and_their_squares_are_uncorrelated(lag: int) -> None:
    z = _values(6)
    limit = 5 / np.sqrt(N)
    assert abs(np.corrcoef(z[:-lag], z[lag:])[0, 1]) < limit
    assert abs(np.corrcoef(z[:-lag] ** 2, z[lag:] ** 2)[0, 1]) < limit


def test_same_generator_state_same_values_and_different_seeds_differ() -> None:
    a, b, c = (NormalBlocks(np.random.default_rng(s)) for s in (1, 1, 2))
    first = a.next()
    assert np.array_equal(first, b.next())
    assert not np.array_equal(first, c.next())
    assert first.dtype == np.float32 and first.shape == (2 * PAIRS,)


def test_block_powers_are_the_powers_of_the_blocks_they_skip() -> None:
    skipping = NormalBlocks(np.random.default_rng(8))
    reading = NormalBlocks(np.random.default_rng(8))
    blocks = [reading.next().astype(np.float64) for _ in range(3)]
    powers = skipping.block_powers(3)
    # the values are r·cos θ rounded to float32: relative error a few 1e-7 at most
    assert powers == pytest.approx([float(np.sum(b**2)) for b in blocks], rel=1e-6)
    # skipping leaves the stream exactly where reading does
    assert np.array_equal(skipping.next(), reading.next())


def test_block_powers_follow_their_chi_square_law() -> None:
    """Σz² over a block of m = 2·PAIRS iid N(0, 1) is χ²(m): mean m, variance 2m.
    Over 4000 blocks the mean of the powers has SE √(2m/4000); we allow 5 SE, and
    the spread of the powers must match √(2m) within 5 % (SE of a sd ≈ sd/√(2·4000))."""
    m, count = 2 * PAIRS, 4000
    powers = NormalBlocks(np.random.default_rng(9)).block_powers(count)
    assert abs(powers.mean() - m) < 5 * np.sqrt(2 * m / count)
    assert powers.std() == pytest.approx(np.sqrt(2 * m), rel=0.05)


def test_a_normal_field_is_the_same_stream_however_the_chunks_are_cut() -> None:
    whole = NormalField()(np.random.default_rng(2), (10, 5, 3))
    field, rng = NormalField(), np.random.default_rng(2)
    parts = [field(rng, (rows, 5, 3)) for rows in (3, 1, 6)]
    assert np.array_equal(np.concatenate(parts), whole)
    assert whole.dtype == np.float32
    # later draws from the same generator do not change a field already seeded from it
    rng = np.random.default_rng(2)
    field = NormalField()
    first = field(rng, (3, 5, 3))
    rng.standard_normal(100)
    assert np.array_equal(np.concatenate([first, field(rng, (7, 5, 3))]), whole)


@pytest.mark.parametrize("count", [5, 2 * PAIRS, 3 * 2 * PAIRS + 777])
def test_mean_square_is_that_of_the_values_the_field_gives(count: int) -> None:
    expected = NormalField()(np.random.default_rng(4), (count,)).astype(np.float64)
    mean_square = NormalField.mean_square(np.random.default_rng(4), count)
    # whole blocks come from their drawn powers: equal up to float32 rounding of the values
    assert mean_square == pytest.approx(float(np.mean(expected**2)), rel=1e-6)
