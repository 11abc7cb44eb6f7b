"""The audio benchmark corpus, synthesised and cached under bench/corpus/ (no cv2 here).

- ``speech16k-50``: 50 speech-like mono WAVs of 30 s at 16 kHz (PCM_16): a voiced source
  (harmonics of a gliding pitch with jitter) shaped into syllables of 120-350 ms with
  pauses, plus a faint room noise.
- ``long48k-1h`` (and ``-2h``): one 48 kHz stereo PCM_16 WAV of an hour (691 MB), written in
  blocks so that making it needs little memory: slow chords with a beat, and noise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

CORPUS = Path(__file__).resolve().parent / "corpus"
RECIPE = 1
BLOCK_SECONDS = 10


def _stamp_ok(folder: Path, wanted: dict[str, object]) -> bool:
    stamp = folder / "corpus.json"
    return stamp.is_file() and json.loads(stamp.read_text()) == wanted


def _speech(rng: np.random.Generator, seconds: float, rate: int) -> np.ndarray:
    n = int(seconds * rate)
    t = np.arange(n) / rate
    pitch = rng.uniform(90, 220) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t))
    pitch *= 1 + 0.01 * rng.standard_normal(n).cumsum() / np.sqrt(n)  # slow jitter
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 25))
    envelope = np.zeros(n)
    pos = int(rng.uniform(0.1, 0.5) * rate)
    while pos < n:
        length = int(rng.uniform(0.12, 0.35) * rate)
        window = np.hanning(length)[: max(0, min(length, n - pos))]
        envelope[pos : pos + len(window)] = window * rng.uniform(0.4, 1.0)
        pos += length + int(rng.choice([0.02, 0.05, 0.3, 0.6]) * rate)
    signal = 0.25 * voice * envelope + 0.003 * rng.standard_normal(n)
    return np.clip(signal, -1, 1)


def build_speech(count: int = 50, seconds: float = 30.0, rate: int = 16000) -> Path:
    folder = CORPUS / f"speech16k-{count}"
    wanted = {"recipe": RECIPE, "count": count, "seconds": seconds, "rate": rate}
    if _stamp_ok(folder, wanted):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(16000)
    for i in range(count):
        sf.write(folder / f"speech{i:03d}.wav", _speech(rng, seconds, rate), rate, "PCM_16")
    (folder / "corpus.json").write_text(json.dumps(wanted))
    return folder


def build_long(seconds: int, rate: int = 48000, name: str = "long48k") -> Path:
    """One stereo PCM_16 WAV of ``seconds``, alone in its folder; returns the file."""
    folder = CORPUS / f"{name}-{seconds}s"
    path = folder / f"{name}.wav"
    wanted = {"recipe": RECIPE, "seconds": seconds, "rate": rate}
    if _stamp_ok(folder, wanted):
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(48000)
    block = BLOCK_SECONDS * rate
    with sf.SoundFile(path, "w", rate, 2, "PCM_16") as fh:
        for start in range(0, seconds * rate, block):
            t = (start + np.arange(min(block, seconds * rate - start))) / rate
            chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
            beat = 0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t)
            left = 0.2 * chord * beat + 0.01 * rng.standard_normal(len(t))
            right = 0.2 * np.roll(chord, 7) * (1 - beat) + 0.01 * rng.standard_normal(len(t))
            fh.write(np.stack([left, right], axis=1))
    (folder / "corpus.json").write_text(json.dumps(wanted))
    return path
