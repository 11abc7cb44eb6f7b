"""Contact sheets: grid geometry, labels, and PSNR/SNR numbers equal to `measure`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from click.testing import CliRunner

from noisecli.cli import main
from noisecli.look import canvas
from noisecli.look.levels import NoiseSpec
from noisecli.look.measure import format_db, load_audio, measure_files, snr_db
from noisecli.look.sheet import (
    SPECTROGRAM_HEIGHT,
    SheetRequest,
    audio_sheet,
    image_sheet,
    parse_crop,
)
from noisecli.look.spectrogram import AXIS_BOTTOM, AXIS_LEFT
from tests.conftest import read_image, run_exe, synthetic_image, write_image
from tests.look.test_levels import Speckled

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
    """A gliding harmonic tone with a syllable-like envelope, peak 0.25 (so that even 0 dB
    SNR of white noise, RMS ~0.1, stays far below full scale and never clips)."""
    t = np.arange(int(RATE * seconds)) / RATE
    pitch = 120 + 60 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    signal = voice * envelope
    return (0.25 * signal / np.abs(signal).max()).astype(np.float32)


PANEL_H = STRIP + SPECTROGRAM_HEIGHT + AXIS_BOTTOM


def test_audio_sheet_layout_and_snr_labels(tmp_path: Path) -> None:
    import noisecli

    clean = speech_like()[:, np.newaxis]
    sf.write(tmp_path / "speech.wav", clean, RATE, subtype="FLOAT")
    spec = NoiseSpec.from_values("audio", "white", {}, {"snr": "20,10,0"})
    sheet = audio_sheet(SheetRequest(str(tmp_path / "speech.wav"), spec, seed=3))
    g = canvas.GAP
    assert sheet.picture.shape[0] == TITLE + 4 * PANEL_H + 5 * g  # clean + 3 levels, stacked
    assert sheet.picture.shape[1] == AXIS_LEFT + 720 + 2 * g
    samples, _, _ = load_audio(str(tmp_path / "speech.wav"))  # float64, as the sheet reads it
    for tile, level in zip(sheet.tiles, (20, 10, 0), strict=True):
        noisy = noisecli.add_noise(samples, "white", snr=level, sample_rate=RATE, seed=3)
        assert tile.db == snr_db(samples, noisy)  # the label is the measured SNR
        assert abs(tile.db - level) < 1e-6  # the mix reaches the SNR exactly
    # the noisier the signal, the brighter the spectrogram's quiet parts
    means = [
        float(sheet.picture[TITLE + g + i * (PANEL_H + g) + STRIP :][:SPECTROGRAM_HEIGHT].mean())
        for i in range(4)
    ]
    assert means == sorted(means)


def test_audio_sheet_command_snr_and_level(tmp_path: Path) -> None:
    sf.write(tmp_path / "speech.wav", speech_like(), RATE, subtype="PCM_16")
    out = tmp_path / "snr.png"
    done = run_exe("sheet", str(tmp_path / "speech.wav"), "--snr", "20,10,0", "--seed", "1",
                   "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert [line.split("  ")[0] for line in lines] == ["snr=20", "snr=10", "snr=0"]
    for line, level in zip(lines, (20, 10, 0), strict=True):
        # PCM_16 input: exact SNR before the noisy float samples are measured (no rounding
        # to 16 bits in the sheet), so the label is the level to the printed 0.01 dB
        assert line == f"snr={level}  SNR {level:.2f} dB", line
    assert read_image(out).shape[0] == TITLE + 4 * PANEL_H + 5 * canvas.GAP
    levels = invoke("sheet", str(tmp_path / "speech.wav"), "--noise", "pink", "--level",
                    "-40dBFS:-20dBFS", "--steps", "3", "-o", str(out))  # fmt: skip
    assert levels.exit_code == 0, levels.output
    assert levels.output.splitlines()[:3] == [
        line for line in levels.output.splitlines()[:3] if line.startswith("level=-")
    ]
    assert [line.split("  ")[0] for line in levels.output.splitlines()[:3]] == [
        "level=-40dBFS",
        "level=-30dBFS",
        "level=-20dBFS",
    ]


def test_audio_sheet_usage_errors(tmp_path: Path) -> None:
    sf.write(tmp_path / "speech.wav", speech_like(0.5), RATE)
    src = write_image(tmp_path / "photo.png", synthetic_image(H, W, seed=3))
    cases = [
        ([str(tmp_path / "speech.wav"), "--snr", "10,x"], "--snr"),
        ([str(tmp_path / "speech.wav"), "--snr", "1,2", "--crop", "10x10"], "images only"),
        ([str(tmp_path / "speech.wav"), "--snr", "1,2", "--level", "-20,-10"], "one parameter"),
        ([str(src), "--std", "1,2", "--snr", "10"], "sound files only"),
        ([str(tmp_path / "speech.wav"), "--std", "1,2"], "does not apply"),
    ]
    for args, message in cases:
        result = invoke("sheet", *args, "-o", str(tmp_path / "x.png"))
        assert result.exit_code == 2 and message in result.output, (args, result.output)
