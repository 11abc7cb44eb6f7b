"""`noisecli audio` gives the same bytes on a rerun and whatever --chunk, in every container."""

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


@pytest.mark.parametrize(
    ("container", "subtype", "ext"),
    [("OGG", "VORBIS", "ogg"), ("MP3", "MPEG_LAYER_III", "mp3")],
)
def test_lossy_outputs_do_not_depend_on_the_chunk_size(
    tmp_path: Path, container: str, subtype: str, ext: str
) -> None:
    if container not in sf.available_formats() or not sf.check_format(container, subtype):
        pytest.skip(f"this libsndfile does not write {container}/{subtype}")
    src = write(
        tmp_path / f"in/take.{ext}", speech_like(3 * RATE, RATE, 2), RATE, subtype, container
    )
    outputs = set()
    for chunk in (1000, 4096, 65536):
        out = tmp_path / f"out{chunk}"
        result = run("audio", src, "-o", out, "--seed", "3", "--chunk", chunk, "-q")
        assert result.exit_code == 0, result.output
        outputs.add((out / f"take.{ext}").read_bytes())
    assert len(outputs) == 1


def test_a_converted_ogg_output_does_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    src = write(tmp_path / "in/take.wav", speech_like(3 * RATE, RATE, 2), RATE)
    outputs = set()
    for chunk in (1000, 4096, 65536):
        out = tmp_path / f"out{chunk}"
        args = ("--seed", "3", "--chunk", chunk, "--format", "ogg", "-q")
        result = run("audio", src, "-o", out, *args)
        assert result.exit_code == 0, result.output
        outputs.add((out / "take.ogg").read_bytes())
    assert len(outputs) == 1
