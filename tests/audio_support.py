"""What the audio tests share: test signals, measurements, CLI runs."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from click.testing import CliRunner, Result

from noisecli.cli import main

# (extension, container, subtype) of every format and subtype the issue names
FORMATS = [
    ("wav", "WAV", "PCM_16"),
    ("wav", "WAV", "PCM_24"),
    ("wav", "WAV", "PCM_32"),
    ("wav", "WAV", "FLOAT"),
    ("wav", "WAV", "DOUBLE"),
    ("flac", "FLAC", "PCM_16"),
    ("flac", "FLAC", "PCM_24"),
    ("aiff", "AIFF", "PCM_16"),
    ("aiff", "AIFF", "PCM_24"),
    ("aiff", "AIFF", "PCM_32"),
    ("aiff", "AIFF", "FLOAT"),
    ("ogg", "OGG", "VORBIS"),
    ("mp3", "MP3", "MPEG_LAYER_III"),
]
LOSSY = ("VORBIS", "MPEG_LAYER_III")


class StopAfter:
    """A stop event that becomes set after ``n`` checks (to stop a job mid-way)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


def speech_like(frames: int, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """(frames, channels) float64: syllable-rate modulated harmonics, peak below 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / rate
    out = np.empty((frames, channels))
    for c in range(channels):
        f0 = 110.0 + 30.0 * c
        tone = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.28)) / k for k in range(1, 8))
        envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t + c)
        out[:, c] = 0.12 * tone * envelope + 0.003 * rng.standard_normal(frames)
    return out


def write(
    path: Path, data: np.ndarray, rate: int, subtype: str = "PCM_16", fmt: str | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, rate, subtype=subtype, format=fmt)
    return path


def read(path: Path) -> np.ndarray:
    """Samples as float64 full-scale units, (frames, channels)."""
    data, _ = sf.read(path, dtype="float64", always_2d=True)
    return np.asarray(data)


def power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64)))


def snr_db(clean: np.ndarray, noisy: np.ndarray, scale: float = 1.0) -> float:
    """10·log10(P(s·clean) / P(noisy - s·clean)), powers over frames and channels."""
    return 10 * np.log10(power(scale * clean) / power(noisy - scale * clean))


def rms_dbfs(x: np.ndarray) -> float:
    return 10 * np.log10(power(x))


def slope_db_per_octave(noise: np.ndarray, rate: int) -> float:
    """Least-squares slope of the Welch power spectrum (dB) against log2 f, 200 Hz..0.4·fs."""
    from scipy import signal

    f, pxx = signal.welch(noise, rate, nperseg=4096, axis=0)
    band = (f >= 200) & (f <= 0.4 * rate)
    return float(np.polyfit(np.log2(f[band]), 10 * np.log10(pxx[band]), 1)[0])


def run(*args: Any) -> Result:
    """``noisecli`` through click's runner (inline: -j 1 unless given)."""
    argv = [str(a) for a in args]
    if argv[0] in ("audio", "image") and "-j" not in argv:
        argv += ["-j", "1"]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def manifest(out: Path) -> dict[str, dict[str, Any]]:
    """file_name -> params (plus the row's other columns under '_row')."""
    rows: dict[str, dict[str, Any]] = {}
    with open(out / "metadata.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            params = json.loads(row["params"])
            params["_row"] = row
            rows[row["file_name"]] = params
    return rows
