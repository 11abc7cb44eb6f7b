"""add_noise / Augmenter on any array: dtypes, shapes, layouts, views, read-only, out=."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from noisecli import Augmenter, add_noise
from noisecli.errors import UsageError
from tests.api.helpers import float01, standardized, uint8_image

# (dtype, values, params): data and a strength each dtype can take in its own units
DTYPES: list[tuple[str, Any]] = [
    ("uint8", {"std": 10}),
    ("uint16", {"std": 500}),
    ("uint32", {"std": 500}),
    ("uint64", {"std": 500}),
    ("int8", {"std": 5}),
    ("int16", {"std": 300}),
    ("int32", {"std": 300}),
    ("int64", {"std": 300}),
    ("float16", {"std": 0.1}),
    ("float32", {"std": 0.1}),
    ("float64", {"std": 0.1}),
]


def data(dtype: str, shape: tuple[int, ...] = (20, 30, 3)) -> np.ndarray:
    dt = np.dtype(dtype)
    rng = np.random.default_rng(5)
    if dt.kind == "f":
        return rng.uniform(0.2, 0.8, shape).astype(dt)
    info = np.iinfo(dt)
    lo = max(info.min, -(2**20)) // 2 if dt.kind == "i" else 0
    hi = min(info.max, 2**20) // 2
    return rng.integers(lo + (hi - lo) // 4, hi - (hi - lo) // 4, shape).astype(dt)


@pytest.mark.parametrize(("dtype", "params"), DTYPES, ids=[d for d, _ in DTYPES])
def test_every_numeric_dtype_keeps_shape_and_dtype_and_never_aliases(
    dtype: str, params: dict[str, Any]
) -> None:
    x = data(dtype)
    before = x.copy()
    y = add_noise(x, seed=1, **params)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert not np.shares_memory(x, y)
    assert np.array_equal(x, before)  # the input is never touched
    assert not np.array_equal(x, y)
    diff = y.astype(np.float64) - x.astype(np.float64)
    assert abs(diff.std() / params["std"] - 1) < 0.1  # 18000 values: SE 0.5%, wide margin


@pytest.mark.parametrize(("dtype", "params"), DTYPES, ids=[d for d, _ in DTYPES])
def test_every_dtype_through_the_augmenter_and_in_batches(
    dtype: str, params: dict[str, Any]
) -> None:
    xs = data(dtype, (4, 6, 5, 3))
    aug = Augmenter(seed=3, **params)
    ys = aug.batch(xs, keys=[0, 1, 2, 3])
    for i in range(4):
        assert np.array_equal(ys[i], aug(xs[i], key=i))


def test_wide_integers_keep_their_low_bits() -> None:
    """int64/int32 values beyond float32's 24 bits: the noise is added in float64."""
    for dtype, base in (("int64", 2**40), ("int32", 2**30), ("uint32", 2**31)):
        x = (np.arange(10**5, dtype=np.int64) % 1000 + base).astype(dtype)
        diff = add_noise(x, std=3, seed=1).astype(np.int64) - x.astype(np.int64)
        assert abs(diff.std() - 3) < 0.05, dtype  # float32 would round x to steps of 128+
        assert abs(diff.mean()) < 0.05, dtype


def test_float64_data_keep_their_precision() -> None:
    x = np.full(1000, 1.0 + 2**-40)  # not representable in float32
    y = add_noise(x, std=1e-9, seed=1)
    assert y.dtype == np.float64
    assert abs((y - x).std() - 1e-9) < 1e-10


def test_float16_stays_finite() -> None:
    x = np.full((100, 100), 65000, np.float16)
    y = add_noise(x, std=5000, seed=1)
    assert np.isfinite(y).all() and y.dtype == np.float16


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::2, ::3],
        lambda a: a.transpose(1, 0, 2),
        lambda a: a[:, :, ::-1],
        lambda a: a[3:17, 5:29, 1:],
    ],
    ids=["strided", "transposed", "reversed-channels", "cropped"],
)
@pytest.mark.parametrize("dtype", ["uint8", "float32", "int16", "float64"])
def test_views_noise_like_their_contiguous_copies(view: Any, dtype: str) -> None:
    base = data(dtype, (40, 60, 3))
    x = view(base)
    params: dict[str, Any] = {"std": 0.1} if dtype[0] == "f" else {"std": 7}
    y = add_noise(x, seed=4, **params)
    assert np.array_equal(y, add_noise(np.ascontiguousarray(x), seed=4, **params))
    assert y.flags.c_contiguous


