"""Violet noise for audio (see noisecli.noise.colour for the shared filter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from noisecli.noise.colour import ColourNoise


@dataclass(frozen=True)
class Violet(ColourNoise):
    """n = c · (H⁻¹ * H⁻¹ * w), w ~ N(0, 1): power spectral density ∝ f² (+6.02 dB/octave).

    ``H`` is the shared pink filter, ``c`` makes the variance 1; the mixer sets the level.
    """

    name: ClassVar[str] = "violet"
    aliases: ClassVar[tuple[str, ...]] = ("purple",)
    summary: ClassVar[str] = "violet noise, power rising 6 dB per octave (f²)"
    example: ClassVar[str] = "--snr 25"
    exponent: ClassVar[int] = 2
