"""Pool workers keep freed buffers for reuse instead of faulting in fresh pages per file."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from noisecli.batch import executors
from noisecli.batch.allocator import keep_freed_memory
from noisecli.config import RunConfig
from noisecli.noise import Gaussian

GLIBC = sys.platform.startswith("linux") and "glibc" in " ".join(__import__("platform").libc_ver())

FAULTS = """
import resource, sys
import numpy as np
from noisecli.batch.allocator import keep_freed_memory
if sys.argv[1] == "1":
    assert keep_freed_memory()

def one_file():  # the buffers of one 1080p image: bytes read, decoded, noisy, encoded
    bufs = [np.ones(6_220_800, np.uint8) for _ in range(4)]
    del bufs

one_file()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    one_file()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def _faults_per_file(keep: bool) -> float:
    out = subprocess.run(
        [sys.executable, "-c", FAULTS, "1" if keep else "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


@pytest.mark.skipif(not GLIBC, reason="mallopt thresholds are glibc's")
def test_fixed_thresholds_reuse_the_buffers_of_the_previous_file() -> None:
    pages = 4 * 6_220_800 / 4096  # what faulting every buffer in afresh would cost
    assert _faults_per_file(True) < 0.02 * pages


def test_it_is_a_harmless_no_op_where_it_cannot_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert keep_freed_memory() is False


def test_every_pool_worker_keeps_freed_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(executors, "keep_freed_memory", lambda: calls.append(True) or True)

    class Medium:
        @staticmethod
        def work(*_: Any) -> None:
            return None

        @staticmethod
        def worker_init() -> None:
            return None

    cfg = RunConfig(inputs=("x",), output="y", noise=Gaussian.from_options({"std": 5}), seed=1)
    saved = {sig: executors.signal.getsignal(sig) for sig in (2, 15)}
    try:
        executors._init_worker(threading.Event(), Medium(), cfg)  # type: ignore[arg-type]
    finally:
        for sig, handler in saved.items():
            executors.signal.signal(sig, handler)
        executors.cancel.install(None)
        executors._worker = None
    assert calls == [True]


def test_the_command_line_tunes_its_own_process(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-j 1`` noises its files in the command's own process, which noisecli owns."""
    import cv2
    import numpy as np
    from click.testing import CliRunner

    from noisecli.batch import allocator
    from noisecli.cli import main

    calls: list[bool] = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(True) or True)
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "a.png"), np.zeros((8, 8, 3), np.uint8))
    args = ["image", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1", "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert calls == [True] and (tmp_path / "out" / "a.png").is_file()
