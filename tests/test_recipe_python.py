"""Recipes from Python: ``noisecli.Recipe`` wherever a noise goes, the places of its steps,
file names relative to the recipe, the tiles of ``apply``, and the ``Sweep`` model."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import noisecli
from noisecli.errors import UsageError
from noisecli.image.engine import noise_image
from noisecli.noise import Background, Gaussian, SaltPepper, Speckle, Uniform
from noisecli.noise.base import Span
from noisecli.noise.level import Level
from noisecli.noise.recipe import TILE_VALUES, OneOf, Recipe, Step, Sweep, parse_severities
from noisecli.ranges import clip_to_range
from noisecli.rng.keys import file_key, output_random, sample_key
from tests.conftest import synthetic_image, write_image

CAMERA = """\
medium = "image"

[[step]]
noise = "gaussian"
std = "5:20"

[[step]]
noise = "salt-pepper"
amount = 0.02
p = 0.5
"""


def test_recipe_is_exported_lazily() -> None:
    code = (
        "import sys, noisecli; assert 'noisecli.noise.recipe' not in sys.modules; noisecli.Recipe"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert noisecli.Recipe is Recipe
    assert "Recipe" in noisecli.__all__


def test_add_noise_takes_a_recipe_as_it_takes_a_noise() -> None:
    recipe = Recipe.from_toml(CAMERA)
    img = synthetic_image(40, 30, 3, "uint8", seed=1)
    out = noisecli.add_noise(img, recipe, seed=5)
    assert out.shape == img.shape and out.dtype == img.dtype
    expected, _ = noise_image(img, recipe, output_random(5, sample_key(0)))
    assert out.tobytes() == expected.tobytes()
    assert noisecli.add_noise(img, recipe, seed=5).tobytes() == out.tobytes()
    with pytest.raises(UsageError, match="either in the Noise instance or as keywords"):
        noisecli.add_noise(img, recipe, seed=5, std=3)


@pytest.mark.skipif(not hasattr(noisecli, "Augmenter"), reason="no Augmenter in this version")
def test_augmenter_takes_a_recipe() -> None:
    recipe = Recipe.from_toml(CAMERA)
    img = synthetic_image(24, 20, 3, "uint8", seed=2)
    aug = noisecli.Augmenter(recipe, seed=3)
    first = aug(img, key=(0, 1))
    assert first.shape == img.shape and first.dtype == img.dtype
    assert np.array_equal(aug(img, key=(0, 1)), first)
    assert not np.array_equal(aug(img, key=(1, 1)), first)


def test_process_dataset_takes_a_recipe(tmp_path: Path) -> None:
    for i in range(3):
        write_image(tmp_path / "in" / f"a{i}.png", synthetic_image(20, 24, 3, "uint8", seed=i))
    cfg = noisecli.RunConfig(
        ("in",), "out", Recipe.from_toml(CAMERA, "camera.toml"), seed=4, jobs=1, quiet=True
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        report = noisecli.process_dataset(cfg)
    assert report.exit_code == 0 and report.written == 3
    with open(tmp_path / "out" / "metadata.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["noise"] for r in rows} == {"recipe:camera.toml"}
    for row in rows:
        params = json.loads(row["params"])
        assert params["steps"][0]["noise"] == "gaussian" and 5 <= params["steps"][0]["std"] <= 20


def test_a_recipe_of_the_other_medium_is_refused_by_the_config() -> None:
    audio = Recipe.from_toml('[[step]]\nnoise = "white"\nsnr = 10\n', "speech.toml")
    with pytest.raises(UsageError, match=r"speech\.toml is an audio recipe: it cannot noise image"):
        noisecli.RunConfig(("in",), "out", audio)
    with pytest.raises(UsageError, match="snr/--level do not apply with --recipe"):
        noisecli.RunConfig(
            ("in",), "out", audio, media="audio", audio=noisecli.AudioOptions.from_values(snr=5)
        )
    noisecli.RunConfig(("in",), "out", audio, media="audio", audio=noisecli.AudioOptions())


# -- where each step was written; file names relative to the recipe ------------------------------


def test_every_noise_knows_its_line() -> None:
    text = (
        '[[step]]\nnoise = "gaussian"\nstd = 5\n\n[[step]]\np = 0.5\none_of = [\n'
        '  { noise = "uniform" },\n  { noise = "speckle" },\n]\n'
    )
    recipe = Recipe.from_toml(text, "r.toml")
    assert recipe.where(0) == "r.toml:1"
    assert recipe.where(0, key="std") == "r.toml:3"
    assert recipe.where(1, 0) == "r.toml:8" and recipe.where(1, 1) == "r.toml:9"
    mapped = recipe.map_noises(lambda n: n)
    assert mapped.places == recipe.places and mapped == recipe
    built = Recipe([Gaussian(), OneOf([Uniform(), Speckle()])])
    assert built.where(0) == "steps[0]" and built.where(1, 1) == "steps[1].one_of[1]"
    seen = []
    recipe.map_placed(lambda n, w: seen.append((n.name, w.at())) or n)
    assert seen == [("gaussian", "r.toml:1"), ("uniform", "r.toml:8"), ("speckle", "r.toml:9")]


def test_background_paths_are_relative_to_the_recipe_file(tmp_path: Path) -> None:
    folder = tmp_path / "recipes"
    folder.mkdir()
    text = (
        'medium = "audio"\n[[step]]\nnoise = "background"\nbackground = "noises/"\nsnr = 5\n'
        '[[step]]\nnoise = "background"\nbackground = "/abs/noises"\nsnr = 5\n'
        '[[step]]\nnoise = "background"\nbackground = "~/noises"\nsnr = 5\n'
    )
    (folder / "speech.toml").write_text(text)
    recipe = Recipe.load(folder / "speech.toml")
    got = [s.noise.background for s in recipe.steps if isinstance(s, Step)]
    assert got == [f"{folder}/noises/", "/abs/noises", "~/noises"]
    assert isinstance(recipe.steps[0], Step) and isinstance(recipe.steps[0].noise, Background)
    assert Recipe.from_toml(text).steps[0].noise.background == "noises/"  # type: ignore[union-attr]
    assert recipe.label == "recipe:speech.toml"
    assert Recipe([Gaussian()]).label == "recipe"


def test_a_folder_is_not_a_recipe(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        Recipe.load(tmp_path)


# -- apply in tiles: the same bytes, the steps' work in cache -----------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_tiles_give_the_bytes_of_the_whole_chunk(dtype: str, channels: int) -> None:
    """A 300-row image in one chunk is more than one tile; the steps applied in order to
    the whole chunk by hand give the same bytes."""
    image = synthetic_image(300, 160, channels, dtype, seed=3)
    gaussian, salt, speckle = Gaussian(std=Level(5, 30)), SaltPepper(), Speckle()
    recipe = Recipe([gaussian, salt, speckle])
    colour = channels - 1 if channels in (2, 4) else channels
    assert 300 * 160 * colour > TILE_VALUES or channels == 1
    for key in range(3):
        rnd = output_random(8, file_key("big.png", key))
        out, noiser = noise_image(image, recipe, rnd, chunk_rows=1000)
        by_hand = output_random(8, file_key("big.png", key))
        view = image if image.ndim == 3 else image[:, :, None]
        info = noiser.info
        work = view[:, :, :colour].astype(np.float32)
        for i, noise in enumerate((gaussian, salt, speckle)):
            sub = type(by_hand)(by_hand.draws, by_hand.stream.child(f"step{i}"))
            work = noise.apply(work, Span(), info, noise.prepare(info, sub))
        work, _ = clip_to_range(work, info.lo, info.hi, dtype != "float32")
        expected = view.copy()
        expected[:, :, :colour] = work.astype(dtype)
        assert out.tobytes() == expected.reshape(image.shape).tobytes(), key
        for rows in (7, 256):
            again, _ = noise_image(image, recipe, output_random(8, file_key("big.png", key)), rows)
            assert again.tobytes() == out.tobytes()


# -- the sweep model ---------------------------------------------------------------------------


def test_severities_of_a_sweep() -> None:
    assert parse_severities("1:5") == (1, 2, 3, 4, 5)
    assert parse_severities("1,3,5") == (1, 3, 5)
    assert parse_severities(2) == (2,)
    assert parse_severities("1:2,2:3") == (1, 2, 3)
    for bad, message in (("0:2", "minimum"), ("6", "maximum"), ("1.5", "whole"), ("", "value")):
        with pytest.raises(UsageError, match=message):
            parse_severities(bad)


def test_a_sweep_holds_every_noise_at_every_severity() -> None:
    sweep = Sweep("gaussian,shot", "1:2", preset="cifar10-c")
    assert [(v.folder, v.severity, v.noise.name) for v in sweep.variants] == [
        ("gaussian", 1, "gaussian"),
        ("gaussian", 2, "gaussian"),
        ("shot", 1, "poisson"),
        ("shot", 2, "poisson"),
    ]
    assert sweep.variants[3].prefix == "shot/2"
    assert all(getattr(v.noise, "preset", None) == "cifar10-c" for v in sweep.variants)
    assert Sweep(["gaussian"]).severities == (1, 2, 3, 4, 5)
    assert sweep.noises == ("gaussian", "shot")


@pytest.mark.parametrize(
    ("noises", "message"),
    [
        ("gaussian,uniform", "'uniform' has no severity table; the noises with one: gaussian"),
        ("shot,poisson", "'shot' and 'poisson' are the same noise"),
        ("gaussian,nope", "unknown noise 'nope'"),
        ("pink", "does not apply to image"),
        ("", "noise names separated by commas"),
    ],
)
def test_bad_sweeps(noises: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Sweep(noises)


def test_a_sweep_is_not_applied_to_one_array() -> None:
    with pytest.raises(UsageError, match="output of its own"):
        noisecli.add_noise(np.zeros((4, 4), np.uint8), Sweep("gaussian"), seed=1)
