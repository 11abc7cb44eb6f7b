"""The audio mixer through the Python API: exact levels, dtypes, clipping, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import noisecli
from noisecli.audio import mix
from noisecli.audio.io import SampleFormat, array_format
from noisecli.audio.mix import (
    ArraySource,
    ExactSquares,
    Layout,
    PowerMeter,
    SignalMeter,
    analyse,
    render,
)
from noisecli.batch.cancel import Stopped, install
from noisecli.config import AudioOptions
from noisecli.errors import ClippingError, InputError, SilentInputError, UsageError
from noisecli.noise import Pink, White
from noisecli.noise.colour import ColourStream
from noisecli.rng.keys import file_key
from noisecli.rng.philox import Stream
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


def test_exact_squares_is_exact_whatever_the_cut() -> None:
    x = np.random.default_rng(1).integers(-32768, 32768, size=(300_001, 2)).astype(np.int16)
    expected = int(np.sum(x.astype(np.int64) ** 2))
    for size in (1, 999, 65536, 300_001):
        acc = ExactSquares()
        for start in range(0, len(x), size):
            acc.add(x[start : start + size])
        assert acc.total == expected
    wide = ExactSquares()  # the largest |y - x|: full scale one way, then the other
    reps = 1 << 20
    y = np.array([32767, -32768, 3] * reps, np.int16)
    wide.add_difference(-1 - y, y)
    assert wide.total == reps * (2 * 65535**2 + 7**2)
    for size in (7, 65536):
        cut = ExactSquares()
        for start in range(0, len(y), size):
            cut.add_difference(-1 - y[start : start + size], y[start : start + size])
        assert cut.total == wide.total


def test_int16_signal_power_matches_the_float_meter() -> None:
    x = np.round(speech_like(50_000, 16000, 2) * 30000).astype(np.int16)
    exact, floating = SignalMeter(SampleFormat("int16", 16), 2), PowerMeter(2)
    exact.add(x)
    floating.add(x.astype(np.float64) / 32768)
    assert exact.mean == pytest.approx(floating.mean, rel=1e-12)
    assert exact.frames == len(x)


class _Unreadable:
    """A source whose length is known and whose samples must never be read."""

    frames = 48_000

    def blocks(self) -> Iterator[np.ndarray]:
        raise AssertionError("the input was read")


def test_level_on_pcm_of_known_length_needs_no_first_reading_pass() -> None:
    layout = Layout(SampleFormat("int16", 16), SampleFormat("int16", 16), 2, 48000, 48_000)
    opts = AudioOptions.from_values(level="-30dBFS")
    plan = analyse(_Unreadable(), White(), layout, opts, 1, file_key("a", 0))
    assert plan.signal_power is None
    # the gain comes from the exact power of the noise the seed produces
    x = np.zeros((48_000, 2), np.int16)
    y = noisecli.add_noise(x, "white", level="-30dBFS", sample_rate=48000, seed=1)
    assert rms_dbfs(y.astype(np.float64) / 32768) == pytest.approx(-30.0, abs=0.002)


def test_level_on_float_input_still_checks_for_nan() -> None:
    x = speech_like(8000, 16000, 1).astype(np.float32)
    x[100] = np.nan
    with pytest.raises(InputError, match="NaN"):
        noisecli.add_noise(x, "white", level="-30dBFS", sample_rate=16000, seed=1)


@pytest.mark.parametrize("chunk", [1000, 65536])
def test_noise_added_to_pcm16_is_measured_exactly(chunk: int) -> None:
    """The manifest's noise RMS is the RMS of (output - input), to the last bit."""
    x = np.round(speech_like(40_000, 16000, 2) * 32000).astype(np.int16)
    layout = Layout(SampleFormat("int16", 16), SampleFormat("int16", 16), 2, 16000, len(x))
    opts = AudioOptions.from_values(snr="-12")
    source = ArraySource(x, chunk)
    plan = analyse(source, White(), layout, opts, 5, file_key("a", 0))
    written: list[np.ndarray] = []
    stats = render(plan, source, written.append)
    y = np.concatenate(written)
    added = np.mean((y.astype(np.int64) - x) ** 2) / 32768**2
    assert stats.params["noise_rms_dbfs"] == round(10 * np.log10(added), 4)
    assert stats.clipped > 0  # noise 12 dB above loud speech clips
    assert stats.clipped == np.count_nonzero((y == 32767) | (y == -32768))


