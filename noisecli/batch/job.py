"""One job (an output to make), its result, and the guard every worker runs it under."""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from noisecli.batch.storage import exists, is_url, read_url
from noisecli.config import RunConfig
from noisecli.errors import DiskFullError, InputError, NoiseCliError, save_traceback

STDIO = "-"
Status = Literal["written", "skipped", "failed", "interrupted"]


@dataclass(frozen=True, slots=True)
class Job:
    """One output to produce: ``dst`` from ``src``; ``rel`` and ``copy`` seed its stream."""

    src: str
    dst: str
    rel: str
    copy: int
    error: str | None = None  # a planning error (e.g. two inputs map to one output)
    retry: bool = False  # rerun after a worker crash: an output made by that attempt is redone
    variant: int | None = None  # a sweep's: the index of this output's noise in the run's


@dataclass
class FileResult:
    """What happened to one job; workers return this and never raise for a bad file."""

    job: Job
    status: Status
    message: str = ""
    params: dict[str, float | str | bool] = field(default_factory=dict)
    clipped_fraction: float = 0.0
    clipped: int = 0  # values clipped to the output range
    seconds: float = 0.0
    fatal: bool = False  # the run cannot go on (e.g. disk full)


def process_file(
    job: Job, cfg: RunConfig, work: Callable[[Job, RunConfig], FileResult]
) -> FileResult:
    """Run the medium's ``work`` for one output, unless it exists. Never raises for a bad file."""
    start = time.perf_counter()
    if job.error:
        return FileResult(job, "failed", job.error)
    try:
        # with --overwrite (which excludes --skip-existing) whether it exists does not matter
        if not cfg.overwrite and job.dst != STDIO and not job.retry and exists(job.dst):
            if cfg.skip_existing:
                return FileResult(job, "skipped", "exists")
            return FileResult(job, "failed", "output exists (use --overwrite or --skip-existing)")
        result = work(job, cfg)
    except DiskFullError as exc:
        return FileResult(job, "failed", str(exc), fatal=True)
    except NoiseCliError as exc:
        return FileResult(job, "failed", str(exc))
    except MemoryError:
        return FileResult(job, "failed", "out of memory")
    except OSError as exc:
        return FileResult(job, "failed", exc.strerror or str(exc))
    except Exception as exc:  # a bug must not cost the other files: report it, keep going
        return FileResult(job, "failed", f"internal error: {exc!r} ({save_traceback()})")
    result.seconds = time.perf_counter() - start
    return result


def check_regular_file(src: str) -> None:
    """Refuse what is not a regular file before opening it (a FIFO would block forever)."""
    try:
        st = os.stat(src)
    except FileNotFoundError:
        if os.path.islink(src):
            raise InputError("broken symbolic link") from None
        raise InputError("no such file") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory")
    if not stat.S_ISREG(st.st_mode):
        kind = "FIFO" if stat.S_ISFIFO(st.st_mode) else "special file"
        raise InputError(f"not a regular file ({kind})")


def read_source(src: str) -> bytes:
    """The whole input file (or stdin for ``-``)."""
    if src == STDIO:
        return sys.stdin.buffer.read()
    if is_url(src):
        return read_url(src)
    check_regular_file(src)
    # O_NONBLOCK: should the file have become a FIFO since the check, open() cannot hang
    fd = os.open(src, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb", buffering=0) as fh:  # unbuffered: one read of the whole file
        return fh.readall()
