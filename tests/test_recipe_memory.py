"""Peak memory of an audio recipe run does not grow with the length of the file.

As ``tests/test_audio_memory.py`` for one noise: each run is its own process and reports its
peak resident set. The recipe has two steps (two streams, each measured and then summed), on
5 and 10 minutes of 48 kHz stereo PCM_16 (58 and 115 MB; 230 and 460 MB as float64).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_audio_memory import CHILD, MIB, _long_file

pytestmark = pytest.mark.slow

RECIPE = """\
medium = "audio"
[[step]]
noise = "pink"
snr = 10
[[step]]
noise = "white"
level = -50
"""


def _peak_kib(src: Path, out: Path, recipe: Path) -> int:
    args = ["audio", str(src), "-o", str(out), "--recipe", str(recipe), "--seed", "1", "-j", "1"]
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args, "-q"], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    (out / src.name).unlink()
    return int(proc.stdout.split()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_recipe_peak_memory_is_flat_in_file_length(tmp_path: Path) -> None:
    recipe = tmp_path / "two.toml"
    recipe.write_text(RECIPE)
    baseline = _peak_kib(_long_file(tmp_path / "short.wav", 1), tmp_path / "o1", recipe)
    five = _peak_kib(_long_file(tmp_path / "five.wav", 5 * 60), tmp_path / "o5", recipe)
    (tmp_path / "five.wav").unlink()
    ten = _peak_kib(_long_file(tmp_path / "ten.wav", 10 * 60), tmp_path / "o10", recipe)
    assert five - baseline < 32 * MIB, (baseline, five)
    assert ten - five < 4 * MIB, (five, ten)
