"""The contract every image noise keeps, parametrized over the registry."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from noisecli.api.arrays import add_noise
from noisecli.config import Level
from noisecli.noise import Noise, get_noise
from noisecli.ranges import value_range
from tests.noise.helpers import IMAGE_NOISES, run

# Parameters that make each noise the identity; None where no value does (Poisson is the
# identity only in the limit of infinitely many photons).
ZERO: dict[str, dict[str, Any] | None] = {
    "gaussian": {"std": 0, "mean": 0},
    "uniform": {"std": 0},
    "poisson": None,
    "salt-pepper": {"amount": 0},
    "speckle": {"std": 0},
    "sensor": {"shot": 0, "read": 0},
}
# One parameter per noise given as a LOW:HIGH range, drawn per output.
RANGES: dict[str, tuple[str, float, float]] = {
    "gaussian": ("std", 5.0, 50.0),
    "uniform": ("std", 5.0, 50.0),
    "poisson": ("photons", 10.0, 100.0),
    "salt-pepper": ("amount", 0.01, 0.1),
    "speckle": ("std", 0.1, 0.3),
    "sensor": ("shot", 0.001, 0.01),
}
DTYPES = ("uint8", "uint16", "float32")
# trailing shape: grayscale HxW, HxWx1, gray+alpha, colour, colour+alpha
LAYOUTS = ((), (1,), (2,), (3,), (4,))


def image(dtype: str, layout: tuple[int, ...], rows: int = 37, width: int = 23) -> np.ndarray:
    """Smooth content over the whole range plus pure black and white corners."""
    lo, hi, _ = value_range(dtype)
    rng = np.random.default_rng(11)
    unit = rng.random((rows, width, *layout))
    unit[:2] = 0.0
    unit[-2:] = 1.0
    values = lo + unit * (hi - lo)
    if dtype != "float32":
        values = np.rint(values)
    return values.astype(dtype)


def variants(cls: type[Noise]) -> list[Noise]:
    """The default noise and the noise with each of its switches on."""
    return [cls()] + [cls.from_options({p.name: True}) for p in cls.cli_params if p.is_flag]


def alpha_of(array: np.ndarray) -> np.ndarray | None:
    if array.ndim == 3 and array.shape[2] in (2, 4):
        return array[:, :, -1]
    return None


def ids(cls: type[Noise]) -> str:
    return cls.name


def test_the_tables_cover_every_image_noise() -> None:
    names = {cls.name for cls in IMAGE_NOISES}
    assert set(ZERO) == names
    assert set(RANGES) == names


@pytest.mark.parametrize("cls", IMAGE_NOISES, ids=ids)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
def test_shape_dtype_range_alpha_kept(cls: type[Noise], dtype: str, layout: tuple[int, ...]):
    src = image(dtype, layout)
    out = run(cls(), src)
    assert out.shape == src.shape
    assert out.dtype == src.dtype
    lo, hi, _ = value_range(dtype)
    assert np.isfinite(out).all()
    assert out.min() >= lo and out.max() <= hi
    alpha = alpha_of(src)
    if alpha is not None:
        out_alpha = alpha_of(out)
        assert out_alpha is not None
        assert out_alpha.tobytes() == alpha.tobytes()
        colour = src[:, :, :-1]
        assert not np.array_equal(out[:, :, :-1], colour)
    else:
        assert not np.array_equal(out, src)


@pytest.mark.parametrize("cls", IMAGE_NOISES, ids=ids)
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_seed_same_bytes_other_seed_other_bytes(cls: type[Noise], dtype: str) -> None:
    src = image(dtype, (3,))
    first = run(cls(), src, seed=5)
    assert run(cls(), src, seed=5).tobytes() == first.tobytes()
    assert run(cls(), src, seed=6).tobytes() != first.tobytes()
    assert run(cls(), src, seed=5, rel="y.png").tobytes() != first.tobytes()


@pytest.mark.parametrize("cls", IMAGE_NOISES, ids=ids)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ((), (3,), (4,)), ids=str)
def test_chunked_equals_whole(cls: type[Noise], dtype: str, layout: tuple[int, ...]) -> None:
    src = image(dtype, layout)
    for noise in variants(cls):
        whole = run(noise, src, chunk_rows=1000).tobytes()
        for rows in (1, 4, 16):
            assert run(noise, src, chunk_rows=rows).tobytes() == whole, (noise, rows)


@pytest.mark.parametrize("cls", [c for c in IMAGE_NOISES if ZERO.get(c.name)], ids=ids)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ((), (3,), (4,)), ids=str)
def test_zero_strength_is_identity(cls: type[Noise], dtype: str, layout: tuple[int, ...]) -> None:
    src = image(dtype, layout)
    out = run(cls.from_options(ZERO[cls.name] or {}), src)
    assert out.tobytes() == src.tobytes()


@pytest.mark.parametrize("cls", IMAGE_NOISES, ids=ids)
def test_ranges_are_drawn_per_output_and_recorded(cls: type[Noise]) -> None:
    from noisecli.image.engine import image_info
    from noisecli.rng.keys import file_key, output_random

    name, low, high = RANGES[cls.name]
    noise = cls.from_options({name: f"{low}:{high}"})
    info = image_info(image("uint8", (3,)))
    drawn = []
    for copy in range(50):
        rnd = output_random(3, file_key("a.png", copy))
        params = noise.prepare(info, rnd).params
        json.dumps(params)
        drawn.append(params[name])
    assert all(low <= v <= high for v in drawn)
    assert len(set(drawn)) == len(drawn)


@pytest.mark.parametrize("cls", IMAGE_NOISES, ids=ids)
def test_unknown_parameter_is_a_usage_error(cls: type[Noise]) -> None:
    from noisecli.errors import UsageError

    with pytest.raises(UsageError, match="does not apply"):
        cls.from_options({"no_such_parameter": "1"})


@pytest.mark.parametrize("cls", IMAGE_NOISES, ids=ids)
def test_float_input_with_nan_and_out_of_range_values(cls: type[Noise]) -> None:
    src = image("float32", (3,))
    src[5, 5, 0] = np.nan
    src[6, 6, 1] = 1.5
    src[7, 7, 2] = -0.5
    out = run(cls(), src)
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("cls", IMAGE_NOISES, ids=ids)
def test_add_noise_by_name_and_by_instance_agree(cls: type[Noise]) -> None:
    src = image("uint8", (3,))
    by_name = add_noise(src, cls.name, seed=9)
    by_instance = add_noise(src, cls(), seed=9)
    assert by_name.tobytes() == by_instance.tobytes()


def test_aliases() -> None:
    assert get_noise("shot").name == "poisson"
    assert get_noise("impulse").name == "salt-pepper"
    assert get_noise("Salt-Pepper").name == "salt-pepper"


def test_docstrings_give_the_formula() -> None:
    for cls in IMAGE_NOISES:
        assert cls.__doc__ and "=" in cls.__doc__, cls.name
        assert cls.summary and cls.example, cls.name


def test_describe_lists_the_parameters() -> None:
    noise = get_noise("gaussian").from_options({"std": "5:50", "mono": True})
    assert noise.describe() == "gaussian(std=5:50, mean=0, mono)"
    graded = get_noise("gaussian").from_options({"severity": Level.fixed(3)})
    assert graded.describe() == "gaussian(severity=3, mean=0)"
