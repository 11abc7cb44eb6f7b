"""Peak memory of `noisecli audio` does not grow with the length of the file.

Each run is its own process and reports its peak resident set (``VmHWM``, which unlike
``ru_maxrss`` does not inherit the peak of the process that forked it). The files
are 20 and 40 minutes of 48 kHz stereo PCM_16 (230 and 460 MB; 920 and 1840 MB as float64,
which is what loading them whole would cost).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio_support import speech_like

pytestmark = pytest.mark.slow

RATE = 48000
MIB = 1024  # /proc reports KiB
CHILD = """
import sys
from noisecli.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
with open("/proc/self/status") as fh:  # VmHWM: this process's peak, not its parent's
    print(next(line.split()[1] for line in fh if line.startswith("VmHWM:")))
sys.exit(code)
"""


def _long_file(path: Path, seconds: int) -> Path:
    """Written a second at a time: the test itself never holds the file in memory."""
    second = np.round(speech_like(RATE, RATE, 2) * 32767).astype(np.int16)
    with sf.SoundFile(path, "w", RATE, 2, "PCM_16") as fh:
        for i in range(seconds):
            fh.write(np.roll(second, i * 997, axis=0))
    return path


def _peak_kib(src: Path, out: Path) -> int:
    args = ["audio", str(src), "-o", str(out), "--snr", "10", "--seed", "1", "-j", "1", "-q"]
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    (out / src.name).unlink()  # keep the disk use of the test down
    return int(proc.stdout.split()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_peak_memory_is_flat_in_file_length(tmp_path: Path) -> None:
    baseline = _peak_kib(_long_file(tmp_path / "short.wav", 1), tmp_path / "o1")
    twenty = _peak_kib(_long_file(tmp_path / "twenty.wav", 20 * 60), tmp_path / "o20")
    (tmp_path / "twenty.wav").unlink()
    forty = _peak_kib(_long_file(tmp_path / "forty.wav", 40 * 60), tmp_path / "o40")
    # the budget over a 1-second run: a few float64 blocks of 65536 frames (1 MiB each);
    # measured +4.6 MiB for 20 minutes
    assert twenty - baseline < 32 * MIB, (baseline, twenty)
    # twice as long, not more memory: allocator noise only (measured +0.7 MiB)
    assert forty - twenty < 4 * MIB, (twenty, forty)
