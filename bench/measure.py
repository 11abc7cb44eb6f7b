"""Timing a command and the peak resident memory of its whole process tree."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

POLL_SECONDS = 0.02


@dataclass
class Samples:
    """Every repetition of one command: wall seconds and peak tree RSS in bytes."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_rss: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    @property
    def peak_mib(self) -> float:
        return max(self.peak_rss) / 2**20


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def run(
    argv: Sequence[str], env: dict[str, str] | None = None, memory: bool = False
) -> tuple[float, float, int]:
    """Run ``argv`` to completion; return (wall seconds, CPU seconds of its tree, peak RSS of
    its tree or 0). CPU time counts every descendant the command waited for.

    Polling the memory of the tree costs CPU, so timed runs pass ``memory=False``.
    Raises RuntimeError when the command fails.
    """
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the wait
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdout=subprocess.DEVNULL, stderr=errors, env={**os.environ, **(env or {})}
    )
    peak = 0
    if memory:
        watch = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, _tree_rss(watch))
            time.sleep(POLL_SECONDS)
    else:
        proc.wait()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    errors.seek(0)
    err = errors.read().decode(errors="replace")
    errors.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err.strip()[-500:]}")
    return seconds, cpu, peak


def load() -> str:
    """The 1, 5 and 15 minute load averages as text."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


@dataclass
class Command:
    name: str
    argv: list[str]
    out: Path
    reps: int
    env: dict[str, str] = field(default_factory=dict)
    samples: Samples = field(default_factory=Samples)


def run_side_by_side(cmds: list[Command], pair: tuple[Command, Command] | None = None) -> None:
    """One warm-up round measuring memory, then rotated rounds of timed runs.

    The two commands of ``pair`` (those a target compares) run back to back in every round,
    first one then the other in turn, so that neither always follows the same command
    (a heavy peer just before can slow the next run).
    """
    rounds = max(c.reps for c in cmds)
    rest = [c for c in cmds if pair is None or c not in pair]
    for rnd in range(rounds + 1):
        order = rest[rnd % len(rest) :] + rest[: rnd % len(rest)] if rest else []
        if pair is not None:
            order = [*(pair if rnd % 2 else pair[::-1]), *order]
        for cmd in order:
            if rnd > cmd.reps:
                continue
            shutil.rmtree(cmd.out, ignore_errors=True)
            seconds, cpu, peak = run(cmd.argv, cmd.env, memory=rnd == 0)
            if rnd == 0:
                cmd.samples.peak_rss.append(peak)
            else:
                cmd.samples.seconds.append(seconds)
                cmd.samples.cpu.append(cpu)
            shutil.rmtree(cmd.out, ignore_errors=True)
        print(f"  round {rnd}/{rounds} done (load {load()})", flush=True)


def paired_ratio(a: Command, b: Command) -> float:
    """The median over rounds of ``a``'s time over ``b``'s in the same round: on a machine
    whose speed drifts from round to round this is steadier than a ratio of medians."""
    return statistics.median(
        x / y for x, y in zip(a.samples.seconds, b.samples.seconds, strict=True)
    )


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x"


def ratio_table(title: str, cmds: list[Command], refs: list[tuple[str, Command]]) -> list[str]:
    """Markdown table: median, runs, ratio to each reference command, CPU time, peak RSS."""
    head = " | ".join(label for label, _ in refs)
    lines = [
        title,
        "",
        f"| tool | median s | runs | {head} | CPU s | peak RSS |",
        "|---|---:|---:|" + "---:|" * len(refs) + "---:|---:|",
    ]
    for c in cmds:
        s = c.samples
        ratios = " | ".join(fmt_ratio(s.median / ref.samples.median) for _, ref in refs)
        lines.append(
            f"| {c.name} | {s.median:.2f} | {len(s.seconds)} | {ratios} "
            f"| {s.median_cpu:.1f} | {s.peak_mib:.0f} MiB |"
        )
    return lines
