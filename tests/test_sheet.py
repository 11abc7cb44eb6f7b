"""Contact sheets: grid geometry, labels, and PSNR/SNR numbers equal to `measure`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from noisecli import canvas
from noisecli.cli import main
from noisecli.config import Level
from noisecli.levels import NoiseSpec
from noisecli.measure import format_db, measure_files, snr_db
from noisecli.noise import noise_names
from noisecli.noise.base import MediaInfo, Noise, Param, Prepared, level_param
from noisecli.sheet import SPECTROGRAM_HEIGHT, SheetRequest, audio_sheet, image_sheet, parse_crop
from noisecli.spectrogram import AXIS_BOTTOM, AXIS_LEFT
from tests.conftest import read_image, run_exe, synthetic_image, write_image
from tests.test_levels import Speckled

H, W = 120, 160
STRIP = 2 * canvas.LINE + 4
TITLE = canvas.LINE + 4
RATE = 16000


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def tile_at(sheet: np.ndarray, index: int, columns: int, cell: tuple[int, int]) -> np.ndarray:
    top, left = canvas.cell_origin(index, columns, *cell)
    return sheet[TITLE + top : TITLE + top + cell[0], left : left + cell[1]]


def test_sheet_psnrs_match_measure_of_the_batch_outputs(tmp_path: Path) -> None:
    src = write_image(tmp_path / "photo.png", synthetic_image(H, W, seed=2))
    levels = ["0", "10", "25", "50"]
    result = invoke("sheet", str(src), "--std", ",".join(levels), "--seed", "4", "-o",
                    str(tmp_path / "levels.png"))  # fmt: skip
    assert result.exit_code == 0, result.output
    sheet = read_image(tmp_path / "levels.png")
    g = canvas.GAP
    assert sheet.shape == (TITLE + H + STRIP + 2 * g, 4 * W + 5 * g, 3)
    for i, level in enumerate(levels):
        out = tmp_path / f"std{level}"
        done = invoke("image", str(src), "-o", str(out), "--std", level, "--seed", "4", "-q")
        assert done.exit_code == 0, done.output
        measured = measure_files(str(src), str(out / "photo.png"))
        measure_text = invoke("measure", str(src), str(out / "photo.png")).output.splitlines()[0]
        assert measure_text == f"PSNR: {format_db(measured.psnr_db)}"  # type: ignore[union-attr]
        label = ["std=" + level, "PSNR " + format_db(measured.psnr_db)]  # type: ignore[union-attr]
        assert f"std={level}  PSNR {format_db(measured.psnr_db)}" in result.output  # type: ignore[union-attr]
        tile = tile_at(sheet, i, 4, (H + STRIP, W))
        assert np.array_equal(tile[:H], read_image(out / "photo.png"))  # the batch's bytes
        assert np.array_equal(tile[H:], canvas.label_strip(label, W))  # its label, drawn
    assert "PSNR inf dB" in result.output  # std=0 leaves the image as it was


def test_crop_columns_and_range_expansion(tmp_path: Path) -> None:
    src = write_image(tmp_path / "photo.png", synthetic_image(H, W, seed=3))
    out = tmp_path / "sheet.png"
    done = run_exe("sheet", str(src), "--std", "0:50", "--steps", "6", "--crop", "60x40+10+20",
                   "--seed", "1", "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().count("PSNR") == 6
    sheet = read_image(out)
    g = canvas.GAP
    assert sheet.shape == (TITLE + 2 * (40 + STRIP) + 3 * g, 3 * 60 + 4 * g, 3)  # 3 x 2 tiles
    assert (sheet[:TITLE] == 235).any()  # a title is written
    full = tmp_path / "full"
    invoke("image", str(src), "-o", str(full), "--std", "30", "--seed", "1", "-q")
    tile = tile_at(sheet, 3, 3, (40 + STRIP, 60))  # 0, 10, 20, 30, 40, 50
    assert np.array_equal(tile[:40], read_image(full / "photo.png")[20:60, 10:70])
    one_row = invoke("sheet", str(src), "--std", "1,2", "--columns", "1", "-o", str(out))
    assert one_row.exit_code == 0 and read_image(out).shape[1] == W + 2 * g


def test_sheet_usage_errors(tmp_path: Path) -> None:
    src = write_image(tmp_path / "photo.png", synthetic_image(H, W, seed=3))
    cases = [
        (["--std", "10"], "give the levels"),
        (["--std", "1,2", "--crop", "500x10"], "outside"),
        (["--std", "1,2", "--crop", "big"], "WxH"),
        (["--std", "1,2", "--noise", "nope"], "unknown noise"),
    ]
    for extra, message in cases:
        result = invoke("sheet", str(src), *extra, "-o", str(tmp_path / "x.png"))
        assert result.exit_code == 2 and message in result.output, (extra, result.output)
    wrong = invoke("sheet", str(src), "--std", "1,2", "-o", str(tmp_path / "x.jpg"))
    assert wrong.exit_code == 2 and ".png" in wrong.output
    assert not (tmp_path / "x.png").exists()
    assert parse_crop("20x10", 100, 200) == (slice(45, 55), slice(90, 110))


def test_severity_sweep_of_any_noise(tmp_path: Path) -> None:
    src = str(write_image(tmp_path / "photo.png", synthetic_image(40, 50, seed=3)))
    spec = NoiseSpec(Speckled, {"severity": "1:3"})
    sheet = image_sheet(SheetRequest(src, spec, seed=0, steps=3))
    assert sheet.param == "severity" and [t.value for t in sheet.tiles] == ["1", "2", "3"]
    assert sheet.lines()[0].startswith("severity=1  PSNR ")


def speech_like(seconds: float = 2.0) -> np.ndarray:
    """A gliding harmonic tone with a syllable-like envelope, peak about 0.5."""
    t = np.arange(int(RATE * seconds)) / RATE
    pitch = 120 + 60 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    signal = voice * envelope
    return (0.5 * signal / np.abs(signal).max()).astype(np.float32)


@dataclass(frozen=True)
class WhiteAtSnr(Noise):
    """Test double of an audio noise: white Gaussian noise at ``snr`` dB below the signal."""

    name: ClassVar[str] = "white"
    media: ClassVar[tuple[str, ...]] = ("audio",)  # type: ignore[assignment]
    cli_params: ClassVar[tuple[Param, ...]] = (level_param("snr", "dB", minimum=-100),)
    snr: Level = Level.fixed(10.0)

    def prepare(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        return Prepared({"snr": self.snr.lo})

    def apply(
        self, chunk: np.ndarray, rng: np.random.Generator, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        return chunk


def documented_add_noise(
    samples: np.ndarray, noise: str, *, seed: int, sample_rate: int, snr: str
) -> np.ndarray:
    """Stand-in for the audio ``add_noise(samples, "white", snr=10, sample_rate=, seed=)``."""
    assert noise == "white" and sample_rate == RATE
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    rng = np.random.default_rng(seed)
    noise_rms = rms / 10 ** (float(snr) / 20)
    return (samples + rng.standard_normal(samples.shape) * noise_rms).astype(np.float32)


def test_audio_sheet_layout_and_snr_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import noisecli.engine

    monkeypatch.setattr(noisecli.engine, "add_noise", documented_add_noise)
    clean = speech_like()[:, np.newaxis]
    sf.write(tmp_path / "speech.wav", clean, RATE, subtype="FLOAT")
    spec = NoiseSpec(WhiteAtSnr, {"snr": "20,10,0"})
    sheet = audio_sheet(SheetRequest(str(tmp_path / "speech.wav"), spec, seed=3))
    panel_h = STRIP + SPECTROGRAM_HEIGHT + AXIS_BOTTOM
    g = canvas.GAP
    assert sheet.picture.shape[0] == TITLE + 4 * panel_h + 5 * g  # clean + 3 levels, stacked
    assert sheet.picture.shape[1] == AXIS_LEFT + 720 + 2 * g
    for tile, level in zip(sheet.tiles, (20, 10, 0), strict=True):
        noisy = documented_add_noise(clean, "white", seed=3, sample_rate=RATE, snr=str(level))
        assert tile.db == snr_db(clean, noisy)  # the label is the measured SNR
        assert abs(tile.db - level) < 0.2  # 32,000 samples: SE of the noise power ~0.03 dB
    # the noisier the signal, the brighter the spectrogram's quiet parts
    means = [
        float(sheet.picture[TITLE + g + i * (panel_h + g) + STRIP :][:SPECTROGRAM_HEIGHT].mean())
        for i in range(4)
    ]
    assert means == sorted(means)


@pytest.mark.xfail(
    not noise_names("audio"),
    reason="waiting for the audio noises (white, pink, ... and add_noise(sample_rate=...))",
    strict=True,
)
def test_audio_sheet_command_with_the_audio_noises(tmp_path: Path) -> None:
    sf.write(tmp_path / "speech.wav", speech_like(), RATE, subtype="FLOAT")
    out = tmp_path / "snr.png"
    done = run_exe("sheet", str(tmp_path / "speech.wav"), "--snr", "20,10,0", "--seed", "1",
                   "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 3
    for line, level in zip(lines, (20, 10, 0), strict=True):
        assert line.startswith(f"snr={level}  SNR ")
        # the measured SNR of 32,000 noisy samples is within 0.2 dB of the request (SE 0.03)
        assert abs(float(line.split("SNR ")[1].split(" dB")[0]) - level) < 0.2
    panel_h = STRIP + SPECTROGRAM_HEIGHT + AXIS_BOTTOM
    assert read_image(out).shape[0] == TITLE + 4 * panel_h + 5 * canvas.GAP
