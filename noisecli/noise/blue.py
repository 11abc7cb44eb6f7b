"""Blue noise for audio (see noisecli.noise.colour for the shared filter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from noisecli.noise.colour import ColourNoise


@dataclass(frozen=True)
class Blue(ColourNoise):
    """n = c · (H⁻¹ * w), w ~ N(0, 1): power spectral density ∝ f (+3.01 dB/octave).

    ``H`` is the shared pink filter, ``c`` makes the variance 1; the mixer sets the level.
    """

    name: ClassVar[str] = "blue"
    aliases: ClassVar[tuple[str, ...]] = ("azure",)
    summary: ClassVar[str] = "blue noise, power rising 3 dB per octave (f)"
    example: ClassVar[str] = "--snr 20 --mono"
    exponent: ClassVar[int] = 1
