"""Run jobs on a Dask cluster: batches of files, results streamed back as they complete.

Imported only when ``--scheduler`` or ``--scheduler-file`` is given. Outputs are the same
bytes as a local run: each file's noise depends only on the seed and its relative path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from noisecli import __version__
from noisecli.batch.job import FileResult, Job, process_file
from noisecli.batch.medium import Medium
from noisecli.batch.storage import exists
from noisecli.config import RunConfig
from noisecli.errors import NoiseCliError

CONNECT_TIMEOUT = "5s"
RETRIES = 3
MAX_BATCH = 64
BATCHES_PER_THREAD = 8
POLL_SECONDS = 0.2


class ClusterError(NoiseCliError):
    """The cluster cannot be used (unreachable, no workers, wrong noisecli on workers)."""

    exit_code = 2


def worker_version() -> str:
    """Runs on each worker: the noisecli version it imports."""
    import noisecli

    return noisecli.__version__


def process_batch(jobs: list[Job], cfg: RunConfig, medium: Medium) -> list[FileResult]:
    """Runs on a worker: one result per job, never raising for a bad file."""
    medium.worker_init()
    return [process_file(job, cfg, medium.work) for job in jobs]


def batch_size(files: int, threads: int) -> int:
    """Files per task: ~8 tasks per worker thread for balance, at most 64 files per task.

    Per-task overhead is ~2 ms; a batch of even a few 30 ms images keeps it under 5 %.
    """
    return max(1, min(MAX_BATCH, math.ceil(files / max(1, threads * BATCHES_PER_THREAD))))


def connect(cfg: RunConfig) -> Any:
    """A distributed Client, or a ClusterError naming the address and the reason."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ClusterError("--scheduler needs Dask: pip install 'noisecli[distributed]'") from exc
    where = cfg.scheduler or f"the scheduler file {cfg.scheduler_file}"
    if cfg.scheduler_file and not os.path.isfile(cfg.scheduler_file):
        raise ClusterError(f"scheduler file not found: {cfg.scheduler_file}")
    try:
        if cfg.scheduler_file:
            client = Client(scheduler_file=cfg.scheduler_file, timeout=CONNECT_TIMEOUT)
        else:
            client = Client(cfg.scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {where}: {exc}") from None
    return client


def check_workers(client: Any) -> int:
    """Every worker must import this very version of noisecli; return the thread count."""
    info = (
        client.scheduler_info(n_workers=-1) if _takes_n_workers(client) else client.scheduler_info()
    )
    workers = info.get("workers", {})
    if not workers:
        raise ClusterError("the Dask cluster has no workers")
    versions = client.run(worker_version, on_error="return")
    bad = []
    for address, version in sorted(versions.items()):
        if isinstance(version, BaseException):
            bad.append(f"{address}: cannot run noisecli ({type(version).__name__}: {version})")
        elif version != __version__:
            bad.append(f"{address}: noisecli {version}")
    if bad:
        raise ClusterError(
            f"workers must run noisecli {__version__} like this client; " + "; ".join(bad)
        )
    return int(sum(w.get("nthreads", 1) for w in workers.values()))


def _takes_n_workers(client: Any) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters


def run_dask(
    jobs: list[Job], cfg: RunConfig, medium: Medium, stopping: Callable[[], bool]
) -> Iterator[FileResult]:
    """Submit jobs in batches, a bounded number in flight; yield results as they arrive.

    On Ctrl-C no new batch is sent and the ones in flight (two per worker thread at most)
    finish, so the manifest lists every file written; a second Ctrl-C stops at once and
    closing the client cancels what is left.

    Lost workers are survived by Dask rescheduling their tasks (``retries`` covers task
    errors). A rerun of a batch may find outputs that its first attempt completed: jobs
    whose output did not exist when submitted may redo them (same seed, same bytes).
    """
    from distributed import as_completed

    client = connect(cfg)
    try:
        threads = check_workers(client)
        size = batch_size(len(jobs), threads)
        window = max(2, threads * 2)
        batches = (jobs[i : i + size] for i in range(0, len(jobs), size))
        futures = as_completed()
        given: dict[str, list[Job]] = {}

        def submit_next() -> None:
            batch = next(batches, None)
            if batch is not None and not stopping():
                marked = [replace(j, retry=not exists(j.dst)) for j in batch]
                fut = client.submit(process_batch, marked, cfg, medium, retries=RETRIES, pure=False)
                given[fut.key] = marked
                futures.add(fut)

        for _ in range(window):
            submit_next()
        for future in futures:
            batch_jobs = given.pop(future.key, [])
            if future.status == "cancelled":
                continue
            try:
                results = future.result()
            except Exception as exc:  # the task failed RETRIES times: fail its files
                for job in batch_jobs:
                    yield FileResult(job, "failed", f"cluster task failed: {exc!r}")
            else:
                yield from results
            submit_next()  # nothing once stopping: batches in flight finish and are reported
    finally:
        client.close()
