"""The benchmark corpus, built from samples/photos and cached under bench/corpus/.

Each image is a random crop (60-100 % of a photo's side, any aspect) resized to the target
size, flipped at random and written as JPEG q95 or PNG. The recipe is seeded, so a corpus
is rebuilt identically; a stamp file records what a directory holds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
CORPUS = ROOT / "corpus"
PHOTOS = REPO / "samples" / "photos"
RECIPE = 1  # bump when the recipe below changes: cached corpora are rebuilt


@dataclass(frozen=True)
class ImageSet:
    """``count`` images of ``width`` x ``height`` in format ``ext``."""

    name: str
    ext: str
    width: int
    height: int
    count: int

    @property
    def path(self) -> Path:
        return CORPUS / f"{self.name}-{self.count}"


def image_sets(quick: bool) -> list[ImageSet]:
    count = 40 if quick else 200
    return [
        ImageSet("jpeg1080p", ".jpg", 1920, 1080, count),
        ImageSet("png768p", ".png", 1024, 768, count),
    ]


def _variant(photo: np.ndarray, rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    h, w = photo.shape[:2]
    ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    crop = photo[y : y + ch, x : x + cw]
    out = cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC)
    code = (None, 0, 1, -1)[int(rng.integers(0, 4))]  # none, vertical, horizontal, both
    return out if code is None else cv2.flip(out, code)


def build_images(spec: ImageSet) -> Path:
    """The directory of ``spec``'s images, built once and reused while the recipe holds."""
    stamp = spec.path / "corpus.json"
    wanted = {"recipe": RECIPE, **asdict(spec)}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return spec.path
    spec.path.mkdir(parents=True, exist_ok=True)
    photos = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in sorted(PHOTOS.glob("*.jpg"))]
    rng = np.random.default_rng(20240601)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if spec.ext == ".jpg" else []
    for i in range(spec.count):
        img = _variant(photos[i % len(photos)], rng, spec.width, spec.height)
        if not cv2.imwrite(str(spec.path / f"img{i:04d}{spec.ext}"), img, params):
            raise OSError(f"cannot write into {spec.path}")
    stamp.write_text(json.dumps(wanted))
    return spec.path