def test_read_only_input() -> None:
    x = uint8_image()
    x.flags.writeable = False
    y = add_noise(x, std=10, seed=1)
    x.flags.writeable = True
    assert np.array_equal(y, add_noise(x, std=10, seed=1))


@pytest.mark.parametrize("noise", ["gaussian", "poisson", "speckle", "salt-pepper"])
def test_out_receives_the_result_and_in_place_works(noise: str) -> None:
    x = uint8_image()
    expected = add_noise(x, noise, seed=2)
    out = np.empty_like(x)
    assert add_noise(x, noise, seed=2, out=out) is out
    assert np.array_equal(out, expected)
    inplace = x.copy()
    assert add_noise(inplace, noise, seed=2, out=inplace) is inplace
    assert np.array_equal(inplace, expected)


def test_out_may_be_strided_or_overlap_the_input() -> None:
    x = uint8_image((30, 40, 3))
    expected = add_noise(x, std=10, seed=2)
    big = np.zeros((60, 40, 3), np.uint8)
    strided = big[::2]
    add_noise(x, std=10, seed=2, out=strided)
    assert np.array_equal(strided, expected) and not big[1::2].any()
    # out overlapping x in another order: computed apart, then copied
    shared = np.concatenate([x, x])
    add_noise(shared[:30], std=10, seed=2, out=shared[:30][::-1])
    assert np.array_equal(shared[:30][::-1], expected)


