"""White noise for audio (see noisecli.noise.colour for the shared filter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from noisecli.noise.colour import ColourNoise


@dataclass(frozen=True)
class White(ColourNoise):
    """n = w, w ~ N(0, 1) per sample and channel: flat power spectrum (0 dB/octave).

    Gaussian amplitudes, independent in time and across channels (unless ``mono``).
    """

    name: ClassVar[str] = "white"
    summary: ClassVar[str] = "white noise, flat power spectrum"
    example: ClassVar[str] = "--snr 10"
    exponent: ClassVar[int] = 0
