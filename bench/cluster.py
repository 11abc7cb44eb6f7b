"""The cluster path against the local pool on the JPEG benchmark corpus (same 2 cores).

Starts a Dask scheduler and two single-threaded workers on 127.0.0.1 with the `dask`
command, then runs `noisecli image` on the 200-JPEG 1080p corpus with `-j 2` and with
`--scheduler-file`, alternating, and prints the medians and their ratio.

    .venv/bin/python bench/cluster.py [--quick] [--reps N]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import build_images, image_sets
from measure import Command, load, run_side_by_side

BIN = Path(sys.executable).parent


def start_cluster(base: Path) -> tuple[Path, list[subprocess.Popen[bytes]]]:
    sched = base / "scheduler.json"
    procs = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    while not (sched.is_file() and sched.stat().st_size):
        time.sleep(0.1)
    log = base / "workers.log"
    with open(log, "wb") as fh:
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "dask"),
                    "worker",
                    "--scheduler-file",
                    str(sched),
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    while log.read_text(errors="replace").count("Registered to:") < 2:
        time.sleep(0.1)
    return sched, procs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="40 images instead of 200")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    corpus = build_images(image_sets(args.quick)[0])
    base = Path(tempfile.mkdtemp(prefix="noisecli-cluster-bench-"))
    sched, procs = start_cluster(base)
    try:
        exe = str(BIN / "noisecli")
        common = ["image", str(corpus), "--seed", "1", "--std", "25", "-q"]
        local = Command(
            "local pool, -j 2",
            [exe, *common, "-o", str(base / "local"), "-j", "2"],
            base / "local",
            args.reps,
        )
        cluster = Command(
            "Dask, 2 workers x 1 thread",
            [exe, *common, "-o", str(base / "cluster"), "--scheduler-file", str(sched)],
            base / "cluster",
            args.reps,
        )
        print(f"corpus {corpus}, load before {load()}", flush=True)
        run_side_by_side([local, cluster])
        ratio = cluster.samples.median / local.samples.median
        print(f"local pool:  median {local.samples.median:.2f} s over {args.reps} runs")
        print(f"Dask:        median {cluster.samples.median:.2f} s over {args.reps} runs")
        overhead = 100 * (ratio - 1)
        print(f"cluster / local = {ratio:.3f} (overhead {overhead:+.1f} %), load after {load()}")
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


if __name__ == "__main__":
    main()
