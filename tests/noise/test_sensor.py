"""Sensor: variance a·y + b in linear light; --iso-like follows Brooks et al. 2019."""

from __future__ import annotations

import math

import numpy as np

from noisecli.config import Level
from noisecli.image.engine import image_info
from noisecli.noise import Sensor
from noisecli.noise.sensor import linear_to_srgb, srgb_to_linear
from noisecli.rng.keys import output_random
from tests.noise.helpers import UNIFORM_KURTOSIS, run, se_mean, se_std, se_var

SHOT = 0.004
READ = 1e-4
# linear intensities: the darkest is 4.5 sigma above black, the brightest 6.7 below white
LINEAR = (0.1, 0.25, 0.45, 0.65)
PATCH = 500 * 500


def test_variance_in_linear_light_fits_a_y_plus_b() -> None:
    encoded = linear_to_srgb(np.array(LINEAR, np.float32))
    src = np.concatenate([np.full((500, 500, 1), v, np.float32) for v in encoded])
    out = run(Sensor.from_options({"shot": SHOT, "read": READ}), src)
    linear = srgb_to_linear(out).astype(np.float64)
    measured = []
    for i, y in enumerate(LINEAR):
        patch = linear[i * 500 : (i + 1) * 500].ravel()
        variance = SHOT * y + READ
        # Gaussian noise: SE of the sample variance is variance·sqrt(2/n)
        assert abs(patch.var() - variance) <= 4 * se_var(variance, PATCH), y
        assert abs(patch.mean() - y) <= 4 * se_mean(math.sqrt(variance), PATCH), y
        measured.append(patch.var())
    # weighted least squares of variance on y: slope a, intercept b and their standard errors
    x = np.array(LINEAR)
    v = np.array(measured)
    w = 1.0 / np.array([se_var(SHOT * y + READ, PATCH) for y in LINEAR]) ** 2
    design = np.stack([x, np.ones_like(x)], axis=1)
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    a, b = cov @ design.T @ (w * v)
    assert abs(a - SHOT) <= 4 * math.sqrt(cov[0, 0])
    assert abs(b - READ) <= 4 * math.sqrt(cov[1, 1])


def test_noise_is_not_added_on_the_encoded_values() -> None:
    # were the noise added to the sRGB-encoded value x, its variance would be a·x + b there
    encoded = float(linear_to_srgb(np.float32(0.45)))
    src = np.full((500, 500, 1), encoded, np.float32)
    out = run(Sensor.from_options({"shot": SHOT, "read": READ}), src).astype(np.float64)
    gamma_space = SHOT * encoded + READ
    assert abs(out.var() - gamma_space) > 20 * se_var(gamma_space, out.size)


def test_iso_like_draws_brooks_shot_and_read() -> None:
    noise = Sensor.from_options({"iso_like": "100:12000"})
    info = image_info(np.zeros((4, 4, 3), np.uint8))
    rnd = output_random(2019, b"draws")  # one long parameter stream, read on and on
    draws = [noise.prepare(info, rnd).params for _ in range(100_000)]
    log_shot = np.log([float(d["shot"]) for d in draws])
    log_read = np.log([float(d["read"]) for d in draws])
    n = len(draws)
    lo, hi = math.log(1e-4), math.log(0.012)
    assert log_shot.min() >= lo - 1e-6 and log_shot.max() <= hi + 1e-6
    # log shot uniform on [lo, hi]: mean and std of a uniform of width w = hi - lo
    width = hi - lo
    assert abs(log_shot.mean() - (lo + hi) / 2) <= 4 * se_mean(width / math.sqrt(12), n)
    sd = width / math.sqrt(12)
    assert abs(log_shot.std() - sd) <= 4 * se_std(sd, n, UNIFORM_KURTOSIS)
    # log read = 2.18·log shot + 1.20 + N(0, 0.26²)
    residual = log_read - (2.18 * log_shot + 1.20)
    assert abs(residual.mean()) <= 4 * se_mean(0.26, n)
    assert abs(residual.std() - 0.26) <= 4 * se_std(0.26, n)


def test_fixed_iso_like_sets_the_shot_gain_and_is_recorded() -> None:
    noise = Sensor(iso_like=Level.fixed(800))
    params = noise.prepare(image_info(np.zeros((4, 4), np.uint16)), output_random(0, b"x")).params
    assert params["iso_like"] == 800
    assert math.isclose(float(params["shot"]), 8e-4)
    assert noise.describe() == "sensor(iso_like=800)"


def test_srgb_curves_are_inverse() -> None:
    x = np.linspace(0, 1, 65536, dtype=np.float32)
    assert np.abs(linear_to_srgb(srgb_to_linear(x)) - x).max() < 1e-6
    # IEC 61966-2-1: ((x + 0.055) / 1.055)^2.4 above 0.04045, x / 12.92 below
    for value, expected in ((0.5, (0.555 / 1.055) ** 2.4), (0.04, 0.04 / 12.92)):
        assert math.isclose(float(srgb_to_linear(np.float32(value))), expected, rel_tol=1e-6)
