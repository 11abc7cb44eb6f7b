"""Where the time of one image goes: each stage of noisecli's pipeline timed in one process,
plus the top of a cProfile of the same loop."""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

import cv2

from noisecli.api.dataset import medium_for
from noisecli.batch.atomic import write_bytes_atomic
from noisecli.batch.job import Job, process_file, read_source
from noisecli.config import RunConfig
from noisecli.image.engine import noise_image
from noisecli.image.io import decode_image, encode_image
from noisecli.noise import Gaussian
from noisecli.rng.keys import file_key, output_random

STAGES = ("read file", "decode", "noise + clip", "encode", "write file (atomic)")


def stage_times(files: list[Path], out: Path) -> dict[str, float]:
    """Median milliseconds per image of every stage, one thread, files in order."""
    cv2.setNumThreads(1)
    noise = Gaussian.from_options({"std": 25})
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[float]] = {s: [] for s in STAGES}
    for i, src in enumerate(files):
        marks = [time.perf_counter()]
        data = read_source(str(src))
        marks.append(time.perf_counter())
        array, fmt = decode_image(data)
        marks.append(time.perf_counter())
        noisy, _ = noise_image(array, noise, output_random(1, file_key(src.name, 0)))
        marks.append(time.perf_counter())
        encoded = encode_image(noisy, fmt, 95)
        marks.append(time.perf_counter())
        write_bytes_atomic(out / src.name, encoded)
        marks.append(time.perf_counter())
        if i:  # the first file warms up
            for stage, a, b in zip(STAGES, marks, marks[1:], strict=False):
                times[stage].append((b - a) * 1e3)
    return {s: statistics.median(t) for s, t in times.items()}


def profile(files: list[Path], out: Path, top: int = 12) -> str:
    """cProfile of process_file over ``files`` (one process), sorted by own time."""
    cv2.setNumThreads(1)
    cfg = RunConfig(
        inputs=(str(files[0].parent),),
        output=str(out),
        noise=Gaussian.from_options({"std": 25}),
        seed=1,
        jobs=1,
        overwrite=True,
    )
    jobs = [Job(str(f), str(out / f.name), f.name, 0) for f in files]
    prof = cProfile.Profile()
    work = medium_for(cfg.media).work

    def run() -> list[Any]:
        return [process_file(job, cfg, work) for job in jobs]

    prof.runcall(run)
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    repo = str(Path(__file__).resolve().parent.parent) + "/"
    lines = [ln.replace(repo, "") for ln in text.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    return "\n".join(lines[start : start + top + 1])
