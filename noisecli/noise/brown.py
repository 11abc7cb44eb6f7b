"""Brown noise for audio (see noisecli.noise.colour for the shared filter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from noisecli.noise.colour import ColourNoise


@dataclass(frozen=True)
class Brown(ColourNoise):
    """n = c · (H * H * w), w ~ N(0, 1): power spectral density ∝ 1/f² (-6.02 dB/octave).

    ``H`` is the shared pink filter, ``c`` makes the variance 1; the mixer sets the level.
    """

    name: ClassVar[str] = "brown"
    aliases: ClassVar[tuple[str, ...]] = ("red", "brownian")
    summary: ClassVar[str] = "brown (red) noise, power falling 6 dB per octave (1/f²)"
    example: ClassVar[str] = "--level -40dBFS"
    exponent: ClassVar[int] = -2
