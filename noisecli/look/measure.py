"""How much noise a noisy file holds compared with its clean original.

Images: PSNR = 10·log10(full² / MSE) over the colour channels (alpha excluded), with
``full`` the dtype's full scale; the noise σ is the standard deviation of ``noisy - clean``
converted to 8-bit levels (``· 255 / full``); the clipped fraction counts values of the noisy
image at an end of the valid range where the clean one is not.

Audio (samples as floats, full scale 1): SNR = 10·log10(Σ clean² / Σ (noisy - clean)²),
noise RMS in dBFS = 20·log10 RMS(noisy - clean), clipped samples = noisy samples at the
extreme codes of the file's format where the clean sample is not.

The contact sheet labels its tiles with these same functions, so its numbers match
``noisecli measure``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from noisecli.errors import InputError, UsageError
from noisecli.ranges import value_range

EIGHT_BIT = 255.0
READ_FRAMES = 65536


def format_db(value: float) -> str:
    """A decibel value as printed by ``measure`` and on contact sheets: ``28.13 dB``."""
    return "inf dB" if math.isinf(value) else f"{value:.2f} dB"


def colour_planes(array: np.ndarray) -> np.ndarray:
    """The colour values of an image as float64 ``(H, W, C)``; alpha (2 or 4 channels) dropped."""
    view = array[:, :, np.newaxis] if array.ndim == 2 else array
    colour = view.shape[2] - 1 if view.shape[2] in (2, 4) else view.shape[2]
    return view[:, :, :colour].astype(np.float64)


def _check_same(clean: np.ndarray, noisy: np.ndarray) -> None:
    if clean.shape != noisy.shape:
        raise UsageError(f"the files differ in shape: {clean.shape} and {noisy.shape}")
    if clean.dtype != noisy.dtype:
        raise UsageError(f"the files differ in sample type: {clean.dtype} and {noisy.dtype}")


def psnr(clean: np.ndarray, noisy: np.ndarray) -> float:
    """PSNR in dB of two images of one shape and dtype (``inf`` when they are equal)."""
    _check_same(clean, noisy)
    _, _, full = value_range(clean.dtype, "image")
    mse = float(np.mean((colour_planes(noisy) - colour_planes(clean)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(full * full / mse)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """SNR in dB of a noisy signal against its clean original (``inf`` when equal)."""
    _check_same(clean, noisy)
    noise = noisy.astype(np.float64) - clean.astype(np.float64)
    noise_energy = float(np.sum(noise * noise))
    signal = clean.astype(np.float64)
    signal_energy = float(np.sum(signal * signal))
    if noise_energy == 0:
        return math.inf
    if signal_energy == 0:
        return -math.inf
    return 10.0 * math.log10(signal_energy / noise_energy)


@dataclass(frozen=True)
class ImageMeasurement:
    """``measure`` of two images."""

    psnr_db: float
    noise_std: float  # 8-bit levels
    noise_mean: float  # 8-bit levels
    clipped: int
    values: int
    kind: str = "image"

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.values if self.values else 0.0

    def lines(self) -> list[str]:
        return [
            f"PSNR: {format_db(self.psnr_db)}",
            f"noise sigma: {self.noise_std:.2f} (8-bit levels), mean {self.noise_mean:+.2f}",
            f"clipped: {self.clipped_fraction:.4%} ({self.clipped} of {self.values} values)",
        ]

    def to_json(self) -> dict[str, Any]:
        return json_fields(self) | {"clipped_fraction": self.clipped_fraction}


@dataclass(frozen=True)
class AudioMeasurement:
    """``measure`` of two audio signals."""

    snr_db: float
    noise_rms_dbfs: float
    clipped: int
    samples: int
    kind: str = "audio"

    def lines(self) -> list[str]:
        fraction = self.clipped / self.samples if self.samples else 0.0
        rms = "-inf dBFS" if math.isinf(self.noise_rms_dbfs) else f"{self.noise_rms_dbfs:.2f} dBFS"
        return [
            f"SNR: {format_db(self.snr_db)}",
            f"noise RMS: {rms}",
            f"clipped samples: {self.clipped} of {self.samples} ({fraction:.4%})",
        ]

    def to_json(self) -> dict[str, Any]:
        return json_fields(self)


def json_fields(result: ImageMeasurement | AudioMeasurement) -> dict[str, Any]:
    """The fields of a result for JSON, which has no infinity: an infinite PSNR/SNR (an
    exact match) or a silent noise's dBFS is written as null."""
    return {
        key: None if isinstance(value, float) and math.isinf(value) else value
        for key, value in asdict(result).items()
    }


