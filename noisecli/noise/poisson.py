"""Photon (shot) noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise.base import MediaInfo, NativeKernel, Param, Prepared, Span
from noisecli.noise.level import Level
from noisecli.noise.params import number_param
from noisecli.noise.severity import SEVERITY_PARAMS, Graded
from noisecli.noise.units import require_range, unit_intensity
from noisecli.rng.keys import OutputRandom
from noisecli.rng.poisson import poisson, poisson_u8


@dataclass(frozen=True)
class Poisson(Graded):
    """``y = Pois(x·k) / k`` on intensities ``x`` scaled to ``[0, 1]``, ``k = photons``.

    ``photons`` is the expected photon count of full white: fewer photons, more noise. The
    variance is ``x / k`` on the ``[0, 1]`` scale whatever the dtype or the number of distinct
    values in the image. ``x`` is ``(value - black) / full_scale``: the dtype's full scale
    for files, the data range for arrays (float arrays need one). ``severity`` s sets
    ``photons`` to the ImageNet-C constant.
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

    def check(self, info: MediaInfo) -> None:
        require_range(info, self.name, "counts photons on intensities in [0, 1]")

    def prepare_values(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        photons = self.photons.draw(rnd.draws)
        return Prepared({"photons": round(photons, 6)}, (photons, rnd.stream))

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        photons, stream = prepared.state
        expected = unit_intensity(chunk, info).astype(np.float64)
        expected *= photons
        counts = poisson(stream, span.value, expected.reshape(-1)).reshape(chunk.shape)
        noisy: np.ndarray = np.multiply(counts, info.full_scale / photons, dtype=np.float32)
        if info.black:
            noisy += np.float32(info.black)
        return noisy

    def native_kernel(self, info: MediaInfo, prepared: Prepared) -> NativeKernel | None:
        """uint8 images: one table lookup per value (:func:`noisecli.rng.poisson.poisson_u8`),
        the exact distribution of the rounded output to 2**-32 (its own definition: other
        values than ``apply``'s for the same stream, the same distribution)."""
        if np.dtype(info.dtype) != np.uint8 or info.full_scale != 255.0 or info.black != 0.0:
            return None
        if info.lo != 0.0 or info.hi != 255.0:  # the table clips to 0..255 only
            return None
        photons, stream = prepared.state

        def kernel(src: np.ndarray, dst: np.ndarray, span: Span) -> int:
            return poisson_u8(stream, span.value, src, photons, dst)

        return kernel
