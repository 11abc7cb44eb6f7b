"""Coloured noises: the shared filter, spectral slopes, Gaussian amplitudes, streaming."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noisecli.image.engine import ChunkNoiser
from noisecli.noise import NOISES, Blue, Brown, Pink, Violet, White, get_noise
from noisecli.noise.base import MediaInfo
from noisecli.noise.colour import PINK_POLES, PINK_ZEROS, ColourNoise, ColourStream
from noisecli.rng.keys import output_random
from noisecli.rng.philox import Stream
from tests.audio_support import slope_db_per_octave

COLOURS: list[tuple[type[ColourNoise], float]] = [
    (White, 0.0),
    (Pink, -10 * math.log10(2)),
    (Brown, -20 * math.log10(2)),
    (Blue, 10 * math.log10(2)),
    (Violet, 20 * math.log10(2)),
]


def _stream(seed: int) -> Stream:
    return Stream.derive(seed, b"colour", "noise")


def test_the_five_colours_are_registered_for_audio() -> None:
    names = {cls.name for cls in NOISES if "audio" in cls.media}
    assert {"white", "pink", "brown", "blue", "violet"} <= names
    assert get_noise("red") is Brown
    assert get_noise("PINK", "audio") is Pink


def test_pink_filter_follows_one_over_f_up_to_nyquist() -> None:
    """|H|² within 0.05 dB of c/f from 1e-4·fs to fs/2 (design: 0.046 dB)."""
    f = np.geomspace(1e-4, 0.5, 2000)
    e = np.exp(-2j * np.pi * f)[:, None]
    h = np.abs(1 - np.array(PINK_ZEROS) * e).prod(1) / np.abs(1 - np.array(PINK_POLES) * e).prod(1)
    deviation = 20 * np.log10(h) + 10 * np.log10(f)
    deviation -= deviation.mean()
    assert np.abs(deviation).max() < 0.05
    # the inverse filter (blue, violet) is stable too: every zero is inside the unit circle
    assert max(map(abs, PINK_POLES + PINK_ZEROS)) < 1


@pytest.mark.parametrize("rate", [16000, 48000])
@pytest.mark.parametrize(("cls", "target"), COLOURS, ids=[c.name for c, _ in COLOURS])
def test_spectral_slope(cls: type[ColourNoise], target: float, rate: int) -> None:
    """Fit of the Welch log power spectrum against log2 f between 200 Hz and 0.4·fs.

    Standard error: Welch over 2^20 samples with 4096-point Hann segments, 50 % overlap,
    averages K = 511 segments (≈485 independent), so each bin's level has a standard
    deviation ≈ 4.34/√485 ≈ 0.20 dB. The fit spans ≈1600 bins with var(log2 f) ≥ 1.2, so the
    slope's standard error is ≈ 0.20/√(1600·1.2) ≈ 0.005 dB/octave (≈0.01 allowing for
    neighbouring-bin correlation). The ±0.5 dB/octave of the requirement is 50 standard
    errors: a failure means a wrong filter, never bad luck.
    """
    stream = ColourStream(cls.exponent, 1, mono=False, stream=_stream(11))
    noise = stream.read(1 << 20)[:, 0]
    assert abs(slope_db_per_octave(noise, rate) - target) < 0.5


def test_white_amplitudes_are_gaussian() -> None:
    """Moments and the 1σ fraction of 10^6 white samples, each within 5 standard errors.

    N = 10^6: SE(mean) = 1/√N = 0.001, SE(variance) = √(2/N) = 0.0014, SE(excess kurtosis)
    = √(24/N) = 0.0049, SE(fraction within ±1) = √(p(1-p)/N) = 0.00047 with p = 0.6827.
    """
    x = ColourStream(0, 1, mono=False, stream=_stream(3)).read(10**6)[:, 0]
    z = x - x.mean()
    assert abs(x.mean()) < 5 * 0.001
    assert abs(x.var() - 1) < 5 * 0.0014
    assert abs(np.mean(z**4) / np.mean(z**2) ** 2 - 3) < 5 * 0.0049
    assert abs(np.mean(np.abs(x) < 1) - 0.682689) < 5 * 0.00047


@pytest.mark.parametrize(("cls", "target"), COLOURS, ids=[c.name for c, _ in COLOURS])
@pytest.mark.parametrize("mono", [False, True])
def test_chunked_stream_equals_one_pass(cls: type[ColourNoise], target: float, mono: bool) -> None:
    whole = ColourStream(cls.exponent, 2, mono, stream=_stream(9)).read(50_000)
    stream = ColourStream(cls.exponent, 2, mono, _stream(9))
    sizes = [1, 999, 4096, 7, 20_000]
    parts = [stream.read(n) for n in [*sizes, 50_000 - sum(sizes)]]
    assert np.array_equal(np.concatenate(parts), whole)


def test_mono_puts_the_same_noise_on_every_channel() -> None:
    x = ColourStream(-1, 3, mono=True, stream=_stream(1)).read(1000)
    assert x.shape == (1000, 3)
    assert np.array_equal(x[:, 0], x[:, 1]) and np.array_equal(x[:, 0], x[:, 2])


def test_channels_are_independent_by_default() -> None:
    """Correlation of two independent white channels: SE = 1/√N = 0.001 for N = 10^6."""
    x = ColourStream(0, 2, mono=False, stream=_stream(2)).read(10**6)
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 5 * 0.001


def test_apply_adds_the_stream_at_its_own_level() -> None:
    """Through the generic ChunkNoiser, an audio noise adds its unit-variance stream."""
    info = MediaInfo("audio", "float32", (4000, 2), 2, -np.inf, np.inf, 1.0, 16000)
    chunk = np.full((4000, 2), 0.25, np.float32)
    rnd = output_random(1, b"x")
    noiser = ChunkNoiser(Pink(), info, rnd)
    out = np.concatenate([noiser(chunk[:1500]), noiser(chunk[1500:])])
    expected = ColourStream(-1, 2, mono=False, stream=rnd.stream).read(4000)
    np.testing.assert_allclose(out, 0.25 + expected, rtol=1e-6, atol=1e-6)
    assert noiser.prepared.params == {"colour": "pink", "mono": False}
