"""Levels of one noise, for the preview window and the contact sheet.

A :class:`NoiseSpec` is a registered noise plus its options as the user typed them, so it
can be rebuilt with one parameter changed and written back as a command line. The *main*
parameter of a noise is its first numeric ``cli_param`` (σ, amount, photons, SNR...); a
noise with a ``severity`` parameter can also be driven by it. Nothing here knows any
particular noise: a newly registered noise gets sliders and sheets as it is.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise import Noise, get_noise
from noisecli.noise.base import Param
from noisecli.noise.level import Level
from noisecli.rng.keys import file_key, output_random

SEVERITY = "severity"
Option = str | bool


def option_flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def main_param(cls: type[Noise]) -> Param | None:
    """The first numeric command-line parameter of a noise (None if it has none)."""
    return next((p for p in cls.cli_params if not p.is_flag), None)


def severity_param(cls: type[Noise]) -> Param | None:
    return next((p for p in cls.cli_params if p.name == SEVERITY and not p.is_flag), None)


@dataclass(frozen=True)
class NoiseSpec:
    """A noise by name with its options as text (``{"std": "25", "mono": True}``).

    ``extra`` holds options of the medium rather than of the noise, which set its strength
    all the same (audio: ``snr``, ``level``); they are swept and written back alike.
    """

    cls: type[Noise]
    options: Mapping[str, Option] = field(default_factory=dict)
    extra: Mapping[str, Option] = field(default_factory=dict)

    @classmethod
    def from_values(
        cls,
        media: str,
        name: str,
        values: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
    ) -> NoiseSpec:
        """From the command line's values: unset options (None/False) are dropped."""
        noise_cls = get_noise(name, media)
        return cls(noise_cls, _given(values), _given(extra or {}))

    def build(self) -> Noise:
        return self.cls.from_options(dict(self.options))

    def with_option(self, name: str, value: Option | None) -> NoiseSpec:
        """A copy with one option set (or removed when ``value`` is None)."""
        if name in self.extra or name not in {p.name for p in self.cls.cli_params}:
            return NoiseSpec(self.cls, self.options, _replaced(self.extra, name, value))
        return NoiseSpec(self.cls, _replaced(self.options, name, value), self.extra)

    def all_options(self) -> dict[str, Option]:
        return {**self.options, **self.extra}

    def cli_args(self) -> list[str]:
        """``--noise NAME``, the noise's options in its own parameter order, then the extra."""
        args = ["--noise", self.cls.name]
        order = [p.name for p in self.cls.cli_params]
        names = sorted(self.options, key=lambda n: order.index(n) if n in order else 99)
        for name in [*names, *self.extra]:
            value = self.all_options()[name]
            if value is True:
                args.append(option_flag(name))
            elif value is not False:
                args += [option_flag(name), str(value)]
        return args

    def label(self) -> str:
        """``gaussian std=25 mono``: the noise and the options given."""
        parts = [self.cls.name]
        for name, value in self.all_options().items():
            parts.append(name if value is True else f"{name}={value}")
        return " ".join(parts)


def _given(values: Mapping[str, Any]) -> dict[str, Option]:
    return {k: v for k, v in values.items() if v is not None and v is not False}


def _replaced(options: Mapping[str, Option], name: str, value: Option | None) -> dict[str, Option]:
    out = {k: v for k, v in options.items() if k != name}
    if value is not None:
        out[name] = value
    return out


def number_text(value: float, percent: bool = False) -> str:
    """A parameter value as the command line takes it: ``25``, ``0.05``, ``10%``."""
    text = f"{value:.6g}"
    return text + "%" if percent else text


def current_value(noise: Noise, name: str) -> tuple[float, bool] | None:
    """The value of a numeric parameter of a built noise (a range gives its midpoint)."""
    value = getattr(noise, name, None)
    if isinstance(value, Level):
        return (value.lo + value.hi) / 2.0, value.percent
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value), False


def default_value(cls: type[Noise], name: str) -> float | None:
    """The dataclass default of a numeric parameter, if it has one."""
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name == name:
            default = f.default
            if isinstance(default, Level):
                return (default.lo + default.hi) / 2.0
            if isinstance(default, int | float) and not isinstance(default, bool):
                return float(default)
    return None


# ---------------------------------------------------------------- sliders (preview window)


@dataclass(frozen=True)
class Slider:
    """An integer trackbar for one parameter: ``value = position · step``, positions
    ``minimum..maximum``."""

    param: str
    step: float
    maximum: int
    start: float
    percent: bool = False
    minimum: int = 0

    @property
    def label(self) -> str:
        unit = " %" if self.percent else ""
        scale = "" if self.step == 1 else f" x{self.step:g}"
        return f"{self.param}{unit}{scale}"

    def position(self, value: float) -> int:
        return max(self.minimum, min(self.maximum, round(value / self.step)))

    def text(self, position: int) -> str:
        return number_text(position * self.step, self.percent)


