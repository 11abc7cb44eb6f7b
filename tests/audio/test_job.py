"""Audio files end to end (inline runs of `noisecli audio`): levels, formats, streaming,
clipping and bad input."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from noisecli.audio.job import noise_audio_file
from noisecli.audio.medium import AUDIO
from noisecli.batch import cancel
from noisecli.batch.plan import plan
from noisecli.config import RunConfig
from noisecli.noise import Pink
from tests.audio_support import (
    FORMATS,
    LOSSY,
    StopAfter,
    manifest,
    read,
    rms_dbfs,
    run,
    snr_db,
    speech_like,
    write,
)

RATE = 16000


def _background(root: Path) -> Path:
    """A folder of noise recordings: stereo at 22.05 kHz (resampled), a short mono one."""
    rng = np.random.default_rng(42)
    write(root / "street.flac", rng.standard_normal((30000, 2)) * 0.1, 22050)
    write(root / "hum" / "fan.wav", rng.standard_normal(5000) * 0.05, RATE)  # loops
    return root


def _one_input(tmp_path: Path, channels: int, subtype: str = "PCM_16", frames: int = 3 * RATE):
    src = write(tmp_path / "in" / "a.wav", speech_like(frames, RATE, channels), RATE, subtype)
    return tmp_path / "in", src


# SNR and level: the gain is computed from the powers of this very file and noise, so the
# only errors are rounding to 16 bits (noise power grows by at most q²/12 = 8e-11 of full
# scale², against ≥ 1e-4 here: < 4e-6 dB) and clipping (none at these levels).
@pytest.mark.parametrize("noise", ["white", "pink", "brown", "background"])
@pytest.mark.parametrize("channels", [1, 2])
def test_snr_is_reached_within_0_05_db(tmp_path: Path, noise: str, channels: int) -> None:
    indir, src = _one_input(tmp_path, channels)
    out = tmp_path / "out"
    args = ["audio", indir, "-o", out, "--snr", "10", "--seed", "1"]
    if noise == "background":
        args += ["--background", _background(tmp_path / "bg")]
    else:
        args += ["--noise", noise]
    result = run(*args)
    assert result.exit_code == 0, result.output
    error = snr_db(read(src), read(out / "a.wav")) - 10
    assert abs(error) < 0.05
    row = manifest(out)["a.wav"]
    assert row["snr_db"] == 10.0
    assert abs(row["snr_reached_db"] - 10) < 0.05
    assert row["clipped_samples"] == 0


@pytest.mark.parametrize("noise", ["white", "pink", "brown"])
@pytest.mark.parametrize(("channels", "subtype"), [(1, "PCM_16"), (2, "FLOAT")])
def test_level_is_reached_within_0_05_db(
    tmp_path: Path, noise: str, channels: int, subtype: str
) -> None:
    indir, src = _one_input(tmp_path, channels, subtype)
    out = tmp_path / "out"
    result = run("audio", indir, "-o", out, "--level", "-32dBFS", "--noise", noise, "--seed", "2")
    assert result.exit_code == 0, result.output
    assert abs(rms_dbfs(read(out / "a.wav") - read(src)) + 32) < 0.05
    assert manifest(out)["a.wav"]["level_dbfs"] == -32.0


@pytest.mark.parametrize(
    "noise", ["white", "pink", "brown", "blue", "violet", "background", "background-mono"]
)
def test_chunk_size_never_changes_a_byte(tmp_path: Path, noise: str) -> None:
    indir, _ = _one_input(tmp_path, 2)
    write(indir / "b.flac", speech_like(20000, 48000, 1, seed=3), 48000, "PCM_24")
    extra = ["--noise", noise]
    if noise.startswith("background"):
        extra = ["--background", _background(tmp_path / "bg")]
        extra += ["--mono"] if noise.endswith("mono") else []
    outputs = []
    for chunk in (1000, 65536):
        out = tmp_path / f"out{chunk}"
        result = run(
            "audio", indir, "-o", out, "--snr", "5:15", "--seed", "3", "--chunk", chunk, *extra
        )
        assert result.exit_code == 0, result.output
        outputs.append([(out / n).read_bytes() for n in ("a.wav", "b.flac")])
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(("ext", "container", "subtype"), FORMATS)
def test_every_format_keeps_container_subtype_rate_and_channels(
    tmp_path: Path, ext: str, container: str, subtype: str
) -> None:
    rate = 22050 if container == "MP3" else 44100
    src = write(tmp_path / "in" / f"a.{ext}", speech_like(rate, rate, 2), rate, subtype, container)
    out = tmp_path / "out"
    result = run("audio", tmp_path / "in", "-o", out, "--snr", "12", "--seed", "4")
    assert result.exit_code == 0, result.output
    a, b = sf.info(src), sf.info(out / f"a.{ext}")
    assert (b.format, b.subtype, b.samplerate, b.channels, b.frames) == (
        container,
        subtype,
        rate,
        2,
        a.frames,
    )
    if subtype not in LOSSY:  # exact only without a lossy codec
        assert abs(snr_db(read(src), read(out / f"a.{ext}")) - 12) < 0.05


@pytest.mark.parametrize(
    ("subtype", "fmt", "expected"),
    [
        ("FLOAT", "flac", ("a.flac", "FLAC", "PCM_24")),
        ("PCM_16", "ogg", ("a.ogg", "OGG", "VORBIS")),
        ("PCM_24", "aiff", ("a.aiff", "AIFF", "PCM_24")),
        ("PCM_16", "mp3", ("a.mp3", "MP3", "MPEG_LAYER_III")),
    ],
)
def test_format_converts(
    tmp_path: Path, subtype: str, fmt: str, expected: tuple[str, str, str]
) -> None:
    indir, _ = _one_input(tmp_path, 2, subtype)
    out = tmp_path / "out"
    assert run("audio", indir, "-o", out, "--format", fmt, "--seed", "1").exit_code == 0
    info = sf.info(out / expected[0])
    assert (info.format, info.subtype, info.samplerate, info.channels) == (
        expected[1],
        expected[2],
        RATE,
        2,
    )


def test_clipped_samples_are_counted_exactly(tmp_path: Path) -> None:
    """The same loud signal as PCM_16 and FLOAT gets the same gain and noise (same name,
    same seed); the float run with --no-clip shows which values went beyond full scale."""
    x = speech_like(2 * RATE, RATE, 2)
    loud = np.round(x / np.abs(x).max() * 0.95 * 32768) / 32768
    write(tmp_path / "pcm" / "a.wav", loud, RATE, "PCM_16")
    write(tmp_path / "float" / "a.wav", loud, RATE, "FLOAT")
    args = ["--snr", "0", "--seed", "5"]
    assert run("audio", tmp_path / "pcm", "-o", tmp_path / "o16", *args).exit_code == 0
    result = run("audio", tmp_path / "float", "-o", tmp_path / "of", *args)
    assert result.exit_code == 0
    assert (
        run("audio", tmp_path / "float", "-o", tmp_path / "raw", "--no-clip", *args).exit_code == 0
    )
    unclipped = read(tmp_path / "raw" / "a.wav")
    float_count = int(np.count_nonzero(np.abs(unclipped) > 1))
    assert float_count > 100
    assert manifest(tmp_path / "of")["a.wav"]["clipped_samples"] == float_count
    assert np.abs(read(tmp_path / "of" / "a.wav")).max() == 1.0
    assert manifest(tmp_path / "raw")["a.wav"]["clipped_samples"] == 0
    # PCM_16 counts values beyond [-32768, 32767] before rounding; the float file holds
    # them rounded to float32 (relative 6e-8, i.e. 0.002 of a step at full scale), which
    # can move a value across the limit only if it lies that close to it
    units = unclipped * 32768
    pcm_count = int(np.count_nonzero((units > 32767) | (units < -32768)))
    assert abs(manifest(tmp_path / "o16")["a.wav"]["clipped_samples"] - pcm_count) <= 2
    assert f"{float_count} values clipped in 1 file" in result.output


def test_on_clip_scale_leaves_nothing_clipped(tmp_path: Path) -> None:
    loud = speech_like(2 * RATE, RATE, 2) * 2.8
    src = write(tmp_path / "in" / "a.wav", loud, RATE, "PCM_16")
    out = tmp_path / "out"
    result = run(
        "audio", tmp_path / "in", "-o", out, "--snr", "3", "--on-clip", "scale", "--seed", "5"
    )
    assert result.exit_code == 0, result.output
    row = manifest(out)["a.wav"]
    assert row["clipped_samples"] == 0
    assert 0.5 < row["scale"] < 1.0
    noisy = read(out / "a.wav")
    assert abs(snr_db(read(src), noisy, scale=row["scale"]) - 3) < 0.05
    assert "clipped" not in result.output


def test_on_clip_error_fails_the_file_only(tmp_path: Path) -> None:
    write(tmp_path / "in" / "loud.wav", speech_like(RATE, RATE) * 3.0, RATE)
    write(tmp_path / "in" / "soft.wav", speech_like(RATE, RATE) * 0.1, RATE)
    out = tmp_path / "out"
    result = run(
        "audio", tmp_path / "in", "-o", out, "--snr", "3", "--on-clip", "error", "--seed", "5"
    )
    assert result.exit_code == 1
    assert "loud.wav: " in result.output and "would clip (--on-clip error)" in result.output
    assert not (out / "loud.wav").exists()
    assert (out / "soft.wav").exists()


def test_bad_inputs_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    indir = tmp_path / "in"
    write(indir / "good.wav", speech_like(RATE, RATE), RATE)
    write(indir / "silent.wav", np.zeros(RATE), RATE)
    nan = speech_like(RATE, RATE)
    nan[100] = np.nan
    write(indir / "nan.wav", nan, RATE, "FLOAT")
    inf = speech_like(RATE, RATE, 2)
    inf[5, 1] = np.inf
    write(indir / "inf.aiff", inf, RATE, "FLOAT", "AIFF")
    cut_wav = write(indir / "cut.wav", speech_like(RATE, RATE), RATE)
    cut_wav.write_bytes(cut_wav.read_bytes()[:20000])
    cut_flac = write(indir / "cut.flac", speech_like(RATE, RATE), RATE)
    cut_flac.write_bytes(cut_flac.read_bytes()[:15000])
    (indir / "junk.mp3").write_text("this is not audio")
    (indir / "empty.ogg").write_bytes(b"")
    out = tmp_path / "out"
    result = run("audio", indir, "-o", out, "--snr", "10", "--seed", "1")
    assert result.exit_code == 1
    reasons = {
        "silent.wav": "silent input",
        "nan.wav": "1 samples are NaN or infinite (the first at frame 100)",
        "inf.aiff": "1 samples are NaN or infinite (the first at frame 5)",
        "cut.wav": "truncated WAV file",
        "cut.flac": "",
        "junk.mp3": "not a readable audio file",
        "empty.ogg": "empty file",
    }
    for name, reason in reasons.items():
        assert f"{indir / name}: {reason}" in result.output, name
        assert not (out / name).exists()
    assert sorted(p.name for p in out.iterdir()) == ["good.wav", "metadata.csv"]
    assert "1 written, 0 skipped, 7 failed" in result.output
    # under --level the silent file is fine: the noise has an absolute level
    result = run("audio", indir / "silent.wav", "-o", out, "--level", "-30", "--seed", "1")
    assert result.exit_code == 0
    assert abs(rms_dbfs(read(out / "silent.wav")) + 30) < 0.05


def test_same_bytes_whatever_the_number_of_workers_in_a_mirrored_tree(tmp_path: Path) -> None:
    indir = tmp_path / "in"
    for i, name in enumerate(("f0.wav", "f1.wav", "sub/f2.wav")):
        write(indir / name, speech_like(RATE, RATE, 2, seed=i), RATE)
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        result = run(
            "audio", indir, "-o", out, "--noise", "pink", "--copies", "2", "--seed", "8", "-j", jobs
        )
        assert result.exit_code == 0, result.output
        outs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.wav")})
    assert sorted(outs[0]) == [
        "f0_n0.wav",
        "f0_n1.wav",
        "f1_n0.wav",
        "f1_n1.wav",
        "sub/f2_n0.wav",
        "sub/f2_n1.wav",
    ]
    assert outs[0] == outs[1]


def test_copies_draw_different_levels_files_and_offsets(tmp_path: Path) -> None:
    indir, _ = _one_input(tmp_path, 1)
    out = tmp_path / "out"
    bg = _background(tmp_path / "bg")
    result = run(
        "audio",
        indir,
        "-o",
        out,
        "--background",
        bg,
        "--snr",
        "0:20",
        "--copies",
        "6",
        "--seed",
        "9",
    )
    assert result.exit_code == 0, result.output
    rows = manifest(out)
    assert len(rows) == 6
    assert len({r["offset_s"] for r in rows.values()}) == 6
    assert len({r["snr_db"] for r in rows.values()}) == 6
    assert all(0 <= r["snr_db"] <= 20 for r in rows.values())
    assert {r["_row"]["noise"] for r in rows.values()} == {"background"}


def test_skip_existing_and_dry_run(tmp_path: Path) -> None:
    indir, _ = _one_input(tmp_path, 1)
    out = tmp_path / "out"
    assert run("audio", indir, "-o", out, "--seed", "1").exit_code == 0
    before = (out / "a.wav").read_bytes()
    result = run("audio", indir, "-o", out, "--seed", "2", "--skip-existing")
    assert "0 written, 1 skipped" in result.output
    assert (out / "a.wav").read_bytes() == before
    result = run("audio", indir, "-o", tmp_path / "dry", "--dry-run")
    assert f"{indir / 'a.wav'} -> {tmp_path / 'dry' / 'a.wav'}" in result.output
    assert not (tmp_path / "dry" / "a.wav").exists()


def test_a_stop_request_leaves_no_partial_file(tmp_path: Path) -> None:
    indir, _ = _one_input(tmp_path, 2, frames=10 * RATE)
    out = tmp_path / "out"
    cfg = RunConfig(inputs=(str(indir),), output=str(out), noise=Pink(), media="audio", chunk=1000)
    job = plan(cfg, AUDIO).jobs[0]

    # 160 blocks per pass: the stop comes during the write, then before anything starts
    for event in (StopAfter(200), threading.Event()):
        if isinstance(event, threading.Event):
            event.set()
        cancel.install(event)
        try:
            result = noise_audio_file(job, cfg)
        finally:
            cancel.install(None)
        assert result.status == "interrupted"
        assert not out.exists() or list(out.iterdir()) == []


def test_a_full_disk_stops_the_run_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from noisecli.audio.io import AudioWriter
    from noisecli.errors import DiskFullError

    for i in range(3):
        write(tmp_path / "in" / f"{i}.wav", speech_like(RATE, RATE), RATE)

    def full(self: AudioWriter, block: np.ndarray) -> None:
        raise DiskFullError("no space left on device while writing out")

    monkeypatch.setattr(AudioWriter, "write", full)
    out = tmp_path / "out"
    result = run("audio", tmp_path / "in", "-o", out, "--seed", "1")
    assert result.exit_code == 1
    assert "stopping: disk full" in result.output
    assert "0 written, 0 skipped, 1 failed" in result.output
    assert list(out.iterdir()) == []  # no temp file, and no manifest: nothing was written


def test_config_refuses_an_image_noise_for_audio(tmp_path: Path) -> None:
    from noisecli.errors import UsageError
    from noisecli.noise import Gaussian

    with pytest.raises(UsageError, match="does not apply to audio"):
        RunConfig(
            inputs=(str(tmp_path),), output=str(tmp_path / "o"), noise=Gaussian(), media="audio"
        )
