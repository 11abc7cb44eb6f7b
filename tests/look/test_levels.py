"""Levels of a noise, written against the registry generically: sliders, sweeps, commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from noisecli.config import Level
from noisecli.errors import UsageError
from noisecli.look.levels import (
    NoiseSpec,
    expand_levels,
    find_sweep,
    main_param,
    reproduce_command,
    severity_param,
    slider_for,
)
from noisecli.noise import NOISES, Gaussian
from noisecli.noise.base import MediaInfo, Noise, Param, Prepared, flag_param, level_param
from noisecli.noise.params import number_param


@dataclass(frozen=True)
class Speckled(Noise):
    """A stand-in noise with a flag first, an amount and a severity: ``y = x + amount``."""

    name: ClassVar[str] = "speckled"
    cli_params: ClassVar[tuple[Param, ...]] = (
        flag_param("mono", "a flag"),
        level_param("amount", "an amount", percent=False),
        number_param("severity", "1..5", minimum=1, maximum=5, integer=True),
    )
    mono: bool = False
    amount: Level = Level.fixed(0.05)
    severity: Level | None = None

    def prepare(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        return Prepared({"amount": self.amount.lo})

    def apply(
        self, chunk: np.ndarray, rng: np.random.Generator, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        return chunk + np.float32(self.amount.lo)


def test_main_parameter_is_the_first_numeric_option() -> None:
    assert main_param(Gaussian) is not None and main_param(Gaussian).name == "std"  # type: ignore[union-attr]
    assert main_param(Speckled).name == "amount"  # type: ignore[union-attr]
    assert severity_param(Speckled) is not None and severity_param(Gaussian) is not None
    assert severity_param(NoiseSpec.from_values("image", "uniform", {}).cls) is None


@pytest.mark.parametrize("cls", [c for c in NOISES if "image" in c.media], ids=lambda c: c.name)
def test_every_image_noise_gets_a_main_slider(cls: type[Noise]) -> None:
    main = main_param(cls)
    assert main is not None, f"{cls.name} has no numeric parameter to preview"
    slider = slider_for(NoiseSpec(cls), main.name)
    assert slider is not None and slider.maximum >= 1


def test_slider_spans_twice_the_value_in_power_of_ten_steps() -> None:
    std25 = slider_for(NoiseSpec(Gaussian, {"std": "25"}), "std")
    assert std25 is not None
    assert (std25.step, std25.maximum, std25.start, std25.label) == (1.0, 50, 25.0, "std")
    assert std25.position(25) == 25 and std25.text(30) == "30"
    small = slider_for(NoiseSpec(Speckled, {"amount": "0.05"}), "amount")
    assert small is not None and small.maximum == 100 and small.label == "amount x0.001"
    assert small.text(small.position(0.05)) == "0.05" and small.text(80) == "0.08"
    pct = slider_for(NoiseSpec(Gaussian, {"std": "10%"}), "std")
    assert pct is not None and pct.label == "std % x0.1" and pct.text(pct.maximum) == "20%"
    assert pct.maximum == 200  # at least SLIDER_POSITIONS positions
    photons = slider_for(NoiseSpec.from_values("image", "poisson", {}), "photons")
    assert photons is not None and (photons.step, photons.maximum) == (1.0, 200)
    assert photons.minimum == 1  # poisson refuses 0 photons
    ranged = slider_for(NoiseSpec(Gaussian, {"std": "5:45"}), "std")
    assert ranged is not None and ranged.start == 25.0
    zero = slider_for(NoiseSpec(Gaussian, {"std": "0"}), "std")  # spans the default instead
    assert zero is not None and (zero.start, zero.maximum) == (0.0, 50)
    assert slider_for(NoiseSpec(Gaussian), "mono") is None


def test_severity_slider_moves_in_whole_steps() -> None:
    unset = slider_for(NoiseSpec(Speckled), "severity")
    assert unset is not None and (unset.step, unset.minimum, unset.maximum) == (1.0, 1, 5)
    assert unset.start == 1.0
    given = slider_for(NoiseSpec(Gaussian, {"severity": "4"}), "severity")
    assert given is not None and (given.minimum, given.maximum, given.start) == (1, 5, 4.0)
    assert given.position(0) == 1 and given.text(given.position(9)) == "5"


def test_expand_levels_lists_and_ranges() -> None:
    assert expand_levels("0,10,25,50", 5) == ["0", "10", "25", "50"]
    assert expand_levels("1:5", 5) == ["1", "2", "3", "4", "5"]
    assert expand_levels("0:50", 3) == ["0", "25", "50"]
    assert expand_levels("5%:15%", 3) == ["5%", "10%", "15%"]
    assert expand_levels("0, 1:3", 3) == ["0", "1", "2", "3"]
    for bad in ("1,,2", "a:b"):
        with pytest.raises(UsageError):
            expand_levels(bad, 5)


def test_find_sweep_takes_exactly_one_parameter() -> None:
    sweep = find_sweep(NoiseSpec(Gaussian, {"std": "0,10", "mono": True}), 5)
    assert sweep.param == "std" and sweep.values == ("0", "10")
    assert [s.options for s in sweep.specs()] == [
        {"mono": True, "std": "0"},
        {"mono": True, "std": "10"},
    ]
    with pytest.raises(UsageError, match=r"e\.g\. --std A,B,C"):
        find_sweep(NoiseSpec(Gaussian, {"std": "10"}), 5)
    with pytest.raises(UsageError, match="--std and --mean"):
        find_sweep(NoiseSpec(Gaussian, {"std": "1,2", "mean": "1:2"}), 5)
    with pytest.raises(UsageError, match="--std"):  # every level is validated up front
        find_sweep(NoiseSpec(Gaussian, {"std": "10,-5"}), 5)
    severities = find_sweep(NoiseSpec(Speckled, {"severity": "1:5"}), 5)
    assert severities.values == ("1", "2", "3", "4", "5")


def test_cli_args_and_reproduce_command_quote_and_order() -> None:
    spec = NoiseSpec(Gaussian, {"mono": True, "std": "25"})
    assert spec.cli_args() == ["--noise", "gaussian", "--std", "25", "--mono"]
    assert spec.label() == "gaussian mono std=25"
    command = reproduce_command("my photos/a.jpg", "out", spec, 7, ["--format", "png"])
    assert command == (
        "noisecli image 'my photos/a.jpg' -o out --noise gaussian --std 25 --mono "
        "--seed 7 --format png"
    )
    assert NoiseSpec.from_values("image", "normal", {"std": "3", "mono": None}).options == {
        "std": "3"
    }
