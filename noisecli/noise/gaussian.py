"""Additive Gaussian noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from noisecli.noise.base import MediaInfo, NativeKernel, Param, Prepared, level_param
from noisecli.noise.level import Level
from noisecli.noise.params import MONO
from noisecli.noise.severity import SEVERITY_PARAMS, Graded
from noisecli.noise.units import field_shape, to_native
from noisecli.rng.fastnormal import NormalField
from noisecli.rng.normal_tiles import NormalTiles, supported


@dataclass(frozen=True)
class Gaussian(Graded):
    """``y = x + N(mean, std²)``, independently per value (per pixel with ``mono``).

    ``std`` and ``mean`` are in 8-bit levels whatever the bit depth (``std=25`` is
    ``25·257`` on uint16 and ``25/255`` on float images), or a percentage of full scale.
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

    def prepare_values(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        std = self.std.draw(rng)
        mean = self.mean.draw(rng)
        sigma = to_native(std, self.std.percent, info.full_scale)
        mu = to_native(mean, self.mean.percent, info.full_scale)
        params: dict[str, float | str | bool] = {
            "std": round(std, 6),
            "mean": round(mean, 6),
            "unit": "%" if self.std.percent else "8-bit levels",
            "mono": self.mono,
        }
        return Prepared(params, (np.float32(sigma), np.float32(mu), NormalField()))

    def apply(
        self, chunk: np.ndarray, rng: np.random.Generator, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        sigma, mu, normals = prepared.state
        field = normals(rng, field_shape(chunk, self.mono))
        field *= sigma
        if mu:
            field += mu
        chunk += field
        return chunk

    def native_kernel(
        self, info: MediaInfo, prepared: Prepared, rng: np.random.Generator
    ) -> NativeKernel | None:
        """uint8/uint16 images: rounded noise from OpenCV's generator, re-seeded per tile."""
        if info.media != "image" or not supported(info.dtype):
            return None
        sigma, mu, _ = prepared.state
        return NormalTiles(
            rng, info.shape[0], info.dtype, info.lo, info.hi, float(mu), float(sigma), self.mono
        )
