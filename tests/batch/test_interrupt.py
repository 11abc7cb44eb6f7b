"""Signals mid-run leave only whole files, a manifest listing exactly them, and a resumable set."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from noisecli.batch.atomic import is_temp_file
from tests.conftest import NOISECLI_EXE, run_exe, synthetic_image, tree_digest, write_image

COUNT = 120
ARGS = ["--seed", "11", "--std", "20", "-j", "2", "-q"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A dataset slow enough to interrupt, and the digest of an uninterrupted run."""
    base = tmp_path_factory.mktemp("interrupt")
    root = base / "in"
    for i in range(COUNT):
        write_image(root / f"d{i % 4}" / f"img{i:03d}.jpg", synthetic_image(480, 640, seed=i))
    proc = run_exe("image", str(root), "-o", str(base / "reference"), *ARGS)
    assert proc.returncode == 0, proc.stderr
    reference = tree_digest(base / "reference")
    assert len(reference) == COUNT
    return root, reference


def _start(root: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(NOISECLI_EXE), "image", str(root), "-o", str(out), *ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait_for_outputs(out: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.is_dir() and sum(1 for _ in out.rglob("*.jpg")) >= count:
            return
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.01)
    raise AssertionError("no output appeared")


def _manifest_names(out: Path) -> list[str]:
    with open(out / "metadata.csv", newline="") as fh:
        return sorted(r["file_name"] for r in csv.DictReader(fh))


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_leaves_whole_files_and_resumes(
    corpus: tuple[Path, dict[str, str]], tmp_path: Path, sig: int, code: int
) -> None:
    root, reference = corpus
    out = tmp_path / "out"
    proc = _start(root, out)
    _wait_for_outputs(out, 4, proc)
    os.kill(proc.pid, sig)  # the driver only, as a terminal's Ctrl-C reaches the group below
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert b"Traceback" not in err
    present = tree_digest(out)
    assert 4 <= len(present) < COUNT
    assert not [p for p in out.rglob("*") if is_temp_file(p.name)]
    assert all(reference[name] == digest for name, digest in present.items())
    assert _manifest_names(out) == sorted(present)
    resumed = run_exe("image", str(root), "-o", str(out), *ARGS, "--skip-existing")
    assert resumed.returncode == 0, resumed.stderr
    assert tree_digest(out) == reference
    assert _manifest_names(out) == sorted(reference)


def test_ctrl_c_to_the_whole_group(corpus: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """A terminal sends SIGINT to every process of the job; workers must not die mid-file."""
    root, reference = corpus
    out = tmp_path / "out"
    proc = _start(root, out)
    _wait_for_outputs(out, 4, proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    present = tree_digest(out)
    assert not [p for p in out.rglob("*") if is_temp_file(p.name)]
    assert all(reference[name] == digest for name, digest in present.items())
    assert _manifest_names(out) == sorted(present)


def test_sigkill_never_leaves_a_truncated_final_file(
    corpus: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, reference = corpus
    out = tmp_path / "out"
    proc = _start(root, out)
    _wait_for_outputs(out, 6, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(0.2)
    present = {k: v for k, v in tree_digest(out).items() if not is_temp_file(Path(k).name)}
    assert present and all(reference[name] == digest for name, digest in present.items())
    resumed = run_exe("image", str(root), "-o", str(out), *ARGS, "--skip-existing")
    assert resumed.returncode == 0, resumed.stderr
    assert not [
        p for p in out.rglob("*") if is_temp_file(p.name)
    ]  # stale temp files were cleaned up
    assert tree_digest(out) == reference
