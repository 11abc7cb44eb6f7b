"""Hostile audio files among good ones, and SIGTERM/SIGINT with -j 2 during long files."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from noisecli.batch.atomic import TEMP_SUFFIX, is_temp_file
from tests.conftest import NOISECLI_EXE, run_among_hostile, tree_digest


def _noise(frames: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    return 0.2 * np.random.default_rng(seed).standard_normal((frames, channels))


@pytest.fixture
def hostile_audio(tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    root = tmp_path / "in"
    root.mkdir()
    sf.write(root / "good.wav", _noise(24000), 48000, "PCM_16")
    sf.write(root / "good.flac", _noise(24000, seed=1), 48000, "PCM_24")
    good = [
        "good.wav",
        "good.flac",
        "flac_named.wav",
        "with space é.wav",
        "new\nline.wav",
        "dir.wav/inside.wav",
        os.fsdecode(b"latin1_\xe9.wav"),
    ]
    (root / "flac_named.wav").write_bytes((root / "good.flac").read_bytes())
    for name in good[3:6]:
        (root / name).parent.mkdir(exist_ok=True)
        sf.write(root / name, _noise(4000, seed=2), 48000, "PCM_16")
    with open(os.fsencode(root) + b"/latin1_\xe9.wav", "wb") as fh:
        fh.write((root / "good.wav").read_bytes())
    wav, flac = (root / "good.wav").read_bytes(), (root / "good.flac").read_bytes()
    (root / "zero.wav").write_bytes(b"")
    (root / "truncated.wav").write_bytes(wav[: len(wav) // 2])
    (root / "truncated.flac").write_bytes(flac[: len(flac) // 2])
    (root / "text.wav").write_text("not audio\n")
    os.mkfifo(root / "x.wav")
    os.symlink(root / "missing.wav", root / "broken.wav")
    bad = {
        "zero.wav": "empty file",
        "truncated.wav": "truncated WAV",
        "truncated.flac": "cannot decode audio",
        "text.wav": "not a readable audio file",
        "x.wav": "not a regular file (FIFO)",
        "broken.wav": "broken symbolic link",
    }
    return root, bad, good


def test_hostile_audio_files_fail_alone(
    hostile_audio: tuple[Path, dict[str, str], list[str]], tmp_path: Path
) -> None:
    root, bad, good = hostile_audio
    out = tmp_path / "out"
    run_among_hostile("audio", root, out, bad, good)
    for name in good:
        info = sf.info(os.fsencode(out / name))
        assert info.samplerate == 48000 and info.channels == 2, name


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_long_files_with_two_workers(tmp_path: Path, sig: int, code: int) -> None:
    root = tmp_path / "in"
    root.mkdir()
    block = np.round(_noise(48000) * 32767).astype(np.int16)
    for i in range(4):
        with sf.SoundFile(root / f"long{i}.wav", "w", 48000, 2, "PCM_16") as fh:
            for k in range(60):
                fh.write(np.roll(block, 331 * (k + i), axis=0))
    args = ["audio", str(root), "--noise", "pink", "--seed", "6", "-j", "2", "-q"]
    whole = subprocess.run(
        [str(NOISECLI_EXE), *args, "-o", str(tmp_path / "whole")], capture_output=True
    )
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "out"
    proc = subprocess.Popen([str(NOISECLI_EXE), *args, "-o", str(out)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(p.name.endswith(TEMP_SUFFIX) for p in out.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline, "ended before the signal"
        time.sleep(0.01)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert not [p for p in out.rglob("*") if is_temp_file(p.name)]
    present = tree_digest(out)
    reference = tree_digest(tmp_path / "whole")
    assert len(present) < 4 and all(reference[k] == v for k, v in present.items())
    if not present:  # stopped before any file was whole: a run that wrote nothing has no manifest
        assert not (out / "metadata.csv").exists()
    else:
        with open(out / "metadata.csv", newline="") as fh:
            assert sorted(r["file_name"] for r in csv.DictReader(fh)) == sorted(present)
    resumed = subprocess.run(
        [str(NOISECLI_EXE), *args, "-o", str(out), "--skip-existing"], capture_output=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert tree_digest(out) == reference
