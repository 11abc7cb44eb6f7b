"""Dask: a real scheduler and workers started with the `dask` command on 127.0.0.1."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from noisecli.batch.atomic import is_temp_file
from tests.conftest import NOISECLI_EXE, run_exe, synthetic_image, tree_digest, write_image

DASK = Path(sys.executable).parent / "dask"


class Cluster:
    """A scheduler and single-threaded workers, each in its own process group."""

    def __init__(self, base: Path, workers: int = 2, preload: Path | None = None) -> None:
        self.base = base
        self.file = base / "scheduler.json"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self._start(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(self.file),
            ],
            "scheduler.log",
        )
        self._wait(lambda: self.file.is_file() and self.file.stat().st_size > 0, "scheduler file")
        extra = ["--preload", str(preload)] if preload else []
        for i in range(workers):
            self.workers.append(
                self._start(
                    [
                        "worker",
                        "--scheduler-file",
                        str(self.file),
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                        *extra,
                    ],
                    f"worker{i}.log",
                )
            )
        self._wait(lambda: self._registered() >= workers, f"{workers} workers")

    def _start(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        with open(self.base / log, "wb") as fh:
            proc = subprocess.Popen(
                [str(DASK), *args],
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.base,
            )
        self.procs.append(proc)
        return proc

    def _registered(self) -> int:
        logs = "".join(
            (self.base / f"worker{i}.log").read_text(errors="replace")
            for i in range(len(self.workers))
        )
        return logs.count("Registered to:")

    @staticmethod
    def _wait(cond: object, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():  # type: ignore[operator]
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def kill_worker(self, index: int) -> None:
        os.killpg(self.workers[index].pid, signal.SIGKILL)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "cluster")
    yield c
    c.stop()


@pytest.fixture(autouse=True)
def _cluster_dir(tmp_path: Path) -> None:
    (tmp_path / "cluster").mkdir()


def _mixed(root: Path, count: int = 10, size: tuple[int, int] = (48, 64)) -> None:
    for i in range(count):
        write_image(
            root / f"d{i % 3}" / f"img{i:03d}.{'jpg' if i % 2 else 'png'}",
            synthetic_image(*size, seed=i),
        )


def _local_and_remote(
    media: str, root: Path, tmp_path: Path, args: list[str], cluster: Cluster
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    """The same run with a local pool (into tmp/local) and on the cluster (tmp/remote)."""
    local = run_exe(media, str(root), "-o", str(tmp_path / "local"), *args, "-j", "2")
    remote = run_exe(
        media,
        str(root),
        "-o",
        str(tmp_path / "remote"),
        *args,
        "--scheduler-file",
        str(cluster.file),
    )
    return local, remote


def test_cluster_output_is_byte_identical_to_local(cluster: Cluster, tmp_path: Path) -> None:
    root = tmp_path / "in"
    _mixed(root)
    (root / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    args = ["--seed", "5", "--std", "5:40", "--copies", "2"]
    local, remote = _local_and_remote("image", root, tmp_path, args, cluster)
    assert local.returncode == remote.returncode == 1, remote.stderr
    assert b"bad.png: truncated PNG" in remote.stderr
    assert b"20 written, 0 skipped, 2 failed" in remote.stderr
    assert tree_digest(tmp_path / "local") == tree_digest(tmp_path / "remote")
    manifest = (tmp_path / "remote" / "metadata.csv").read_bytes()
    assert manifest == (tmp_path / "local" / "metadata.csv").read_bytes()
    # the address form works too
    address = json.loads(cluster.file.read_text())["address"]
    again = run_exe("image", str(root), "-o", str(tmp_path / "addr"), *args, "--scheduler", address)
    assert again.returncode == 1 and tree_digest(tmp_path / "addr") == tree_digest(
        tmp_path / "local"
    )


def test_a_worker_killed_mid_run_is_survived(cluster: Cluster, tmp_path: Path) -> None:
    root = tmp_path / "in"
    _mixed(root, count=60, size=(480, 640))
    reference = run_exe("image", str(root), "-o", str(tmp_path / "ref"), "--seed", "2", "-q")
    assert reference.returncode == 0
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            str(NOISECLI_EXE),
            "image",
            str(root),
            "-o",
            str(out),
            "--seed",
            "2",
            "--scheduler-file",
            str(cluster.file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not (out.is_dir() and len(list(out.rglob("*.jpg"))) >= 3):
        assert proc.poll() is None and time.monotonic() < deadline, "finished before the kill"
        time.sleep(0.02)
    cluster.kill_worker(0)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert b"60 written, 0 skipped, 0 failed" in err
    assert tree_digest(out) == tree_digest(tmp_path / "ref")
    assert not [p for p in out.rglob("*") if is_temp_file(p.name)]


def test_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    _mixed(tmp_path / "in", count=1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run_exe(
        "image",
        str(tmp_path / "in"),
        "-o",
        str(tmp_path / "out"),
        "--scheduler",
        f"tcp://127.0.0.1:{port}",
    )
    assert proc.returncode == 2
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}".encode() in proc.stderr
    missing = run_exe(
        "image",
        str(tmp_path / "in"),
        "-o",
        str(tmp_path / "out"),
        "--scheduler-file",
        str(tmp_path / "nope.json"),
    )
    assert missing.returncode == 2 and b"scheduler file not found" in missing.stderr
    assert not (tmp_path / "out" / "img000.png").exists()


@pytest.mark.parametrize(
    ("preload", "message"),
    [
        ("import noisecli\nnoisecli.__version__ = '9.9.9'\n", "noisecli 9.9.9"),
        ("import sys\nsys.modules['noisecli'] = None\n", "cannot run noisecli"),
    ],
)
def test_workers_with_another_or_no_noisecli_are_refused(
    tmp_path: Path, preload: str, message: str
) -> None:
    script = tmp_path / "preload.py"
    script.write_text(preload)
    c = Cluster(tmp_path / "cluster", workers=1, preload=script)
    try:
        _mixed(tmp_path / "in", count=1)
        proc = run_exe(
            "image",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "out"),
            "--scheduler-file",
            str(c.file),
        )
    finally:
        c.stop()
    assert proc.returncode == 2, proc.stderr
    assert b"workers must run noisecli" in proc.stderr and message.encode() in proc.stderr


def test_local_runs_never_import_dask(tmp_path: Path) -> None:
    _mixed(tmp_path / "in", count=2)
    code = (
        "import sys; from noisecli.cli import main\n"
        "sys.argv = ['noisecli', 'image', sys.argv[1], '-o', sys.argv[2], '-q']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "in"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_ctrl_c_on_the_client_leaves_whole_files_and_resumes(
    cluster: Cluster, tmp_path: Path
) -> None:
    root = tmp_path / "in"
    _mixed(root, count=60, size=(480, 640))
    assert (
        run_exe("image", str(root), "-o", str(tmp_path / "ref"), "--seed", "4", "-q").returncode
        == 0
    )
    reference = tree_digest(tmp_path / "ref")
    out = tmp_path / "out"
    args = [
        "image",
        str(root),
        "-o",
        str(out),
        "--seed",
        "4",
        "--scheduler-file",
        str(cluster.file),
    ]
    proc = subprocess.Popen(
        [str(NOISECLI_EXE), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while not (out.is_dir() and len(list(out.rglob("*.jpg"))) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, "finished before Ctrl-C"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    time.sleep(0.5)
    present = tree_digest(out)
    assert 2 <= len(present) < 60
    assert all(reference[name] == digest for name, digest in present.items())
    assert not [p for p in out.rglob("*") if is_temp_file(p.name)]
    with open(out / "metadata.csv", newline="") as fh:
        assert sorted(r["file_name"] for r in csv.DictReader(fh)) == sorted(present)
    resumed = run_exe(*args, "--skip-existing")
    assert resumed.returncode == 0, resumed.stderr
    assert tree_digest(out) == reference


def test_memory_urls_on_an_in_process_cluster(tmp_path: Path) -> None:
    """fsspec URLs read and written by the workers; same bytes as a local run."""
    import fsspec
    import numpy as np
    import soundfile as sf
    from distributed import LocalCluster

    from noisecli.api.dataset import process_dataset
    from noisecli.config import AudioOptions, RunConfig
    from noisecli.noise import Gaussian, get_noise

    local_in = tmp_path / "in"
    _mixed(local_in, count=5)
    (local_in / "bad.png").write_bytes(b"garbage")
    t = np.arange(16000) / 16000
    (local_in / "a").mkdir()
    sf.write(local_in / "a" / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 16000, "PCM_16")
    fs = fsspec.filesystem("memory")
    for path in local_in.rglob("*"):
        if path.is_file():
            fs.pipe_file(f"/in/{path.relative_to(local_in).as_posix()}", path.read_bytes())

    def run(media: str, inputs: str, output: str, scheduler: str | None) -> Any:
        noise = Gaussian() if media == "image" else get_noise("pink")()
        cfg = RunConfig(
            inputs=(inputs,),
            output=output,
            noise=noise,
            media=media,
            seed=9,
            jobs=1,
            quiet=True,
            scheduler=scheduler,
            audio=AudioOptions() if media == "audio" else None,
        )
        return process_dataset(cfg)

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        for media in ("image", "audio"):
            remote = run(media, "memory://in", "memory://out", cluster.scheduler_address)
            local = run(media, str(local_in), str(tmp_path / "local"), None)
            assert (remote.written, remote.failed) == (local.written, local.failed)
    expected = tree_digest(tmp_path / "local")
    assert len(expected) == 6  # 5 images and the tone
    got = {
        p[len("/out/") :]: hashlib.sha256(fs.cat_file(p)).hexdigest()
        for p in fs.find("/out")
        if not p.endswith("metadata.csv")
    }
    assert got == expected
    manifest = fs.cat_file("/out/metadata.csv").decode()
    assert manifest.count("\n") == 7 and "a/tone.wav" in manifest


def test_audio_on_the_cluster_is_byte_identical_to_local(cluster: Cluster, tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    root = tmp_path / "in"
    (root / "s").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(4):
        sf.write(root / "s" / f"c{i}.wav", 0.2 * rng.standard_normal((8000, 2)), 16000, "PCM_16")
    sf.write(root / "f.flac", 0.2 * rng.standard_normal(8000), 16000, "PCM_24")
    (root / "bad.wav").write_bytes(b"RIFF....WAVEjunk")
    args = ["--seed", "3", "--noise", "pink", "--snr", "5:20", "--copies", "2"]
    local, remote = _local_and_remote("audio", root, tmp_path, args, cluster)
    assert local.returncode == remote.returncode == 1, remote.stderr
    assert b"10 written, 0 skipped, 2 failed" in remote.stderr
    assert tree_digest(tmp_path / "local") == tree_digest(tmp_path / "remote")
