"""``process_dataset``: a whole batch run from a :class:`RunConfig`, for the CLI and Python."""

from __future__ import annotations

from noisecli.batch.medium import Medium
from noisecli.batch.report import Report
from noisecli.batch.run import run_dataset
from noisecli.config import RunConfig


def medium_for(media: str) -> Medium:
    """The medium descriptor of ``"image"`` or ``"audio"`` (imported lazily: audio never
    loads OpenCV, images never load soundfile)."""
    if media == "image":
        from noisecli.image.medium import IMAGE

        return IMAGE
    from noisecli.audio.medium import AUDIO

    return AUDIO


def process_dataset(cfg: RunConfig) -> Report:
    """Noise every input of ``cfg``; never raises for a bad file (see ``Report``).

    Raises ``UsageError`` before any work for a request that cannot run.
    """
    return run_dataset(cfg, medium_for(cfg.media))
