"""Contact sheets: one input at several levels of one noise, labelled with what was measured.

Images: a grid of tiles, each the (cropped) image exactly as ``noisecli image --seed SEED``
would write it at that level, labelled with the level and its PSNR against the original.
Audio: log-frequency spectrograms of the clean signal and of the noisy one at each level,
labelled with the level and the measured SNR. The numbers come from :mod:`noisecli.look.measure`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from noisecli.errors import UsageError
from noisecli.look import canvas
from noisecli.look.levels import NoiseSpec, Sweep, find_sweep, noise_as_batch
from noisecli.look.measure import format_db, load_audio, load_image, medium_of, psnr, snr_db

SPECTROGRAM_WIDTH = 720
SPECTROGRAM_HEIGHT = 180
_CROP = re.compile(r"^(\d+)x(\d+)(?:\+(\d+)\+(\d+))?$")


@dataclass(frozen=True)
class SheetRequest:
    """What ``noisecli sheet`` was asked for."""

    source: str
    spec: NoiseSpec
    seed: int
    steps: int = 5
    crop: str | None = None
    columns: int | None = None


@dataclass(frozen=True)
class Tile:
    """One level: the parameter value as given and the measured PSNR (images) or SNR (audio)."""

    value: str
    db: float


@dataclass(frozen=True)
class Sheet:
    picture: np.ndarray
    param: str
    measure: str  # "PSNR" or "SNR"
    tiles: tuple[Tile, ...]

    def lines(self) -> list[str]:
        return [f"{self.param}={t.value}  {self.measure} {format_db(t.db)}" for t in self.tiles]


def parse_crop(text: str, height: int, width: int) -> tuple[slice, slice]:
    """``WxH+X+Y`` (ImageMagick geometry) or ``WxH`` (centred) as row and column slices."""
    match = _CROP.match(text.strip())
    if match is None:
        raise UsageError(f"--crop: {text!r} is not WxH or WxH+X+Y")
    w, h = int(match[1]), int(match[2])
    if w < 1 or h < 1:
        raise UsageError(f"--crop: {text!r} is empty")
    if match[3] is None:
        x, y = max(0, (width - w) // 2), max(0, (height - h) // 2)
    else:
        x, y = int(match[3]), int(match[4])
    if x + w > width or y + h > height:
        raise UsageError(f"--crop {text} falls outside the {width}x{height} image")
    return slice(y, y + h), slice(x, x + w)


def tile_label(param: str, value: str, measure: str, db: float) -> list[str]:
    return [f"{param}={value}", f"{measure} {format_db(db)}"]


def image_sheet(request: SheetRequest) -> Sheet:
    """The grid of levels of an image (see the module docstring)."""
    original = load_image(request.source)
    sweep = find_sweep(request.spec, request.steps)
    rows, cols = slice(None), slice(None)
    if request.crop:
        rows, cols = parse_crop(request.crop, original.shape[0], original.shape[1])
    clean = original[rows, cols]
    rel = Path(request.source).name
    pictures: list[np.ndarray] = []
    tiles: list[Tile] = []
    for value, spec in zip(sweep.values, sweep.specs(), strict=True):
        noisy = noise_as_batch(original, spec.build(), request.seed, rel)[rows, cols]
        db = psnr(clean, noisy)
        tiles.append(Tile(value, db))
        picture = canvas.display_image(noisy)
        pictures.append(canvas.labelled(picture, tile_label(sweep.param, value, "PSNR", db), False))
    columns = request.columns or canvas.default_columns(len(pictures))
    body = canvas.grid(pictures, columns)
    title = _title(request, sweep)
    return Sheet(canvas.labelled(body, [title]), sweep.param, "PSNR", tuple(tiles))


def _title(request: SheetRequest, sweep: Sweep) -> str:
    fixed = sweep.base.label()
    crop = f", crop {request.crop}" if request.crop else ""
    return f"{Path(request.source).name}: {fixed}, seed {request.seed}{crop}"


def audio_sheet(request: SheetRequest) -> Sheet:
    """Spectrograms of the clean signal and of each level, stacked (see the module docstring)."""
    from noisecli.api.arrays import add_noise
    from noisecli.config import AudioOptions
    from noisecli.look.spectrogram import colour_map, spectrogram_db, with_axes

    if request.crop:
        raise UsageError("--crop applies to images only")
    sweep = find_sweep(request.spec, request.steps)
    for each in sweep.specs():
        levels: dict[str, Any] = dict(each.extra)
        AudioOptions.from_values(**levels)  # validate --snr/--level before any work
    samples, rate, _ = load_audio(request.source)
    seconds = samples.shape[0] / rate
    db, f_min, peak = spectrogram_db(samples, rate, SPECTROGRAM_HEIGHT, SPECTROGRAM_WIDTH)

    def panel(db_values: np.ndarray, lines: list[str]) -> np.ndarray:
        picture = with_axes(colour_map(db_values), f_min, rate / 2.0, seconds)
        return canvas.labelled(picture, lines)

    panels = [panel(db, ["clean", f"{Path(request.source).name}, {rate} Hz"])]
    tiles: list[Tile] = []
    for value, spec in zip(sweep.values, sweep.specs(), strict=True):
        options: dict[str, Any] = spec.all_options()
        noisy = add_noise(samples, spec.cls.name, seed=request.seed, sample_rate=rate, **options)
        measured = snr_db(samples, noisy)
        tiles.append(Tile(value, measured))
        noisy_db, _, _ = spectrogram_db(
            noisy, rate, SPECTROGRAM_HEIGHT, SPECTROGRAM_WIDTH, reference=peak
        )
        panels.append(panel(noisy_db, tile_label(sweep.param, value, "SNR", measured)))
    body = canvas.grid(panels, request.columns or 1)
    return Sheet(canvas.labelled(body, [_title(request, sweep)]), sweep.param, "SNR", tuple(tiles))


def make_sheet(request: SheetRequest) -> Sheet:
    """An image sheet for an image file (by extension), a spectrogram sheet otherwise."""
    if request.spec.extra and "audio" not in request.spec.cls.media:
        flags = ", ".join("--" + name for name in request.spec.extra)
        raise UsageError(f"{flags} apply to sound files only")
    if medium_of(request.source) == "image":
        return image_sheet(request)
    return audio_sheet(request)


def write_sheet(sheet: Sheet, output: str) -> None:
    """Write the sheet as PNG, atomically."""
    canvas.write_png(sheet.picture, output)
