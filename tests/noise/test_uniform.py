"""Uniform: its standard deviation is the requested std, its values within ±√3·std."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noisecli.noise import Uniform
from tests.noise.helpers import (
    UNIFORM_KURTOSIS,
    added_noise,
    flat,
    lsb_variance,
    run,
    se_prop,
    se_std,
)

STD_LEVELS = 25.0  # a = √3·25/255 ≈ 0.17: mid-grey never reaches either end


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_sigma_within_one_percent_on_flat_mid_grey(dtype: str) -> None:
    noise = added_noise(Uniform.from_options({"std": STD_LEVELS}), flat(0.5, dtype))
    sigma = STD_LEVELS / 255.0
    expected = math.sqrt(sigma**2 + lsb_variance(dtype))
    measured = float(noise.std())
    # SE of the sample std of a uniform: sigma·sqrt((9/5 - 1) / 4n) ≈ 0.045% at n = 10^6
    assert abs(measured - expected) <= 4 * se_std(expected, noise.size, UNIFORM_KURTOSIS)
    assert abs(measured / sigma - 1) < 0.01


def test_values_bounded_by_root3_sigma_and_filling_the_interval() -> None:
    noise = added_noise(Uniform.from_options({"std": STD_LEVELS}), flat(0.5, "float32"))
    half_width = math.sqrt(3) * STD_LEVELS / 255.0
    # float32 arithmetic may overshoot by a few ulps of 0.5
    assert np.abs(noise).max() <= half_width + 1e-6
    # the ends are reached: P(no value in the outer 0.1%) = 0.999^(10^6), i.e. never
    assert np.abs(noise).max() >= 0.999 * half_width
    # half of a uniform lies within ±a/2; proportion with its standard error
    inner = float(np.mean(np.abs(noise) < half_width / 2))
    assert abs(inner - 0.5) <= 4 * se_prop(0.5, noise.size)


def test_uint8_values_bounded_after_rounding() -> None:
    src = flat(0.5, "uint8")
    out = run(Uniform.from_options({"std": 10}), src)
    noise = out.astype(np.int64) - src
    assert np.abs(noise).max() <= math.sqrt(3) * 10 + 0.5
