"""Additive uniform noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from noisecli.noise.base import (
    MediaInfo,
    NativeKernel,
    Noise,
    Param,
    Prepared,
    Span,
    level_param,
)
from noisecli.noise.level import Level
from noisecli.noise.params import MONO
from noisecli.noise.units import fused_kernel, level_unit_name, to_native, uniform_field
from noisecli.rng import kernels
from noisecli.rng.keys import OutputRandom

SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Uniform(Noise):
    """``y = x + U(-a, a)`` with ``a = √3·std``, independently per value (per pixel with ``mono``).

    ``std`` is the standard deviation of the uniform, in the units of ``gaussian`` (files:
    8-bit levels or a percentage of full scale; arrays: the array's own units or a percentage
    of the data range), so equal ``std`` means equal noise power.
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

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        std = self.std.draw(rnd.draws)
        half_width = SQRT3 * to_native(std, self.std.percent, info)
        params: dict[str, float | str | bool] = {
            "std": round(std, 6),
            "unit": level_unit_name(info, self.std.percent),
            "mono": self.mono,
        }
        return Prepared(params, (np.float32(half_width), rnd.stream))

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        half_width, stream = prepared.state
        field = uniform_field(stream, span, chunk, self.mono)
        field *= np.float32(2.0)  # v = 2u - 1, exact: uniform on [-1, 1) in steps of 2**-23
        field -= np.float32(1.0)
        field *= half_width
        chunk += field
        return chunk

    def native_kernel(self, info: MediaInfo, prepared: Prepared) -> NativeKernel | None:
        """``add_uniform`` of the random-number layer: the bytes of ``apply`` + clipping."""
        half_width, stream = prepared.state
        return fused_kernel(kernels.add_uniform, info, stream, self.mono, half_width, 0.0)
