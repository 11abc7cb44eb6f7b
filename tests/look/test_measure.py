"""`measure`: PSNR, σ and clipping of images; SNR, noise RMS and clipping of audio."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import noisecli
from noisecli.audio.io import sample_format
from noisecli.cli import main
from noisecli.errors import UsageError
from noisecli.look.measure import (
    format_db,
    measure_audio,
    measure_files,
    measure_images,
    psnr,
    snr_db,
)
from tests.conftest import run_exe, write_image

RATE = 16000


def grey(shape: tuple[int, ...], value: int = 128, dtype: str = "uint8") -> np.ndarray:
    return np.full(shape, value, dtype)


def test_sigma_10_gaussian_gives_28_1_db() -> None:
    clean = grey((512, 512, 3))
    noisy = noisecli.add_noise(clean, "gaussian", std=10, seed=5)
    result = measure_images(clean, noisy)
    # MSE = σ² + 1/12 (rounding) → PSNR = 20·log10(255) − 10·log10(100.083) = 28.127 dB.
    # n = 786,432 values: SE(MSE) = sqrt(2σ⁴/n) = 0.16, i.e. 0.0016 relative or 0.0069 dB;
    # 5 standard errors are 0.035 dB. σ's SE is σ/sqrt(2n) = 0.008; 5 of them are 0.04.
    expected = 20 * math.log10(255) - 10 * math.log10(100 + 1 / 12)
    assert abs(result.psnr_db - expected) < 0.035
    assert format_db(result.psnr_db) == f"{result.psnr_db:.2f} dB"
    assert format_db(result.psnr_db).startswith("28.1")  # the ≈ 28.1 dB users are told
    assert abs(result.noise_std - math.sqrt(100 + 1 / 12)) < 0.04
    assert abs(result.noise_mean) < 5 * 10 / math.sqrt(clean.size)
    assert result.clipped == 0 and result.values == clean.size


def test_psnr_exact_values_per_dtype() -> None:
    clean = grey((10, 10, 3), 0)
    assert psnr(clean, clean + 1) == pytest.approx(20 * math.log10(255))
    c16 = grey((10, 10), 1000, "uint16")
    assert psnr(c16, c16 + 1) == pytest.approx(20 * math.log10(65535))
    cf = np.zeros((4, 4), np.float32)
    assert psnr(cf, cf + np.float32(0.1)) == pytest.approx(20.0, abs=1e-5)
    assert psnr(clean, clean) == math.inf
    assert format_db(math.inf) == "inf dB"


def test_alpha_is_ignored_and_sigma_is_in_8_bit_levels() -> None:
    clean = grey((8, 8, 4), 100)
    noisy = clean.copy()
    noisy[:, :, 3] = 0  # alpha changed only
    assert psnr(clean, noisy) == math.inf
    c16 = grey((8, 8), 30000, "uint16")
    n16 = c16.copy()
    n16[::2] += 257 * 4
    n16[1::2] -= 257 * 4
    assert measure_images(c16, n16).noise_std == pytest.approx(4.0)


def test_clipped_values_are_those_at_a_limit_only_in_the_noisy_image() -> None:
    clean = grey((10, 10), 250)
    clean[0, 0] = 255  # already at the limit: not clipped by the noise
    noisy = clean.copy()
    noisy[:3] = 255
    noisy[9, :5] = 0
    result = measure_images(clean, noisy)
    assert result.clipped == 29 + 5
    assert result.clipped_fraction == pytest.approx(0.34)


def test_mismatched_images_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="shape"):
        psnr(grey((4, 4)), grey((4, 5)))
    with pytest.raises(UsageError, match="sample type"):
        psnr(grey((4, 4)), grey((4, 4), dtype="uint16"))


def tone_and_noise(seconds: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A 500 Hz sine of amplitude 0.5 (power 0.125 over whole periods) and ±0.05 noise
    (power 0.0025 exactly): SNR = 10·log10(50) = 16.99 dB, noise RMS = 20·log10(0.05)."""
    t = np.arange(int(RATE * seconds)) / RATE
    clean = (0.5 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)
    noise = np.where(np.arange(t.size) % 2 == 0, 0.05, -0.05).astype(np.float32)
    return clean[:, np.newaxis], noise[:, np.newaxis]


