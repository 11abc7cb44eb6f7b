"""Measure what the audio issue promises: SNR/level errors, spectral slopes, peak memory.

    python bench/audio_accuracy.py            # all three
    python bench/audio_accuracy.py snr        # SNR and --level errors (noisecli audio on files)
    python bench/audio_accuracy.py slopes     # slope of each colour at 16 and 48 kHz
    python bench/audio_accuracy.py memory     # peak RSS for 20- and 40-minute 48 kHz stereo

Every number comes from files written by the `noisecli audio` command in a temp folder.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

CHILD = """
import sys, time
from noisecli.cli import main
start = time.perf_counter()
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
with open("/proc/self/status") as fh:  # VmHWM: this process's peak, not its parent's
    peak = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
print(peak, time.perf_counter() - start)
sys.exit(code)
"""


def speech_like(frames: int, rate: int, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / rate
    out = np.empty((frames, channels))
    for c in range(channels):
        tone = sum(
            np.sin(2 * np.pi * (110 + 30 * c) * k * t + rng.uniform(0, 6.3)) / k
            for k in range(1, 8)
        )
        out[:, c] = 0.12 * tone * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t + c))
    return out


def noisecli(*args: object) -> tuple[int, float]:
    """Run `noisecli` in a fresh process; return its peak RSS (KiB) and seconds."""
    argv = [sys.executable, "-c", CHILD, *map(str, args), "-j", "1", "-q"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=True)
    peak, seconds = proc.stdout.split()[-2:]
    return int(peak), float(seconds)


def power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x)))


def snr(tmp: Path) -> None:
    print("SNR and level reached, measured from the files (16-bit WAV, 3 s, 16 kHz):")
    print(f"  {'noise':<11} {'ch':>2} {'target':>8} {'measured':>10} {'error dB':>10}")
    rng = np.random.default_rng(1)
    sf.write(tmp / "bg.flac", rng.standard_normal((30000, 2)) * 0.1, 22050)
    for channels in (1, 2):
        src = tmp / f"in{channels}" / "a.wav"
        src.parent.mkdir()
        sf.write(src, speech_like(48000, 16000, channels), 16000, subtype="PCM_16")
        clean = sf.read(src, always_2d=True)[0]
        for noise in ("white", "pink", "brown", "background"):
            out = tmp / f"out-{noise}-{channels}"
            extra = (
                ["--background", tmp / "bg.flac"] if noise == "background" else ["--noise", noise]
            )
            noisecli("audio", src.parent, "-o", out, "--snr", 10, "--seed", 1, *extra)
            noisy = sf.read(out / "a.wav", always_2d=True)[0]
            got = 10 * np.log10(power(clean) / power(noisy - clean))
            print(f"  {noise:<11} {channels:>2} {'10 dB':>8} {got:>10.5f} {got - 10:>+10.5f}")
        for noise in ("white", "pink", "brown"):
            out = tmp / f"lvl-{noise}-{channels}"
            noisecli(
                "audio", src.parent, "-o", out, "--level", "-32dBFS", "--noise", noise, "--seed", 2
            )
            noisy = sf.read(out / "a.wav", always_2d=True)[0]
            got = 10 * np.log10(power(noisy - clean))
            print(f"  {noise:<11} {channels:>2} {'-32 dBFS':>8} {got:>10.5f} {got + 32:>+10.5f}")


def slopes(tmp: Path) -> None:
    print("Spectral slope, Welch PSD fitted against log2 f from 200 Hz to 0.4·fs (2^20 frames):")
    print(f"  {'noise':<8} {'target':>8} {'16 kHz':>8} {'48 kHz':>8}")
    targets = {"white": 0.0, "pink": -3.0103, "brown": -6.0206, "blue": 3.0103, "violet": 6.0206}
    row: dict[str, list[float]] = {n: [] for n in targets}
    for rate in (16000, 48000):
        src = tmp / f"silence{rate}" / "s.wav"
        src.parent.mkdir()
        sf.write(src, np.zeros(1 << 20, np.float32), rate, subtype="FLOAT")
        for noise in targets:
            out = tmp / f"slope-{noise}-{rate}"
            noisecli(
                "audio", src.parent, "-o", out, "--level", "-30", "--noise", noise, "--seed", 3
            )
            x = sf.read(out / "s.wav")[0]
            f, pxx = signal.welch(x, rate, nperseg=4096)
            band = (f >= 200) & (f <= 0.4 * rate)
            row[noise].append(float(np.polyfit(np.log2(f[band]), 10 * np.log10(pxx[band]), 1)[0]))
    for noise, values in row.items():
        print(f"  {noise:<8} {targets[noise]:>+8.3f} {values[0]:>+8.3f} {values[1]:>+8.3f}")


def memory(tmp: Path) -> None:
    print("Peak RSS of `noisecli audio FILE -o OUT --snr 10 --noise N -j 1`, 48 kHz stereo PCM_16:")
    second = np.round(speech_like(48000, 48000, 2) * 32767).astype(np.int16)
    for seconds in (1, 20 * 60, 40 * 60):
        src = tmp / f"long{seconds}.wav"
        with sf.SoundFile(src, "w", 48000, 2, "PCM_16") as fh:
            for i in range(seconds):
                fh.write(np.roll(second, i * 997, axis=0))
        size = src.stat().st_size / 1e6
        for noise in ("white", "pink"):
            out = tmp / "mem"
            peak, elapsed = noisecli("audio", src, "-o", out, "--snr", 10, "--noise", noise)
            minutes = seconds / 60
            print(
                f"  {noise:<6} {minutes:6.2f} min ({size:6.1f} MB): "
                f"peak {peak / 1024:6.1f} MiB, {elapsed:5.1f} s"
            )
            (out / src.name).unlink()
        src.unlink()


def main() -> None:
    wanted = sys.argv[1:] or ["snr", "slopes", "memory"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in wanted:
            sub = Path(tmp) / name
            sub.mkdir()
            {"snr": snr, "slopes": slopes, "memory": memory}[name](sub)


if __name__ == "__main__":
    main()