SLIDER_POSITIONS = 40  # at least this many positions between 0 and twice the value
SEVERITY_PROBE = 10  # severities are whole numbers; the accepted ones are found up to this


def _accepts(param: Param, text: str) -> bool:
    try:
        param.parse(text, option_flag(param.name))
    except UsageError:
        return False
    return True


def slider_for(spec: NoiseSpec, name: str) -> Slider | None:
    """A slider from 0 to twice the current value, in steps of a power of ten giving at
    least SLIDER_POSITIONS positions; it starts at 1 step when the parameter refuses 0.

    ``severity`` moves in whole steps over the values the noise accepts (1..5 for the
    benchmark tables). A parameter whose value is not a number gets no slider.
    """
    param = next((p for p in spec.cls.cli_params if p.name == name and not p.is_flag), None)
    found = current_value(spec.build(), name)
    if param is None:
        return None
    if name == SEVERITY:
        accepted = [v for v in range(SEVERITY_PROBE + 1) if _accepts(param, str(v))] or [1, 5]
        start = found[0] if found else float(accepted[0])
        return Slider(name, 1.0, accepted[-1], start, minimum=accepted[0])
    if found is None:
        return None
    start, percent = found
    span = start or default_value(spec.cls, name) or 0.0
    if span <= 0:
        span = SLIDER_POSITIONS / 2
    step = 10.0 ** math.floor(math.log10(2 * span / SLIDER_POSITIONS))
    slider = Slider(name, step, round(2 * span / step), start, percent)
    if not _accepts(param, slider.text(0)):
        slider = Slider(name, step, slider.maximum, start, percent, minimum=1)
    return slider


# ---------------------------------------------------------------- sweeps (contact sheet)


_UNIT = re.compile(r"^(.*?)([A-Za-z%]*)$")


def expand_levels(text: str, steps: int) -> list[str]:
    """``0,10,25,50`` -> each item; an item ``LOW:HIGH`` -> ``steps`` evenly spaced values
    (a unit both ends carry, such as ``%`` or ``dBFS``, is kept)."""
    out: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            raise UsageError(f"empty level in {text!r}")
        if ":" not in item:
            out.append(item)
            continue
        ends = [_UNIT.match(e.strip()) for e in item.split(":")]
        units = {m[2] for m in ends if m}
        try:
            if len(ends) != 2 or len(units) != 1:
                raise ValueError
            lo, hi = (float(m[1]) for m in ends if m)
        except ValueError:
            raise UsageError(f"{item!r} is not a LOW:HIGH range") from None
        if steps < 2:
            raise UsageError("--steps must be at least 2 to expand a LOW:HIGH range")
        unit = units.pop()
        out += [f"{v:.6g}{unit}" for v in np.linspace(lo, hi, steps)]
    return out


@dataclass(frozen=True)
class Sweep:
    """One parameter taking several values, the other options fixed."""

    param: str
    values: tuple[str, ...]
    base: NoiseSpec

    def specs(self) -> list[NoiseSpec]:
        return [self.base.with_option(self.param, v) for v in self.values]


def find_sweep(spec: NoiseSpec, steps: int) -> Sweep:
    """The one option given as a list (``a,b,c``) or a range (``LOW:HIGH``)."""
    given = spec.all_options()
    swept = [
        name
        for name, value in given.items()
        if isinstance(value, str) and ("," in value or ":" in value)
    ]
    if len(swept) > 1:
        flags = " and ".join(option_flag(n) for n in swept)
        raise UsageError(f"give several levels for one parameter only (got {flags})")
    if not swept:
        main = main_param(spec.cls)
        example = f"{option_flag(main.name)} A,B,C" if main else "a parameter"
        raise UsageError(f"give the levels to compare, e.g. {example}")
    name = swept[0]
    values = expand_levels(str(given[name]), steps)
    sweep = Sweep(name, tuple(values), spec.with_option(name, None))
    for each in sweep.specs():
        each.build()  # validate every level before any work
    return sweep


# ---------------------------------------------------------------- the batch's noise for one file


def noise_as_batch(array: np.ndarray, noise: Noise, seed: int, rel: str) -> np.ndarray:
    """The noisy image ``noisecli image --seed SEED`` writes for an input whose path relative
    to its root is ``rel`` (the stream key), computed in memory."""
    from noisecli.image.engine import noise_image

    noisy, _ = noise_image(array, noise, output_random(seed, file_key(rel, 0)))
    return noisy


def reproduce_command(src: str, out_dir: str, spec: NoiseSpec, seed: int, extra: list[str]) -> str:
    """The ``noisecli image`` command line that writes the same bytes."""
    args = ["noisecli", "image", src, "-o", out_dir, *spec.cli_args(), "--seed", str(seed), *extra]
    return shlex.join(args)