def test_audio_snr_and_noise_rms_of_a_known_pair() -> None:
    clean, noise = tone_and_noise()
    result = measure_audio(clean, clean + noise)
    assert result.snr_db == pytest.approx(10 * math.log10(50), abs=1e-4)
    assert result.noise_rms_dbfs == pytest.approx(20 * math.log10(0.05), abs=1e-4)
    assert result.clipped == 0 and result.samples == clean.size
    assert snr_db(clean, clean) == math.inf


def test_audio_files_pcm16_count_saturated_samples(tmp_path: Path) -> None:
    clean, _ = tone_and_noise()
    loud = clean * 1.9  # peaks at 0.95
    noisy = loud + 0.2  # soundfile saturates what exceeds full scale when writing PCM_16
    sf.write(tmp_path / "clean.wav", loud, RATE, subtype="PCM_16")
    sf.write(tmp_path / "noisy.wav", noisy, RATE, subtype="PCM_16")
    lo, hi = sample_format("PCM_16").limits()
    assert (lo, hi) == (-1.0, 32767 / 32768)
    expected = int(np.count_nonzero(noisy >= hi))
    assert expected > 0
    result = measure_files(str(tmp_path / "clean.wav"), str(tmp_path / "noisy.wav"))
    assert result.kind == "audio" and result.clipped == expected


def test_measure_command_text_and_json(tmp_path: Path) -> None:
    clean = grey((256, 256, 3))
    write_image(tmp_path / "clean.png", clean)
    write_image(tmp_path / "noisy.png", noisecli.add_noise(clean, std=10, seed=1))
    runner = CliRunner()
    text = runner.invoke(
        main, ["measure", str(tmp_path / "clean.png"), str(tmp_path / "noisy.png")]
    )
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0].startswith("PSNR: 28.1") and lines[0].endswith(" dB")
    assert lines[1].startswith("noise sigma: 10.0") and "8-bit levels" in lines[1]
    assert lines[2].startswith("clipped: 0.0000% (0 of 196608 values)")
    done = run_exe("measure", "--json", str(tmp_path / "clean.png"), str(tmp_path / "noisy.png"))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["kind"] == "image" and f"PSNR: {data['psnr_db']:.2f} dB" == lines[0]
    assert data["clipped_fraction"] == 0.0 and data["values"] == 196608


def test_measure_command_audio_json_and_errors(tmp_path: Path) -> None:
    clean, noise = tone_and_noise()
    sf.write(tmp_path / "clean.flac", clean, RATE, subtype="PCM_24")
    sf.write(tmp_path / "same.flac", clean, RATE, subtype="PCM_24")
    sf.write(tmp_path / "noisy.wav", clean + noise, RATE, subtype="FLOAT")
    runner = CliRunner()
    same = runner.invoke(
        main, ["measure", "--json", str(tmp_path / "clean.flac"), str(tmp_path / "same.flac")]
    )
    assert json.loads(same.output)["snr_db"] is None  # identical: infinite SNR
    text = runner.invoke(
        main, ["measure", str(tmp_path / "clean.flac"), str(tmp_path / "noisy.wav")]
    )
    assert text.exit_code == 0 and text.output.startswith("SNR: 16.9")
    assert "noise RMS: -26.0" in text.output and "clipped samples: 0 of 16000" in text.output
    sf.write(tmp_path / "other.wav", clean, 8000)
    mismatch = runner.invoke(
        main, ["measure", str(tmp_path / "clean.flac"), str(tmp_path / "other.wav")]
    )
    assert mismatch.exit_code == 2 and "sample rate" in mismatch.output
    mixed = runner.invoke(main, ["measure", str(tmp_path / "clean.flac"), "x.png"])
    assert mixed.exit_code == 2
    unknown = runner.invoke(main, ["measure", "notes.txt", "other.txt"])
    assert unknown.exit_code == 2 and "not an image or sound file" in unknown.output
    (tmp_path / "bad.wav").write_bytes(b"not a sound")
    bad = runner.invoke(main, ["measure", str(tmp_path / "clean.flac"), str(tmp_path / "bad.wav")])
    assert bad.exit_code == 1 and "bad.wav" in bad.output and "Traceback" not in bad.output
