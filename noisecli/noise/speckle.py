"""Multiplicative (speckle) noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from noisecli.noise.base import MediaInfo, Param, Prepared, Span
from noisecli.noise.level import Level
from noisecli.noise.params import MONO, number_param
from noisecli.noise.severity import SEVERITY_PARAMS, Graded
from noisecli.noise.units import normal_field
from noisecli.rng.keys import OutputRandom


@dataclass(frozen=True)
class Speckle(Graded):
    """``y = x + x·N(0, std²)``: noise proportional to the intensity.

    ``std`` is a fraction (0.2: the noise's standard deviation is 20% of the value), so it
    means the same on every dtype. Per value, or per pixel with ``mono``. ``severity`` s sets
    ``std`` to the ImageNet-C constant.
    """

    name: ClassVar[str] = "speckle"
    aliases: ClassVar[tuple[str, ...]] = ("multiplicative",)
    summary: ClassVar[str] = "multiplicative noise, x + x·N(0, std)"
    example: ClassVar[str] = "--std 0.1:0.3"
    cli_params: ClassVar[tuple[Param, ...]] = (
        number_param("std", "standard deviation of the multiplicative factor, as a fraction"),
        MONO,
        *SEVERITY_PARAMS,
    )

    std: Level = Level.fixed(0.2)
    mono: bool = False

    def prepare_values(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        std = self.std.draw(rnd.draws)
        return Prepared({"std": round(std, 6), "mono": self.mono}, (np.float32(std), rnd.stream))

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        std, stream = prepared.state
        field = normal_field(stream, span, chunk, self.mono)
        field *= std
        chunk += chunk * field
        return chunk
