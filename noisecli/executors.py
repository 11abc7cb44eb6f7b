"""Run jobs inline or in a process pool; results stream back in completion order.

Workers ignore SIGINT: the driver receives it, sets the shared stop event, lets running
jobs finish (or abort between chunks, cleaning their temp file) and collects their results,
so every file that reached its final name is also in the manifest.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from noisecli import cancel
from noisecli.config import RunConfig
from noisecli.pipeline import FileResult, Job, process_file

POLL_SECONDS = 0.2


def _init_worker(event: Any, media: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cancel.install(event)
    if media != "image":  # audio never loads OpenCV
        return
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - cv2 is a dependency
        pass


def _pool_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run_inline(
    jobs: Iterable[Job], cfg: RunConfig, stopping: Callable[[], bool]
) -> Iterator[FileResult]:
    """One job after another in this process."""
    for job in jobs:
        if stopping():
            return
        yield process_file(job, cfg)


def run_pool(
    jobs: Iterable[Job],
    cfg: RunConfig,
    stopping: Callable[[], bool],
    event: Any,
) -> Iterator[FileResult]:
    """Jobs in ``cfg.jobs`` worker processes, a bounded number in flight."""
    window = cfg.jobs * 4
    pending: set[Future[FileResult]] = set()
    it = iter(jobs)
    exhausted = False
    with ProcessPoolExecutor(
        max_workers=cfg.jobs,
        mp_context=_pool_context(),
        initializer=_init_worker,
        initargs=(event, cfg.media),
    ) as pool:
        while True:
            while not exhausted and not stopping() and len(pending) < window:
                job = next(it, None)
                if job is None:
                    exhausted = True
                    break
                pending.add(pool.submit(process_file, job, cfg))
            if not pending:
                return
            if stopping():
                for fut in pending:
                    fut.cancel()
                pending = {f for f in pending if not f.cancelled()}
                if not pending:
                    return
            done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()


class Driver:
    """The one driver loop. ``results()`` yields the result of every job that ran.

    SIGINT/SIGTERM (or ``request_stop``, used for --fail-fast and a full disk) stop the
    submission of new jobs; running ones finish or abort and are still yielded. A second
    signal raises KeyboardInterrupt at once.
    """

    def __init__(self, jobs: list[Job], cfg: RunConfig) -> None:
        self.jobs = jobs
        self.cfg = cfg
        self.use_pool = cfg.jobs > 1 and len(jobs) > 1
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
            if self.use_pool:
                yield from run_pool(self.jobs, self.cfg, self.stopping, self.event)
            else:
                yield from run_inline(self.jobs, self.cfg, self.stopping)
        finally:
            self._restore()
            cancel.install(None)
            sys.stderr.flush()
