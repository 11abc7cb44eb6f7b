"""Background noise: file and offset per output, crossfaded loop, resampling, channels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from noisecli.audio.recordings import LoopReader, bind, find_noise_files
from noisecli.errors import UsageError
from noisecli.noise import Background
from noisecli.noise.base import MediaInfo
from noisecli.noise.stream import AudioNoise, NoiseStream
from noisecli.rng.keys import file_key, output_random
from tests.audio_support import write


def _info(rate: int, channels: int) -> MediaInfo:
    return MediaInfo("audio", "int16", (rate, channels), channels, -1.0, 1.0, 1.0, rate)


def _stream(noise: Background, rate: int, channels: int, key: int = 0) -> NoiseStream:
    rnd = output_random(5, file_key(f"x{key}.wav", 0))
    return AudioNoise.stream(noise.prepare(_info(rate, channels), rnd))


def _read(stream: NoiseStream, frames: int) -> np.ndarray:
    try:
        return stream.read(frames)
    finally:
        stream.close()


def _looped(s: np.ndarray, fade: int, start: int, frames: int) -> np.ndarray:
    """The loop written out by hand: crossfaded head, then the body, lap after lap."""
    period = len(s) - fade
    phi = (np.arange(fade) + 0.5) * np.pi / 2 / fade
    head = s[:fade] * np.sin(phi)[:, None] + s[period:] * np.cos(phi)[:, None]
    one_lap = np.concatenate([head, s[fade:period]])
    laps = -(-(start + frames) // period)
    return np.tile(one_lap, (laps, 1))[start : start + frames]


def test_loop_plays_the_file_and_crossfades_its_seam(tmp_path: Path) -> None:
    s = np.random.default_rng(0).standard_normal((5000, 1))
    path = write(tmp_path / "n.wav", s, 8000, "DOUBLE")
    loop = LoopReader(str(path), 5000, 1, 800, 1000)
    out = np.concatenate([loop.produce() for _ in range(3)])
    loop.close()
    np.testing.assert_allclose(out, _looped(s, 800, 1000, len(out)), atol=1e-15)


def test_a_long_recording_gives_a_plain_excerpt(tmp_path: Path) -> None:
    s = np.random.default_rng(3).standard_normal((3 * 8000, 2)) * 0.1
    path = write(tmp_path / "long.wav", s, 8000, "DOUBLE")
    for key in range(5):
        rnd = output_random(1, file_key(f"x{key}.wav", 0))
        prepared = bind(Background((str(path),))).prepare(_info(8000, 2), rnd)
        assert prepared.params["looped"] is False
        start = round(float(prepared.params["offset_s"]) * 8000)
        assert 400 <= start <= len(s) - 400 - 8000  # clear of the crossfaded seam
        np.testing.assert_array_equal(
            _read(AudioNoise.stream(prepared), 8000), s[start : start + 8000]
        )
    rnd = output_random(1, file_key("x.wav", 0))
    longer = MediaInfo("audio", "int16", (4 * 8000, 2), 2, -1.0, 1.0, 1.0, 8000)
    assert bind(Background((str(path),))).prepare(longer, rnd).params["looped"] is True


def test_crossfaded_loop_has_no_step_at_the_seam(tmp_path: Path) -> None:
    """A 100 Hz sine cut at 37.37 periods: the loop's steps stay those of a sine.

    The largest step of A·sin(2π f t) is A·2πf/fs; the equal-power crossfade of two
    phases of it is a sine of amplitude at most √2·A, so 1.5× bounds it. A hard loop of
    the same file jumps by ≈ A·|sin(0.37·2π) - 0| ≈ 0.73·A, 25 times more.
    """
    rate, f = 16000, 100.0
    t = np.arange(int(0.3737 * rate)) / rate
    s = 0.5 * np.sin(2 * np.pi * f * t)
    path = write(tmp_path / "sine.wav", s, rate, "DOUBLE")
    bound = 1.5 * 0.5 * 2 * np.pi * f / rate
    assert abs(s[-1] - s[0]) > 10 * bound  # a plain loop would step here
    out = _read(_stream(bind(Background((str(path),))), rate, 1), 4 * len(s))
    assert np.abs(np.diff(out[:, 0])).max() < bound


def test_resamples_a_noise_file_at_another_rate(tmp_path: Path) -> None:
    """A 1 kHz tone recorded at 22.05 kHz stays at 1 kHz at 16 kHz (not 726 Hz)."""
    t = np.arange(22050) / 22050
    path = write(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 1000 * t), 22050, "DOUBLE")
    out = _read(_stream(bind(Background((str(path),))), 16000, 1), 32000)[:, 0]
    spectrum = np.abs(np.fft.rfft(out[8000:24000] * np.hanning(16000)))
    assert np.argmax(spectrum) == 1000  # 1 Hz bins


def test_channels_are_matched_spread_or_downmixed(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    mono = write(tmp_path / "mono.wav", rng.standard_normal(4000) * 0.1, 8000, "DOUBLE")
    stereo_data = rng.standard_normal((4000, 2)) * 0.1
    stereo = write(tmp_path / "stereo.wav", stereo_data, 8000, "DOUBLE")
    three = write(tmp_path / "three.wav", rng.standard_normal((4000, 3)) * 0.1, 8000, "DOUBLE")

    spread = _read(_stream(bind(Background((str(mono),))), 8000, 2), 3000)
    assert np.array_equal(spread[:, 0], spread[:, 1])
    rnd = output_random(5, file_key("x0.wav", 0))
    prepared = bind(Background((str(stereo),))).prepare(_info(8000, 2), rnd)
    matched = _read(AudioNoise.stream(prepared), 3000)
    start = round(float(prepared.params["offset_s"]) * 8000)
    np.testing.assert_allclose(matched, _looped(stereo_data, 400, start, 3000), atol=1e-15)
    down = _read(_stream(bind(Background((str(three),))), 8000, 2), 3000)
    assert np.array_equal(down[:, 0], down[:, 1])
    forced = _read(_stream(bind(Background((str(stereo),), mono=True)), 8000, 2), 3000)
    assert np.array_equal(forced[:, 0], forced[:, 1])


def test_each_output_draws_its_own_file_and_offset(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    files = tuple(
        str(write(tmp_path / f"n{i}.wav", rng.standard_normal(16000) * 0.1, 16000))
        for i in range(3)
    )
    noise = bind(Background(files))
    drawn = []
    for key in range(20):
        rnd = output_random(7, file_key(f"x{key}.wav", 0))
        drawn.append(noise.prepare(_info(16000, 1), rnd).params)
    assert len({p["offset_s"] for p in drawn}) == 20
    assert {p["background"] for p in drawn} == set(files)
    rnd = output_random(7, file_key("x0.wav", 0))
    assert noise.prepare(_info(16000, 1), rnd).params == drawn[0]


def test_find_noise_files(tmp_path: Path) -> None:
    write(tmp_path / "b" / "2.flac", np.zeros(10), 8000)
    write(tmp_path / "a.wav", np.zeros(10), 8000)
    write(tmp_path / "b" / "1.wav", np.zeros(10), 8000)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".c.wav.1234abcd.noisecli-tmp").write_text("partial")
    found = find_noise_files(str(tmp_path), "--background")
    assert [Path(p).relative_to(tmp_path).as_posix() for p in found] == [
        "a.wav",
        "b/1.wav",
        "b/2.flac",
    ]
    assert find_noise_files(str(tmp_path / "a.wav"), "--background") == (str(tmp_path / "a.wav"),)
    with pytest.raises(UsageError, match="neither a file nor a directory"):
        find_noise_files(str(tmp_path / "missing"), "--background")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no audio file"):
        find_noise_files(str(tmp_path / "empty"), "--background")


def test_background_needs_its_files() -> None:
    with pytest.raises(UsageError, match="--background"):
        Background()


def test_the_cli_text_is_resolved_into_files(tmp_path: Path) -> None:
    write(tmp_path / "n.wav", np.zeros(10), 8000)
    given = Background.from_options({"background": str(tmp_path)})
    assert given.background == str(tmp_path)  # the model keeps the text: no I/O in noise/
    noise = bind(given)
    assert isinstance(noise, Background)
    assert noise.recordings.files == (str(tmp_path / "n.wav"),)
    assert sf.info(noise.recordings.files[0]).frames == 10


def test_an_unbound_background_is_a_clear_error(tmp_path: Path) -> None:
    noise = Background.from_options({"background": str(tmp_path)})
    with pytest.raises(UsageError, match="not bound"):
        noise.prepare(_info(8000, 1), output_random(0, b"x"))
