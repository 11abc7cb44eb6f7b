"""Per-output overhead: noisecli on 5000 CIFAR-sized PNGs against a plain process-pool loop.

With 32x32x3 images the codec and the noise cost almost nothing, so the time is what each
output costs around them: planning, scheduling, the manifest, the file system. The corpus
is made of seeded crops of samples/photos, downsized to 32x32 (cached under bench/corpus/);
noisecli (`-j 2`) and the peer (a 20-line `multiprocessing.Pool(2)` loop: imread, numpy
Generator noise σ=25, clip, imwrite) run alternately, and the medians, their ratio and the
difference per file are printed.

    .venv/bin/python bench/tiny_images.py [--count 5000] [--reps 3] [--tmp DIR]

The outputs go to a new folder in the system's temp directory, or in DIR (``--tmp
/dev/shm`` leaves the file system out: what remains is the CPU each output costs). Each
run deletes the outputs of the run before: on an ext4 file system without a journal the
inodes of deleted files are not reused for a few minutes, and creating files then costs
much more (more for each file deleted recently), for both commands alike; that makes
runs vary by a second or more on such a disk.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import CORPUS, PHOTOS
from measure import Command, load, run_side_by_side

BIN = Path(sys.executable).parent
RECIPE = 1  # bump when the recipe below changes: a cached corpus is rebuilt
SIDE = 32
STD = 25

# the peer: what one would write by hand (argv: SRC_DIR DST_DIR)
PEER = """
import os, sys
from multiprocessing import Pool

import cv2
import numpy as np

SRC, DST = sys.argv[1], sys.argv[2]


def init():
    global rng
    cv2.setNumThreads(1)
    rng = np.random.default_rng(os.getpid())


def one(name):
    img = cv2.imread(os.path.join(SRC, name), cv2.IMREAD_UNCHANGED)
    noisy = np.clip(img + rng.normal(0.0, 25.0, img.shape), 0, 255).astype(np.uint8)
    if not cv2.imwrite(os.path.join(DST, name), noisy):
        raise OSError(name)


if __name__ == "__main__":
    os.makedirs(DST, exist_ok=True)
    with Pool(2, init) as pool:
        pool.map(one, sorted(n for n in os.listdir(SRC) if n.endswith(".png")))
"""


def build_tiny(count: int) -> Path:
    """``count`` PNGs of 32x32x3: random crops (32 px to a third of a photo's short side)
    of the sample photos, downsized with area averaging and flipped at random."""
    folder = CORPUS / f"tiny32-{count}"
    stamp = folder / "corpus.json"
    wanted = {"recipe": RECIPE, "count": count, "side": SIDE}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for path in sorted(PHOTOS.glob("*.jpg")):
        photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if photo is None:
            raise OSError(f"cannot read {path}")
        photos.append(photo)
    rng = np.random.default_rng(20240602)
    for i in range(count):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(SIDE, min(h, w) // 3 + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        img = cv2.resize(
            photo[y : y + side, x : x + side], (SIDE, SIDE), interpolation=cv2.INTER_AREA
        )
        if rng.integers(0, 2):
            img = cv2.flip(img, 1)
        if not cv2.imwrite(str(folder / f"img{i:05d}.png"), img):
            raise OSError(f"cannot write into {folder}")
    stamp.write_text(json.dumps(wanted))
    return folder


def compare(count: int, reps: int, tmp: str | None = None) -> tuple[Command, Command]:
    """noisecli and the peer on ``count`` tiny PNGs, alternately, ``reps`` timed runs each."""
    src = build_tiny(count)
    base = Path(tempfile.mkdtemp(prefix="noisecli-tiny-bench-", dir=tmp))
    exe = str(BIN / "noisecli")
    options = ["--std", str(STD), "--seed", "1", "-j", "2", "-q", "--overwrite"]
    ours_argv = [exe, "image", str(src), "-o", str(base / "noisecli"), *options]
    ours = Command("noisecli -j 2", ours_argv, base / "noisecli", reps)
    peer_argv = [sys.executable, "-c", PEER, str(src), str(base / "peer")]
    peer = Command("Pool(2) loop", peer_argv, base / "peer", reps)
    print(
        f"corpus {src} ({count} PNGs {SIDE}x{SIDE}x3), outputs in {base}, load before {load()}",
        flush=True,
    )
    try:
        run_side_by_side([ours, peer])
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return ours, peer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="images in the corpus")
    parser.add_argument("--reps", type=int, default=3, help="timed runs of each command")
    parser.add_argument("--tmp", help="where the outputs go (default: the temp directory)")
    args = parser.parse_args()
    ours, peer = compare(args.count, args.reps, args.tmp)
    for cmd in (ours, peer):
        s = cmd.samples
        print(
            f"{cmd.name + ':':15} median {s.median:.3f} s over {len(s.seconds)} runs "
            f"(CPU {s.median_cpu:.2f} s)"
        )
    a, b = ours.samples, peer.samples
    per_file = (a.median - b.median) / args.count * 1e6
    print(
        f"noisecli / peer = {a.median / b.median:.2f}x wall "
        f"({a.median_cpu / b.median_cpu:.2f}x CPU), {per_file:+.0f} µs per file; "
        f"load after {load()}"
    )


if __name__ == "__main__":
    main()
