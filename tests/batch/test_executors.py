"""The driver survives a worker that dies, and a bug in one file fails that file alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from noisecli.api.dataset import process_dataset
from noisecli.config import RunConfig
from noisecli.noise.base import MediaInfo, Noise, Prepared
from tests.conftest import synthetic_image, write_image


@dataclass(frozen=True)
class Poison(Noise):
    """Kills its worker on 13-pixel-wide images, raises a bug on 14-pixel-wide ones."""

    name: ClassVar[str] = "poison"

    def prepare(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        return Prepared({})

    def apply(self, chunk: np.ndarray, rng: Any, info: MediaInfo, prepared: Prepared) -> np.ndarray:
        if info.shape[1] == 13:
            os.kill(os.getpid(), signal.SIGKILL)
        if info.shape[1] == 14:
            raise ZeroDivisionError("a bug")
        return chunk + 1


def _dataset(root: Path) -> None:
    for i in range(12):
        write_image(root / f"ok{i:02d}.png", synthetic_image(8, 20, seed=i))
    write_image(root / "kills.png", synthetic_image(8, 13))
    write_image(root / "bug.png", synthetic_image(8, 14))


def test_worker_death_and_bugs_fail_only_their_file(tmp_path: Path) -> None:
    _dataset(tmp_path / "in")
    cfg = RunConfig(
        inputs=(str(tmp_path / "in"),),
        output=str(tmp_path / "out"),
        noise=Poison(),
        seed=1,
        jobs=2,
        quiet=True,
    )
    report = process_dataset(cfg)
    assert report.written == 12 and report.failed == 2 and report.exit_code == 1
    reasons = dict(report.failures)
    assert "worker process died" in reasons[str(tmp_path / "in" / "kills.png")]
    bug = reasons[str(tmp_path / "in" / "bug.png")]
    assert "internal error: ZeroDivisionError('a bug')" in bug and "traceback saved to" in bug
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [
        f"ok{i:02d}.png" for i in range(12)
    ]


@pytest.mark.parametrize(
    ("media", "check"),
    [
        ("audio", "'soundfile' in sys.modules and 'cv2' not in sys.modules"),
        ("image", "'cv2' in sys.modules and 'soundfile' not in sys.modules"),
    ],
)
def test_each_medium_loads_its_codec_once_before_the_workers_fork(media: str, check: str) -> None:
    code = (
        "import sys; from noisecli.api.dataset import medium_for; "
        f"medium_for({media!r}).preload(); print({check})"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
