"""The golden-bytes matrix: SHA-256 of outputs over every noise, sample type and layout.

``python -m tests.golden`` prints the digests of the whole matrix as JSON (``--write``
stores them in ``tests/golden_digests.json``). The suite compares them with the stored
ones in this process, with ``NOISECLI_PURE=1`` (the numpy twin of the compiled kernel) and
with numpy's AVX-512 and AVX2 code paths switched off: every digest must be equal. A change
of bytes is deliberate: rerun with ``--write`` and say why in CHANGELOG.md.

The inputs are generated here from fixed integer formulas (no random generator, no libm),
so they are the same bytes on every machine.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

DIGESTS = Path(__file__).with_name("golden_digests.json")

IMAGE_NOISES: dict[str, dict[str, Any]] = {
    "gaussian": {"std": 20},
    "gaussian-mono": {"std": "5:40", "mono": True},
    "uniform": {"std": 15},
    "poisson": {"photons": 30},
    "salt-pepper": {"amount": 0.2, "salt_ratio": 0.3},
    "salt-pepper-pixel": {"amount": "0.05:0.3", "per_pixel": True},
    "speckle": {"std": 0.3},
    "sensor": {"shot": 0.01, "read": 0.0005},
    "sensor-iso": {"iso_like": "100:3200", "mono": True},
    "severity": {"severity": 3},
}
AUDIO_NOISES = ("white", "pink", "brown", "blue", "violet")
IMAGE_DTYPES = ("uint8", "uint16", "float32")
LAYOUTS = {"grey": (), "colour": (3,), "alpha": (4,)}
SEEDS = (1, 2**40 + 3)
AUDIO_FILES = [  # (extension, subtype, channels)
    ("wav", "PCM_16", 1),
    ("wav", "PCM_16", 2),
    ("wav", "PCM_24", 2),
    ("wav", "FLOAT", 1),
    ("wav", "FLOAT", 2),
    ("flac", "PCM_16", 1),
    ("flac", "PCM_24", 2),
]


def noise_name(case: str) -> str:
    name = case.split("-")[0] if case != "salt-pepper-pixel" else "salt-pepper"
    return {"severity": "gaussian", "salt": "salt-pepper"}.get(name, name)


def make_image(
    dtype: str, layout: tuple[int, ...], height: int = 23, width: int = 37
) -> np.ndarray:
    """A deterministic image: integer ramps and a diagonal pattern, scaled to the dtype."""
    y, x = np.mgrid[0:height, 0:width]
    channels = layout[0] if layout else 1
    planes = [((x * (7 + 3 * c) + y * (11 + 5 * c) + (x * y) % 13) % 256) for c in range(channels)]
    base = np.stack(planes, axis=-1).astype(np.int64)
    if not layout:
        base = base[:, :, 0]
    if dtype == "uint8":
        return base.astype(np.uint8)
    if dtype == "uint16":
        return (base * 257 + (x if not layout else x[:, :, None]) % 7).astype(np.uint16)
    return (base.astype(np.float32) / np.float32(255.0)).astype(np.float32)


def make_audio(frames: int, channels: int, dtype: str) -> np.ndarray:
    """A deterministic chord-like signal from integer arithmetic, full scale about -10 dBFS."""
    t = np.arange(frames, dtype=np.int64)[:, None]
    c = np.arange(channels, dtype=np.int64)[None, :]
    saw = ((t * (37 + 11 * c)) % 400 - 200) + ((t * 53) % 250 - 125)  # within ±325
    if dtype == "int16":
        return (saw * 30).astype(np.int16)
    if dtype == "int32":
        return (saw * 30 * 65536).astype(np.int32)
    return (saw.astype(np.float32) * np.float32(30.0 / 32768.0)).astype(np.float32)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Arrays take levels in their own units (dtype steps; float data: their values), so the
# matrix's 8-bit levels are converted: the same noise as the files get, the same bytes.
LEVEL_FACTOR = {"uint8": 1.0, "uint16": 257.0, "float32": 1.0 / 255.0}
LEVEL_PARAMS = ("std", "mean")


def array_params(case: str, dtype: str) -> dict[str, Any]:
    """``IMAGE_NOISES[case]`` for ``add_noise`` on an image of ``dtype``: levels converted
    (gaussian and uniform), float images declared as HWC on [0, 1]."""
    params = dict(IMAGE_NOISES[case])
    factor = LEVEL_FACTOR[dtype]
    if noise_name(case) in ("gaussian", "uniform"):
        for name in LEVEL_PARAMS:
            value = params.get(name)
            if isinstance(value, str):
                params[name] = ":".join(repr(float(v) * factor) for v in value.split(":"))
            elif value is not None:
                params[name] = value * factor
    if dtype == "float32":
        params.update(data_range=(0, 1), layout="HWC")
    return params


def array_cases() -> Iterator[tuple[str, Callable[[], bytes]]]:
    """``add_noise`` on every image noise x dtype x layout x seed, and audio arrays."""
    from noisecli import add_noise

    for case in IMAGE_NOISES:
        for dtype in IMAGE_DTYPES:
            for layout_name, layout in LAYOUTS.items():
                for seed in SEEDS:
                    image = make_image(dtype, layout)

                    def run(image: np.ndarray = image, case: str = case, seed: int = seed) -> bytes:
                        params = array_params(case, str(image.dtype))
                        out = add_noise(image, noise_name(case), seed=seed, **params)
                        return bytes(out.tobytes())

                    yield f"array/{case}/{dtype}/{layout_name}/{seed}", run
    for name in AUDIO_NOISES:
        for dtype in ("int16", "int32", "float32"):
            for channels in (1, 2):
                for seed in SEEDS:
                    samples = make_audio(6000, channels, dtype)
                    if channels == 1:
                        samples = samples[:, 0]

                    def run_audio(
                        x: np.ndarray = samples, name: str = name, seed: int = seed
                    ) -> bytes:
                        out = add_noise(x, name, snr=12, sample_rate=16000, seed=seed)
                        return bytes(out.tobytes())

                    yield f"array/{name}/{dtype}/{channels}ch/{seed}", run_audio


def _write_inputs(root: Path) -> None:
    import cv2
    import soundfile as sf

    images = root / "images"
    (images / "sub").mkdir(parents=True)
    for dtype in ("uint8", "uint16"):
        for layout_name, layout in LAYOUTS.items():
            cv2.imwrite(str(images / f"{dtype}_{layout_name}.png"), make_image(dtype, layout))
    cv2.imwrite(str(images / "sub" / "float.tif"), make_image("float32", (3,)))
    audio = root / "audio"
    audio.mkdir()
    (audio / "noises").mkdir()
    for ext, subtype, channels in AUDIO_FILES:
        dtype = "float32" if subtype == "FLOAT" else ("int32" if subtype == "PCM_24" else "int16")
        sf.write(
            str(audio / f"{subtype.lower()}_{channels}ch.{ext}"),
            make_audio(5000, channels, dtype),
            16000,
            subtype=subtype,
        )
    bg = make_audio(3000, 1, "float32") * np.float32(0.5)
    sf.write(str(root / "noises.wav"), bg, 11025, subtype="FLOAT")


def _tree_digests(out: Path, prefix: str, root: Path) -> dict[str, str]:
    """Every file under ``out``; the manifest with the (temporary) input root made relative."""
    found = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "metadata.csv":
                data = data.replace(str(root).encode(), b"ROOT")
            found[f"{prefix}/{p.relative_to(out).as_posix()}"] = _digest(data)
    return found


def cli_digests() -> dict[str, str]:
    """Every output file (and manifest) of ``noisecli image`` / ``audio`` runs."""
    from click.testing import CliRunner

    from noisecli.cli import main

    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_inputs(root)
        runner = CliRunner()

        def run(args: list[str], out: Path, prefix: str) -> None:
            result = runner.invoke(main, [*args, "-o", str(out), "-q"])
            if result.exit_code != 0:
                raise RuntimeError(f"{args}: exit {result.exit_code}: {result.output}")
            found.update(_tree_digests(out, prefix, root))

        for case, params in IMAGE_NOISES.items():
            options: list[str] = ["--noise", noise_name(case), "--seed", "7"]
            for key, value in params.items():
                flag = "--" + key.replace("_", "-")
                options += [flag] if value is True else [flag, str(value)]
            run(["image", str(root / "images"), *options], root / "out" / case, f"cli/{case}")
        for name in AUDIO_NOISES:
            args = ["audio", str(root / "audio"), "--noise", name, "--snr", "8", "--seed", "9"]
            run(args, root / "out" / name, f"cli/{name}")
        run(
            ["audio", str(root / "audio"), "--noise", "white", "--level", "-30", "--seed", "3"],
            root / "out" / "white-level",
            "cli/white-level",
        )
        bg = ["--noise", "background", "--background", str(root / "noises.wav"), "--snr", "5"]
        run(["audio", str(root / "audio"), *bg, "--seed", "4"], root / "out" / "bg", "cli/bg")
    return found


def compute() -> dict[str, str]:
    """The digest of every case of the matrix."""
    digests = {name: _digest(run()) for name, run in array_cases()}
    digests.update(cli_digests())
    return digests


def main(argv: list[str]) -> int:
    digests = compute()
    if "--write" in argv:
        DIGESTS.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(digests)} digests to {DIGESTS}")
    else:
        print(json.dumps(digests, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
