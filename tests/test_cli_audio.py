"""`noisecli audio` on the command line: help, usage errors, the installed executable,
and no OpenCV import anywhere in an audio run."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from noisecli.noise import NOISES, Noise
from tests.audio_support import manifest, read, run, snr_db, speech_like, write


def test_help_shows_the_examples_and_the_snr_definition() -> None:
    result = run("audio", "--help")
    assert result.exit_code == 0
    for text in (
        "noisecli audio speech/ -o noisy/ --snr 10 --seed 1",
        "--background noises/ --snr 0:20",
        "10·log10(signal power / noise power)",
        "--on-clip [clip|scale|error]",
        "frames per processing block",
        "default: 65536",
    ):
        assert text in result.output, text


def test_noises_lists_the_audio_colours() -> None:
    result = run("noises")
    for name in ("white (audio)", "pink (audio)", "brown (audio)", "blue (audio)"):
        assert name in result.output
    assert "violet (audio)" in result.output and "background (audio)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--snr", "10", "--level", "-30"], "--snr and --level exclude each other"),
        (["--level", "+3dBFS"], "above the maximum 0"),
        (["--snr", "loud"], "is not a number"),
        (["--snr", "10%"], "percentages are not accepted"),
        (["--noise", "gaussian"], "does not apply to audio"),
        (["--noise", "pink", "--background", "."], "--background does not apply to noise 'pink'"),
        (["--noise", "background"], "needs --background"),
        (["--format", "png"], "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path / "a.wav", speech_like(800, 8000), 8000)
    result = run("audio", tmp_path / "a.wav", "-o", tmp_path / "out", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_stdin_is_refused_for_audio(tmp_path: Path) -> None:
    result = run("audio", "-", "-o", "-")
    assert result.exit_code == 2
    assert "'-' is not supported" in result.output


def test_installed_executable(tmp_path: Path) -> None:
    src = write(tmp_path / "in" / "talk.flac", speech_like(16000, 16000, 2), 16000, "PCM_24")
    out = tmp_path / "out"
    args = ["audio", str(tmp_path / "in"), "-o", str(out), "--noise", "brown", "--snr", "6"]
    proc = subprocess.run(
        [sys.executable, "-m", "noisecli", *args, "--seed", "3", "-j", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 written, 0 skipped, 0 failed" in proc.stderr
    assert sf.info(out / "talk.flac").subtype == "PCM_24"
    assert abs(snr_db(read(src), read(out / "talk.flac")) - 6) < 0.05
    assert manifest(out)["talk.flac"]["_row"]["noise"] == "brown"


SPY = """
import importlib.abc, os, sys
marker = sys.argv[1]

class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "cv2" or name.startswith("cv2."):
            with open(marker, "a") as fh:
                fh.write(f"{os.getpid()} {name}\\n")
        return None

sys.meta_path.insert(0, Spy())
from noisecli.cli import main
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
assert "cv2" not in sys.modules, "cv2 imported in the main process"
sys.exit(code)
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_audio_never_imports_opencv(tmp_path: Path, jobs: str) -> None:
    """Spies on imports in the main process and, through fork, in every worker."""
    for i in range(3):
        write(tmp_path / "in" / f"{i}.wav", speech_like(8000, 8000), 8000)
    marker = tmp_path / "cv2-imported"
    args = ["audio", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", jobs, "--seed", "1"]
    proc = subprocess.run(
        [sys.executable, "-c", SPY, str(marker), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "3 written" in proc.stderr
    assert not marker.exists(), marker.read_text()


def test_the_spy_sees_an_image_run(tmp_path: Path) -> None:
    """The spy above can fail: an image run does import OpenCV."""
    png = tmp_path / "in" / "a.png"
    png.parent.mkdir()
    png.write_bytes(_tiny_png(np.zeros((4, 4), np.uint8)))
    marker = tmp_path / "cv2-imported"
    args = ["image", str(png.parent), "-o", str(tmp_path / "out"), "-j", "1"]
    proc = subprocess.run(
        [sys.executable, "-c", SPY, str(marker), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0  # the spy's own check fails: cv2 is loaded
    assert marker.exists()


def _tiny_png(array: object) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", array)
    assert ok
    return bytes(buf.tobytes())


AUDIO_NOISES = [cls for cls in NOISES if "audio" in cls.media]


@pytest.mark.parametrize("cls", AUDIO_NOISES, ids=lambda c: c.name)
def test_every_audio_noise_runs_with_its_listed_example(
    cls: type[Noise], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = run("noises").output
    prefix = f"  example: noisecli audio in/ -o out/ --noise {cls.name} "
    lines = [line[len(prefix) :] for line in listing.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, cls.name
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "in" / "a.wav", speech_like(16000, 16000, 2), 16000)
    write(tmp_path / "noises" / "hum.wav", speech_like(4000, 8000, 1, seed=5), 8000)
    result = run("audio", "in/", "-o", "out/", "--noise", cls.name, *shlex.split(lines[0]))
    assert result.exit_code == 0, result.output
    row = manifest(tmp_path / "out")["a.wav"]
    assert row["_row"]["noise"] == cls.name
    assert not np.array_equal(read(tmp_path / "out" / "a.wav"), read(tmp_path / "in" / "a.wav"))


@pytest.mark.slow
def test_ctrl_c_during_a_long_file_leaves_whole_files_and_resumes(tmp_path: Path) -> None:
    """SIGINT while the long file is being written: its temp file goes, exit 130, and a
    --skip-existing rerun gives the bytes of an uninterrupted run."""
    import signal
    import time

    from noisecli.batch.atomic import TEMP_SUFFIX

    rate = 48000
    write(tmp_path / "in" / "a_short.wav", speech_like(rate, rate, 2), rate)
    second = np.round(speech_like(rate, rate, 2) * 32767).astype(np.int16)
    with sf.SoundFile(tmp_path / "in" / "b_long.wav", "w", rate, 2, "PCM_16") as fh:
        for i in range(240):
            fh.write(np.roll(second, 997 * i, axis=0))
    out = tmp_path / "out"
    args = ["audio", str(tmp_path / "in"), "--noise", "brown", "--seed", "2", "-j", "1", "-q"]
    exe = [sys.executable, "-m", "noisecli", *args]
    proc = subprocess.Popen([*exe, "-o", str(out)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".b_long") for p in out.glob(f"*{TEMP_SUFFIX}")):
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "the long file was never written"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert sorted(p.name for p in out.iterdir()) == ["a_short.wav", "metadata.csv"]
    assert list(manifest(out)) == ["a_short.wav"]

    resumed = subprocess.run([*exe, "-o", str(out), "--skip-existing"], capture_output=True)
    assert resumed.returncode == 0, resumed.stderr.decode()
    whole = subprocess.run([*exe, "-o", str(tmp_path / "whole")], capture_output=True)
    assert whole.returncode == 0
    for name in ("a_short.wav", "b_long.wav"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
