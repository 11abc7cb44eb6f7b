"""Additive Gaussian noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from noisecli.noise.base import MediaInfo, NativeKernel, Param, Prepared, Span, level_param
from noisecli.noise.level import Level
from noisecli.noise.params import MONO
from noisecli.noise.severity import SEVERITY_PARAMS, Graded
from noisecli.noise.units import fused_kernel, level_unit_name, normal_field, to_native
from noisecli.rng import kernels
from noisecli.rng.keys import OutputRandom


@dataclass(frozen=True)
class Gaussian(Graded):
    """``y = x + N(mean, std²)``, independently per value (per pixel with ``mono``).

    Files: ``std`` and ``mean`` are in 8-bit levels whatever the bit depth (``std=25`` is
    ``25·257`` on uint16 and ``25/255`` on float images), or a percentage of full scale.
    Arrays (:func:`noisecli.add_noise`): in the array's own units, or a percentage of the
    data range.
    ``severity`` s sets ``std`` to the ImageNet-C constant σ_s of the [0, 1] scale.
    """

    name: ClassVar[str] = "gaussian"
    aliases: ClassVar[tuple[str, ...]] = ("normal",)
    summary: ClassVar[str] = "additive Gaussian noise, x + N(mean, std)"
    example: ClassVar[str] = "--std 5:30"
    cli_params: ClassVar[tuple[Param, ...]] = (
        level_param("std", "standard deviation in 8-bit levels, LOW:HIGH or N% of full scale"),
        level_param("mean", "mean of the noise in 8-bit levels (may be negative)", minimum=-1e9),
        MONO,
        *SEVERITY_PARAMS,
    )

    std: Level = Level.fixed(25.0)
    mean: Level = Level.fixed(0.0)
    mono: bool = False

    def prepare_values(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        std = self.std.draw(rnd.draws)
        mean = self.mean.draw(rnd.draws)
        sigma = to_native(std, self.std.percent, info)
        mu = to_native(mean, self.mean.percent, info)
        params: dict[str, float | str | bool] = {
            "std": round(std, 6),
            "mean": round(mean, 6),
            "unit": level_unit_name(info, self.std.percent),
            "mono": self.mono,
        }
        return Prepared(params, (np.float32(sigma), np.float32(mu), rnd.stream))

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        sigma, mu, stream = prepared.state
        field = normal_field(stream, span, chunk, self.mono)
        field *= sigma
        field += mu
        chunk += field
        return chunk

    def native_kernel(self, info: MediaInfo, prepared: Prepared) -> NativeKernel | None:
        """``add_normal`` of the random-number layer: the bytes of ``apply`` + clipping."""
        sigma, mu, stream = prepared.state
        return fused_kernel(kernels.add_normal, info, stream, self.mono, sigma, mu)