def test_out_in_place_on_a_batch_and_on_float_data() -> None:
    xs = float01((6, 8, 8, 3))
    expected = add_noise(xs, std=0.05, layout="NHWC", seed=9, key=4)
    work = xs.copy()
    add_noise(work, std=0.05, layout="NHWC", seed=9, key=4, out=work)
    assert np.array_equal(work, expected)


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (np.empty((3, 3, 3), np.uint8), "shape and dtype"),
        (np.empty((64, 48, 3), np.float32), "shape and dtype"),
        ([[0]], "numpy array"),
    ],
)
def test_bad_out(out: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        add_noise(uint8_image(), std=3, seed=1, out=out)
    frozen = np.empty((64, 48, 3), np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(UsageError, match="read-only"):
        add_noise(uint8_image(), std=3, seed=1, out=frozen)


def test_lists_and_scalars_as_input() -> None:
    assert add_noise([[0.5, 0.2], [0.1, 0.9]], std=0.1, seed=1).shape == (2, 2)
    assert add_noise(np.float64(0.5), std=0.1, seed=1).shape == ()


# -- layouts -------------------------------------------------------------------------------


def test_layout_none_rules() -> None:
    aug = Augmenter(std=10, seed=1, mono=True)
    rgba = uint8_image((16, 16, 4))
    y = aug(rgba, key=1)
    assert np.array_equal(y[..., 3], rgba[..., 3])  # integer HWC: alpha kept
    d = y[..., :3].astype(int) - rgba[..., :3]
    interior = (rgba[..., :3] > 60) & (rgba[..., :3] < 190)
    same = interior.all(axis=-1)
    assert np.array_equal(d[same][:, 0], d[same][:, 1])  # mono: one value per pixel
    f = float01((16, 16, 4))
    yf = Augmenter(std=0.05, seed=1)(f, key=1)
    assert not np.array_equal(yf[..., 3], f[..., 3])  # float: "...", every value noised
    assert np.array_equal(Augmenter(std=0.05, seed=1, layout="HWC")(f, key=1)[..., 3], f[..., 3])


def test_chw_gets_the_noise_of_its_hwc_transpose() -> None:
    for channels in (1, 3, 4, 2):
        hwc = uint8_image((12, 10, channels))
        chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
        for noise, params in (("gaussian", {"std": 9, "mono": True}), ("sensor", {})):
            a = add_noise(hwc, noise, layout="HWC", seed=3, **params)
            b = add_noise(chw, noise, layout="CHW", seed=3, **params)
            assert np.array_equal(b, a.transpose(2, 0, 1)), (channels, noise)
    hwc = float01((12, 10, 3))
    a = add_noise(hwc, std=0.1, layout="HWC", seed=5)
    b = add_noise(np.ascontiguousarray(hwc.transpose(2, 0, 1)), std=0.1, layout="CHW", seed=5)
    assert np.array_equal(b, a.transpose(2, 0, 1))


def test_with_layout_keeps_the_noise_the_options_and_the_seed() -> None:
    aug = Augmenter("gaussian", seed=8, std=9, mono=True, clip=(10, 240))
    chw = aug.with_layout("CHW")
    assert (aug.layout, chw.layout, chw.seed, chw.noise) == (None, "CHW", 8, aug.noise)
    hwc = uint8_image((12, 10, 3))
    want = Augmenter("gaussian", seed=8, std=9, mono=True, clip=(10, 240), layout="CHW")
    x = np.ascontiguousarray(hwc.transpose(2, 0, 1))
    assert np.array_equal(chw(x, key=(4, 1)), want(x, key=(4, 1)))
    assert np.array_equal(chw.with_layout("HWC")(hwc, key=2), aug.with_layout("HWC")(hwc, key=2))


def test_flat_layout_equals_hwc_for_per_value_noise() -> None:
    x = float01((10, 12, 3))
    for noise in ("gaussian", "uniform", "speckle"):
        a = add_noise(x, noise, layout="HWC", seed=2, std=0.05)
        assert np.array_equal(a, add_noise(x, noise, layout="...", seed=2, std=0.05))


@pytest.mark.parametrize(
    ("layout", "shape"),
    [("NHWC", (5, 8, 9, 3)), ("NCHW", (5, 3, 8, 9)), ("N...", (5, 7)), ("N...", (5, 2, 3, 4))],
)
def test_batch_layouts_are_samples_keyed_by_index(layout: str, shape: tuple[int, ...]) -> None:
    xs = np.random.default_rng(0).integers(40, 200, shape).astype(np.uint8)
    sample = {"NHWC": "HWC", "NCHW": "CHW", "N...": "..."}[layout]
    ys = add_noise(xs, std=8, layout=layout, seed=6, key=(2, 9))
    for i in range(shape[0]):
        alone = add_noise(xs[i], std=8, layout=sample, seed=6, key=(2, 9, i))
        assert np.array_equal(ys[i], alone)
    assert not np.array_equal(ys[0].astype(int) - xs[0], ys[1].astype(int) - xs[1])


def test_chunk_never_changes_the_result() -> None:
    x = float01((50, 40, 3))
    whole = add_noise(x, std=0.1, seed=1)
    img = uint8_image((50, 40, 4))
    img_whole = add_noise(img, "salt-pepper", amount=0.1, seed=1)
    for chunk in (1, 3, 49, 1000):
        assert np.array_equal(add_noise(x, std=0.1, seed=1, chunk=chunk), whole)
        out = add_noise(img, "salt-pepper", amount=0.1, seed=1, chunk=chunk)
        assert np.array_equal(out, img_whole)


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.array([0.1, np.nan, 0.3]), "NaN or infinite"),
        (np.array([[0.1, np.inf]], np.float32), r"NaN or infinite values \(the first at index"),
        (np.array([-np.inf], np.float16), "NaN or infinite"),
        (np.zeros((0, 3)), "empty"),
        (np.zeros((4, 0, 3), np.uint8), "empty"),
        (np.array([1 + 2j, 3j]), "complex"),
        (np.array([True, False]), "bool"),
        (np.array([object(), 1], dtype=object), "dtype object"),
        (np.array(["a", "b"]), "dtype <U1"),
    ],
    ids=["nan", "inf", "-inf-f16", "empty", "empty-image", "complex", "bool", "object", "str"],
)
def test_bad_arrays_are_usage_errors(x: np.ndarray, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        add_noise(x, std=0.1, seed=1)
    with pytest.raises(UsageError, match=message):
        Augmenter(std=0.1, seed=1)(x, key=1)


@pytest.mark.parametrize(
    ("layout", "shape", "message"),
    [
        ("CHW", (8, 8), r'"CHW" needs samples of shape \(C, H, W\)'),
        ("HWC", (8,), r'"HWC" needs samples of shape \(H, W\)'),
        ("NHWC", (4, 8), r'"HWC" needs samples'),
        ("NCHW", (2, 3, 8), r'"CHW" needs samples'),
        ("RGB", (8, 8), "layout must be None or one of"),
    ],
)
def test_layout_that_does_not_fit_the_shape(
    layout: str, shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        add_noise(np.zeros(shape, np.uint8), std=3, layout=layout, seed=1)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (1.5, "int or a tuple of ints"),
        ((1, 2.0), "int or a tuple of ints"),
        ("a", "int or a tuple of ints"),
        (True, "int or a tuple of ints"),
        ((), "non-empty"),
        (2**70, "64-bit"),
        ((1, -(2**64)), "64-bit"),
    ],
)
def test_bad_keys(key: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        add_noise(uint8_image(), std=3, seed=1, key=key)
    with pytest.raises(UsageError, match=message):
        Augmenter(std=3, seed=1)(uint8_image(), key=key)


def test_batch_keys_must_match_the_batch() -> None:
    aug = Augmenter(std=3, seed=1)
    xs = np.zeros((4, 5, 5), np.uint8)
    with pytest.raises(UsageError, match="4 samples but 3 keys"):
        aug.batch(xs, [0, 1, 2])
    with pytest.raises(UsageError, match="one key per sample"):
        aug.batch(xs, 7)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="int or a tuple of ints"):
        aug.batch(xs, [0, 1, 2, 3.0])  # type: ignore[list-item]
    with pytest.raises(UsageError, match=r"shape \(N,\) or \(N, k\)"):
        aug.batch(xs, np.zeros(4))
    assert aug.batch(xs, np.arange(8).reshape(4, 2)).shape == xs.shape
    with pytest.raises(UsageError, match="scalar"):
        aug.batch(np.float32(1), [0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*128\)"),
        ({"seed": 2**128}, "seed must be"),
        ({"seed": 1.5}, "seed must be"),
        ({"seed": True}, "seed must be"),
        ({"clip": "yes"}, "clip must be"),
        ({"clip": (1, 0)}, "lo < hi"),
        ({"data_range": (0, np.inf)}, "finite"),
        ({"data_range": (1, 1)}, "lo < hi"),
        ({"data_range": 5}, "pair"),
        ({"std": "abc"}, "not a number"),
        ({"sigma": 3}, "does not apply to noise 'gaussian'"),
        ({"snr": 10}, "snr= applies to audio with sample_rate="),
        ({"noise": "pink"}, "is for audio: pass sample_rate="),
        ({"noise": "background", "std": 0.1}, "noise 'background' needs"),
        ({"noise": "no-such"}, "unknown noise"),
        ({"noise": 3}, "noise name or a Noise"),
        ({"sample_rate": 0}, "positive"),
        ({"sample_rate": 16000, "noise": "pink", "clip": (0, 1)}, "on_clip="),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Augmenter(**kwargs)


def test_bad_chunk() -> None:
    for chunk in (0, -3, 1.5, True):
        with pytest.raises(UsageError, match="chunk"):
            add_noise(uint8_image(), std=3, seed=1, chunk=chunk)  # type: ignore[arg-type]


def test_standardized_and_small_data_pass() -> None:
    assert add_noise(standardized(), std=0.3, seed=1).dtype == np.float32
    assert add_noise(float01(), std=0.3, seed=1).dtype == np.float32
