"""Calibrated camera-sensor noise: heteroscedastic shot + read noise in linear light."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise.base import MediaInfo, Noise, Param, Prepared, Span
from noisecli.noise.level import Level
from noisecli.noise.params import (
    MONO,
    changed_fields,
    given_options,
    number_param,
    reject_together,
)
from noisecli.noise.units import from_unit, normal_field, require_range, unit_intensity
from noisecli.rng import kernels, portable
from noisecli.rng.keys import OutputRandom
from noisecli.rng.philox import Draws

# Brooks et al. 2019, "Unprocessing Images for Learned Raw Denoising": log(shot) is uniform
# in [log 1e-4, log 0.012] and log(read) = 2.18·log(shot) + 1.20 + N(0, 0.26²) (natural logs).
SHOT_PER_ISO = 1e-6  # shot gain of ISO-like 1; ISO-like 100..12000 spans their shot range
READ_SLOPE = 2.18
READ_INTERCEPT = 1.20
READ_SCATTER = 0.26


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """The sRGB decoding curve (IEC 61966-2-1) on ``[0, 1]``, float32 (power in float64,
    libm-free: :func:`noisecli.rng.portable.pow_array`)."""
    low = x / np.float32(12.92)
    base = (x + np.float32(0.055)) / np.float32(1.055)
    high = portable.pow_array(base.astype(np.float64), 2.4).astype(np.float32)
    linear: np.ndarray = np.where(x <= np.float32(0.04045), low, high)
    return linear


def linear_to_srgb(y: np.ndarray) -> np.ndarray:
    """The sRGB encoding curve, inverse of :func:`srgb_to_linear`, float32."""
    low = y * np.float32(12.92)
    power = portable.pow_array(y.astype(np.float64), 1 / 2.4).astype(np.float32)
    high = np.float32(1.055) * power - np.float32(0.055)
    encoded: np.ndarray = np.where(y <= np.float32(0.0031308), low, high)
    return encoded


def standard_normal(draws: Draws) -> float:
    """One N(0, 1) value from the next word of ``draws`` (the stream's Gaussian)."""
    word = np.array([draws.word()], np.uint32)
    return float(kernels.normal_from_bits(word)[0])


def brooks_levels(iso_like: float, draws: Draws) -> tuple[float, float]:
    """``(shot, read)`` for one ISO-like value: shot from the gain, read from the relation."""
    shot = iso_like * SHOT_PER_ISO
    scatter = READ_SCATTER * standard_normal(draws)
    log_read = READ_SLOPE * portable.log(shot) + READ_INTERCEPT + scatter
    return shot, portable.exp(log_read)


def _log_uniform(level: Level, draws: Draws) -> float:
    if not level.is_range:
        return level.lo
    return portable.exp(draws.uniform(portable.log(level.lo), portable.log(level.hi)))


@dataclass(frozen=True)
class Sensor(Noise):
    """``y' = y + N(0, a·y + b)`` in linear light, then clipped to ``[0, 1]`` and re-encoded.

    ``y`` is the sRGB-decoded intensity on ``[0, 1]``; ``a`` (``shot``) scales the
    signal-dependent photon noise and ``b`` (``read``) is the constant read-noise variance:
    the heteroscedastic Gaussian model of Poisson-Gaussian sensor noise used by Brooks et al.
    2019. ``iso_like`` draws both per output instead: ``a = iso_like·1e-6`` (log-uniform
    over ``LOW:HIGH``; 100:12000 is their range) and
    ``log b = 2.18·log a + 1.20 + N(0, 0.26²)``. With ``mono`` one standard-normal field is
    shared by all colour channels (each still scaled by its own ``√(a·y + b)``).
    """

    name: ClassVar[str] = "sensor"
    aliases: ClassVar[tuple[str, ...]] = ("camera",)
    summary: ClassVar[str] = "camera noise in linear light, variance a·y + b (shot + read)"
    example: ClassVar[str] = "--iso-like 100:3200"
    cli_params: ClassVar[tuple[Param, ...]] = (
        number_param("shot", "shot-noise gain a: variance a·y on linear [0, 1]"),
        number_param("read", "read-noise variance b on linear [0, 1]"),
        number_param(
            "iso_like",
            "ISO-like gain, a = ISO·1e-6 and b from Brooks et al. 2019; LOW:HIGH is "
            "log-uniform, 100:12000 their range; replaces --shot/--read",
            positive=True,
            metavar="ISO",
        ),
        MONO,
    )

    shot: Level = Level.fixed(0.01)
    read: Level = Level.fixed(0.0005)
    iso_like: Level | None = None
    mono: bool = False

    def __post_init__(self) -> None:
        if self.iso_like is not None and self.iso_like.lo <= 0:
            raise UsageError(f"--iso-like must be greater than 0, got {self.iso_like}")
        reject_together(self.name, "iso_like", ("shot", "read"), changed_fields(self))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Noise:
        reject_together(cls.name, "iso_like", ("shot", "read"), given_options(options))
        return super().from_options(options)

    def overridden(self) -> frozenset[str]:
        return frozenset() if self.iso_like is None else frozenset({"shot", "read"})

    def check(self, info: MediaInfo) -> None:
        require_range(info, self.name, "works on sRGB intensities in [0, 1]")

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        params: dict[str, float | str | bool] = {}
        if self.iso_like is None:
            shot, read = self.shot.draw(rnd.draws), self.read.draw(rnd.draws)
        else:
            iso_like = _log_uniform(self.iso_like, rnd.draws)
            shot, read = brooks_levels(iso_like, rnd.draws)
            params["iso_like"] = float(f"{iso_like:.6g}")
        params.update(shot=float(f"{shot:.6g}"), read=float(f"{read:.6g}"), mono=self.mono)
        return Prepared(params, (np.float32(shot), np.float32(read), rnd.stream))

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        shot, read, stream = prepared.state
        if shot == 0 and read == 0:
            return chunk
        linear = srgb_to_linear(unit_intensity(chunk, info))
        std = np.sqrt(linear * shot + read)
        std *= normal_field(stream, span, chunk, self.mono)
        linear += std
        np.clip(linear, 0.0, 1.0, out=linear)
        return from_unit(linear_to_srgb(linear), info)
