"""Recipes: the model, the file format and its errors, the draws and the engine's bytes."""

from __future__ import annotations

import json
import math
import pickle
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from noisecli.errors import UsageError
from noisecli.image.engine import ChunkNoiser, image_info, noise_image
from noisecli.noise import Gaussian, Pink, SaltPepper, Sensor, Speckle, Uniform, White, get_noise
from noisecli.noise.base import MediaInfo, Noise, Prepared, Span
from noisecli.noise.level import Level
from noisecli.noise.recipe import AudioStep, OneOf, Recipe, Step
from noisecli.ranges import clip_to_range, value_range
from noisecli.rng.keys import OutputRandom, file_key, output_random

SEED = 20240611


def rnd(key: int, seed: int = SEED) -> OutputRandom:
    return output_random(seed, file_key(f"img{key}.png", 0))


def picture(dtype: str = "uint8", rows: int = 24, width: int = 17, channels: int = 4):
    """Values over the whole range, black and white rows included; alpha if 2 or 4."""
    lo, hi, _ = value_range(dtype)
    unit = np.random.default_rng(5).random((rows, width, channels))
    unit[0], unit[-1] = 0.0, 1.0
    values = lo + unit * (hi - lo)
    return (values if dtype == "float32" else np.rint(values)).astype(dtype)


def audio_info(frames: int = 4000, channels: int = 2) -> MediaInfo:
    return MediaInfo("audio", "float32", (frames, channels), channels, -1.0, 1.0, 1.0, 16000)


CAMERA = """\
# a camera
medium = "image"

[[step]]
noise = "sensor"
iso_like = "100:3200"

[[step]]
noise = "salt-pepper"
amount = "0.01:0.05"
p = 0.3

[[step]]
one_of = [ { noise = "gaussian", std = "5:20", weight = 2 }, { noise = "uniform", std = 10 } ]
p = 0.5
"""


def camera_by_hand() -> Recipe:
    return Recipe(
        [
            Step(Sensor(iso_like=Level(100, 3200))),
            Step(SaltPepper(amount=Level(0.01, 0.05)), p=0.3),
            OneOf(
                [Gaussian(std=Level(5, 20)), Uniform(std=Level.fixed(10))], weights=(2, 1), p=0.5
            ),
        ]
    )


# -- the model ---------------------------------------------------------------------------------


def test_toml_python_objects_and_plain_dicts_build_the_same_recipe() -> None:
    dicts = Recipe(
        [
            {"noise": "sensor", "iso_like": "100:3200"},
            {"noise": "salt-pepper", "amount": "0.01:0.05", "p": 0.3},
            {
                "one_of": [
                    {"noise": "gaussian", "std": "5:20", "weight": 2},
                    {"noise": "uniform", "std": 10},
                ],
                "p": 0.5,
            },
        ]
    )
    assert Recipe.from_toml(CAMERA) == camera_by_hand() == dicts
    assert isinstance(dicts, Noise)
    assert dicts.name == "recipe"
    assert dicts.steps[2].weights == (2.0, 1.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"5:30"', {"std": "5:30"}),
        ("25", {"std": "25"}),
        ("25.5", {"std": "25.5"}),
        ('"10%"', {"std": "10%"}),
        ('"5%:10%"', {"std": "5%:10%"}),
    ],
)
def test_values_are_the_command_lines(value: str, expected: dict[str, str]) -> None:
    recipe = Recipe.from_toml(f'[[step]]\nnoise = "gaussian"\nstd = {value}\n')
    assert recipe.steps[0].noise == Gaussian.from_options(expected)


def test_severities_switches_text_and_aliases() -> None:
    recipe = Recipe.from_toml(
        "[[step]]\nnoise = 'normal'\nseverity = 3\npreset = 'cifar10-c'\nmono = true\n"
        "[[step]]\nnoise = 'camera'\niso-like = '100:200'\n"
    )
    assert recipe.steps[0].noise == Gaussian(severity=Level.fixed(3), preset="cifar10-c", mono=True)
    assert recipe.steps[1].noise == Sensor(iso_like=Level(100, 200))


