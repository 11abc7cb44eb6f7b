"""The audio mixer through the Python API: exact levels, dtypes, clipping, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import noisecli
from noisecli.audiomix import PowerMeter
from noisecli.cancel import Stopped, install
from noisecli.config import AudioOptions
from noisecli.errors import ClippingError, InputError, SilentInputError, UsageError
from tests.audio_support import StopAfter, rms_dbfs, snr_db, speech_like, write


def test_power_meter_is_exact_and_independent_of_block_sizes() -> None:
    x = np.random.default_rng(0).standard_normal((100_003, 2))
    results = []
    for size in (1, 777, 4096, 65536, 100_003):
        meter = PowerMeter(2)
        for start in range(0, len(x), size):
            meter.add(x[start : start + size])
        results.append(meter.mean)
    assert len(set(results)) == 1  # bit for bit
    assert results[0] == pytest.approx(np.mean(x**2), rel=1e-12)


@pytest.mark.parametrize("dtype", ["int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("channels", [None, 1, 2])
def test_same_shape_and_dtype(dtype: str, channels: int | None) -> None:
    x = speech_like(8000, 16000, channels or 1)
    if channels is None:
        x = x[:, 0]
    if dtype.startswith("int"):
        x = np.round(x * np.iinfo(dtype).max).astype(dtype)
    else:
        x = x.astype(dtype)
    y = noisecli.add_noise(x, "pink", snr=10, sample_rate=16000, seed=1)
    assert y.shape == x.shape
    assert y.dtype == x.dtype
    assert not np.array_equal(x, y)


@pytest.mark.parametrize("noise", ["white", "pink", "brown", "blue", "violet"])
@pytest.mark.parametrize("channels", [1, 2])
def test_snr_is_exact(noise: str, channels: int) -> None:
    """No statistics here: the gain comes from the measured powers of this very noise.

    float64 samples are not rounded, so the only error is floating-point rounding.
    """
    x = speech_like(20000, 16000, channels)
    y = noisecli.add_noise(x, noise, snr=7.5, sample_rate=16000, seed=4, no_clip=True)
    assert snr_db(x, y) == pytest.approx(7.5, abs=1e-9)


def test_level_is_exact_and_works_on_silence() -> None:
    x = np.zeros((16000, 2), np.float32)
    y = noisecli.add_noise(x, "brown", level="-35dBFS", sample_rate=16000, seed=2)
    # float32 rounding of the written samples: relative power error below 1e-6
    assert rms_dbfs(y.astype(np.float64)) == pytest.approx(-35.0, abs=1e-4)


def test_seed_and_chunk() -> None:
    x = np.round(speech_like(30000, 8000, 2) * 32767).astype(np.int16)
    base = noisecli.add_noise(x, "violet", snr="0:20", sample_rate=8000, seed=9)
    for chunk in (7, 1000, 4097):
        y = noisecli.add_noise(x, "violet", snr="0:20", sample_rate=8000, seed=9, chunk=chunk)
        assert np.array_equal(y, base)
    other = noisecli.add_noise(x, "violet", snr="0:20", sample_rate=8000, seed=10)
    assert not np.array_equal(other, base)


def test_scale_avoids_clipping_and_keeps_the_snr() -> None:
    x = speech_like(16000, 16000, 1) * 3.0  # peaks near full scale
    y = noisecli.add_noise(x, "white", snr=0, sample_rate=16000, seed=3, on_clip="scale")
    assert np.abs(y).max() < 1.0
    y_unscaled = noisecli.add_noise(x, "white", snr=0, sample_rate=16000, seed=3, no_clip=True)
    peak = float(np.max(np.abs(y_unscaled)))
    assert peak > 1.0
    # y = s·(x + g·n) with s = 1/peak (less a 1e-9 margin): compare sample by sample
    np.testing.assert_allclose(y * peak, y_unscaled, rtol=0, atol=1e-8)
    assert snr_db(x, y, scale=1 / peak) == pytest.approx(0.0, abs=1e-6)


def test_on_clip_error() -> None:
    x = speech_like(16000, 16000, 1) * 3.0
    with pytest.raises(ClippingError, match="would clip"):
        noisecli.add_noise(x, "white", snr=0, sample_rate=16000, seed=3, on_clip="error")
    quiet = noisecli.add_noise(x * 0.1, "white", snr=30, sample_rate=16000, on_clip="error")
    assert quiet.shape == x.shape


def test_silence_under_snr_is_refused() -> None:
    with pytest.raises(SilentInputError, match="SNR is undefined"):
        noisecli.add_noise(np.zeros(1000, np.int16), "pink", snr=10, sample_rate=8000, seed=1)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_refused(bad: float) -> None:
    x = speech_like(5000, 8000, 2)
    x[1234, 1] = bad
    x[4000, 0] = bad
    with pytest.raises(InputError, match=r"2 samples are NaN or infinite .* frame 1234"):
        noisecli.add_noise(x, "white", snr=10, sample_rate=8000, seed=1)


def test_api_usage_errors() -> None:
    x = speech_like(100, 8000)
    with pytest.raises(UsageError, match="sample_rate"):
        noisecli.add_noise(x, "pink", snr=10, seed=1)
    with pytest.raises(UsageError, match="exclude each other"):
        noisecli.add_noise(x, "pink", snr=10, level=-30, sample_rate=8000)
    with pytest.raises(UsageError, match="int16"):
        noisecli.add_noise(x.astype(np.uint8), "pink", sample_rate=8000)
    with pytest.raises(UsageError, match="does not apply to audio"):
        noisecli.add_noise(x, "gaussian", sample_rate=8000)
    with pytest.raises(UsageError, match="above the maximum"):
        noisecli.add_noise(x, "pink", level="3dBFS", sample_rate=8000)


def test_audio_options_parsing() -> None:
    opts = AudioOptions.from_values(level="-50dBFS:-30dbfs")
    assert opts.level is not None and (opts.level.lo, opts.level.hi) == (-50.0, -30.0)
    assert opts.snr is None
    for default in (AudioOptions.from_values(), AudioOptions()):
        assert default.snr is not None and default.snr.lo == 20.0 and default.level is None
    with pytest.raises(UsageError, match="percentages"):
        AudioOptions.from_values(snr="10%")
    with pytest.raises(UsageError, match="on-clip"):
        AudioOptions(on_clip="wrap")


def test_a_stop_request_aborts_between_blocks() -> None:
    install(StopAfter(3))
    try:
        with pytest.raises(Stopped):
            noisecli.add_noise(speech_like(50000, 8000), "pink", sample_rate=8000, chunk=1000)
    finally:
        install(None)


def test_a_background_with_nan_is_refused(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).standard_normal(8000) * 0.1
    noise[::500] = np.nan  # whatever offset is drawn, the window meets one
    write(tmp_path / "bad.wav", noise, 8000, "FLOAT")
    with pytest.raises(InputError, match="noise has NaN"):
        noisecli.add_noise(
            speech_like(4000, 8000), "background", background=str(tmp_path), sample_rate=8000
        )
