"""The shipped recipes (examples/recipes/*.toml) and the module docstring's examples: each
loads, reads back equal from its TOML, and runs."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

import noisecli.noise.recipe as recipe_module
from noisecli.audio.recordings import bind
from noisecli.image.engine import noise_image
from noisecli.noise import Background, Noise
from noisecli.noise.base import MediaInfo
from noisecli.noise.recipe import AudioStep, OneOf, Recipe
from noisecli.rng.keys import file_key, output_random
from tests.audio_support import speech_like, write

EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "recipes").glob("*.toml"))
IMAGE_EXAMPLES = [p for p in EXAMPLES if Recipe.load(p).medium == "image"]
AUDIO_EXAMPLES = [p for p in EXAMPLES if Recipe.load(p).medium == "audio"]


def test_the_examples_are_there() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"camera.toml", "speech.toml", "augment.toml", "cifar-like.toml"} <= names
    assert IMAGE_EXAMPLES and AUDIO_EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_an_example_loads_and_reads_back_equal(path: Path) -> None:
    recipe = Recipe.load(path)
    declared = re.search(r'^medium = "(\w+)"', path.read_text(), re.M)
    assert declared is not None and recipe.medium == declared.group(1)
    assert Recipe.load(path, media=recipe.medium) == recipe
    assert Recipe.from_toml(recipe.to_toml()) == recipe
    assert recipe.source == str(path)


def test_the_examples_say_what_they_were_asked_to_say() -> None:
    camera = Recipe.load(EXAMPLES[0].parent / "camera.toml")
    assert [type(s).__name__ for s in camera.steps] == ["Step", "Step"]
    assert camera.steps[0].noise.name == "sensor"
    assert (camera.steps[1].noise.name, camera.steps[1].p) == ("salt-pepper", 0.3)
    augment = Recipe.load(EXAMPLES[0].parent / "augment.toml")
    assert any(isinstance(s, OneOf) for s in augment.steps)
    cifar = Recipe.load(EXAMPLES[0].parent / "cifar-like.toml")
    group = cifar.steps[0]
    assert isinstance(group, OneOf)
    assert {s.noise.name for s in group.steps} == {"gaussian", "poisson", "salt-pepper", "speckle"}
    assert all(getattr(s.noise, "preset", None) == "cifar10-c" for s in group.steps)


def photo(rows: int = 40, width: int = 33) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:width]
    rgb = np.stack([xx * 255 / width, yy * 255 / rows, (xx + yy) * 127 / (rows + width)], -1)
    return np.rint(rgb).astype(np.uint8)


@pytest.mark.parametrize("path", IMAGE_EXAMPLES, ids=[p.name for p in IMAGE_EXAMPLES])
def test_an_image_example_runs_reproducibly_whatever_the_chunk(path: Path) -> None:
    recipe = Recipe.load(path)
    image = photo()
    outputs = set()
    for copy in range(8):
        key = file_key(f"photos/{path.stem}.png", copy)
        whole, noiser = noise_image(image, recipe, output_random(3, key), chunk_rows=1000)
        assert whole.shape == image.shape and whole.dtype == image.dtype
        for rows in (1, 7):
            banded, _ = noise_image(image, recipe, output_random(3, key), chunk_rows=rows)
            assert banded.tobytes() == whole.tobytes(), (copy, rows, noiser.prepared.params)
        again, again_noiser = noise_image(image, recipe, output_random(3, key))
        assert again.tobytes() == whole.tobytes()
        assert json.dumps(again_noiser.prepared.params) == json.dumps(noiser.prepared.params)
        outputs.add(whole.tobytes())
    assert len(outputs) > 1


def recordings(folder: Path) -> Path:
    for i, seconds in enumerate((0.5, 2.0)):
        rate = 16000
        write(folder / f"room{i}.wav", speech_like(int(seconds * rate), rate, seed=i), rate)
    return folder


def bound(recipe: Recipe, folder: Path) -> Recipe:
    """The recipe with its background recordings taken from ``folder`` and opened."""

    def fn(noise: Noise) -> Noise:
        if isinstance(noise, Background):
            return bind(dataclasses.replace(noise, background=str(folder)))
        return noise

    return recipe.map_noises(fn)


@pytest.mark.parametrize("path", AUDIO_EXAMPLES, ids=[p.name for p in AUDIO_EXAMPLES])
def test_an_audio_example_draws_its_steps(path: Path, tmp_path: Path) -> None:
    recipe = bound(Recipe.load(path), recordings(tmp_path / "noises"))
    info = MediaInfo("audio", "int16", (24000, 1), 1, -32768.0, 32767.0, 1.0, 16000)
    recipe.check(info)
    counts: dict[str, int] = {}
    for copy in range(40):
        key = file_key(f"speech/{path.stem}.wav", copy)
        steps = recipe.audio_steps(info, output_random(5, key))
        again = recipe.audio_steps(info, output_random(5, key))
        assert [(s.noise.name, s.kind, s.value) for s in steps] == [
            (s.noise.name, s.kind, s.value) for s in again
        ]
        for step, twin in zip(steps, again, strict=True):
            assert isinstance(step, AudioStep)
            block = step.noise.stream(step.prepared).read(1000)
            assert block.shape == (1000, 1) and np.isfinite(block).all()
            assert np.array_equal(block, twin.noise.stream(twin.prepared).read(1000))
            step.noise.stream(step.prepared).close()
            twin.noise.stream(twin.prepared).close()
            counts[step.noise.name] = counts.get(step.noise.name, 0) + 1
    if path.name == "speech.toml":
        assert counts["background"] == 40
        assert 8 <= counts["white"] <= 32  # p = 0.5 over 40 files


def docstring_examples() -> list[str]:
    """The indented TOML blocks after ``::`` in the recipe module's docstring."""
    doc = recipe_module.__doc__ or ""
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", doc)
    return [re.sub(r"^    ", "", b, flags=re.M) for b in blocks]


def test_the_docstring_examples_are_valid_recipes() -> None:
    blocks = docstring_examples()
    assert len(blocks) == 2
    image, audio = (Recipe.from_toml(b, "docstring") for b in blocks)
    assert image.medium == "image" and len(image.steps) == 3
    assert audio.medium == "audio" and [s.noise.name for s in audio.steps] == [
        "background",
        "white",
    ]
