"""Additive uniform noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from noisecli.noise.base import MediaInfo, Noise, Param, Prepared, level_param
from noisecli.noise.level import Level
from noisecli.noise.params import MONO
from noisecli.noise.units import field_shape, to_native

SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Uniform(Noise):
    """``y = x + U(-a, a)`` with ``a = √3·std``, independently per value (per pixel with ``mono``).

    ``std`` is the standard deviation of the uniform, in 8-bit levels or a percentage of full
    scale exactly as for ``gaussian``, so equal ``std`` means equal noise power.
    """

    name: ClassVar[str] = "uniform"
    summary: ClassVar[str] = "additive uniform noise, x + U(-a, a) with a = √3·std"
    example: ClassVar[str] = "--std 10 --mono"
    cli_params: ClassVar[tuple[Param, ...]] = (
        level_param(
            "std",
            "standard deviation of the uniform in 8-bit levels, LOW:HIGH or N% of full scale",
        ),
        MONO,
    )

    std: Level = Level.fixed(25.0)
    mono: bool = False

    def prepare(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        std = self.std.draw(rng)
        half_width = SQRT3 * to_native(std, self.std.percent, info.full_scale)
        params: dict[str, float | str | bool] = {
            "std": round(std, 6),
            "unit": "%" if self.std.percent else "8-bit levels",
            "mono": self.mono,
        }
        return Prepared(params, np.float32(half_width))

    def apply(
        self, chunk: np.ndarray, rng: np.random.Generator, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        half_width = prepared.state
        field = rng.random(field_shape(chunk, self.mono), dtype=np.float32)
        field *= np.float32(2.0) * half_width
        field -= half_width
        chunk += field
        return chunk