@pytest.mark.parametrize("mono", [False, True])
@pytest.mark.parametrize("level", [{"snr": "-12"}, {"level": "-20"}, {"snr": "30"}])
def test_fused_white_mix_gives_the_unfused_bytes_and_stats(
    mono: bool, level: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """White noise on 16-bit PCM is added in one fused pass; the bytes, the clipped count and
    every measured level are those of reading the stream and mixing in float32."""
    x = np.round(speech_like(70_001, 16000, 2) * 32000).astype(np.int16)
    layout = Layout(SampleFormat("int16", 16), SampleFormat("int16", 16), 2, 16000, len(x))
    opts = AudioOptions.from_values(**level)

    def run() -> tuple[bytes, dict[str, object]]:
        source = ArraySource(x, 4096)
        plan = analyse(source, White(mono=mono), layout, opts, 9, file_key("f.wav", 0))
        written: list[np.ndarray] = []
        stats = render(plan, source, written.append)
        return np.concatenate(written).tobytes(), {**stats.params, "clipped": stats.clipped}

    calls: list[int] = []
    real = ColourStream.add_into

    def counting(self: ColourStream, *args: object) -> int | None:
        result = real(self, *args)  # type: ignore[arg-type]
        calls.append(result is not None)
        return result

    monkeypatch.setattr(ColourStream, "add_into", counting)
    fused = run()
    assert calls and all(calls)  # the fused pass really ran
    monkeypatch.setattr(ColourStream, "add_into", lambda self, *args: None)
    assert run() == fused


@pytest.mark.parametrize(
    ("dtype", "options"),
    [
        ("int16", {"level": "-20"}),
        ("int16", {"snr": "-6", "on_clip": "scale"}),
        ("int32", {"snr": "3"}),
        ("float32", {"level": "-30"}),
    ],
)
@pytest.mark.parametrize("mono", [False, True])
def test_white_values_kept_from_the_power_pass_give_the_same_output(
    dtype: str, options: dict[str, str], mono: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short output keeps the normals its exact power pass made and mixes those; a long
    one makes them again. Both give the same bytes and the same measured levels."""
    x = speech_like(30_001, 16000, 2) * 0.8
    x = np.round(x * np.iinfo(dtype).max).astype(dtype) if dtype != "float32" else x.astype(dtype)
    fmt = array_format(x.dtype)
    layout = Layout(fmt, fmt, 2, 16000, len(x))
    opts = AudioOptions.from_values(**options)  # type: ignore[arg-type]

    def run() -> tuple[bool, bytes, dict[str, object]]:
        source = ArraySource(x, 5000)
        plan = analyse(source, White(mono=mono), layout, opts, 4, file_key("k.wav", 0))
        out = np.empty_like(x)
        stats = render(plan, source, out)
        return plan.kept is not None, out.tobytes(), stats.params

    kept, *short = run()
    assert kept == (dtype != "int32")  # 32-bit PCM mixes in float64 and measures as it reads
    monkeypatch.setattr(mix, "KEPT_VALUES", len(x) * 2 - 1)
    kept, *long = run()
    assert not kept
    assert long == short


def test_kept_values_are_read_only_and_only_white_keeps() -> None:
    white = ColourStream(0, 2, False, Stream.derive(1, b"w", "n"))
    plain = ColourStream(0, 2, False, Stream.derive(1, b"w", "n")).mean_power(5000)
    assert white.mean_power(5000, keep=True) == plain  # the same exact power
    kept = white.kept()
    assert kept is not None and kept.size == 10_000 and not kept.flags.writeable
    reused = ColourStream(0, 2, False, Stream.derive(1, b"w", "n"))
    reused.reuse(kept)
    fresh = ColourStream(0, 2, False, Stream.derive(1, b"w", "n"))
    for frames in (1, 3000, 1999, 1000):  # the last read runs past the kept values
        assert np.array_equal(reused.read(frames), fresh.read(frames))
    pink = ColourStream(-1, 2, False, Stream.derive(1, b"w", "n"))
    assert pink.mean_power(5000, keep=True) is None and pink.kept() is None


@pytest.mark.parametrize("noise", [White(), Pink()])
def test_render_into_an_array_writes_what_a_sink_function_gets(noise: object) -> None:
    """The fused path writes straight into the array; the unfused one copies: same bytes."""
    x = np.round(speech_like(50_001, 16000, 2) * 30000).astype(np.int16)
    layout = Layout(SampleFormat("int16", 16), SampleFormat("int16", 16), 2, 16000, len(x))
    opts = AudioOptions.from_values(level="-25")
    source = ArraySource(x, 7000)
    plan = analyse(source, noise, layout, opts, 3, file_key("r.wav", 0))  # type: ignore[arg-type]
    blocks: list[np.ndarray] = []
    by_function = render(plan, source, blocks.append)
    into = np.full_like(x, 12345)
    by_array = render(plan, source, into)
    assert np.concatenate(blocks).tobytes() == into.tobytes()
    assert by_function.params == by_array.params


# -- recipes: each step at its own level against the clean input --------------------------------

TWO_STEPS = """\
medium = "audio"
[[step]]
noise = "pink"
snr = 6
[[step]]
noise = "white"
level = "-42dBFS"
[[step]]
noise = "brown"
snr = 30
p = 0
"""


def _recipe_run(
    x: np.ndarray, recipe: noisecli.Recipe, chunk: int = 4096, **options: object
) -> tuple[np.ndarray, dict[str, object]]:
    fmt = array_format(x.dtype)
    layout = Layout(fmt, fmt, x.shape[1], 16000, len(x))
    opts = AudioOptions.from_values(**options)  # type: ignore[arg-type]
    source = ArraySource(x, chunk)
    plan = analyse(source, recipe, layout, opts, 11, file_key("speech/a.wav", 0))
    written: list[np.ndarray] = []
    stats = render(plan, source, written.append)
    return np.concatenate(written), stats.params


def test_each_step_is_scaled_against_the_clean_signal_exactly() -> None:
    recipe = noisecli.Recipe.from_toml(TWO_STEPS)
    x = speech_like(30_000, 16000, 2)
    y, params = _recipe_run(x, recipe, no_clip=True)
    steps = params["steps"]
    assert isinstance(steps, list) and [s["noise"] for s in steps] == ["pink", "white"]
    assert params["skipped"] == [2]
    assert steps[0]["snr_db"] == 6 and steps[0]["snr_reached_db"] == pytest.approx(6, abs=1e-4)
    assert steps[1]["level_dbfs"] == -42
    assert steps[1]["level_reached_dbfs"] == pytest.approx(-42, abs=1e-4)
    # the noise added is the sum of the two scaled streams: its power is theirs together
    ps = np.mean(x**2)
    pink, white = ps / 10**0.6, 10**-4.2
    added = np.mean((y - x) ** 2)
    assert added == pytest.approx(pink + white, rel=0.02)  # the streams are not orthogonal
    assert params["snr_reached_db"] == pytest.approx(10 * np.log10(ps / added), abs=1e-3)


def test_a_recipe_step_alone_equals_that_noise_alone() -> None:
    """One step applied at an SNR: the bytes of that noise at that SNR on the step's stream."""
    recipe = noisecli.Recipe.from_toml('[[step]]\nnoise = "pink"\nsnr = 6\n')
    x = np.round(speech_like(20_000, 16000, 1) * 30000).astype(np.int16)
    y, params = _recipe_run(x, recipe)
    assert isinstance(params["steps"], list) and len(params["steps"]) == 1
    assert snr_db(x / 32768, y / 32768) == pytest.approx(6, abs=0.01)
    assert not np.array_equal(y, noisecli.add_noise(x, "pink", snr=6, sample_rate=16000, seed=11))


@pytest.mark.parametrize("chunk", [777, 65536])
def test_recipe_bytes_do_not_depend_on_the_chunk(chunk: int) -> None:
    recipe = noisecli.Recipe.from_toml(TWO_STEPS)
    x = np.round(speech_like(50_000, 16000, 2) * 20000).astype(np.int16)
    base, params = _recipe_run(x, recipe, chunk=65536)
    again, again_params = _recipe_run(x, recipe, chunk=chunk)
    assert again.tobytes() == base.tobytes()
    assert again_params == params


def test_add_noise_takes_an_audio_recipe() -> None:
    recipe = noisecli.Recipe.from_toml(TWO_STEPS)
    x = speech_like(16000, 16000, 1).astype(np.float32)
    y = noisecli.add_noise(x, recipe, sample_rate=16000, seed=4)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert np.array_equal(y, noisecli.add_noise(x, recipe, sample_rate=16000, seed=4))
    assert not np.array_equal(y, noisecli.add_noise(x, recipe, sample_rate=16000, seed=5))
    with pytest.raises(UsageError, match="do not apply to a recipe"):
        noisecli.add_noise(x, recipe, snr=10, sample_rate=16000, seed=4)
    with pytest.raises(UsageError, match="audio recipe cannot noise image"):
        noisecli.add_noise(np.zeros((4, 4), np.uint8), recipe, seed=4)


def test_clipping_is_handled_on_the_sum() -> None:
    loud = noisecli.Recipe.from_toml(
        'medium = "audio"\n[[step]]\nnoise = "white"\nsnr = 0\n[[step]]\nnoise = "pink"\nsnr = 0\n'
    )
    x = speech_like(16000, 16000, 1) * 3.0
    with pytest.raises(ClippingError, match="would clip"):
        _recipe_run(x, loud, on_clip="error")
    y, params = _recipe_run(x, loud, on_clip="scale")
    assert np.abs(y).max() < 1.0 and 0 < params["scale"] < 1  # type: ignore[operator]
    unscaled, _ = _recipe_run(x, loud, no_clip=True)
    np.testing.assert_allclose(y / params["scale"], unscaled, rtol=0, atol=1e-8)  # type: ignore[operator]
    clipped, params = _recipe_run(x, loud)
    assert params["clipped_samples"] == np.count_nonzero(np.abs(clipped) >= 1.0) > 0


def test_a_silent_input_names_the_step_that_needs_an_snr() -> None:
    recipe = noisecli.Recipe.from_toml(TWO_STEPS)
    with pytest.raises(SilentInputError, match=r"step 0 \(pink\): an SNR is undefined"):
        _recipe_run(np.zeros((4000, 1)), recipe)
    quiet = noisecli.Recipe.from_toml('[[step]]\nnoise = "white"\nlevel = -40\n')
    y, _ = _recipe_run(np.zeros((4000, 1)), quiet)
    assert rms_dbfs(y) == pytest.approx(-40, abs=1e-6)


def test_level_only_recipe_on_pcm_reads_the_input_once() -> None:
    recipe = noisecli.Recipe.from_toml('[[step]]\nnoise = "white"\nlevel = -30\n')
    layout = Layout(SampleFormat("int16", 16), SampleFormat("int16", 16), 2, 48000, 48_000)
    plan = analyse(_Unreadable(), recipe, layout, AudioOptions(), 1, file_key("a", 0))
    assert plan.signal_power is None and len(plan.gains) == 1
    with pytest.raises(UsageError, match="each step of an audio recipe sets its own"):
        analyse(_Unreadable(), recipe, layout, AudioOptions.from_values(snr=10), 1, b"k" * 16)
