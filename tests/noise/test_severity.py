"""Severities: the ImageNet-C and CIFAR-10-C constants, reproduced and measured."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noisecli.config import Level
from noisecli.errors import UsageError
from noisecli.image.engine import image_info
from noisecli.noise import Gaussian, Poisson, SaltPepper, Speckle, get_noise
from noisecli.noise.severity import (
    PRESETS,
    TABLES,
    draw_severity,
    severity_params,
    severity_value,
)
from noisecli.rng.keys import output_random
from tests.noise.helpers import flat, se_prop, se_std, unclipped

# Hendrycks & Dietterich 2019, on the [0, 1] scale (the tables)
IMAGENET_C = {
    "gaussian": (0.08, 0.12, 0.18, 0.26, 0.38),
    "poisson": (60, 25, 12, 5, 3),
    "salt-pepper": (0.03, 0.06, 0.09, 0.17, 0.27),
    "speckle": (0.15, 0.2, 0.35, 0.45, 0.6),
}
CIFAR10_C = {
    "gaussian": (0.04, 0.06, 0.08, 0.09, 0.10),
    "poisson": (500, 250, 100, 75, 50),
    "salt-pepper": (0.01, 0.02, 0.03, 0.05, 0.07),
    "speckle": (0.06, 0.1, 0.12, 0.16, 0.2),
}
CASES = [
    (preset, noise, severity)
    for preset in PRESETS
    for noise in IMAGENET_C
    for severity in range(1, 6)
]
LEVEL = 0.5  # flat mid-grey on the [0, 1] scale
SIDE = 512  # 262144 values per case


def test_tables_are_the_published_constants() -> None:
    assert TABLES == {"imagenet-c": IMAGENET_C, "cifar10-c": CIFAR10_C}


def measure(preset: str, name: str, severity: int) -> tuple[float, float, dict]:
    """(measured, stated tolerance, recorded params) of one severity on flat mid-grey.

    Measured before the engine's clip so that the constant itself is estimated:
    gaussian/speckle give sigma, poisson the photons, salt-pepper the replaced fraction.
    """
    noise = get_noise(name).from_options({"severity": severity, "preset": preset})
    src = flat(LEVEL, "float32", rows=SIDE, width=SIDE)
    out, prepared = unclipped(noise, src)
    values = out.astype(np.float64).ravel()
    n = values.size
    target = severity_value(preset, name, severity)
    if name == "gaussian":
        return float(values.std()), 4 * se_std(target, n), prepared.params
    if name == "speckle":
        return float(values.std()) / LEVEL, 4 * se_std(target, n), prepared.params
    if name == "poisson":
        # photons = level / variance; SE of the variance of Pois(λ)/k is sqrt((λ + 2λ²)/n)/k²
        # (see test_poisson), carried to the photons by the delta method: dk/k = -dvar/var
        lam = LEVEL * target
        rel = math.sqrt((lam + 2 * lam * lam) / n) / lam
        return LEVEL / float(values.var()), 4 * rel * target, prepared.params
    changed = float(np.mean(values != LEVEL))
    return changed, 3 * se_prop(target, n), prepared.params


@pytest.mark.parametrize(("preset", "name", "severity"), CASES)
def test_each_table_value_is_measured(preset: str, name: str, severity: int) -> None:
    measured, tolerance, params = measure(preset, name, severity)
    target = severity_value(preset, name, severity)
    assert abs(measured - target) <= tolerance
    assert params["severity"] == severity
    assert params["preset"] == preset


def test_severity_resolves_into_the_noise_parameter() -> None:
    assert severity_params("imagenet-c", "gaussian", 1) == {"std": Level(8.0, 8.0, True)}
    assert severity_params("imagenet-c", "poisson", 5) == {"photons": Level.fixed(3)}
    assert severity_params("cifar10-c", "salt-pepper", 4) == {"amount": Level.fixed(0.05)}
    assert severity_params("cifar10-c", "speckle", 2) == {"std": Level.fixed(0.1)}
    # usable to build the noise directly
    noise = Speckle.from_options(severity_params("imagenet-c", "speckle", 3))
    assert noise.std == Level.fixed(0.35)


def test_manifest_records_severity_and_the_resolved_value() -> None:
    info = image_info(np.zeros((4, 4, 3), np.uint8))
    rng = output_random(0, b"x")
    params = Gaussian.from_options({"severity": "4"}).prepare(info, rng).params
    assert params["severity"] == 4 and params["preset"] == "imagenet-c"
    assert params["std"] == 26.0 and params["unit"] == "%"
    params = Poisson.from_options({"severity": 2, "preset": "cifar10-c"}).prepare(info, rng).params
    assert params == {"severity": 2, "preset": "cifar10-c", "photons": 250}
    params = SaltPepper.from_options({"severity": 5}).prepare(info, rng).params
    assert params["amount"] == 0.27 and params["salt_ratio"] == 0.5 and not params["per_pixel"]


def test_a_severity_range_draws_whole_severities_uniformly() -> None:
    rng = output_random(5, b"x").draws
    n = 100_000
    draws = np.array([draw_severity(Level(1, 5), rng) for _ in range(n)])
    assert set(np.unique(draws)) == {1, 2, 3, 4, 5}
    for s in range(1, 6):
        # each count is binomial(n, 1/5)
        assert abs(np.mean(draws == s) - 0.2) <= 4 * se_prop(0.2, n)
    assert draw_severity(Level.fixed(3), rng) == 3


def test_a_severity_range_per_output_matches_its_value() -> None:
    noise = Speckle.from_options({"severity": "2:4"})
    info = image_info(np.zeros((4, 4), np.uint8))
    rng = output_random(1, b"x")
    for _ in range(200):
        params = noise.prepare(info, rng).params
        assert params["std"] == severity_value("imagenet-c", "speckle", int(params["severity"]))
        assert 2 <= int(params["severity"]) <= 4


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("gaussian", {"severity": "3", "std": "10"}, "--severity and --std exclude"),
        ("poisson", {"severity": "3", "photons": "10"}, "--severity and --photons exclude"),
        ("salt-pepper", {"severity": "1", "amount": "0.1"}, "--severity and --amount"),
        ("speckle", {"severity": "1", "std": "0.1"}, "--severity and --std"),
        ("gaussian", {"preset": "cifar10-c"}, "--preset applies only"),
        ("gaussian", {"severity": "6"}, "above the maximum"),
        ("gaussian", {"severity": "0"}, "below the minimum"),
        ("gaussian", {"severity": "2.5"}, "whole number"),
        ("gaussian", {"severity": "1", "preset": "mnist-c"}, "not one of"),
        ("uniform", {"severity": "1"}, "does not apply"),
        ("sensor", {"severity": "1"}, "does not apply"),
    ],
)
def test_usage_errors(name: str, options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        get_noise(name).from_options(options)


def test_direct_construction_checks_too() -> None:
    with pytest.raises(UsageError, match="exclude"):
        Gaussian(std=Level.fixed(10), severity=Level.fixed(2))
    with pytest.raises(UsageError, match="whole numbers"):
        Gaussian(severity=Level(1.5, 2))
    with pytest.raises(UsageError, match="unknown severity preset"):
        Gaussian(severity=Level.fixed(2), preset="mnist-c")
