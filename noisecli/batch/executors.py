"""Run jobs inline or in a process pool; results stream back in completion order.

Workers ignore SIGINT: the driver receives it, sets the shared stop event, lets running
jobs finish (or abort between chunks, cleaning their temp file) and collects their results,
so every file that reached its final name is also in the manifest.
"""

from __future__ import annotations

import itertools
import multiprocessing
import operator
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import fields, replace
from typing import Any

from noisecli.batch import cancel
from noisecli.batch.allocator import keep_freed_memory
from noisecli.batch.job import FileResult, Job, process_file
from noisecli.batch.medium import Medium
from noisecli.config import RunConfig

POLL_SECONDS = 0.2
MAX_BATCH = 128  # jobs per task at most: tiny files pay ~0.5 ms of the pool per task
BATCH_SECONDS = 0.05  # work per task at most, as measured: progress and stops stay prompt
BATCHES_PER_WORKER = 4  # guided self-scheduling: a task takes at most this share of what is left
IN_FLIGHT_PER_WORKER = 2  # tasks submitted per worker: one running, one ready

# a pool worker's run configuration and job function, set once by its initializer
_worker: tuple[RunConfig, Callable[[Job, RunConfig], FileResult]] | None = None


def _init_worker(event: Any, medium: Medium, cfg: RunConfig) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cancel.install(event)
    keep_freed_memory()
    _worker = (cfg, medium.work)
    medium.worker_init()


# a task travels as plain tuples, which pickle several times faster than dataclasses: its
# jobs' fields, and its results' fields but the job (the driver has it)
_JOB_FIELDS = tuple(f.name for f in fields(Job))
_RESULT_FIELDS = tuple(f.name for f in fields(FileResult) if f.name != "job")


