"""noisecli benchmarks: ratios against the codec floor and against peers, measured side by side.

    make bench                       # full run: 200 images per set, writes bench/RESULTS.md
    make bench BENCH_ARGS=--quick    # 40 images per set, fewer repetitions, for development

Every command of a set runs once per repetition, in an order rotated at each repetition,
after one warm-up round (also used to measure the peak memory of the process tree); the
tables give the median wall time of each and its ratio to the floors. Peers that are not
installed (ImageMagick, albumentations in its own environment) are skipped with a note.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import arrays_bench
import audio_bench
import corpus
import kernel
import measure
import stages
import tiny_images

BENCH = Path(__file__).resolve().parent
FLOORS = BENCH / "floors.py"
ALBU_PYTHON = Path(os.environ.get("BENCH_ALBU_PYTHON", BENCH / ".venv-albu" / "bin" / "python"))
NOISECLI = Path(sys.executable).parent / "noisecli"
STD = "25"
HEAVY = ("cv2", "soundfile", "scipy", "dask")


def image_commands(
    spec: corpus.ImageSet, src: Path, reps: int, peer_reps: int
) -> tuple[list[measure.Command], list[str]]:
    """The commands compared on one image set, and notes on the peers left out."""
    out = corpus.CORPUS / "out" / spec.path.name
    py = sys.executable

    def floor(mode: str) -> list[str]:
        return [py, str(FLOORS), mode, str(src), str(out / mode), "--jobs", "2", "--std", STD]

    def tool(jobs: int) -> list[str]:
        dst = out / f"noisecli-j{jobs}"
        noisecli = [str(NOISECLI), "image", str(src), "-o", str(dst), "--std", STD]
        return [*noisecli, "--seed", "1", "-j", str(jobs), "--overwrite", "-q"]

    cmds = [
        measure.Command("noisecli -j 2", tool(2), out / "noisecli-j2", reps),
        measure.Command("clean floor (imread + imwrite)", floor("clean"), out / "clean", reps),
        measure.Command(
            "fixed-noise floor (+ one pre-generated field)", floor("fixed"), out / "fixed", reps
        ),
    ]
    notes: list[str] = []
    if spec.ext == ".jpg":
        cmds.append(measure.Command("noisecli -j 1", tool(1), out / "noisecli-j1", reps))
    cmds.append(measure.Command("numpy one-liner", floor("oneliner"), out / "oneliner", peer_reps))
    mogrify = shutil.which("mogrify")
    if mogrify and _is_imagemagick(mogrify):
        files = sorted(str(p) for p in src.iterdir() if p.suffix == spec.ext)
        half = (len(files) + 1) // 2
        quality = "-quality 95 " if spec.ext == ".jpg" else ""
        script = (
            f"mkdir -p {out / 'mogrify'} && printf '%s\\0' \"$@\" | xargs -0 -P 2 -n {half} "
            f"{mogrify} -path {out / 'mogrify'} {quality}-attenuate 1 +noise Gaussian"
        )
        argv = ["sh", "-c", script, "sh", *files]
        cmds.append(
            measure.Command(
                "ImageMagick mogrify +noise Gaussian, 2 processes",
                argv,
                out / "mogrify",
                peer_reps,
                {"MAGICK_THREAD_LIMIT": "1"},
            )
        )
    else:
        notes.append(
            "ImageMagick `mogrify` not installed: skipped (`apt-get install imagemagick`)."
        )
    if ALBU_PYTHON.is_file():
        argv = [str(ALBU_PYTHON), *floor("albu")[1:]]
        cmds.append(measure.Command("albumentations GaussNoise", argv, out / "albu", peer_reps))
    else:
        notes.append(
            f"albumentations skipped: no separate environment at {os.path.relpath(ALBU_PYTHON)} "
            "(it pulls opencv-python-headless, so it never shares noisecli's; see bench/README.md)."
        )
    return cmds, notes


def _is_imagemagick(path: str) -> bool:
    try:
        text = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "ImageMagick" in text


def help_imports() -> list[str]:
    """Heavy modules imported by `noisecli --help` (must be none)."""
    code = (
        "import sys\nfrom noisecli.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('heavy:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("heavy:"))
    return [m for m in line.removeprefix("heavy:").split(",") if m]


def image_table(spec: corpus.ImageSet, cmds: list[measure.Command]) -> list[str]:
    title = (
        f"### {spec.count} {spec.ext[1:].upper()} images of {spec.width}x{spec.height}, "
        f"gaussian σ={STD}"
    )
    refs = [("× clean floor", cmds[1]), ("× fixed-noise floor", cmds[2])]
    return measure.ratio_table(title, cmds, refs)


def main() -> None:
    parser = argparse.ArgumentParser(description="noisecli benchmarks")
    parser.add_argument("--quick", action="store_true", help="40 images per set, fewer repetitions")
    parser.add_argument("--reps", type=int, help="timed runs of noisecli and the floors")
    parser.add_argument("--peer-reps", type=int, help="timed runs of the slow peers")
    parser.add_argument("--results", type=Path, help="where to write the markdown report")
    parser.add_argument("--skip", choices=("images", "audio"), action="append", default=[])
    args = parser.parse_args()
    reps = args.reps or (3 if args.quick else 5)
    peer_reps = args.peer_reps or (1 if args.quick else 3)
    results = args.results or (
        corpus.CORPUS / "RESULTS-quick.md" if args.quick else BENCH / "RESULTS.md"
    )
    started = datetime.datetime.now()
    load_before = measure.load()
    print(f"noisecli benchmarks: {os.cpu_count()} CPUs, load {load_before}", flush=True)

    sections: list[str] = []
    notes: list[str] = []
    targets: list[tuple[str, str, bool]] = []
    for spec in [] if "images" in args.skip else corpus.image_sets(args.quick):
        print(f"corpus {spec.path.name} ...", flush=True)
        src = corpus.build_images(spec)
        cmds, set_notes = image_commands(spec, src, reps, peer_reps)
        notes.extend(n for n in set_notes if n not in notes)
        print(f"{spec.path.name}: {', '.join(c.name for c in cmds)}", flush=True)
        measure.run_side_by_side(cmds, pair=(cmds[0], cmds[2]))  # noisecli -j 2, fixed floor
        table = image_table(spec, cmds)
        print("\n".join(table), flush=True)
        sections += [*table, ""]
        by = {c.name: c for c in cmds}
        ours, fixed = by["noisecli -j 2"], by["fixed-noise floor (+ one pre-generated field)"]
        ratio = measure.paired_ratio(ours, fixed)
        of_medians = ours.samples.median / fixed.samples.median
        cpu = ours.samples.median_cpu / fixed.samples.median_cpu
        limit = 1.3 if spec.ext == ".jpg" else 1.1
        targets.append(
            (
                f"{spec.ext[1:].upper()} {spec.width}x{spec.height}: noisecli -j 2 ≤ {limit}x "
                "the fixed-noise floor (wall, paired by round; ratio of medians and of CPU "
                "time in brackets)",
                f"{measure.fmt_ratio(ratio)} ({measure.fmt_ratio(of_medians)}, "
                f"CPU {measure.fmt_ratio(cpu)})",
                ratio <= limit,
            )
        )
        if "noisecli -j 1" in by:
            speedup = measure.paired_ratio(by["noisecli -j 1"], ours)
            targets.append(
                (
                    "`-j 2` ≥ 1.8x faster than `-j 1` (JPEG corpus, paired by round)",
                    measure.fmt_ratio(speedup),
                    speedup >= 1.8,
                )
            )

    print("kernel ...", flush=True)
    jpeg_dir = corpus.build_images(corpus.image_sets(args.quick)[0])
    img = cv2.imread(str(next(jpeg_dir.glob("*.jpg"))))
    kern = kernel.measure(img, 5 if args.quick else 11)
    oneliner = kern["numpy one-liner (np.random.randn, float64), uint8"]
    for key, limit in (("gaussian", 1.2), ("float", 2.0), ("white", 2.0), ("poisson", 5.0)):
        ns = kern[kernel.OURS[key]]
        targets.append(
            (
                f"{kernel.OURS[key]}, one thread ≤ {limit} ns/sample"
                + (f" (numpy one-liner: {oneliner:.1f} ns)" if key == "gaussian" else ""),
                f"{ns:.2f} ns",
                ns <= limit,
            )
        )
    ours = kern[kernel.OURS["gaussian"]]
    kernel_lines = [
        "| kernel (one thread, 1920x1080x3 image or 48 kHz stereo) | ns per sample | × noisecli |",
        "|---|---:|---:|",
    ]
    kernel_lines += [f"| {k} | {v:.2f} | {v / ours:.1f}x |" for k, v in kern.items()]
    print("\n".join(kernel_lines), flush=True)

    print("tiny images ...", flush=True)
    ours, peer = tiny_images.compare(5000, 7)
    ratio = measure.paired_ratio(ours, peer)
    of_medians = ours.samples.median / peer.samples.median
    cpu = ours.samples.median_cpu / peer.samples.median_cpu
    targets.append(
        (
            "5000 PNGs of 32x32: noisecli -j 2 ≤ 1.3x a plain Pool(2) loop (wall, paired by "
            "round; ratio of medians and of CPU time in brackets)",
            f"{measure.fmt_ratio(ratio)} ({measure.fmt_ratio(of_medians)}, "
            f"CPU {measure.fmt_ratio(cpu)})",
            ratio <= 1.3,
        )
    )

    print("arrays ...", flush=True)
    t_ours, t_gen = arrays_bench.single_image(2000 if args.quick else 10_000)
    targets.append(
        (
            "`add_noise` on one 32x32x3 uint8 image ≤ 1.5x numpy's Generator one-liner",
            f"{t_ours / t_gen:.2f}x ({t_ours:.1f} vs {t_gen:.1f} µs)",
            t_ours / t_gen <= 1.5,
        )
    )
    hd = arrays_bench.full_hd(3 if args.quick else 5)
    speedup = hd["numpy one-liner"] / hd["noisecli add_noise"]
    targets.append(
        (
            "`add_noise` on one 1920x1080x3 uint8 image ≥ 10x faster than the numpy one-liner",
            f"{speedup:.1f}x",
            speedup >= 10,
        )
    )

    heavy = help_imports()
    targets.append(
        (
            "`noisecli --help` imports none of cv2, soundfile, scipy, dask",
            ", ".join(heavy) or "none",
            not heavy,
        )
    )

    print("stages ...", flush=True)
    jpeg_files = sorted(jpeg_dir.glob("*.jpg"))[:30]
    stage_ms = stages.stage_times(jpeg_files, corpus.CORPUS / "out" / "stages")
    prof = stages.profile(jpeg_files[:15], corpus.CORPUS / "out" / "profile")
    shutil.rmtree(corpus.CORPUS / "out", ignore_errors=True)
    total = sum(stage_ms.values())
    stage_lines = ["| stage (one JPEG 1920x1080, one thread) | ms | share |", "|---|---:|---:|"]
    stage_lines += [f"| {s} | {ms:.1f} | {ms / total:.0%} |" for s, ms in stage_ms.items()]
    stage_lines.append(f"| total | {total:.1f} | 100% |")
    print("\n".join(stage_lines), flush=True)

    audio = audio_bench.AudioReport()
    if "audio" not in args.skip:
        audio = audio_bench.run_audio(args.quick, args.peer_reps or 3)
        targets += audio.targets
        notes += audio.notes

    target_lines = ["| target | measured | met |", "|---|---:|:---:|"]
    target_lines += [f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in targets]
    print("\n".join(target_lines), flush=True)
    load_after = measure.load()
    header = [
        "# noisecli benchmark results",
        "",
        f"Written by `{' '.join(['python bench/run.py', *sys.argv[1:]])}` (`make bench`) on "
        f"{started:%Y-%m-%d %H:%M}. Machine: {os.cpu_count()} CPUs ({_cpu_model()}), "
        f"Python {platform.python_version()}, numpy {np.__version__}, OpenCV {cv2.__version__}. "
        f"Load average (1/5/15 min) before: {load_before}; after: {load_after}.",
        "",
        "Every command of a table ran once per round, in an order rotated at every round, after",
        "a warm-up round that also measured the peak RSS of its whole process tree; times are",
        "medians of the rounds. All pipelines use two worker processes (except `noisecli -j 1`)",
        "and OpenCV with one thread per worker. CPU s is the user + system time of the whole",
        "process tree, which other load on the machine disturbs less than the wall time.",
        "",
    ]
    body = [
        "## Targets",
        "",
        *target_lines,
        "",
        "## Images",
        "",
        *sections,
        *(["## Audio", "", *audio.sections] if audio.sections else []),
        *(
            ["### Where the time goes (audio, --level)", "", *audio.stages, ""]
            if audio.stages
            else []
        ),
        *(
            [
                "cProfile of `noisecli audio --level` on a 5-minute 48 kHz stereo file:",
                "",
                "```",
                audio.profile,
                "```",
                "",
            ]
            if audio.profile
            else []
        ),
        "## Kernel",
        "",
        *kernel_lines,
        "",
        "## Where the time goes (JPEG 1920x1080, σ=25)",
        "",
        *stage_lines,
        "",
        "cProfile of `process_file` over 15 of these files, by own time:",
        "",
        "```",
        prof,
        "```",
        "",
    ]
    if notes:
        body += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    analysis = BENCH / "ANALYSIS.md"
    if analysis.is_file():
        body += [analysis.read_text().rstrip(), ""]
    results.write_text("\n".join(header + body))
    print(f"wrote {results}", flush=True)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
