"""The audio medium as batch runs see it: which files, which output names, the job."""

from __future__ import annotations

from noisecli.audio.io import EXTENSIONS, FORMAT_EXTENSION, soundfile
from noisecli.audio.job import noise_audio_file
from noisecli.batch.medium import Medium


def preload_soundfile() -> None:
    """Import soundfile before the workers fork, so that they inherit it instead of each
    loading it again (audio never loads OpenCV)."""
    soundfile()


AUDIO = Medium(
    "audio", EXTENSIONS, FORMAT_EXTENSION, ".wav", noise_audio_file, preload=preload_soundfile
)
