"""Property-based tests of the engine and of parameter parsing (hypothesis)."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noisecli.cli import main
from noisecli.image.engine import noise_image
from noisecli.noise import NOISES
from noisecli.rng.keys import file_key, output_random
from tests.conftest import synthetic_image

IMAGE_NOISES = [cls for cls in NOISES if "image" in cls.media]


@st.composite
def images(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(st.sampled_from(["uint8", "uint16", "float32"]))
    channels = draw(st.sampled_from([1, 3, 4]))
    h = draw(st.integers(1, 24))
    w = draw(st.integers(1, 24))
    return synthetic_image(h, w, channels=channels, dtype=dtype, seed=draw(st.integers(0, 99)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    img=images(),
    noise_cls=st.sampled_from(IMAGE_NOISES),
    std=st.floats(0, 200),
    chunk=st.integers(1, 30),
    seed=st.integers(0, 2**63),
)
def test_engine_output_in_range_same_layout_and_chunk_invariant(
    img: np.ndarray, noise_cls: type, std: float, chunk: int, seed: int
) -> None:
    params = {"std": std} if any(p.name == "std" for p in noise_cls.cli_params) else {}
    noise = noise_cls.from_options(params)

    def run(rows: int) -> np.ndarray:
        rnd = output_random(seed, file_key("p.png", 0))
        return noise_image(img, noise, rnd, rows)[0]

    out = run(chunk)
    assert out.shape == img.shape and out.dtype == img.dtype
    if img.dtype.kind == "f":
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    if img.ndim == 3 and img.shape[2] == 4:
        assert np.array_equal(out[..., 3], img[..., 3])
    assert np.array_equal(out, run(1000))


BAD_VALUES = st.one_of(
    st.sampled_from(
        ["-1", "nan", "inf", "-inf", "abc", "1:2:3", "5:1", "%", "1e999", "", " ", "--"]
    ),
    st.text(max_size=12),
)


@settings(max_examples=120, deadline=None)
@given(value=BAD_VALUES)
def test_any_std_text_is_a_value_or_a_usage_error(value: str) -> None:
    result = CliRunner().invoke(main, ["image", "-", "-o", "-", "--std", value], input=b"")
    # an acceptable value reaches the (empty) stdin and fails as bad input: exit 1
    assert result.exit_code in (1, 2), (value, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


AUDIO_NOISES = ["white", "pink", "brown", "blue", "violet"]


@st.composite
def audio(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(st.sampled_from(["int16", "int32", "float32", "float64"]))
    frames = draw(st.integers(1, 3000))
    channels = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    x = 0.3 * rng.standard_normal((frames, channels))
    x[0] += 0.01  # never silent
    if dtype.startswith("int"):
        top = np.iinfo(np.dtype(dtype)).max
        return np.round(x * top).clip(-top, top).astype(dtype)
    return x.astype(dtype)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    samples=audio(),
    name=st.sampled_from(AUDIO_NOISES),
    snr=st.floats(-20, 60),
    chunk=st.integers(1, 5000),
    seed=st.integers(0, 2**63),
    mono=st.booleans(),
)
def test_audio_output_in_range_same_layout_and_chunk_invariant(
    samples: np.ndarray, name: str, snr: float, chunk: int, seed: int, mono: bool
) -> None:
    from noisecli.api.arrays import add_noise

    def run(frames: int) -> np.ndarray:
        return add_noise(
            samples, name, snr=snr, sample_rate=16000, seed=seed, chunk=frames, mono=mono
        )

    out = run(chunk)
    assert out.shape == samples.shape and out.dtype == samples.dtype
    if samples.dtype.kind == "f":
        assert np.isfinite(out).all() and np.abs(out).max() <= 1
    assert np.array_equal(out, run(65536))


@settings(max_examples=60, deadline=None)
@given(value=BAD_VALUES)
def test_any_snr_text_is_a_value_or_a_usage_error(value: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as src, tempfile.TemporaryDirectory() as out:
        result = CliRunner().invoke(main, ["audio", src, "-o", out, "--snr", value])
    # an acceptable value finds no audio file in the empty folder: nothing to do, exit 0
    assert result.exit_code in (0, 2), (value, result.output)
    assert (result.exit_code == 2) == ("--snr" in result.output), (value, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
