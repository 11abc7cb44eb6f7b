"""A whole batch run: plan, execute, manifest, report. Click-free, used by the CLI and the API."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from noisecli.batch.atomic import remove_stale_temp_files
from noisecli.batch.executors import Driver
from noisecli.batch.manifest import Manifest
from noisecli.batch.medium import Medium
from noisecli.batch.plan import Plan, plan
from noisecli.batch.report import Report, Reporter, shown
from noisecli.batch.storage import exists, is_url
from noisecli.config import RunConfig
from noisecli.errors import UsageError


def run_dataset(cfg: RunConfig, medium: Medium) -> Report:
    """Noise every input of ``cfg`` with ``medium.work``; never raises for a bad file.

    Raises ``UsageError`` before any work for a request that cannot run.
    """
    started = time.perf_counter()
    the_plan = plan(cfg, medium)
    report = Report(seed=cfg.seed, planned=len(the_plan.jobs))
    reporter = Reporter(len(the_plan.jobs), cfg.quiet, cfg.verbose)
    if cfg.verbose:
        for name in the_plan.ignored:
            reporter.say(f"ignored (not an {cfg.media} file): {shown(name)}")
    if cfg.dry_run:
        _dry_run(the_plan, reporter)
        reporter.close()
        return report
    manifest = _open_manifest(cfg, the_plan)
    driver = Driver(the_plan.jobs, cfg, medium, the_plan.existing)
    try:
        for result in driver.results():
            report.add(result)
            if manifest is not None:
                manifest.add(result)
            reporter.result(result)
            if result.status == "failed" and (cfg.fail_fast or result.fatal):
                if not driver.stopping():
                    reporter.say(
                        "noisecli: stopping: " + ("disk full" if result.fatal else "--fail-fast")
                    )
                report.stopped_early = True
                driver.request_stop()
    finally:
        reporter.close()
        the_plan.jobs = driver.jobs = []  # the manifest's final sort needs the memory
        the_plan.existing = set()
        driver.existing = None
        if manifest is not None:
            manifest.close()
            if manifest.error:
                reporter.say(f"noisecli: error: {manifest.error}", error=True)
                report.failed += 1
    report.signum = driver.signum
    out = the_plan.output_root
    lost = cfg.on_cluster or driver.pool_broke
    if lost and out is not None and not is_url(out) and driver.signum is None:
        # a worker lost mid-write (a cluster's, or one a broken pool stopped) leaves its
        # temp file; every task has ended now
        remove_stale_temp_files(Path(out))
    report.seconds = time.perf_counter() - started
    return report


def _open_manifest(cfg: RunConfig, the_plan: Plan) -> Manifest | None:
    """Make a local OUT ready (created, writable, no stale temp file); open its manifest."""
    out = the_plan.output_root
    if out is None:
        return None
    if not is_url(out):
        _prepare_local_output(Path(out))
    if not cfg.manifest:
        return None
    variants = [(v.folder, v.severity, v.noise.name) for v in cfg.variants]
    manifest = Manifest(out, cfg.seed, cfg.noise_label, variants or None)
    manifest.open()
    return manifest


def _prepare_local_output(out_root: Path) -> None:
    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {out_root}: {exc.strerror}") from exc
    _check_writable(out_root)
    remove_stale_temp_files(out_root)


def _check_writable(out_root: Path) -> None:
    """Fail before any work when OUT cannot take files (permissions, read-only mount)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".noisecli-probe-", dir=out_root)
    except OSError as exc:
        raise UsageError(f"output directory {out_root} is not writable: {exc.strerror}") from exc
    os.close(fd)
    os.unlink(probe)


def _dry_run(the_plan: Plan, reporter: Reporter) -> None:
    for job in the_plan.jobs:
        note = f"  [error: {job.error}]" if job.error else ""
        there = "  [exists]" if exists(job.dst) else ""
        print(f"{shown(job.src)} -> {shown(job.dst)}{there}{note}", flush=True)
