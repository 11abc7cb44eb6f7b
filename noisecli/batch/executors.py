"""Run jobs inline or in a process pool; results stream back in completion order.

Workers ignore SIGINT: the driver receives it, sets the shared stop event, lets running
jobs finish (or abort between chunks, cleaning their temp file) and collects their results,
so every file that reached its final name is also in the manifest.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from noisecli.batch import cancel
from noisecli.batch.job import FileResult, Job, process_file
from noisecli.batch.medium import Medium
from noisecli.config import RunConfig

POLL_SECONDS = 0.2


def _init_worker(event: Any, medium: Medium) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cancel.install(event)
    medium.worker_init()


def _pool_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run_inline(
    jobs: Iterable[Job], cfg: RunConfig, medium: Medium, stopping: Callable[[], bool]
) -> Iterator[FileResult]:
    """One job after another in this process."""
    for job in jobs:
        if stopping():
            return
        yield process_file(job, cfg, medium.work)


def run_pool(
    jobs: Iterable[Job],
    cfg: RunConfig,
    medium: Medium,
    stopping: Callable[[], bool],
    event: Any,
) -> Iterator[FileResult]:
    """Jobs in ``cfg.jobs`` worker processes, a bounded number in flight.

    A worker that dies (a decoder crash, the OOM killer) breaks the pool: a new pool is
    started and the jobs that were in flight are retried one at a time, so the one that
    kills its worker is found and fails with a clear reason while the others complete.
    """
    window = cfg.jobs * 4
    suspects: deque[Job] = deque()
    unsent: deque[Job] = deque()  # taken from the source but never started
    existed: dict[str, bool] = {}  # did a job's output exist before its first attempt?
    source = iter(jobs)
    if _pool_context().get_start_method() == "fork":
        medium.preload()
    while True:
        crashed: list[Job] = []
        with ProcessPoolExecutor(
            max_workers=cfg.jobs,
            mp_context=_pool_context(),
            initializer=_init_worker,
            initargs=(event, medium),
        ) as pool:
            pending: dict[Future[FileResult], Job] = {}
            while True:
                # while suspects remain, run them alone to isolate the culprit
                limit = 1 if suspects else window
                broken = False
                while not stopping() and len(pending) < limit:
                    job = _take(suspects, unsent, source)
                    if job is None:
                        break
                    if not job.retry:
                        existed[job.dst] = os.path.lexists(job.dst)
                    try:
                        pending[pool.submit(process_file, job, cfg, medium.work)] = job
                    except BrokenProcessPool:  # a worker died: this job never started
                        unsent.appendleft(job)
                        broken = True
                        break
                if not pending and not broken:
                    return
                if stopping():
                    for fut in [f for f in pending if f.cancel()]:
                        del pending[fut]
                    if not pending:
                        return
                done, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = pending.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        crashed.append(job)
                        continue
                    existed.pop(job.dst, None)
                    yield result
                if crashed or broken:
                    for fut, job in pending.items():
                        if fut.done() and not fut.cancelled() and fut.exception() is None:
                            yield fut.result()
                        else:
                            crashed.append(job)
                    break
        if not crashed:
            continue
        if len(crashed) == 1:
            reason = "a worker process died while processing this file"
            yield FileResult(crashed[0], "failed", reason)
        else:
            # the crashed attempt may have completed its output: the rerun (same seed, same
            # bytes) may redo an output it made, never one that existed before the run
            suspects.extend(replace(job, retry=not existed.get(job.dst, True)) for job in crashed)


def _take(suspects: deque[Job], unsent: deque[Job], source: Iterator[Job]) -> Job | None:
    """The next job to submit: suspects first, then jobs a broken pool never started."""
    for queue in (suspects, unsent):
        if queue:
            return queue.popleft()
    return next(source, None)


class Driver:
    """The one driver loop. ``results()`` yields the result of every job that ran.

    SIGINT/SIGTERM (or ``request_stop``, used for --fail-fast and a full disk) stop the
    submission of new jobs; running ones finish or abort and are still yielded. A second
    signal raises KeyboardInterrupt at once.
    """

    def __init__(self, jobs: list[Job], cfg: RunConfig, medium: Medium) -> None:
        self.jobs = jobs
        self.cfg = cfg
        self.medium = medium
        self.use_pool = cfg.jobs > 1 and len(jobs) > 1 and not cfg.on_cluster
        self.event: Any = _pool_context().Event() if self.use_pool else threading.Event()
        self.signum: int | None = None
        self._stop = False
        self._saved: dict[int, Any] = {}

    def request_stop(self) -> None:
        self._stop = True
        self.event.set()

    def stopping(self) -> bool:
        return self._stop

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            self._restore()
            raise KeyboardInterrupt
        self.signum = signum
        self.request_stop()

    def _install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._saved[sig] = signal.signal(sig, self._handle)

    def _restore(self) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        self._saved.clear()

    def results(self) -> Iterator[FileResult]:
        cancel.install(self.event)
        self._install()
        try:
            if self.cfg.on_cluster:
                from noisecli.batch.cluster import run_dask

                yield from run_dask(self.jobs, self.cfg, self.medium, self.stopping)
            elif self.use_pool:
                yield from run_pool(self.jobs, self.cfg, self.medium, self.stopping, self.event)
            else:
                yield from run_inline(self.jobs, self.cfg, self.medium, self.stopping)
        finally:
            self._restore()
            cancel.install(None)
            sys.stderr.flush()
