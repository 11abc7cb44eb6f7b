"""Parameter values: fixed or ``LOW:HIGH`` ranges drawn per output, and their parser."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from noisecli.errors import UsageError

if TYPE_CHECKING:
    from noisecli.rng.philox import Draws


@dataclass(frozen=True)
class Level:
    """A parameter value: fixed (``lo == hi``) or drawn uniformly in ``[lo, hi]`` per output.

    ``percent`` marks a value given as a fraction of full scale (``10%``); the noise
    converts it to its own units.
    """

    lo: float
    hi: float
    percent: bool = False

    @classmethod
    def fixed(cls, value: float) -> Level:
        return cls(value, value)

    @property
    def is_range(self) -> bool:
        return self.hi != self.lo

    def draw(self, draws: Draws) -> float:
        """The value for one output; a fixed value consumes no random numbers."""
        if not self.is_range:
            return self.lo
        return draws.uniform(self.lo, self.hi)

    def __str__(self) -> str:
        unit = "%" if self.percent else ""
        if self.is_range:
            return f"{_num(self.lo)}{unit}:{_num(self.hi)}{unit}"
        return f"{_num(self.lo)}{unit}"


def _num(x: float) -> str:
    return f"{x:g}"


def _parse_number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{name}: {text!r} is not a finite number")
    return value


def parse_level(
    text: str,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_percent: bool = True,
) -> Level:
    """Parse ``25``, ``5:50`` (uniform per output) or ``10%`` / ``5%:10%`` (of full scale)."""
    raw = text.strip()
    parts = raw.split(":")
    if len(parts) > 2 or not all(p.strip() for p in parts):
        raise UsageError(f"{name}: {text!r} is not a value or a LOW:HIGH range")
    percents = [p.strip().endswith("%") for p in parts]
    if any(percents) and not all(percents):
        raise UsageError(f"{name}: {text!r} mixes percentages and plain values")
    percent = all(percents)
    if percent and not allow_percent:
        raise UsageError(f"{name}: percentages are not accepted here ({text!r})")
    values = [_parse_number(p.strip().rstrip("%"), name) for p in parts]
    lo, hi = values[0], values[-1]
    if lo > hi:
        raise UsageError(f"{name}: range {text!r} has LOW greater than HIGH")
    if minimum is not None and lo < minimum:
        raise UsageError(f"{name}: {text!r} is below the minimum {minimum:g}")
    if maximum is not None and hi > maximum:
        raise UsageError(f"{name}: {text!r} is above the maximum {maximum:g}")
    return Level(lo, hi, percent)
