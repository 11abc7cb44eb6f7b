"""Photon (shot) noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise.base import MediaInfo, Param, Prepared
from noisecli.noise.level import Level
from noisecli.noise.params import number_param
from noisecli.noise.severity import SEVERITY_PARAMS, Graded
from noisecli.noise.units import unit_intensity


@dataclass(frozen=True)
class Poisson(Graded):
    """``y = Pois(x·k) / k`` on intensities ``x`` scaled to ``[0, 1]``, ``k = photons``.

    ``photons`` is the expected photon count of full white: fewer photons, more noise. The
    variance is ``x / k`` on the ``[0, 1]`` scale whatever the dtype or the number of distinct
    values in the image. ``severity`` s sets ``photons`` to the ImageNet-C constant.
    """

    name: ClassVar[str] = "poisson"
    aliases: ClassVar[tuple[str, ...]] = ("shot",)
    summary: ClassVar[str] = "photon noise, Pois(x·k)/k on the [0, 1] scale"
    example: ClassVar[str] = "--photons 10:200"
    cli_params: ClassVar[tuple[Param, ...]] = (
        number_param(
            "photons",
            "photons at full white, K > 0 (fewer = noisier; variance x/K on the [0, 1] scale)",
            positive=True,
        ),
        *SEVERITY_PARAMS,
    )

    photons: Level = Level.fixed(100.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.photons.lo <= 0:
            raise UsageError(f"--photons must be greater than 0, got {self.photons}")

    def prepare_values(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        photons = self.photons.draw(rng)
        return Prepared({"photons": round(photons, 6)}, photons)

    def apply(
        self, chunk: np.ndarray, rng: np.random.Generator, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        photons: float = prepared.state
        expected = unit_intensity(chunk, info).astype(np.float64)
        expected *= photons
        counts = rng.poisson(expected)
        return np.multiply(counts, info.full_scale / photons, dtype=np.float32)
