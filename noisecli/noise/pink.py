"""Pink noise for audio (see noisecli.noise.colour for the shared filter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from noisecli.noise.colour import ColourNoise


@dataclass(frozen=True)
class Pink(ColourNoise):
    """n = c · (H * w), w ~ N(0, 1): power spectral density ∝ 1/f (-3.01 dB/octave).

    ``H`` is the shared pink filter, ``c`` makes the variance 1; the mixer sets the level.
    """

    name: ClassVar[str] = "pink"
    summary: ClassVar[str] = "pink noise, power falling 3 dB per octave (1/f)"
    example: ClassVar[str] = "--snr 5:30"
    exponent: ClassVar[int] = -1
