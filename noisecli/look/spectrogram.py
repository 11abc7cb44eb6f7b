"""Log-frequency spectrograms drawn with numpy and OpenCV.

Power ``|STFT|²`` with a Hann window of about 46 ms (a power of two) and a hop of a quarter
of it, averaged into pixel rows spaced geometrically from ``f_min`` to Nyquist and into pixel
columns over time (each pixel is the mean power of the bins or frames it covers, the bins
being piecewise constant), shown as ``10·log10(P / reference)`` from ``floor_db`` to 0 dB.
All panels of one sheet share the reference (the clean signal's peak), so their colours compare.
"""

from __future__ import annotations

import math

import numpy as np

from noisecli.image.io import cv2
from noisecli.look.canvas import BACKGROUND, TEXT, text_width

FLOOR_DB = -100.0
AXIS_LEFT = 52  # pixels for the frequency labels
AXIS_BOTTOM = 18  # pixels for the time labels
TICK_FREQUENCIES = (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)


def fft_size(rate: int) -> int:
    """The power of two nearest to 46 ms of samples (1024 at 16-22 kHz, 2048 at 44.1-48 kHz)."""
    return int(2 ** max(6, round(math.log2(rate * 0.046))))


def stft_power(signal: np.ndarray, n_fft: int) -> np.ndarray:
    """``|STFT|²`` of a mono signal, shape ``(n_fft // 2 + 1, frames)``; hop ``n_fft // 4``."""
    hop = n_fft // 4
    padded = np.pad(signal.astype(np.float64), (n_fft // 2, n_fft // 2))
    if padded.size < n_fft:
        padded = np.pad(padded, (0, n_fft - padded.size))
    frames = 1 + (padded.size - n_fft) // hop
    index = np.arange(n_fft)[np.newaxis, :] + hop * np.arange(frames)[:, np.newaxis]
    windowed = padded[index] * np.hanning(n_fft)[np.newaxis, :]
    spectrum = np.fft.rfft(windowed, axis=1)
    power: np.ndarray = (spectrum.real**2 + spectrum.imag**2).T
    return power


def band_means(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Mean of ``values`` (rows piecewise constant, row ``k`` spanning ``[k, k+1)``) over each
    interval ``[starts[i], stops[i])`` in row units; returns ``(len(starts), ...)``."""
    n = values.shape[0]
    zero = np.zeros((1, *values.shape[1:]), dtype=np.float64)
    cum = np.concatenate([zero, np.cumsum(values, axis=0, dtype=np.float64)])

    def at(pos: np.ndarray) -> np.ndarray:
        pos = np.clip(pos, 0.0, float(n))
        i = np.minimum(np.floor(pos).astype(np.int64), n - 1)
        frac = (pos - i).reshape(-1, *([1] * (values.ndim - 1)))
        result: np.ndarray = cum[i] + frac * (cum[i + 1] - cum[i])
        return result

    lo = np.clip(starts, 0.0, float(n))
    hi = np.clip(stops, 0.0, float(n))
    width = np.maximum(hi - lo, 1e-9).reshape(-1, *([1] * (values.ndim - 1)))
    means: np.ndarray = (at(hi) - at(lo)) / width
    return means


def log_frequency_power(
    power: np.ndarray, rate: int, n_fft: int, rows: int, columns: int
) -> tuple[np.ndarray, float]:
    """Power resampled to ``rows`` geometric frequency bands (low first) by ``columns``
    time columns; returns it and the lowest frequency shown."""
    bin_hz = rate / n_fft
    f_min = max(20.0, bin_hz)
    nyquist = rate / 2.0
    edges = np.geomspace(f_min, nyquist, rows + 1)
    # bin k covers [(k - 0.5)·bin_hz, (k + 0.5)·bin_hz): position = f / bin_hz + 0.5
    by_freq = band_means(power, edges[:-1] / bin_hz + 0.5, edges[1:] / bin_hz + 0.5)
    frames = by_freq.shape[1]
    cols = np.linspace(0.0, float(frames), columns + 1)
    by_time = band_means(by_freq.T, cols[:-1], cols[1:]).T
    return by_time, f_min


def colour_map(db: np.ndarray, floor_db: float = FLOOR_DB) -> np.ndarray:
    """dB values (<= 0) to a BGR picture, the highest frequency on the top row."""
    level = np.clip((db - floor_db) / -floor_db, 0.0, 1.0)
    gray = np.rint(level * 255.0).astype(np.uint8)[::-1]
    picture: np.ndarray = cv2().applyColorMap(gray, cv2().COLORMAP_MAGMA)
    return picture


def spectrogram_db(
    samples: np.ndarray, rate: int, rows: int, columns: int, reference: float | None = None
) -> tuple[np.ndarray, float, float]:
    """dB picture data of a ``(frames, channels)`` signal (channels averaged).

    Returns ``(db, f_min, peak)``; ``db`` is relative to ``reference`` (default: its own peak).
    """
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    n_fft = fft_size(rate)
    power, f_min = log_frequency_power(stft_power(mono, n_fft), rate, n_fft, rows, columns)
    peak = float(power.max()) if power.size else 0.0
    ref = reference if reference is not None else peak
    db = 10.0 * np.log10(np.maximum(power, 1e-30) / max(ref, 1e-30))
    return db, f_min, peak


def _freq_label(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def with_axes(picture: np.ndarray, f_min: float, nyquist: float, seconds: float) -> np.ndarray:
    """Frequency labels (Hz, log scale) on the left and time labels below."""
    cv = cv2()
    height, width = picture.shape[:2]
    out = np.empty((height + AXIS_BOTTOM, width + AXIS_LEFT, 3), np.uint8)
    out[:] = BACKGROUND
    out[:height, AXIS_LEFT:] = picture
    span = math.log(nyquist / f_min)
    for hz in TICK_FREQUENCIES:
        if not f_min <= hz <= nyquist:
            continue
        y = round((height - 1) * (1.0 - math.log(hz / f_min) / span))
        cv.line(out, (AXIS_LEFT - 5, y), (AXIS_LEFT - 1, y), TEXT, 1)
        label = _freq_label(hz)
        x = AXIS_LEFT - 8 - text_width(label, 0.4)
        cv.putText(out, label, (x, y + 4), cv.FONT_HERSHEY_SIMPLEX, 0.4, TEXT, 1, cv.LINE_AA)
    cv.putText(out, "Hz", (4, 12), cv.FONT_HERSHEY_SIMPLEX, 0.4, TEXT, 1, cv.LINE_AA)
    step = _time_step(seconds)
    t = 0.0
    while t <= seconds + 1e-9:
        x = AXIS_LEFT + round((width - 1) * (t / seconds if seconds else 0.0))
        cv.line(out, (x, height), (x, height + 3), TEXT, 1)
        label = f"{t:g} s"
        x = min(max(AXIS_LEFT, x - text_width(label, 0.4) // 2), out.shape[1] - 40)
        cv.putText(out, label, (x, height + 15), cv.FONT_HERSHEY_SIMPLEX, 0.4, TEXT, 1, cv.LINE_AA)
        t += step
    return out


def _time_step(seconds: float) -> float:
    """A round tick spacing giving at most about 8 ticks."""
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600):
        if seconds / step <= 8:
            return float(step)
    return max(1.0, seconds / 8)