def test_media_come_from_the_steps() -> None:
    assert Recipe([Gaussian()]).media == ("image",)
    assert Recipe([Gaussian()]).medium == "image"
    assert Recipe([Step(White(), snr=10)]).media == ("audio",)
    assert set(Recipe.media) == {"image", "audio"}  # the class: either, the instance: one
    with pytest.raises(UsageError, match=r"steps\[1\].*'white'.*audio.*image recipe"):
        Recipe([Gaussian(), Step(White(), snr=10)])
    with pytest.raises(UsageError, match=r"one_of\[1\].*does not mix media"):
        OneOf([Gaussian(), Step(White(), snr=10)])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Step(Gaussian(), p=1.5), r"p must be in \[0, 1\]"),
        (lambda: Step(Gaussian(), p=-0.1), r"p must be in \[0, 1\]"),
        (lambda: Step(Gaussian(), p=math.nan), r"p must be in \[0, 1\]"),
        (lambda: Step(Gaussian(), p=True), "p takes a number"),
        (lambda: OneOf([Gaussian(), Uniform()], weights=(1, 0)), "positive"),
        (lambda: OneOf([Gaussian(), Uniform()], weights=(1, -2)), "positive"),
        (lambda: OneOf([Gaussian()], weights=(math.inf,)), "positive"),
        (lambda: OneOf([Gaussian(), Uniform()], weights=(1,)), "2 entries but 1 weights"),
        (lambda: OneOf([]), "empty"),
        (lambda: OneOf([Step(Gaussian(), p=0.5)]), "give p to the group"),
        (lambda: Step(White()), "needs its loudness"),
        (lambda: Step(White(), snr=10, level=-40), "exclude each other"),
        (lambda: Step(Gaussian(), snr=10), "audio noises only"),
        (lambda: Step(White(), level=3), "above the maximum 0"),
        (lambda: Recipe([]), "at least one step"),
        (lambda: Recipe([Recipe([Gaussian()])]), "cannot be another recipe"),
        (lambda: Recipe([{"noise": "gaussian", "std": -1}]), r"steps\[0\]: std: .*minimum"),
        (lambda: Recipe([{"one_of": [{"noise": "nope"}]}]), r"steps\[0\]\.one_of\[0\]: unknown"),
    ],
)
def test_bad_steps_from_python(build, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build()


def test_recipes_pickle_and_hash() -> None:
    recipe = Recipe.from_toml(CAMERA, "camera.toml")
    again = pickle.loads(pickle.dumps(recipe))
    assert again == recipe
    assert again.media == ("image",)
    assert hash(again) == hash(recipe)


def test_describe_and_map_noises() -> None:
    recipe = Recipe.from_toml(CAMERA)
    text = recipe.describe()
    assert text.startswith("recipe(sensor(iso_like=100:3200), salt-pepper(")
    assert "p=0.3" in text
    assert "one_of(gaussian(std=5:20, mean=0) w=2 | uniform(std=10) w=1) p=0.5" in text
    louder = recipe.map_noises(
        lambda n: Uniform(std=Level.fixed(20)) if isinstance(n, Uniform) else n
    )
    assert louder.steps[2].steps[1].noise == Uniform(std=Level.fixed(20))
    assert louder.steps[:2] == recipe.steps[:2]
    assert [i for i, _ in recipe.noises()] == [0, 1, 2, 2]


# -- errors in files: every one names the file and the line -------------------------------------

BAD = [
    # (name, text, line, fragment of the message)
    ("syntax", 'medium = "image"\n\n[[step]]\nnoise = "gaussian"\nstd = 5:30\n', 5, "invalid TOML"),
    ("syntax-end", '[[step]]\nnoise = "gaussian"\nstd = [1,\n', 3, "invalid TOML"),
    ("unknown-noise", '[[step]]\nnoise = "gausian"\n', 2, "unknown noise 'gausian'"),
    ("noise-not-text", "[[step]]\nnoise = 3\n", 2, "name of a noise"),
    ("no-noise", "[[step]]\nstd = 5\n", 1, "a step needs noise"),
    (
        "unknown-parameter",
        '[[step]]\nnoise = "gaussian"\nstd = 5\nsigma = 5\n',
        4,
        "unknown parameter 'sigma' for noise 'gaussian'",
    ),
    ("below-minimum", '[[step]]\nnoise = "gaussian"\nstd = "-5:5"\n', 3, "std: '-5:5' is below"),
    (
        "above-maximum",
        '[[step]]\nnoise = "salt-pepper"\n\namount = 2\n',
        4,
        "amount: '2' is above the maximum 1",
    ),
    ("bad-range", '[[step]]\nnoise = "gaussian"\nstd = "30:5"\n', 3, "LOW greater than HIGH"),
    ("severity", '[[step]]\nnoise = "gaussian"\nseverity = 7\n', 3, "severity"),
    (
        "exclusive",
        '[[step]]\nnoise = "gaussian"\nseverity = 2\nstd = 5\n',
        1,
        "severity and std exclude each other",
    ),
    ("duplicate", "[[step]]\nnoise = 'sensor'\niso_like = 100\niso-like = 200\n", 4, "twice"),
    ("switch-as-text", "[[step]]\nnoise = 'gaussian'\nmono = 'yes'\n", 3, "switch: true or false"),
    ("number-as-switch", "[[step]]\nnoise = 'gaussian'\nstd = true\n", 3, "takes a number"),
    ("number-as-list", "[[step]]\nnoise = 'gaussian'\nstd = [5, 30]\n", 3, "not a list"),
    (
        "wrong-medium-declared",
        'medium = "image"\n[[step]]\nnoise = "white"\nsnr = 10\n',
        3,
        "noise 'white' is an audio noise, but this is an image recipe (set by medium = \"image\"",
    ),
    (
        "wrong-medium-first-step",
        '[[step]]\nnoise = "gaussian"\n\n[[step]]\nnoise = "pink"\nsnr = 10\n',
        5,
        "this is an image recipe (set by its first noise, 'gaussian' at",
    ),
    ("bad-medium", 'medium = "video"\n[[step]]\nnoise = "gaussian"\n', 1, "medium is"),
    ("p-high", '[[step]]\nnoise = "gaussian"\np = 1.5\n', 3, r"p must be in [0, 1]"),
    ("p-low", '[[step]]\nnoise = "gaussian"\n\np = -0.5\n', 4, r"p must be in [0, 1]"),
    ("p-text", '[[step]]\nnoise = "gaussian"\np = "30%"\n', 3, "p takes a number"),
    (
        "group-p",
        '[[step]]\none_of = [{ noise = "gaussian" }]\np = 2\n',
        3,
        r"p must be in [0, 1]",
    ),
    (
        "weight-zero",
        '[[step]]\none_of = [\n  { noise = "gaussian" },\n'
        '  { noise = "uniform", weight = 0 },\n]\n',
        4,
        "weight must be a positive number",
    ),
    (
        "weight-negative",
        '[[step]]\none_of = [{ noise = "gaussian", weight = -1 }]\n',
        2,
        "weight must be a positive number",
    ),
    ("weight-outside", '[[step]]\nnoise = "gaussian"\nweight = 2\n', 3, "entries of a one_of"),
    ("p-in-entry", '[[step]]\none_of = [\n  { noise = "gaussian", p = 0.5 },\n]\n', 3, "no p"),
    ("empty", 'medium = "image"\n', 1, "no step"),
    ("empty-text", "", 1, "no step"),
    ("empty-one_of", "\n[[step]]\none_of = []\np = 0.5\n", 3, "one_of is empty"),
    ("one_of-not-tables", "[[step]]\none_of = ['gaussian']\n", 2, "list of tables"),
    (
        "group-extra-key",
        '[[step]]\none_of = [{ noise = "gaussian" }]\nstd = 5\n',
        3,
        "one_of and p only, not 'std'",
    ),
    ("nested", "[[step]]\none_of = [{ one_of = [{ noise = 'gaussian' }] }]\n", 2, "do not nest"),
    ("unknown-top-key", '[[steps]]\nnoise = "gaussian"\n', 1, "unknown key 'steps'"),
    ("unknown-top-key-2", 'name = "x"\n[[step]]\nnoise = "gaussian"\n', 1, "unknown key 'name'"),
    ("step-table", '[step]\nnoise = "gaussian"\n', 1, "[[step]] table"),
    ("snr-on-image", '[[step]]\nnoise = "gaussian"\nsnr = 10\n', 3, "audio noises only"),
    ("no-loudness", '[[step]]\nnoise = "white"\nmono = true\n', 1, "needs its loudness"),
    ("both-loudness", "[[step]]\nnoise = 'white'\nsnr = 10\nlevel = -40\n", 3, "exclude each"),
    ("level-positive", "[[step]]\nnoise = 'white'\nlevel = '3dBFS'\n", 3, "maximum 0"),
    ("snr-text", "[[step]]\nnoise = 'white'\nsnr = 'loud'\n", 3, "snr: 'loud' is not a number"),
    (
        "background-missing",
        "[[step]]\nnoise = 'background'\nsnr = 5\n",
        1,
        "needs background DIR|FILE",
    ),
    (
        "third-entry",
        '[[step]]\nnoise = "sensor"\n\n[[step]]\np = 0.5\none_of = [\n'
        '    { noise = "gaussian" },  # fine\n'
        '    { noise = "uniform", std = "10%" },\n'
        '    { noise = "speckle", std = "-1" },\n'
        "]\n",
        9,
        "std: '-1' is below the minimum 0",
    ),
    (
        "table-entries",
        '[[step]]\n\n[[step.one_of]]\nnoise = "gaussian"\n\n[[step.one_of]]\nnoise = "uniform"\n'
        "weight = 3\nmonochrome = true\n",
        9,
        "unknown parameter 'monochrome'",
    ),
    (
        "table-entries-second-step",
        '[[step]]\n[[step.one_of]]\nnoise = "gaussian"\n[[step]]\nnoise = "speckle"\nstd = -2\n',
        6,
        "std",
    ),
    (
        "inline-steps",
        'step = [\n  { noise = "gaussian" },\n  { noise = "uniform", std = "x" },\n]\n',
        3,
        "std: 'x' is not a number",
    ),
    (
        "comment-and-strings",
        '# [[step]] in a comment\nmedium = "image"  # [[step]]\n\n[[step]]\nnoise = "gaussian"\n'
        '[[step]]\nnoise = "preset"\n',
        7,
        "unknown noise 'preset'",
    ),
    (
        "multiline-string",
        '[[step]]\nnoise = "background"\nbackground = """\n[[step]]\n"""\nsnr = 5\n'
        '[[step]]\nnoise = "x"\n',
        8,
        "unknown noise 'x'",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_recipe_files_name_the_file_and_the_line(
    tmp_path: Path, name: str, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        Recipe.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert fragment in message, message


def test_a_missing_or_binary_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.toml: cannot read the recipe"):
        Recipe.load(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match=r"bin\.toml: a recipe is UTF-8 text"):
        Recipe.load(tmp_path / "bin.toml")


def test_the_caller_may_require_a_medium() -> None:
    with pytest.raises(UsageError, match=r"<string>:2: noise 'gaussian' is an image noise"):
        Recipe.from_toml('[[step]]\nnoise = "gaussian"\n', media="audio")
    with pytest.raises(UsageError, match=r"<string>:1: this is an image recipe"):
        Recipe.from_toml('medium = "image"\n[[step]]\nnoise = "gaussian"\n', media="audio")
    assert Recipe.from_toml('[[step]]\nnoise = "gaussian"\n', media="image").medium == "image"


def test_an_image_recipe_refuses_audio_before_any_work() -> None:
    with pytest.raises(UsageError, match="an image recipe cannot noise audio"):
        ChunkNoiser(Recipe([Gaussian()]), audio_info(), rnd(0))
    with pytest.raises(UsageError, match="image recipe has no audio steps"):
        Recipe([Gaussian()]).audio_steps(audio_info(), rnd(0))


# -- writing -----------------------------------------------------------------------------------

BUILT = [
    Recipe([Gaussian(std=Level(5, 30, percent=True), mean=Level(-5, 5), mono=True)]),
    Recipe([Gaussian(std=Level.fixed(0.1 + 0.2)), Uniform(std=Level.fixed(1e-5))]),
    Recipe([Gaussian(severity=Level(2, 4), preset="cifar10-c"), Step(Speckle(), p=0.25)]),
    Recipe([Sensor(shot=Level(0.001, 0.01), read=Level(1e-6, 1e-4), mono=True)]),
    Recipe([Step(Sensor(iso_like=Level(100, 12000)), p=0.0)]),
    Recipe(
        [
            OneOf(
                [SaltPepper(amount=Level(0.01, 0.1), salt_ratio=Level.fixed(1), per_pixel=True)],
                p=1 / 3,
            ),
            OneOf([get_noise("poisson")(photons=Level(10, 200)), Speckle()], weights=(0.5, 1.5)),
        ]
    ),
    Recipe(
        [
            Step(White(mono=True), snr="5:30"),
            OneOf([Step(Pink(), level=-40), Step(White(), level="-50:-30dBFS")], (3, 1), 0.5),
            Step(get_noise("background")(background='sounds/ "quoted" é'), snr=0, p=0.75),
        ]
    ),
]


@pytest.mark.parametrize("recipe", BUILT, ids=[r.describe() for r in BUILT])
def test_to_toml_reads_back_equal(recipe: Recipe) -> None:
    text = recipe.to_toml()
    tomllib.loads(text)  # plain TOML
    again = Recipe.from_toml(text)
    assert again == recipe
    assert again.media == recipe.media
    assert again.to_toml() == text


def test_to_toml_is_readable() -> None:
    assert Recipe.from_toml(CAMERA).to_toml() == (
        'medium = "image"\n'
        "\n[[step]]\n"
        'noise = "sensor"\n'
        'iso_like = "100:3200"\n'
        "\n[[step]]\n"
        'noise = "salt-pepper"\n'
        'amount = "0.01:0.05"\n'
        "p = 0.3\n"
        "\n[[step]]\n"
        "one_of = [\n"
        '    { noise = "gaussian", std = "5:20", weight = 2 },\n'
        '    { noise = "uniform", std = 10, weight = 1 },\n'
        "]\n"
        "p = 0.5\n"
    )


def test_a_bound_background_cannot_be_written() -> None:
    class Files:
        files = ("a.wav",)

    noise = get_noise("background")(background=Files())  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="cannot be written"):
        Recipe([Step(noise, snr=10)]).to_toml()


# -- the draws: decisions, probabilities, weights -----------------------------------------------

N_OUTPUTS = 100_000
INFO = MediaInfo("image", "uint8", (2, 2, 3), 3, 0.0, 255.0, 255.0)
STATS = Recipe(
    [
        Step(Gaussian(std=Level.fixed(5)), p=0.3),
        OneOf([Gaussian(std=Level.fixed(1)), Uniform(std=Level(1, 2))], weights=(2, 1), p=0.6),
    ]
)


@pytest.fixture(scope="module")
def decisions() -> np.ndarray:
    """Per output: step 0 applied, group applied, group's branch (-1 if not applied)."""
    out = np.empty((N_OUTPUTS, 3), np.int64)
    for k in range(N_OUTPUTS):
        params = STATS.prepare(INFO, rnd(k)).params
        steps = {s["step"]: s for s in params["steps"]}
        assert sorted(set(steps) | set(params["skipped"])) == [0, 1]
        out[k] = (0 in steps, 1 in steps, steps[1]["branch"] if 1 in steps else -1)
    return out


def within(observed: float, expected: float, n: int, sigmas: float = 5.0) -> bool:
    return abs(observed - expected) <= sigmas * math.sqrt(expected * (1 - expected) / n)


def test_p_applies_a_step_to_that_fraction_of_outputs(decisions: np.ndarray) -> None:
    assert within(decisions[:, 0].mean(), 0.3, N_OUTPUTS)
    assert within(decisions[:, 1].mean(), 0.6, N_OUTPUTS)


def test_one_of_splits_by_weight(decisions: np.ndarray) -> None:
    applied = decisions[decisions[:, 1] == 1]
    assert within((applied[:, 2] == 0).mean(), 2 / 3, len(applied))
    assert set(np.unique(applied[:, 2])) == {0, 1}
    assert (decisions[decisions[:, 1] == 0, 2] == -1).all()


def test_decisions_are_independent_of_each_other(decisions: np.ndarray) -> None:
    both = (decisions[:, 0] == 1) & (decisions[:, 2] == 0)
    assert within(both.mean(), 0.3 * 0.6 * 2 / 3, N_OUTPUTS)


def test_equal_weights_by_default() -> None:
    recipe = Recipe([OneOf([Gaussian(), Uniform(), Speckle()])])
    n = 30_000
    picks = np.array([recipe.prepare(INFO, rnd(k)).params["steps"][0]["branch"] for k in range(n)])
    for branch in range(3):
        assert within((picks == branch).mean(), 1 / 3, n)


def test_the_decisions_are_drawn_first_in_the_documented_order() -> None:
    recipe = Recipe(
        [
            Step(Gaussian(std=Level(1, 9)), p=0.5),
            OneOf([Uniform(std=Level(1, 9)), Speckle()], weights=(1, 3), p=0.5),
            Gaussian(std=Level(1, 9)),
        ]
    )
    seen = set()
    for k in range(40):
        draws = rnd(k).draws
        first = draws.random() < 0.5
        group = draws.random() < 0.5
        branch = (0 if draws.random() * 4 < 1 else 1) if group else None
        expected_std = []
        if first:
            expected_std.append(round(draws.uniform(1, 9), 6))
        if branch == 0:
            expected_std.append(round(draws.uniform(1, 9), 6))
        expected_std.append(round(draws.uniform(1, 9), 6))
        params = recipe.prepare(INFO, rnd(k)).params
        assert [s.get("branch") for s in params["steps"] if s["step"] == 1] == (
            [] if branch is None else [branch]
        )
        assert [s["std"] for s in params["steps"] if s["noise"] != "speckle"] == expected_std
        seen.add((first, branch))
    assert len(seen) == 6  # every combination came up


def test_p_zero_and_one_take_no_draw() -> None:
    recipe = Recipe([Step(Gaussian(std=Level(1, 9)), p=0.0), Step(Gaussian(std=Level(1, 9)))])
    params = recipe.prepare(INFO, rnd(3)).params
    assert params["skipped"] == [0]
    assert params["steps"][0]["std"] == round(rnd(3).draws.uniform(1, 9), 6)


# -- the bytes: by hand, per position, per chunk ------------------------------------------------


def by_hand(image: np.ndarray, key: int, steps: list[tuple[int, Noise]], draws_first=None):
    """The engine's output of the noises applied in order, each with child stream ``step{i}``,
    rounded and clipped once at the end."""
    r = rnd(key)
    if draws_first is not None:
        draws_first(r.draws)
    info = image_info(image)
    colour = info.channels
    chunk = image[:, :, :colour].astype(np.float32)
    prepared = [
        (noise, noise.prepare(info, OutputRandom(r.draws, r.stream.child(f"step{i}"))))
        for i, noise in steps
    ]
    for noise, prep in prepared:
        chunk = noise.apply(chunk, Span(), info, prep)
    chunk, _ = clip_to_range(chunk, info.lo, info.hi, image.dtype.kind in "ui")
    out = image.copy()
    out[:, :, :colour] = chunk.astype(image.dtype)
    return out, [p for _, p in prepared]


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_two_steps_equal_step_one_then_step_two_by_hand(dtype: str) -> None:
    gaussian, salt = Gaussian(std=Level(5, 30)), SaltPepper(amount=Level(0.01, 0.2))
    recipe = Recipe([gaussian, salt])
    image = picture(dtype)
    for key in range(5):
        out, noiser = noise_image(image, recipe, rnd(key), chunk_rows=7)
        expected, prepared = by_hand(image, key, [(0, gaussian), (1, salt)])
        assert out.tobytes() == expected.tobytes()
        steps = noiser.prepared.params["steps"]
        for record, prep in zip(steps, prepared, strict=True):
            assert {k: v for k, v in record.items() if k not in ("noise", "step")} == prep.params


def test_decisions_before_parameters_by_hand() -> None:
    uniform, gaussian = Uniform(std=Level(5, 20)), Gaussian(std=Level(5, 20))
    recipe = Recipe([Step(uniform, p=0.5), gaussian])
    image = picture("uint8")
    applied = set()
    for key in range(12):
        first = rnd(key).draws.random() < 0.5
        steps = [(0, uniform), (1, gaussian)] if first else [(1, gaussian)]
        expected, _ = by_hand(image, key, steps, draws_first=lambda d: d.random())
        out, noiser = noise_image(image, recipe, rnd(key))
        assert out.tobytes() == expected.tobytes()
        assert noiser.prepared.params["skipped"] == ([] if first else [0])
        applied.add(first)
    assert applied == {True, False}


def test_positions_do_not_move_when_a_step_is_skipped() -> None:
    uniform = Uniform(std=Level.fixed(10))
    image = picture("uint8")
    skipped = Recipe([Step(Gaussian(), p=0.0), uniform])
    out, _ = noise_image(image, skipped, rnd(1))
    expected, _ = by_hand(image, 1, [(1, uniform)])
    assert out.tobytes() == expected.tobytes()
    alone, _ = noise_image(image, Recipe([uniform]), rnd(1))
    assert alone.tobytes() != out.tobytes()  # step 0's stream, not step 1's


MIXED = Recipe(
    [
        Sensor(iso_like=Level(100, 3200)),
        Step(SaltPepper(amount=Level(0.01, 0.05), per_pixel=True), p=0.5),
        OneOf([Gaussian(std=Level(2, 10, percent=True), mono=True), Uniform(), Speckle()], p=0.7),
    ]
)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_reproducible_and_independent_of_the_chunk_size(dtype: str, channels: int) -> None:
    image = picture(dtype, channels=channels)
    outputs = []
    for key in range(6):
        whole, noiser = noise_image(image, MIXED, rnd(key), chunk_rows=1000)
        for rows in (1, 5, 16):
            assert noise_image(image, MIXED, rnd(key), chunk_rows=rows)[0].tobytes() == (
                whole.tobytes()
            ), (key, rows)
        again, again_noiser = noise_image(image, MIXED, rnd(key))
        assert again.tobytes() == whole.tobytes()
        assert json.dumps(again_noiser.prepared.params) == json.dumps(noiser.prepared.params)
        if channels in (2, 4):
            assert (whole[:, :, -1] == image[:, :, -1]).all()  # alpha untouched
        outputs.append(whole.tobytes())
    assert len(set(outputs)) == len(outputs)
    other_seed, _ = noise_image(image, MIXED, rnd(0, seed=SEED + 1))
    assert other_seed.tobytes() != outputs[0]


def test_params_are_json_and_name_what_was_applied() -> None:
    prepared = Recipe.from_toml(CAMERA).prepare(INFO, rnd(2))
    params = json.loads(json.dumps(prepared.params))
    assert params == prepared.params
    assert set(params) == {"steps", "skipped"}
    positions = [s["step"] for s in params["steps"]] + params["skipped"]
    assert sorted(positions) == [0, 1, 2]
    assert params["steps"][0]["noise"] == "sensor"
    assert {"iso_like", "shot", "read"} <= set(params["steps"][0])


def test_one_step_applied_uses_its_native_kernel() -> None:
    image = picture("uint8", channels=3)
    recipe = Recipe([Gaussian(std=Level(5, 30)), Step(Uniform(), p=0.0)])
    noiser = ChunkNoiser(recipe, image_info(image), rnd(4))
    kernel = noiser.kernel
    step = noiser.prepared.state[0]
    assert kernel is not None
    assert step.noise.native_kernel(image_info(image), step.prepared) is not None
    fast = noiser(image.copy())
    slow = ChunkNoiser(recipe, image_info(image), rnd(4))
    slow.kernel = None
    assert slow(image.copy()).tobytes() == fast.tobytes()

    two = Recipe([Gaussian(), Uniform()])
    assert ChunkNoiser(two, image_info(image), rnd(4)).kernel is None
    none = Recipe([Step(Gaussian(), p=0.0)])
    idle = ChunkNoiser(none, image_info(image), rnd(4))
    assert idle.kernel is None
    assert idle(image).tobytes() == image.tobytes()


def test_apply_adds_no_copy_of_its_own() -> None:
    class InPlace(Uniform):
        seen: ClassVar[list[int]] = []

        def apply(self, chunk, span, info, prepared):
            InPlace.seen.append(id(chunk))
            return super().apply(chunk, span, info, prepared)

    noise = InPlace(std=Level.fixed(3))
    recipe = Recipe([noise, noise, noise])
    chunk = np.full((3, 4, 3), 100, np.float32)
    out = recipe.apply(chunk, Span(), INFO, recipe.prepare(INFO, rnd(0)))
    assert out is chunk
    assert InPlace.seen == [id(chunk)] * 3


# -- audio recipes: the draws the mixer needs ---------------------------------------------------

AUDIO = Recipe.from_toml(
    'medium = "audio"\n'
    '[[step]]\nnoise = "white"\nsnr = "5:15"\n'
    '[[step]]\nnoise = "pink"\nmono = true\nlevel = "-50:-30dBFS"\np = 0.5\n'
    '[[step]]\none_of = [{ noise = "brown", snr = 20 }, { noise = "blue", level = -45 }]\n'
)


def test_audio_steps_draw_each_steps_level() -> None:
    info = audio_info()
    seen = set()
    n = 400
    pink = 0
    for k in range(n):
        steps = AUDIO.audio_steps(info, rnd(k))
        assert all(isinstance(s, AudioStep) for s in steps)
        assert steps[0].noise == White() and steps[0].kind == "snr"
        assert 5 <= steps[0].value <= 15
        names = [s.noise.name for s in steps]
        pink += "pink" in names
        last = steps[-1]
        assert (last.noise.name, last.kind, last.value) in {
            ("brown", "snr", 20.0),
            ("blue", "level", -45.0),
        }
        seen.add(last.noise.name)
        for s in steps:
            if s.noise.name == "pink":
                assert s.kind == "level" and -50 <= s.value <= -30 and s.position == 1
    assert seen == {"brown", "blue"}
    assert abs(pink / n - 0.5) < 5 * math.sqrt(0.25 / n)


def test_audio_params_and_streams() -> None:
    info = audio_info(frames=3000, channels=2)
    prepared = AUDIO.prepare(info, rnd(7))
    params = json.loads(json.dumps(prepared.params))
    first = params["steps"][0]
    assert first["noise"] == "white" and first["step"] == 0
    assert first["snr_db"] == round(prepared.state[0].value, 6)
    assert any("level_dbfs" in s or "snr_db" in s for s in params["steps"][1:])
    # each step's stream is its own noise on the child stream of its position
    step = AUDIO.audio_steps(info, rnd(7))[0]
    r = rnd(7)
    own = White().prepare(info, OutputRandom(r.draws, r.stream.child("step0")))
    block = step.noise.stream(step.prepared).read(3000)
    assert block.shape == (3000, 2)
    assert np.array_equal(block, White.stream(own).read(3000))
    with pytest.raises(UsageError, match="audio mixer"):
        AUDIO.apply(np.zeros((10, 2), np.float32), Span(), info, prepared)
    assert AUDIO.native_kernel(info, prepared) is None


def test_python_audio_recipe_equals_the_file() -> None:
    built = Recipe(
        [
            Step(White(), snr="5:15"),
            Step(Pink(mono=True), p=0.5, level=Level(-50, -30)),
            OneOf([Step(get_noise("brown")(), snr=20), Step(get_noise("blue")(), level=-45)]),
        ]
    )
    assert built == AUDIO
    assert isinstance(AUDIO.prepare(audio_info(), rnd(0)), Prepared)
