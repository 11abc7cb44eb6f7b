"""Progress bar, per-file messages and the run summary (all on stderr)."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from noisecli.batch.job import FileResult


def shown(path: str) -> str:
    """A path safe to print: undecodable bytes as \\xNN, control characters escaped."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    if any(not c.isprintable() for c in text):
        return repr(text)
    return text


@dataclass
class Report:
    """The outcome of a run; ``exit_code`` follows the documented contract."""

    seed: int
    planned: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0
    clipped: int = 0
    clipped_files: int = 0
    seconds: float = 0.0
    signum: int | None = None
    stopped_early: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.signum is not None:
            return 128 + self.signum
        return 1 if self.failed else 0

    def add(self, result: FileResult) -> None:
        if result.status == "written":
            self.written += 1
            if result.clipped:
                self.clipped += result.clipped
                self.clipped_files += 1
        elif result.status == "skipped":
            self.skipped += 1
        elif result.status == "failed":
            self.failed += 1
            self.failures.append((result.job.src, result.message))

    def summary(self) -> str:
        rate = self.written / self.seconds if self.seconds > 0 else 0.0
        text = (
            f"{self.written} written, {self.skipped} skipped, {self.failed} failed "
            f"in {self.seconds:.2f} s ({rate:.1f} files/s), seed {self.seed}"
        )
        if self.clipped:
            text += f"; {self.clipped} values clipped in {self.clipped_files} file(s)"
        left = self.planned - self.written - self.skipped - self.failed
        if self.signum is not None:
            text += f"; interrupted by {signal.Signals(self.signum).name}, {left} not done"
        elif self.stopped_early:
            text += f"; stopped early, {left} not done"
        return text


class Reporter:
    """Shows progress and messages unless quiet; errors are always shown."""

    def __init__(self, total: int, quiet: bool, verbose: bool, unit: str = "file") -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.bar: Any = None
        if not quiet and sys.stderr.isatty() and total > 1:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)

    def say(self, text: str, *, error: bool = False) -> None:
        if self.quiet and not error:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def result(self, result: FileResult) -> None:
        if result.status == "failed":
            self.say(f"noisecli: error: {shown(result.job.src)}: {result.message}", error=True)
        elif self.verbose:
            self.say(f"{result.status}: {shown(result.job.dst)}")
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
