"""The pool runs jobs in tasks of several: every result once, prompt stops, crashes isolated."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from noisecli.api.dataset import process_dataset
from noisecli.batch import cancel, executors
from noisecli.batch.atomic import is_temp_file, write_bytes_atomic
from noisecli.batch.executors import MAX_BATCH, Driver, _Pacer
from noisecli.batch.job import FileResult, Job
from noisecli.batch.medium import Medium
from noisecli.config import RunConfig
from noisecli.noise import Gaussian
from noisecli.noise.base import MediaInfo, Noise, Prepared
from tests.conftest import synthetic_image, write_image


def _kill_on_60(job: Job, cfg: RunConfig) -> FileResult:
    """Writes its output, except job 60 which kills its worker."""
    if job.rel == "00060.x":
        os.kill(os.getpid(), signal.SIGKILL)
    write_bytes_atomic(job.dst, b"new")
    return FileResult(job, "written")


def _write_work(job: Job, cfg: RunConfig) -> FileResult:
    """A job that takes about two milliseconds and writes its output."""
    started = time.monotonic()
    time.sleep(0.002)
    write_bytes_atomic(job.dst, repr(started).encode())
    return FileResult(job, "written", params={"pid": os.getpid(), "started": started})


MEDIUM = Medium("test", {".x": "x"}, {}, ".x", _write_work)


class _Recording(ProcessPoolExecutor):
    """A pool that records how many jobs each task it is given holds."""

    sizes: ClassVar[list[int]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        _Recording.sizes.append(len(args[0]))
        return super().submit(fn, *args, **kwargs)


def _jobs(tmp_path: Path, count: int) -> tuple[list[Job], RunConfig]:
    (tmp_path / "in").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    jobs = [Job(f"in/{i}.x", str(out / f"{i:05d}.x"), f"{i:05d}.x", 0) for i in range(count)]
    cfg = RunConfig(inputs=(str(tmp_path / "in"),), output=str(out), noise=Gaussian(), jobs=2)
    return jobs, cfg


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    _Recording.sizes = []
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _Recording)
    return _Recording.sizes


def test_every_job_once_in_tasks_of_several(tmp_path: Path, recording: list[int]) -> None:
    jobs, cfg = _jobs(tmp_path, 600)
    results = list(Driver(jobs, cfg, MEDIUM).results())
    assert Counter(r.job for r in results) == Counter(jobs)
    assert all(r.status == "written" for r in results)
    assert len({r.params["pid"] for r in results}) == 2
    assert sorted(os.listdir(tmp_path / "out")) == sorted(os.path.basename(j.dst) for j in jobs)
    # one job per task until a first result, then ~50 ms of jobs per task, one at the end
    assert recording[:4] == [1, 1, 1, 1] and recording[-1] == 1
    assert 10 <= max(recording) <= 25 and sum(recording) == len(jobs)


def test_stop_mid_run_between_the_jobs_of_a_task(tmp_path: Path, recording: list[int]) -> None:
    jobs, cfg = _jobs(tmp_path, 2000)
    driver = Driver(jobs, cfg, MEDIUM)
    results = []
    stopped = 0.0
    for result in driver.results():
        results.append(result)
        if len(results) == 100:
            driver.request_stop()
            stopped = time.monotonic()
    assert max(recording) > 1
    assert len({r.job for r in results}) == len(results)
    assert 100 <= len(results) < 100 + len(recording) * MAX_BATCH
    # once stopped, a task leaves its jobs not yet started (a task of ~25 jobs lasts 50 ms)
    late = [r for r in results if float(r.params["started"]) > stopped + 0.02]
    assert not late
    written = sorted(os.listdir(tmp_path / "out"))
    assert written == sorted(os.path.basename(r.job.dst) for r in results)


def test_results_left_unread_start_no_further_job(tmp_path: Path) -> None:
    jobs, cfg = _jobs(tmp_path, 2000)
    results = Driver(jobs, cfg, MEDIUM).results()
    for _ in range(100):
        next(results)
    closed = time.monotonic()
    results.close()
    # the jobs started once the results were left (a task of ~25 jobs lasts 50 ms)
    out = tmp_path / "out"
    late = [n for n in os.listdir(out) if float((out / n).read_text()) > closed + 0.02]
    assert not late


def test_a_task_stops_before_its_next_job(monkeypatch: pytest.MonkeyPatch) -> None:
    event = threading.Event()
    ran: list[Job] = []

    def work(job: Job, cfg: RunConfig) -> FileResult:
        ran.append(job)
        if len(ran) == 3:
            event.set()
        return FileResult(job, "written")

    cfg = RunConfig(inputs=("in",), output="out", noise=Gaussian(), overwrite=True)
    monkeypatch.setattr(executors, "_worker", (cfg, work))
    jobs = [Job(f"{i}", f"/nonexistent/{i}", f"{i}", 0) for i in range(10)]
    cancel.install(event)
    try:
        packed = executors._run_batch(executors._packed(jobs, executors._JOB_FIELDS))
    finally:
        cancel.install(None)
    assert [r.job for r in executors._results(jobs, packed)] == jobs[:3] == ran


def test_tasks_travel_as_tuples_and_lose_nothing() -> None:
    job = Job("in/a.png", "out/a.png", "a.png", 2, None, True, 1)
    result = FileResult(job, "failed", "why", {"std": 1.5, "mono": True}, 0.25, 7, 0.5, True)
    (values,) = executors._packed([job], executors._JOB_FIELDS)
    assert Job(*values) == job
    (back,) = executors._results([job], executors._packed([result], executors._RESULT_FIELDS))
    assert back == result and back.job is job


def test_pacer_sizes() -> None:
    pacer = _Pacer(workers=2)
    assert pacer.size(10_000) == 1  # nothing measured yet
    pacer.learn([FileResult(Job("a", "b", "c", 0), "written", seconds=0.0003)])
    assert pacer.size(10_000) == MAX_BATCH
    assert pacer.size(40) == 5 and pacer.size(15) == 1  # the tail shrinks to one job
    pacer.learn([FileResult(Job("a", "b", "c", 0), "written", seconds=0.5)])
    assert pacer.size(10_000) == 1  # a slow file: one job per task at once
    pacer.learn([FileResult(Job("a", "b", "c", 0), "written", seconds=0.0003)])
    assert pacer.size(10_000) == 1  # the estimate decays slowly
    for _ in range(40):
        pacer.learn([FileResult(Job("a", "b", "c", 0), "written", seconds=0.0003)])
    assert pacer.size(10_000) == MAX_BATCH


@dataclass(frozen=True)
class Killer(Noise):
    """Kills its worker on 13-pixel-wide images."""

    name: ClassVar[str] = "killer"

    def prepare(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        return Prepared({})

    def apply(self, chunk: np.ndarray, rng: Any, info: MediaInfo, prepared: Prepared) -> np.ndarray:
        if info.shape[1] == 13:
            os.kill(os.getpid(), signal.SIGKILL)
        return chunk + 1


class _Eight(_Pacer):
    def size(self, left: int) -> int:
        return 8


def test_crash_in_a_task_fails_only_its_culprit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recording: list[int]
) -> None:
    """Tasks of 8: the killer (job 60) is in task 56..63 with completed jobs before it (redone
    on their retry) and outputs that existed before the run (never redone)."""
    monkeypatch.setattr(executors, "_Pacer", _Eight)
    inputs, out = tmp_path / "in", tmp_path / "out"
    for i in range(120):
        write_image(inputs / f"f{i:03d}.png", synthetic_image(8, 13 if i == 60 else 20, seed=i))
    for i in (57, 62):
        write_image(out / f"f{i:03d}.png", np.zeros((4, 4, 3), np.uint8))
    before = {i: (out / f"f{i:03d}.png").read_bytes() for i in (57, 62)}
    cfg = RunConfig(inputs=(str(inputs),), output=str(out), noise=Killer(), seed=1, jobs=2)
    report = process_dataset(cfg)
    assert recording[:8] == [8] * 8 and recording.count(1) >= 8  # the suspects, one at a time
    reasons = {Path(src).name: why for src, why in report.failures}
    assert reasons.keys() == {"f060.png", "f057.png", "f062.png"}
    assert "worker process died" in reasons["f060.png"]
    assert "output exists" in reasons["f057.png"] and "output exists" in reasons["f062.png"]
    assert report.written == 117
    assert all((out / f"f{i:03d}.png").read_bytes() == before[i] for i in (57, 62))
    written = sorted(p.name for p in out.glob("*.png"))
    assert written == [f"f{i:03d}.png" for i in range(120) if i != 60]
    rows = (out / "metadata.csv").read_text().splitlines()[1:]
    assert len(rows) == 117
    # the worker stopped with the broken pool may have been writing: its temp file is gone
    assert not [p.name for p in out.rglob("*") if is_temp_file(p.name)]


def test_crash_without_a_plan_looks_outputs_up_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver given no ``existing`` finds the outputs that exist before its pool starts."""
    monkeypatch.setattr(executors, "_Pacer", _Eight)
    jobs, cfg = _jobs(tmp_path, 100)
    old = Path(jobs[57].dst)
    old.write_bytes(b"old")
    medium = Medium("test", {".x": "x"}, {}, ".x", _kill_on_60)
    results = list(Driver(jobs, cfg, medium).results())
    assert Counter(r.job.rel for r in results) == Counter(j.rel for j in jobs)
    failed = {r.job.rel: r.message for r in results if r.status == "failed"}
    assert failed.keys() == {"00060.x", "00057.x"} and "output exists" in failed["00057.x"]
    assert old.read_bytes() == b"old"
    assert sum(r.status == "written" for r in results) == 98
