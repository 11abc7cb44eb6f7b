"""`noisecli audio` gives the same bytes on a rerun."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import soundfile as sf

from tests.audio_support import run, speech_like, write

RATE = 44100


@pytest.mark.parametrize(("container", "ext"), [("WAV", "wav"), ("AIFF", "aiff")])
def test_float_outputs_are_identical_on_a_rerun(tmp_path: Path, container: str, ext: str) -> None:
    src = write(tmp_path / f"in/take.{ext}", speech_like(RATE, RATE, 2), RATE, "FLOAT", container)
    outputs = []
    for n in range(2):
        if n:
            time.sleep(1.1)  # libsndfile's PEAK chunk would hold another second
        out = tmp_path / f"out{n}"
        result = run("audio", src, "-o", out, "--seed", "7", "--snr", "10", "-q")
        assert result.exit_code == 0, result.output
        outputs.append((out / f"take.{ext}").read_bytes())
        assert sf.info(out / f"take.{ext}").subtype == "FLOAT"
    assert outputs[0] == outputs[1]
