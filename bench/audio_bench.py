"""Audio benchmarks: the 1-hour file against the int16 streamed copy, 50 small WAVs against a
plain soundfile copy with the same pool, peak memory, and where the time goes."""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import shlex
import shutil
import subprocess
import sys
import time
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
    stages: list[str] = field(default_factory=list)


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


def sox_command(src: Path, reps: int) -> measure.Command | None:
    """SoX adding white noise at LEVEL dBFS RMS: the input mixed (``-m``, unit gains) with a
    ``synth whitenoise`` of the same length (uniform on ±1, so RMS 1/√3 before ``vol``)."""
    if shutil.which("sox") is None:
        return None
    out = audio_corpus.CORPUS / "out" / src.parent.name / "sox"
    amplitude = 10 ** (float(LEVEL.removesuffix("dBFS")) / 20) * 3**0.5
    noise = f"|sox {shlex.quote(str(src))} -p synth whitenoise vol {amplitude:.6f}"
    mix = ["sox", "-m", "-v", "1", str(src), "-v", "1", noise, str(out / src.name)]
    script = f"mkdir -p {shlex.quote(str(out))} && {shlex.join(mix)}"
    return measure.Command(
        f"SoX synth whitenoise, mixed in at {LEVEL}", ["sh", "-c", script], out, reps
    )


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


def stage_table(src: Path) -> list[str]:
    """Where the time of ``noisecli audio --level`` goes on ``src``, stage by stage, one
    thread: the first pass (the noise power), reading, drawing the noise, mixing (scale,
    add, round, clip, count, measure) and writing, each timed alone over the whole file."""
    from noisecli.audio.io import AudioWriter, probe, sample_format
    from noisecli.audio.job import FileSource
    from noisecli.audio.mix import FUSED_TILE_VALUES, Layout, Mixer, NoisePass, analyse
    from noisecli.config import AudioOptions
    from noisecli.noise import White
    from noisecli.rng.keys import file_key

    info = probe(str(src))
    fmt = sample_format(info.subtype)
    layout = Layout(fmt, fmt, info.channels, info.sample_rate, info.frames)
    opts = AudioOptions.from_values(level=LEVEL)
    source = FileSource(str(src), info, 65536)
    key = file_key(src.name, 0)
    times: dict[str, float] = {}

    start = time.perf_counter()
    plan = analyse(source, White(), layout, opts, 1, key)
    times["first pass (noise power, no reading)"] = time.perf_counter() - start

    start = time.perf_counter()
    for _ in source.blocks():
        pass
    times["read (int16 blocks)"] = time.perf_counter() - start

    noise_pass = NoisePass(plan.noise, layout, opts, 1, key)
    mixer = Mixer(layout, opts, plan.gain, plan.scale, True)
    fused = 0.0
    for x in noise_pass.tiles(source, FUSED_TILE_VALUES):
        start = time.perf_counter()
        mixer.mix_stream(x, noise_pass.stream)
        fused += time.perf_counter() - start
    times["noise + mix in one fused pass (draw, scale, add, round, clip, count, measure)"] = fused
    # the unfused path (filtered colours, other formats), for comparison; not in the total
    noise_pass = NoisePass(plan.noise, layout, opts, 1, key)
    mixer = Mixer(layout, opts, plan.gain, plan.scale, True)
    draw = mix = 0.0
    for x in noise_pass.tiles(source):
        start = time.perf_counter()
        n = noise_pass.stream.read(len(x))
        draw += time.perf_counter() - start
        start = time.perf_counter()
        mixer.mix(x, n)
        mix += time.perf_counter() - start

    out = audio_corpus.CORPUS / "out" / "stages.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    blocks = list(source.blocks())
    start = time.perf_counter()
    with AudioWriter(str(out), info.container, info.subtype, info.sample_rate, info.channels) as w:
        for block in blocks:
            w.write(block)
    times["write (int16 blocks)"] = time.perf_counter() - start
    out.unlink()

    values = info.frames * info.channels
    total = sum(times.values())
    lines = [
        f"| stage ({info.frames / info.sample_rate / 60:.0f}-minute 48 kHz stereo PCM_16, "
        "one thread) | s | ns per value | share |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in times.items():
        lines.append(
            f"| {name} | {seconds:.2f} | {seconds / values * 1e9:.2f} | {seconds / total:.0%} |"
        )
    lines.append(f"| total | {total:.2f} | {total / values * 1e9:.2f} | 100% |")
    for name, seconds in (("draw the noise", draw), ("mix", mix)):
        lines.append(
            f"| (unfused, as for the filtered colours) {name} | {seconds:.2f} | "
            f"{seconds / values * 1e9:.2f} | |"
        )
    return lines


def run_audio(quick: bool, reps: int) -> AudioReport:
    report = AudioReport()
    seconds = 300 if quick else 3600
    print(f"audio corpus ({seconds} s file, 50 small WAVs) ...", flush=True)
    long_file = audio_corpus.build_long(seconds)
    small = audio_corpus.build_speech()

    cmds = long_commands(long_file, reps)
    sox = sox_command(long_file, max(1, reps - 2) if not quick else 1)
    if sox is not None:
        cmds.append(sox)
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
            f"peak RSS of noisecli --level on the {seconds // 60}-minute file ≤ 64 MiB",
            f"{rss:.0f} MiB",
            rss <= 64,
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
            "50 small WAVs ≤ 1.3x a plain soundfile copy, same pool",
            measure.fmt_ratio(ratio),
            ratio <= 1.3,
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
    report.stages = stage_table(short)
    if shutil.which("sox") is None:
        report.notes.append("SoX not installed: skipped (`apt-get install sox`).")
    return report
