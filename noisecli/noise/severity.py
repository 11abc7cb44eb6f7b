"""Corruption-benchmark severities: the constants of ImageNet-C and CIFAR-10-C.

Hendrycks & Dietterich (2019) define five severities per corruption on the ``[0, 1]`` scale
of the image. :func:`severity_params` turns (preset, noise, severity) into the noise's own
parameter values, so a severity is only another way to set a noise's strength and the
manifest records both. :class:`Graded` adds ``--severity`` and ``--preset`` to a noise.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from noisecli.errors import UsageError
from noisecli.noise.base import MediaInfo, Noise, Param, Prepared
from noisecli.noise.level import Level
from noisecli.noise.params import (
    changed_fields,
    choice_param,
    given_options,
    number_param,
    reject_together,
)
from noisecli.rng.keys import OutputRandom
from noisecli.rng.philox import Draws

SEVERITY_MIN = 1
SEVERITY_MAX = 5
DEFAULT_PRESET = "imagenet-c"

# preset -> noise -> the constant of severities 1..5, on the [0, 1] scale of the image
# (gaussian/speckle: sigma; poisson: photons at full white; salt-pepper: amount).
TABLES: dict[str, dict[str, tuple[float, ...]]] = {
    "imagenet-c": {
        "gaussian": (0.08, 0.12, 0.18, 0.26, 0.38),
        "poisson": (60, 25, 12, 5, 3),
        "salt-pepper": (0.03, 0.06, 0.09, 0.17, 0.27),
        "speckle": (0.15, 0.2, 0.35, 0.45, 0.6),
    },
    "cifar10-c": {
        "gaussian": (0.04, 0.06, 0.08, 0.09, 0.10),
        "poisson": (500, 250, 100, 75, 50),
        "salt-pepper": (0.01, 0.02, 0.03, 0.05, 0.07),
        "speckle": (0.06, 0.1, 0.12, 0.16, 0.2),
    },
}
PRESETS = tuple(TABLES)

# noise -> (the parameter a severity sets, whether the noise takes it as % of full scale)
TARGETS: dict[str, tuple[str, bool]] = {
    "gaussian": ("std", True),
    "poisson": ("photons", False),
    "salt-pepper": ("amount", False),
    "speckle": ("std", False),
}

SEVERITY_PARAMS: tuple[Param, ...] = (
    number_param(
        "severity",
        "benchmark severity 1..5 setting the strength from --preset's table "
        "(LOW:HIGH draws a whole number per output)",
        minimum=SEVERITY_MIN,
        maximum=SEVERITY_MAX,
        integer=True,
        metavar="1..5",
    ),
    choice_param(
        "preset", f"table of --severity: {' or '.join(PRESETS)} [{DEFAULT_PRESET}]", PRESETS
    ),
)


def _table(preset: str, noise: str) -> tuple[float, ...]:
    if preset not in TABLES:
        raise UsageError(f"unknown severity preset {preset!r}; choose from: {', '.join(PRESETS)}")
    if noise not in TARGETS:
        raise UsageError(f"noise {noise!r} has no severity scale")
    return TABLES[preset][noise]


def severity_value(preset: str, noise: str, severity: int) -> float:
    """The table constant of one severity, on the ``[0, 1]`` scale (photons for poisson)."""
    if not SEVERITY_MIN <= severity <= SEVERITY_MAX:
        raise UsageError(f"severity must be {SEVERITY_MIN}..{SEVERITY_MAX}, got {severity}")
    return _table(preset, noise)[severity - 1]


def severity_params(preset: str, noise: str, severity: int) -> dict[str, Level]:
    """The noise's own parameter values for one severity, e.g. ``{"std": Level(8%)}``.

    Usable as ``NoiseClass.from_options(...)`` or ``dataclasses.replace`` keywords.
    """
    value = severity_value(preset, noise, severity)
    param, percent = TARGETS[noise]
    if percent:
        pct = round(value * 100.0, 9)
        return {param: Level(pct, pct, percent=True)}
    return {param: Level.fixed(value)}


def severity_label(preset: str, noise: str) -> str:
    """One line listing the five values of a table in the noise's own units."""
    param, percent = TARGETS[noise]
    unit = "%" if percent else ""
    values = ", ".join(
        f"{severity_params(preset, noise, s)[param].lo:g}{unit}"
        for s in range(SEVERITY_MIN, SEVERITY_MAX + 1)
    )
    return f"{preset} severities 1..5: --{param} {values}"


def draw_severity(level: Level, draws: Draws) -> int:
    """A whole severity: the fixed value, or uniform over the integers of ``LOW:HIGH``."""
    if not level.is_range:
        return int(level.lo)
    return draws.integers(int(level.lo), int(level.hi))


def _check_level(level: Level) -> None:
    for end in (level.lo, level.hi):
        if not (float(end).is_integer() and SEVERITY_MIN <= end <= SEVERITY_MAX):
            raise UsageError(
                f"--severity must be whole numbers in {SEVERITY_MIN}..{SEVERITY_MAX}, got {level}"
            )


@dataclass(frozen=True)
class Graded(Noise):
    """A noise whose strength may instead be given as a benchmark severity.

    Subclasses implement :meth:`prepare_values`; with ``severity`` set, the table value
    replaces the strength parameter (``TARGETS``) before it is called.
    """

    severity: Level | None = field(default=None, kw_only=True)
    preset: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.severity is None:
            if self.preset is not None:
                raise UsageError("--preset applies only together with --severity")
            return
        _check_level(self.severity)
        _table(self.preset or DEFAULT_PRESET, self.name)
        reject_together(self.name, "severity", self.overridden(), changed_fields(self))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Noise:
        reject_together(cls.name, "severity", (TARGETS[cls.name][0],), given_options(options))
        return super().from_options(options)

    def overridden(self) -> frozenset[str]:
        return frozenset() if self.severity is None else frozenset({TARGETS[self.name][0]})

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        if self.severity is None:
            return self.prepare_values(info, rnd)
        severity = draw_severity(self.severity, rnd.draws)
        preset = self.preset or DEFAULT_PRESET
        resolved = replace(
            self, severity=None, preset=None, **severity_params(preset, self.name, severity)
        )
        prepared = resolved.prepare_values(info, rnd)
        params: dict[str, float | str | bool] = {"severity": severity, "preset": preset}
        params.update(prepared.params)
        return Prepared(params, prepared.state)

    @abstractmethod
    def prepare_values(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        """``prepare`` with the strength parameter set (severity already resolved)."""
