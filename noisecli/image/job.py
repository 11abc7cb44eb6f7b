"""One image file: read bytes, decode, noise in row bands, encode, write atomically."""

from __future__ import annotations

import sys

from noisecli.batch.job import STDIO, FileResult, Job, read_source
from noisecli.batch.storage import is_url, write_bytes
from noisecli.config import RunConfig
from noisecli.image.engine import noise_image
from noisecli.image.io import decode_image, encode_image, output_format, write_image
from noisecli.rng.keys import file_key, output_random


def noise_image_file(job: Job, cfg: RunConfig) -> FileResult:
    """Noise ``job.src`` into ``job.dst``; errors propagate as NoiseCliError/OSError."""
    array, fmt = decode_image(read_source(job.src), cfg.max_pixels)
    out_fmt = output_format(cfg.format, fmt)
    rnd = output_random(cfg.seed, file_key(job.rel, job.copy))
    noisy, noiser = noise_image(array, cfg.noise_of(job.variant), rnd, cfg.chunk)
    if job.dst == STDIO:
        sys.stdout.buffer.write(encode_image(noisy, out_fmt, cfg.quality))
        sys.stdout.buffer.flush()
    elif is_url(job.dst):
        write_bytes(job.dst, encode_image(noisy, out_fmt, cfg.quality))
    else:
        write_image(job.dst, noisy, out_fmt, cfg.quality)
    return FileResult(
        job,
        "written",
        params=dict(noiser.prepared.params),
        clipped_fraction=noiser.stats.clipped_fraction,
        clipped=noiser.stats.clipped,
    )