def _clipped(clean: np.ndarray, noisy: np.ndarray, lo: float, hi: float) -> int:
    at_lo = (noisy <= lo) & (clean > lo)
    at_hi = (noisy >= hi) & (clean < hi)
    return int(np.count_nonzero(at_lo) + np.count_nonzero(at_hi))


def measure_images(clean: np.ndarray, noisy: np.ndarray) -> ImageMeasurement:
    """PSNR, noise σ and mean (8-bit levels) and clipped values of a noisy image."""
    value = psnr(clean, noisy)
    lo, hi, full = value_range(clean.dtype, "image")
    c, n = colour_planes(clean), colour_planes(noisy)
    diff = (n - c) * (EIGHT_BIT / full)
    return ImageMeasurement(
        psnr_db=value,
        noise_std=float(diff.std()),
        noise_mean=float(diff.mean()),
        clipped=_clipped(c, n, lo, hi),
        values=int(c.size),
    )


def measure_audio(clean: np.ndarray, noisy: np.ndarray, subtype: str = "FLOAT") -> AudioMeasurement:
    """SNR, noise RMS (dBFS) and clipped samples of a noisy signal (floats, full scale 1)."""
    value = snr_db(clean, noisy)
    noise = noisy.astype(np.float64) - clean.astype(np.float64)
    rms = math.sqrt(float(np.mean(noise * noise))) if noise.size else 0.0
    from noisecli.audio.io import sample_format

    lo, hi = sample_format(subtype).limits()
    return AudioMeasurement(
        snr_db=value,
        noise_rms_dbfs=20.0 * math.log10(rms) if rms > 0 else -math.inf,
        clipped=_clipped(clean, noisy, lo, hi),
        samples=int(noisy.size),
    )


def load_image(path: str) -> np.ndarray:
    """Decode an image file (any format ``noisecli image`` reads)."""
    from noisecli.image.io import decode_image

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    try:
        array, _ = decode_image(data)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    return array


def load_audio(path: str) -> tuple[np.ndarray, int, str]:
    """A sound file as float64 ``(frames, channels)`` in full-scale units (exact for every
    format); returns it, its sample rate and its subtype."""
    from noisecli.audio.io import probe, read_blocks, sample_format

    try:
        info = probe(path)
        fmt = sample_format(info.subtype)
        blocks = [fmt.to_unit(b) for b in read_blocks(path, fmt.dtype, READ_FRAMES)]
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    return np.concatenate(blocks), info.sample_rate, info.subtype


def medium_of(path: str) -> str:
    """``image`` or ``audio`` by the file's extension; UsageError for anything else."""
    from noisecli.audio.io import is_audio_name
    from noisecli.image.io import is_image_name

    name = Path(path).name
    if is_image_name(name):
        return "image"
    if is_audio_name(name):
        return "audio"
    raise UsageError(f"{path}: not an image or sound file name")


def measure_files(clean: str, noisy: str) -> ImageMeasurement | AudioMeasurement:
    """Measure two files of one medium (told by their extensions)."""
    media = medium_of(clean)
    if medium_of(noisy) != media:
        raise UsageError("compare an image with an image, or a sound file with a sound file")
    if media == "image":
        return measure_images(load_image(clean), load_image(noisy))
    clean_samples, clean_rate, _ = load_audio(clean)
    noisy_samples, noisy_rate, subtype = load_audio(noisy)
    if clean_rate != noisy_rate:
        raise UsageError(f"the files differ in sample rate: {clean_rate} and {noisy_rate} Hz")
    return measure_audio(clean_samples, noisy_samples, subtype)


def render(result: ImageMeasurement | AudioMeasurement, as_json: bool) -> str:
    """The text ``measure`` prints: aligned lines, or one JSON object."""
    if as_json:
        return json.dumps(result.to_json(), sort_keys=True)
    return "\n".join(result.lines())
