"""Audio reference pipelines (soundfile only, never cv2), each a process pool like noisecli's.

    python bench/audio_floors.py MODE SRC DST_DIR [--jobs 2]

SRC is a file or a folder of WAVs. MODE is one of:
  copy16   streamed copy, 65536 frames at a time, read and written as int16: the floor
  copyf32  the same through float32 (what a float pipeline pays for the conversion)
  plain    soundfile.read + soundfile.write of the whole file (float64 defaults)
"""

from __future__ import annotations

import argparse
from multiprocessing import get_context
from pathlib import Path

import soundfile as sf

BLOCK = 65536
_mode: list[str] = []


def _copy(job: tuple[str, str]) -> None:
    src, dst = job
    mode = _mode[0]
    if mode == "plain":
        data, rate = sf.read(src)
        sf.write(dst, data, rate, subtype=sf.info(src).subtype)
        return
    dtype = "int16" if mode == "copy16" else "float32"
    with (
        sf.SoundFile(src) as fi,
        sf.SoundFile(dst, "w", fi.samplerate, fi.channels, fi.subtype, format=fi.format) as fo,
    ):
        while True:
            block = fi.read(BLOCK, dtype=dtype, always_2d=True)
            if not len(block):
                return
            fo.write(block)


def _init(mode: str) -> None:
    _mode[:] = [mode]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("copy16", "copyf32", "plain"))
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    args.dst.mkdir(parents=True, exist_ok=True)
    files = sorted(args.src.glob("*.wav")) if args.src.is_dir() else [args.src]
    jobs = [(str(p), str(args.dst / p.name)) for p in files]
    if len(jobs) == 1:  # one file: no pool, as noisecli runs a single file inline
        _init(args.mode)
        _copy(jobs[0])
        return
    with get_context("fork").Pool(args.jobs, _init, (args.mode,)) as pool:
        for _ in pool.imap_unordered(_copy, jobs):
            pass


if __name__ == "__main__":
    main()