def _packed(items: list[Any], names: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The fields ``names`` of each item, as a tuple."""
    return list(map(operator.attrgetter(*names), items))


def _run_batch(jobs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """In a pool worker: the results of ``jobs`` in order, as tuples; once a stop is
    requested the jobs not yet started are left out (not done, like jobs never sent)."""
    assert _worker is not None, "the pool initializer sets the worker's configuration"
    cfg, work = _worker
    results = []
    for values in jobs:
        if cancel.stop_requested():
            break
        results.append(process_file(Job(*values), cfg, work))
    return _packed(results, _RESULT_FIELDS)


def _results(batch: list[Job], packed: list[tuple[Any, ...]]) -> list[FileResult]:
    """The results of a task, each with its job: those run, in order."""
    return [FileResult(job, *values) for job, values in zip(batch, packed, strict=False)]


@contextmanager
def _stop_if_left(event: Any) -> Iterator[None]:
    """Set the stop request when the block is left by an exception (the consumer of the
    results went away): workers then start no further job before the pool shuts down."""
    try:
        yield
    except BaseException:
        event.set()
        raise


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


class _Pacer:
    """How many jobs the next task takes (guided self-scheduling, capped by duration).

    A task takes at most 1/(workers × ``BATCHES_PER_WORKER``) of the jobs left, so the
    tail of a run goes one job at a time and the workers finish together, and at most
    ``BATCH_SECONDS`` of work at the seconds per job measured so far: large files go one
    by one. Until a first result says how long a job takes, tasks hold one job.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.per_job: float | None = None  # seconds, rises at once and decays slowly

    def size(self, left: int) -> int:
        if self.per_job is None:
            return 1
        timed = int(BATCH_SECONDS / self.per_job) if self.per_job > 0 else MAX_BATCH
        guided = left // (self.workers * BATCHES_PER_WORKER)
        return max(1, min(MAX_BATCH, guided, timed))

    def learn(self, results: list[FileResult]) -> None:
        if not results:
            return
        mean = sum(r.seconds for r in results) / len(results)
        self.per_job = (
            mean if self.per_job is None else max(mean, 0.75 * self.per_job + 0.25 * mean)
        )


def run_pool(
    jobs: Sequence[Job],
    cfg: RunConfig,
    medium: Medium,
    stopping: Callable[[], bool],
    event: Any,
    existing: Collection[str],
    on_crash: Callable[[], None] = lambda: None,
) -> Iterator[FileResult]:
    """Jobs in ``cfg.jobs`` worker processes, in tasks of a few jobs, a bounded number in
    flight (see :class:`_Pacer`). ``existing``: the outputs that existed before the run;
    ``on_crash`` is called when a pool breaks (its workers may leave temp files).

    A worker that dies (a decoder crash, the OOM killer) breaks the pool: a new pool is
    started and every job of the tasks that were in flight is retried alone, one at a
    time, so the one that kills its worker is found and fails with a clear reason while
    the others complete.
    """
    window = cfg.jobs * IN_FLIGHT_PER_WORKER
    pacer = _Pacer(cfg.jobs)
    suspects: deque[Job] = deque()
    unsent: deque[Job] = deque()  # taken from the source but never started
    source = iter(jobs)
    unread = len(jobs)  # jobs still in the source
    if _pool_context().get_start_method() == "fork":
        medium.preload()
    while True:
        crashed: list[Job] = []
        with (
            ProcessPoolExecutor(
                max_workers=cfg.jobs,
                mp_context=_pool_context(),
                initializer=_init_worker,
                initargs=(event, medium, cfg),
            ) as pool,
            _stop_if_left(event),
        ):
            pending: dict[Future[list[tuple[Any, ...]]], list[Job]] = {}
            while True:
                # while suspects remain, run them alone to isolate the culprit
                limit = 1 if suspects else window
                broken = False
                while not stopping() and len(pending) < limit:
                    if suspects:
                        batch = [suspects.popleft()]
                    else:
                        size = pacer.size(len(unsent) + unread)
                        batch = [unsent.popleft() for _ in range(min(size, len(unsent)))]
                        if len(batch) < size:
                            fresh = list(itertools.islice(source, size - len(batch)))
                            unread -= len(fresh)
                            batch.extend(fresh)
                        if not batch:
                            break
                    try:
                        pending[pool.submit(_run_batch, _packed(batch, _JOB_FIELDS))] = batch
                    except BrokenProcessPool:  # a worker died: this task never started
                        unsent.extendleft(reversed(batch))
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
                    batch = pending.pop(fut)
                    try:
                        results = _results(batch, fut.result())
                    except BrokenProcessPool:
                        crashed.extend(batch)
                        continue
                    pacer.learn(results)
                    yield from results
                if crashed or broken:
                    on_crash()
                    for fut, batch in pending.items():
                        if fut.done() and not fut.cancelled() and fut.exception() is None:
                            yield from _results(batch, fut.result())
                        else:
                            crashed.extend(batch)
                    break
        if not crashed:
            continue
        if len(crashed) == 1:
            reason = "a worker process died while processing this file"
            yield FileResult(crashed[0], "failed", reason)
        else:
            # the crashed attempt may have completed its output: the rerun (same seed, same
            # bytes) may redo an output it made, never one that existed before the run
            suspects.extend(replace(job, retry=job.dst not in existing) for job in crashed)


class Driver:
    """The one driver loop. ``results()`` yields the result of every job that ran.

    SIGINT/SIGTERM (or ``request_stop``, used for --fail-fast and a full disk) stop the
    submission of new jobs; running ones finish or abort and are still yielded. A second
    signal raises KeyboardInterrupt at once.

    ``existing`` are the outputs that existed before the run (``Plan.existing``); without
    it they are looked up when a pool starts.
    """

    def __init__(
        self,
        jobs: list[Job],
        cfg: RunConfig,
        medium: Medium,
        existing: Collection[str] | None = None,
    ) -> None:
        self.jobs = jobs
        self.cfg = cfg
        self.medium = medium
        self.existing = existing
        self.use_pool = cfg.jobs > 1 and len(jobs) > 1 and not cfg.on_cluster
        self.event: Any = _pool_context().Event() if self.use_pool else threading.Event()
        self.signum: int | None = None
        self.pool_broke = False  # a worker died: the others were stopped, maybe mid-write
        self._stop = False
        self._saved: dict[int, Any] = {}

    def _pool_broke(self) -> None:
        self.pool_broke = True

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
                existing = self.existing
                if existing is None and not self.cfg.overwrite:
                    existing = {j.dst for j in self.jobs if os.path.lexists(j.dst)}
                yield from run_pool(
                    self.jobs,
                    self.cfg,
                    self.medium,
                    self.stopping,
                    self.event,
                    existing or (),
                    self._pool_broke,
                )
            else:
                yield from run_inline(self.jobs, self.cfg, self.medium, self.stopping)
        finally:
            self._restore()
            cancel.install(None)
            sys.stderr.flush()
