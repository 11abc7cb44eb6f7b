"""Audio benchmarks: the 1-hour file against the int16 streamed copy, 50 small WAVs against a
plain soundfile copy with the same pool, peak memory, and where the time goes."""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import audio_corpus
import measure

BENCH = Path(__file__).resolve().parent
FLOORS = BENCH / "audio_floors.py"
NOISECLI = Path(sys.executable).parent / "noisecli"
LEVEL = "-30dBFS"
SNR = "20"

Target = tuple[str, str, bool]


@dataclass
class AudioReport:
    sections: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile: str = ""


def _noisecli(src: Path, out: Path, *level: str) -> list[str]:
    noisecli = [str(NOISECLI), "audio", str(src), "-o", str(out), *level]
    return [*noisecli, "--seed", "1", "-j", "2", "--overwrite", "-q"]


def _floor(mode: str, src: Path, out: Path) -> list[str]:
    return [sys.executable, str(FLOORS), mode, str(src), str(out), "--jobs", "2"]


def long_commands(src: Path, reps: int) -> list[measure.Command]:
    out = audio_corpus.CORPUS / "out" / src.parent.name
    return [
        measure.Command(
            "int16 streamed copy (soundfile)", _floor("copy16", src, out / "c16"), out / "c16", reps
        ),
        measure.Command(
            "float32 streamed copy (soundfile)",
            _floor("copyf32", src, out / "f32"),
            out / "f32",
            reps,
        ),
        measure.Command(
            f"noisecli audio white --level {LEVEL}",
            _noisecli(src, out / "lvl", "--level", LEVEL),
            out / "lvl",
            reps,
        ),
        measure.Command(
            f"noisecli audio white --snr {SNR}",
            _noisecli(src, out / "snr", "--snr", SNR),
            out / "snr",
            reps,
        ),
    ]


def small_commands(src: Path, reps: int) -> list[measure.Command]:
    out = audio_corpus.CORPUS / "out" / src.name
    return [
        measure.Command(
            "plain soundfile copy (read + write, 2-process pool)",
            _floor("plain", src, out / "plain"),
            out / "plain",
            reps,
        ),
        measure.Command(
            "int16 streamed copy (2-process pool)",
            _floor("copy16", src, out / "c16"),
            out / "c16",
            reps,
        ),
        measure.Command(
            f"noisecli audio white --level {LEVEL} -j 2",
            _noisecli(src, out / "lvl", "--level", LEVEL),
            out / "lvl",
            reps,
        ),
    ]


def audio_imports_cv2(src: Path) -> bool:
    """Whether `noisecli audio` on one file loads OpenCV (it must not)."""
    wav = next(src.glob("*.wav"))
    out = audio_corpus.CORPUS / "out" / "imports"
    code = (
        "import sys\nfrom noisecli.cli import main\n"
        f"try:\n    main(['audio', {str(wav)!r}, '-o', {str(out)!r}, '--overwrite', '-q'])\n"
        "except SystemExit:\n    pass\nprint('cv2:', 'cv2' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    shutil.rmtree(out, ignore_errors=True)
    return "cv2: True" in proc.stdout


def profile_long(src: Path, out: Path, top: int = 12) -> str:
    """cProfile of `noisecli audio --level` on ``src`` in this process, by own time."""
    from noisecli.cli import main

    prof = cProfile.Profile()
    argv = ["audio", str(src), "-o", str(out), "--level", LEVEL, "--seed", "1", "--overwrite"]
    with contextlib.suppress(SystemExit):
        prof.runcall(main, [*argv, "-q"])
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    repo = str(Path(__file__).resolve().parent.parent) + "/"
    lines = [ln.replace(repo, "") for ln in text.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    total = next(ln for ln in lines if "function calls" in ln).strip()
    return "\n".join([total, *lines[start : start + top + 1]])


def run_audio(quick: bool, reps: int) -> AudioReport:
    report = AudioReport()
    seconds = 300 if quick else 3600
    print(f"audio corpus ({seconds} s file, 50 small WAVs) ...", flush=True)
    long_file = audio_corpus.build_long(seconds)
    small = audio_corpus.build_speech()

    cmds = long_commands(long_file, reps)
    measure.run_side_by_side(cmds)
    title = f"### One {seconds // 60}-minute 48 kHz stereo PCM_16 WAV"
    table = measure.ratio_table(title, cmds, [("× int16 copy", cmds[0])])
    print("\n".join(table), flush=True)
    report.sections += [*table, ""]
    copy16 = cmds[0].samples.median
    for cmd, limit in ((cmds[2], 2.6), (cmds[3], 3.5)):
        ratio = cmd.samples.median / copy16
        report.targets.append(
            (
                f"{cmd.name}, {seconds // 60} min ≤ {limit}x the int16 copy",
                measure.fmt_ratio(ratio),
                ratio <= limit,
            )
        )
    rss = cmds[2].samples.peak_mib
    report.targets.append(
        (
            f"peak RSS of noisecli --level on the {seconds // 60}-minute file ≤ 100 MiB",
            f"{rss:.0f} MiB",
            rss <= 100,
        )
    )
    if not quick:
        twice = audio_corpus.build_long(2 * seconds)
        out = audio_corpus.CORPUS / "out" / "twice"
        _, _, peak = measure.run(_noisecli(twice, out, "--level", LEVEL), memory=True)
        shutil.rmtree(out, ignore_errors=True)
        ok = peak / 2**20 <= rss * 1.05  # 5 %: the resolution of RSS polling
        report.targets.append(
            (
                "a 2-hour file uses no more memory than a 1-hour one",
                f"{peak / 2**20:.0f} MiB vs {rss:.0f} MiB",
                ok,
            )
        )

    cmds = small_commands(small, reps)
    measure.run_side_by_side(cmds)
    table = measure.ratio_table(
        "### 50 speech-like WAVs of 30 s, 16 kHz mono PCM_16", cmds, [("× plain copy", cmds[0])]
    )
    print("\n".join(table), flush=True)
    report.sections += [*table, ""]
    ratio = cmds[2].samples.median / cmds[0].samples.median
    report.targets.append(
        (
            "50 small WAVs ≤ 1.5x a plain soundfile copy, same pool",
            measure.fmt_ratio(ratio),
            ratio <= 1.5,
        )
    )
    loads = audio_imports_cv2(small)
    report.targets.append(
        ("`noisecli audio` does not import cv2", "imports cv2" if loads else "no cv2", not loads)
    )

    print("audio profile ...", flush=True)
    short = audio_corpus.build_long(300)
    report.profile = profile_long(short, audio_corpus.CORPUS / "out" / "profile")
    shutil.rmtree(audio_corpus.CORPUS / "out", ignore_errors=True)
    if shutil.which("sox") is None:
        report.notes.append("SoX not installed: skipped (`apt-get install sox`).")
    else:
        report.notes.append("SoX is installed but not yet part of the audio tables.")
    return report
