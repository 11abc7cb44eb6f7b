"""Synthesise samples/audio/speech.wav: 3 s of speech-like sound, 16 kHz mono PCM_16.

A source-filter model: a glottal pulse train (falling intonation, a little jitter) through
cascaded formant resonators gives vowels; high-passed noise gives fricatives; syllables
are shaped by raised-cosine envelopes with short pauses between words. No recording is
involved; the output is released under CC0. Run: ``python bench/make_speech_sample.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

RATE = 16000
OUT = Path(__file__).resolve().parent.parent / "samples" / "audio" / "speech.wav"
# vowel -> first three formants (Hz), adult male averages
VOWELS = {
    "a": (730, 1090, 2440),
    "e": (530, 1840, 2480),
    "i": (270, 2290, 3010),
    "o": (570, 840, 2410),
    "u": (300, 870, 2240),
}
# (fricative or "", vowel, seconds of vowel, pause after in seconds)
UTTERANCE = [
    ("s", "o", 0.16, 0.0),
    ("", "u", 0.12, 0.05),
    ("", "a", 0.18, 0.0),
    ("sh", "i", 0.14, 0.12),
    ("", "e", 0.15, 0.0),
    ("s", "a", 0.2, 0.18),
    ("", "o", 0.14, 0.0),
    ("sh", "u", 0.16, 0.06),
    ("", "i", 0.12, 0.0),
    ("s", "e", 0.22, 0.2),
]


def envelope(n: int, ramp: float = 0.025) -> np.ndarray:
    r = min(int(ramp * RATE), n // 2)
    env = np.ones(n)
    fade = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, r))
    env[:r], env[n - r :] = fade, fade[::-1]
    return env


def vowel(name: str, seconds: float, f0_start: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * RATE)
    f0 = np.linspace(f0_start, f0_start * 0.88, n) * (1 + 0.01 * rng.standard_normal(n))
    phase = np.cumsum(f0 / RATE)
    pulses = np.diff(np.floor(phase), prepend=0.0)  # one impulse per glottal period
    source = signal.lfilter([1.0], [1.0, -1.9, 0.9025], pulses)  # -12 dB/octave glottal roll-off
    out = source
    for i, formant in enumerate(VOWELS[name]):
        bw = 60 + 40 * i
        r = np.exp(-np.pi * bw / RATE)
        a = [1.0, -2 * r * np.cos(2 * np.pi * formant / RATE), r * r]
        out = signal.lfilter([sum(a)], a, out)
    return np.asarray(out * envelope(n))


def fricative(kind: str, rng: np.random.Generator) -> np.ndarray:
    n = int(0.09 * RATE)
    band = (4000, 7500) if kind == "s" else (2000, 5500)
    sos = signal.butter(4, band, btype="bandpass", fs=RATE, output="sos")
    return np.asarray(signal.sosfilt(sos, rng.standard_normal(n)) * envelope(n, 0.02))


def main() -> None:
    rng = np.random.default_rng(20240601)
    parts = [np.zeros(int(0.15 * RATE))]
    f0 = 150.0
    for fric, vow, seconds, pause in UTTERANCE:
        if fric:
            parts.append(0.15 * fricative(fric, rng))
        v = vowel(vow, seconds, f0, rng)
        parts.append(v / np.abs(v).max())
        parts.append(np.zeros(int(pause * RATE)))
        f0 = max(100.0, f0 - 5.0)
    speech = np.concatenate(parts)
    speech = np.pad(speech, (0, max(0, 3 * RATE - len(speech))))
    speech *= 10 ** (-3 / 20) / np.abs(speech).max()  # peak at -3 dBFS
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sf.write(OUT, speech, RATE, subtype="PCM_16")
    rms = 20 * np.log10(np.sqrt(np.mean(speech**2)))
    print(f"wrote {OUT} ({len(speech) / RATE:.2f} s, RMS {rms:.1f} dBFS)")


if __name__ == "__main__":
    main()
