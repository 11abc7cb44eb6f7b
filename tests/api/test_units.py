"""Units, percentages, mismatch errors and clipping on arrays.

σ is measured on 10^6 values: SE(σ̂) = σ/√(2n) ≈ 0.07% of σ; tolerances are 5 SE. Integer
outputs add the rounding variance 1/12 step² (Sheppard) to σ².
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from noisecli import Augmenter, add_noise
from noisecli.errors import UsageError
from tests.api.helpers import N, float01, se_mean, se_std, standardized

SIDE = 1000  # 1000 x 1000 = N values


def measured(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    d = y.astype(np.float64) - x.astype(np.float64)
    return float(d.mean()), float(d.std())


@pytest.mark.parametrize(
    ("data", "std", "rounding"),
    [
        (np.full((SIDE, SIDE), 0.5, np.float32), 0.1, 0.0),  # float data on [0, 1]
        (np.full((SIDE, SIDE), 0.0, np.float64), 0.5, 0.0),  # standardized float64
        (np.full((SIDE, SIDE), 0, np.int16), 300.0, 1 / 12),  # int16 steps
        (np.full((SIDE, SIDE), 128, np.uint8), 10.0, 1 / 12),  # uint8 levels
    ],
    ids=["float01", "standardized", "int16", "uint8"],
)
@pytest.mark.parametrize("noise", ["gaussian", "uniform"])
def test_std_is_in_the_arrays_own_units(
    data: np.ndarray, std: float, rounding: float, noise: str
) -> None:
    mean, sigma = measured(data, add_noise(data, noise, std=std, seed=11))
    expected = math.sqrt(std**2 + rounding)
    # uniform: kurtosis 9/5, SE(σ̂) = σ·√((κ - 1)/4n) is smaller than the normal's
    assert abs(sigma - expected) < 5 * se_std(expected, N), (sigma, expected)
    assert abs(mean) < 5 * se_mean(expected, N), mean


def test_gaussian_mean_is_in_array_units() -> None:
    x = np.full((SIDE, SIDE), 0.25, np.float32)
    mean, sigma = measured(x, add_noise(x, std=0.05, mean=0.1, seed=2))
    assert abs(mean - 0.1) < 5 * se_mean(0.05, N)
    assert abs(sigma - 0.05) < 5 * se_std(0.05, N)


def test_percent_is_of_the_data_range() -> None:
    u8 = np.full((SIDE, SIDE), 128, np.uint8)
    _, sigma = measured(u8, add_noise(u8, std="4%", seed=1))
    assert abs(sigma - math.sqrt(10.2**2 + 1 / 12)) < 5 * se_std(10.2, N)
    i16 = np.zeros((SIDE, SIDE), np.int16)
    _, sigma = measured(i16, add_noise(i16, std="1%", seed=1))
    assert abs(sigma - 655.35) < 5 * se_std(655.35, N)  # int16's range is 65535 steps
    f = np.full((SIDE, SIDE), 10.0, np.float32)
    _, sigma = measured(f, add_noise(f, std="2%", data_range=(0, 50), seed=1))
    assert abs(sigma - 1.0) < 5 * se_std(1.0, N)
    with pytest.raises(UsageError, match=r"percentage of the data range.*data_range="):
        add_noise(f, std="2%", seed=1)


def test_severity_is_a_percentage_of_the_data_range() -> None:
    x = np.full((SIDE, SIDE), 0.5, np.float32)
    y = add_noise(x, severity=1, data_range=(0, 1), seed=3)  # ImageNet-C σ 0.08
    assert abs(measured(x, y)[1] - 0.08) < 5 * se_std(0.08, N)
    with pytest.raises(UsageError, match="data_range"):
        add_noise(x, severity=1, seed=3)


def test_ranges_are_drawn_per_sample_in_array_units() -> None:
    aug = Augmenter(std="0.05:0.2", seed=1)
    x = np.full((200, 200), 0.5, np.float32)
    for key in range(10):
        noised = aug.draw(x, key=key)
        std = noised.params["std"]
        assert 0.05 <= std <= 0.2
        assert noised.params["unit"] == "array units"
        d = noised.array.astype(np.float64) - x
        assert abs(d.std() - std) < 5 * se_std(std, x.size)


# -- mismatches -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "params", "message"),
    [
        (
            float01(),
            {"std": 25},
            r"std=25 is in the array's own units, but the data's range "
            r"is \[0, 1\].*std=25/255 ≈ 0\.098 \(or std='9\.8%' with data_range=\(0, 1\)\)",
        ),
        (float01(), {"std": "5:50"}, r"std='0\.0196:0\.196'"),
        (float01(), {"std": 0.05, "mean": 30}, r"mean=30 .* mean=30/255"),
        (float01(), {"noise": "uniform", "std": 20}, "std=20/255"),
        (float01() * 2 - 1, {"std": 25}, r"\[-1, 1\].*std=25/255\*2 ≈ 0\.196"),
        (float01(), {"std": 25, "data_range": (0, 1)}, r"the data_range is \[0, 1\]"),
        (np.full((8, 8), 100, np.uint8), {"std": 300}, "more than the whole range of uint8"),
        (np.full((8, 8), 100, np.uint8), {"std": 0.1}, r"uint8 steps .* std=25\.5 or std='10%'"),
        (np.full((8, 8), 9, np.int16), {"std": "0.01:0.2"}, "int16 steps"),
        (float01() * 255, {"std": 0.1, "data_range": (0, 1)}, "far outside data_range"),
        (np.full((8, 8), 9, np.uint8), {"std": 5, "data_range": (0, 300)}, "exceeds the range"),
    ],
    ids=[
        "std25-on-01",
        "range-on-01",
        "mean-on-01",
        "uniform-on-01",
        "std25-on-pm1",
        "data-range-01",
        "uint8-too-big",
        "uint8-too-small",
        "int16-range-too-small",
        "data-outside-range",
        "range-beyond-dtype",
    ],
)
def test_implausible_values_are_errors_that_say_what_to_write(
    x: np.ndarray, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        add_noise(x, seed=1, **params)


def test_mismatch_with_data_range_fails_at_construction() -> None:
    with pytest.raises(UsageError, match="std=25/255"):
        Augmenter(std=25, data_range=(0, 1))


@pytest.mark.parametrize(
    ("x", "params"),
    [
        (standardized(), {"std": 25}),  # big σ on standardized data is the user's call
        (float01() * 255, {"std": 25}),  # float images on 0..255
        (np.random.default_rng(0).normal(0, 1000, (50, 50)), {"std": 300}),
        (float01(), {"std": 1.0}),  # σ as wide as [0, 1] is still plausible
        (float01(), {"std": "10%", "data_range": (0, 1)}),
        (np.full((8, 8), 100, np.uint8), {"std": 0.3}),
        (np.full((8, 8), 100, np.uint8), {"std": 0}),
        (float01(), {"noise": "speckle", "std": 0.3}),  # a fraction, not a level
    ],
)
def test_legitimate_values_pass(x: np.ndarray, params: dict[str, Any]) -> None:
    assert add_noise(x, seed=1, **params).shape == x.shape


@pytest.mark.parametrize(
    ("noise", "params"),
    [("poisson", {}), ("sensor", {}), ("salt-pepper", {}), ("sensor", {"iso_like": 800})],
)
def test_intensity_noises_need_a_data_range_on_float_data(
    noise: str, params: dict[str, Any]
) -> None:
    x = float01()
    with pytest.raises(UsageError, match=r"pass data_range=\(0, 1\)"):
        add_noise(x, noise, seed=1, **params)
    y = add_noise(x, noise, seed=1, data_range=(0, 1), **params)
    assert y.min() >= 0 and y.max() <= 1 and not np.array_equal(x, y)


def test_intensity_noises_use_the_data_range() -> None:
    # int16 with its own range: black is -32768, intensities (x + 32768) / 65535
    x = np.full((SIDE, SIDE), 0, np.int16)  # intensity 0.5000076
    y = add_noise(x, "poisson", photons=100, seed=1).astype(np.float64)
    u = (y + 32768) / 65535
    p = 32768 / 65535
    assert abs(u.mean() - p) < 5 * math.sqrt(p / 100 / N)
    assert abs(u.var() / (p / 100) - 1) < 5 * math.sqrt(2 / N)  # variance x/k
    # salt-pepper writes the ends of data_range, not of the dtype
    img = np.full((300, 300), 100, np.uint8)
    sp = add_noise(img, "salt-pepper", amount=0.2, data_range=(16, 235), seed=1)
    assert set(np.unique(sp)) == {16, 100, 235}
    f = np.full((300, 300), 0.5)
    spf = add_noise(f, "salt-pepper", amount=0.2, data_range=(-1, 1), seed=1)
    assert set(np.unique(spf)) == {-1.0, 0.5, 1.0}


def test_uint8_poisson_on_the_full_range_matches_the_file_engine() -> None:
    from noisecli.image.engine import noise_image
    from noisecli.noise import Poisson
    from noisecli.rng.keys import output_random, sample_key

    img = np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    rnd = output_random(5, sample_key(0))
    expected, _ = noise_image(img, Poisson.from_options({"photons": 20}), rnd)
    assert np.array_equal(add_noise(img, "poisson", photons=20, seed=5), expected)


# -- clipping -----------------------------------------------------------------------------


def test_float_data_are_not_clipped_unless_asked() -> None:
    x = float01((100, 100))
    y = add_noise(x, std=0.3, seed=1)
    assert y.min() < 0 and y.max() > 1
    z = add_noise(x, std=0.3, seed=1, data_range=(0, 1))
    assert z.min() == 0 and z.max() == 1
    unclipped_inside = (y >= 0) & (y <= 1)
    assert np.array_equal(y[unclipped_inside], z[unclipped_inside])
    c = add_noise(x, std=0.3, seed=1, clip=(0.2, 0.8))
    assert c.min() == np.float32(0.2) and c.max() == np.float32(0.8)
    n = add_noise(x, std=0.3, seed=1, data_range=(0, 1), clip=None)
    assert np.array_equal(n, y)  # data_range still sets % and intensities, not clipping


def test_standardized_data_are_never_clipped_silently() -> None:
    x = standardized((200, 200))
    y = add_noise(x, std=0.5, seed=1)
    assert np.array_equal(y, add_noise(x, std=0.5, seed=1, clip=None))
    assert y.max() > 4 and y.min() < -4
    assert abs((y - x).std() - 0.5) < 5 * se_std(0.5, x.size)


def test_integer_data_clip_to_their_range_or_data_range() -> None:
    x = np.full((300, 300), 250, np.uint8)
    y = add_noise(x, std=20, seed=1)
    assert y.max() == 255 and y.dtype == np.uint8
    assert np.array_equal(add_noise(x, std=20, seed=1, clip=None), y)  # the dtype must
    z = add_noise(x, std=20, seed=1, data_range=(16, 235))
    assert z.max() == 235 and z.min() >= 16
    w = add_noise(x, std=20, seed=1, clip=(0.5, 240.7))  # rounded inward to whole steps
    assert w.max() == 240 and w.min() >= 1
    i8 = np.full((100, 100), -120, np.int8)
    assert add_noise(i8, std=20, seed=1).min() == -128
    with pytest.raises(UsageError, match="leaves no value"):
        add_noise(x, std=2, seed=1, clip=(300, 400))


def test_clip_false_is_no_clipping() -> None:
    x = float01((50, 50))
    assert np.array_equal(add_noise(x, std=0.3, seed=2, clip=False), add_noise(x, std=0.3, seed=2))


def test_a_recipes_steps_take_array_units_and_are_checked() -> None:
    from noisecli.noise import Gaussian, Speckle
    from noisecli.noise.level import Level
    from noisecli.noise.recipe import Recipe

    x = float01()
    with pytest.raises(UsageError, match="std=25/255"):
        Augmenter(Recipe([Gaussian(std=Level.fixed(25)), Speckle()]), seed=1)(x, key=1)
    recipe = Recipe([Gaussian(std=Level.fixed(0.1))])
    params = Augmenter(recipe, seed=1, data_range=(0, 1)).draw(x, key=2).params
    assert params["steps"][0]["std"] == 0.1 and params["steps"][0]["unit"] == "array units"
