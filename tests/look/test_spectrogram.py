"""Log-frequency spectrograms of generated signals."""

from __future__ import annotations

import math

import numpy as np

from noisecli.look.spectrogram import (
    AXIS_BOTTOM,
    AXIS_LEFT,
    band_means,
    colour_map,
    fft_size,
    spectrogram_db,
    stft_power,
    with_axes,
)

RATE = 16000


def test_fft_size_is_about_46_ms() -> None:
    assert [fft_size(r) for r in (8000, 16000, 22050, 44100, 48000)] == [
        512,
        1024,
        1024,
        2048,
        2048,
    ]


def test_band_means_match_a_brute_force_average() -> None:
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 1, (12, 3))
    starts = np.array([0.0, 2.5, 3.25, 11.0])
    stops = np.array([12.0, 4.5, 3.75, 12.0])
    fine = np.repeat(values, 1000, axis=0)  # each row split into 1000 equal pieces
    for i, (a, b) in enumerate(zip(starts, stops, strict=True)):
        expected = fine[int(a * 1000) : int(b * 1000)].mean(axis=0)
        assert np.allclose(band_means(values, starts, stops)[i], expected)


def test_stft_of_a_tone_peaks_at_its_bin() -> None:
    n_fft = 1024
    t = np.arange(RATE) / RATE
    power = stft_power(np.sin(2 * np.pi * 1000 * t), n_fft)
    assert power.shape[0] == n_fft // 2 + 1
    assert power.shape[1] == 1 + RATE // (n_fft // 4)
    assert int(np.argmax(power[:, power.shape[1] // 2])) == round(1000 * n_fft / RATE)


def test_tone_lands_on_its_log_frequency_row() -> None:
    rows, cols = 120, 50
    t = np.arange(2 * RATE) / RATE
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)[:, np.newaxis]
    db, f_min, peak = spectrogram_db(tone, RATE, rows, cols)
    assert db.shape == (rows, cols) and peak > 0 and f_min == 20.0
    expected_row = rows * math.log(1000 / f_min) / math.log((RATE / 2) / f_min)
    peak_rows = np.argmax(db, axis=0)
    assert np.all(np.abs(peak_rows - expected_row) <= 1.5)
    assert db.max() <= 1e-9  # relative to its own peak


def test_white_noise_is_flat_over_frequency() -> None:
    noise = np.random.default_rng(4).standard_normal((8 * RATE, 1)).astype(np.float32)
    rows = 60
    db, _, _ = spectrogram_db(noise, RATE, rows, 10)
    # Rows above 1 kHz span >= 6.7 bins (15.6 Hz each, ratio 400**(1/60) per row) and each
    # column 50 frames: a pixel averages >= 335 exponential powers (~170 independent with
    # the Hann window's overlap), so its level has SD ~ 4.34/sqrt(170) = 0.33 dB and a row's
    # mean over 10 columns 0.11 dB. The spread of ~20 rows is ~4 SD = 0.45 dB; allow 1 dB.
    by_band = db.mean(axis=1)
    high = by_band[int(rows * math.log(1000 / 20) / math.log(8000 / 20)) + 1 :]
    assert high.max() - high.min() < 1.0


def test_picture_with_axes_has_the_right_size_and_low_frequencies_at_the_bottom() -> None:
    db = np.full((100, 200), -100.0)
    db[0] = 0.0  # lowest band loud
    picture = colour_map(db)
    assert picture.shape == (100, 200, 3)
    assert picture[-1].mean() > picture[0].mean()
    framed = with_axes(picture, 20.0, 8000.0, 2.0)
    assert framed.shape == (100 + AXIS_BOTTOM, 200 + AXIS_LEFT, 3)
    assert (framed[:100, :AXIS_LEFT] > 200).any()  # frequency labels drawn
