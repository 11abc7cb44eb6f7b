"""One audio file: probe, measure, then stream the noisy copy into an atomic temp file."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from noisecli.audio.io import (
    AudioFileInfo,
    AudioWriter,
    exact_length,
    output_target,
    probe,
    read_blocks,
    sample_format,
)
from noisecli.audio.mix import Layout, analyse, render
from noisecli.batch.cancel import Stopped
from noisecli.batch.job import FileResult, Job, check_regular_file
from noisecli.batch.storage import is_url, local_input, output_file
from noisecli.config import AudioOptions, RunConfig
from noisecli.errors import InputError
from noisecli.rng.keys import file_key


class FileSource:
    """An audio file read from the start on every pass, checking its length each time."""

    def __init__(self, path: str, info: AudioFileInfo, chunk: int) -> None:
        self.path = path
        self.info = info
        self.chunk = chunk
        self.dtype = sample_format(info.subtype).dtype
        # lossy codecs may only estimate their length: later passes must match the first
        self.expected: int | None = info.frames if exact_length(info.subtype) else None

    @property
    def frames(self) -> int | None:
        return self.expected

    def blocks(self) -> Iterator[np.ndarray]:
        frames = 0
        for block in read_blocks(self.path, self.dtype, self.chunk):
            frames += len(block)
            yield block
        if self.expected is None:
            self.expected = frames
        elif frames != self.expected:
            raise InputError(f"truncated or corrupt audio: read {frames} of {self.expected} frames")


def noise_audio_file(job: Job, cfg: RunConfig) -> FileResult:
    """Noise ``job.src`` into ``job.dst``; errors propagate as NoiseCliError/OSError.

    A URL input is first copied to a local temp file (two streamed passes read it), and a
    URL output is uploaded in one piece once complete.
    """
    if not is_url(job.src):
        check_regular_file(job.src)  # libsndfile would block forever on a FIFO
    with local_input(job.src) as path:
        return _noise_local(job, path, cfg)


def _noise_local(job: Job, path: str, cfg: RunConfig) -> FileResult:
    opts = cfg.audio or AudioOptions()
    info = probe(path)
    container, subtype = output_target(info, cfg.format)
    layout = Layout(
        sample_format(info.subtype),
        sample_format(subtype),
        info.channels,
        info.sample_rate,
        info.frames,
    )
    source = FileSource(path, info, cfg.chunk)
    key = file_key(job.rel, job.copy)
    try:
        plan = analyse(source, cfg.noise_of(job.variant), layout, opts, cfg.seed, key)
        with (
            output_file(job.dst) as tmp,
            AudioWriter(
                tmp, container, subtype, info.sample_rate, info.channels, info.metadata
            ) as writer,
        ):
            stats = render(plan, source, writer.write)
    except Stopped:
        return FileResult(job, "interrupted", "stopped before the file was complete")
    return FileResult(
        job,
        "written",
        params=stats.params,
        clipped_fraction=stats.clipped_fraction,
        clipped=stats.clipped,
    )
