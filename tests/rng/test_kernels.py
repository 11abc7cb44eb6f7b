"""The compiled kernel and its numpy twin: same bytes everywhere, and the fused add's contract."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from noisecli.rng import kernels
from noisecli.rng.philox import Stream

DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.float32]
ISAS: list[str] = list(kernels._MOD.available()) if kernels._MOD is not None else []


def need_compiled() -> kernels.Backend:
    if kernels.COMPILED is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the compiled kernel is not built (CI requires it)")
        pytest.skip("compiled kernel not built")
    return kernels.COMPILED


@pytest.fixture(params=ISAS or ["none"])
def isa(request: pytest.FixtureRequest) -> Any:
    """Each code path of the compiled kernel in turn (restored afterwards)."""
    need_compiled()
    mod = kernels._MOD
    assert mod is not None
    before = mod.isa()
    mod.set_isa(request.param)
    yield request.param
    mod.set_isa(before)


def test_compiled_is_active_when_built() -> None:
    built = list(Path(kernels.__file__).parent.glob("_kernel*.so")) + list(
        Path(kernels.__file__).parent.glob("_kernel*.pyd")
    )
    if built and kernels.COMPILED is None:
        pytest.fail(f"{built[0].name} is built but does not import")
    need_compiled()
    if os.environ.get("NOISECLI_PURE") == "1":
        assert kernels.ACTIVE == "numpy"
    else:
        assert kernels.ACTIVE.startswith("compiled (")
        assert kernels.backend() is kernels.COMPILED


def test_pure_environment_selects_numpy() -> None:
    code = "from noisecli.rng import kernels; print(kernels.ACTIVE)"
    env = dict(os.environ, NOISECLI_PURE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "numpy"


def sample(dtype: Any, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if dtype == np.float32:
        x = rng.normal(100, 80, shape).astype(np.float32)
        if x.size >= 3:
            x.reshape(-1)[:3] = [np.nan, np.inf, -0.0]
        return x
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, shape).astype(dtype)


def test_variates_identical(isa: str) -> None:
    c = need_compiled()
    rng = np.random.default_rng(7)
    for seed in range(6):
        s = Stream.derive(seed, b"k", "v")
        for _ in range(12):
            start = int(rng.integers(0, 2**40)) if seed % 2 else int(rng.integers(0, 50))
            n = int(rng.integers(0, 3000))
            for fn in (kernels.bits, kernels.normal, kernels.uniform):
                a = fn(s, start, n, using=kernels.NUMPY)
                b = fn(s, start, n, using=c)
                assert a.tobytes() == b.tobytes(), (fn.__name__, isa, start, n)
    # the far end of the counter space and a wrap of the low counter word
    for start in (2**66 - 700, 4 * (2**32 - 5) + 3):
        s = Stream.derive(1, b"", "far")
        a = kernels.normal(s, start, 600, using=kernels.NUMPY)
        assert a.tobytes() == kernels.normal(s, start, 600, using=c).tobytes()
    u = rng.integers(0, 2**32, 10**5, dtype=np.uint64).astype(np.uint32)
    assert (
        kernels.normal_from_bits(u, using=kernels.NUMPY).tobytes()
        == kernels.normal_from_bits(u, using=c).tobytes()
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_identical(isa: str, dtype: Any) -> None:
    c = need_compiled()
    rng = np.random.default_rng(11)
    shapes = [(1,), (2, 3), (37,), (64,), (33, 31, 3), (1000, 4), (4099,)]
    for shape in shapes:
        x = sample(dtype, shape, rng)
        for repeat in (1, 2, 3, 4, 7, 600):
            for add, args in (
                (kernels.add_normal, (25.0, 0.5)),
                (kernels.add_normal, (3000.0, -7.25)),
                (kernels.add_uniform, (40.0, 1.0)),
            ):
                start = int(rng.integers(0, 2**33))
                s = Stream.derive(int(rng.integers(0, 2**63)), b"img", "noise")
                lo, hi = (None, None) if rng.random() < 0.5 else (-5.5, 200.25)
                o1 = np.empty_like(x)
                o2 = np.empty_like(x)
                c1 = add(x, o1, s, start, *args, lo=lo, hi=hi, repeat=repeat, using=kernels.NUMPY)
                c2 = add(x, o2, s, start, *args, lo=lo, hi=hi, repeat=repeat, using=c)
                assert c1 == c2, (isa, dtype, shape, repeat)
                assert o1.tobytes() == o2.tobytes(), (isa, dtype, shape, repeat, add.__name__)
    # across a wrap of the low counter word (scalar blocks inside a vector group)
    x = sample(dtype, (4099,), rng)
    s = Stream.derive(3, b"img", "wrap")
    for start in (4 * (2**32 - 40) + 1, 4 * (2**32 - 3)):
        o1, o2 = np.empty_like(x), np.empty_like(x)
        c1 = kernels.add_normal(x, o1, s, start, 25.0, using=kernels.NUMPY)
        c2 = kernels.add_normal(x, o2, s, start, 25.0, using=c)
        assert (c1, o1.tobytes()) == (c2, o2.tobytes()), (isa, dtype, start)


def reference_add(
    x: np.ndarray, z: np.ndarray, sigma: float, mean: float, lo: float, hi: float
) -> tuple[np.ndarray, int]:
    n = np.float32(sigma) * z + np.float32(mean)
    y = x.astype(np.float32) + n
    count = int(((y < np.float32(lo)) | (y > np.float32(hi))).sum())
    y = np.where(
        y < np.float32(lo), np.float32(lo), np.where(y > np.float32(hi), np.float32(hi), y)
    )
    if x.dtype != np.float32:
        y = np.rint(y)
    return y.astype(x.dtype), count


@pytest.mark.parametrize("backend", ["numpy", "compiled"])
def test_add_normal_contract(backend: str) -> None:
    using = kernels.NUMPY if backend == "numpy" else need_compiled()
    s = Stream.derive(8, b"photo", "gaussian")
    x = np.random.default_rng(0).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    z = s.normal(100, x.size)
    want, count = reference_add(x.ravel(), z, 25.0, 3.0, 0, 255)
    out = np.empty_like(x)
    got = kernels.add_normal(x, out, s, 100, 25.0, 3.0, 0, 255, using=using)
    assert got == count and (out.ravel() == want).all()
    # mono: one z per pixel for all three channels
    zm = np.repeat(s.normal(100, x.size // 3), 3)
    want, count = reference_add(x.ravel(), zm, 25.0, 0.0, 10, 240)
    got = kernels.add_normal(x, out, s, 100, 25.0, 0.0, 10, 240, repeat=3, using=using)
    assert got == count and (out.ravel() == want).all()
    assert (out >= 10).all() and (out <= 240).all()
    # in place
    y = x.copy()
    kernels.add_normal(y, y, s, 100, 25.0, 0.0, 10, 240, repeat=3, using=using)
    assert (y == out).all()
    # float32 without bounds: no clipping, no rounding, count 0
    xf = x.astype(np.float32) / 255
    outf = np.empty_like(xf)
    assert kernels.add_normal(xf, outf, s, 0, 0.1, using=using) == 0
    want, _ = reference_add(xf.ravel(), s.normal(0, xf.size), 0.1, 0.0, -np.inf, np.inf)
    assert outf.ravel().tobytes() == want.tobytes()


@pytest.mark.parametrize("backend", ["numpy", "compiled"])
def test_add_rounds_half_to_even_and_int32_bounds(backend: str) -> None:
    using = kernels.NUMPY if backend == "numpy" else need_compiled()
    s = Stream.derive(9, b"", "r")
    x = np.array([0, 1, 2, 3, 4, 5], np.int16)
    out = np.empty_like(x)
    # sigma 0: y = x + mean exactly, mean .5 -> ties to even
    kernels.add_normal(x, out, s, 0, 0.0, 0.5, using=using)
    assert out.tolist() == [0, 2, 2, 4, 4, 6]
    xi = np.array([2**31 - 1, -(2**31), 0, 5], np.int32)
    oi = np.empty_like(xi)
    n = kernels.add_normal(xi, oi, s, 0, 0.0, 1000.0, using=using)
    assert oi[0] == 2**31 - 128 and oi.tolist()[1:] == [-(2**31) + 1024, 1000, 1005] and n == 1
    n = kernels.add_normal(xi, oi, s, 0, 0.0, -1000.0, using=using)
    assert oi.tolist() == [2**31 - 1024, -(2**31), -1000, -995] and n == 1
    xu = np.array([65535, 0, 30000], np.uint16)
    ou = np.empty_like(xu)
    kernels.add_normal(xu, ou, s, 0, 0.0, 10.0, using=using)
    assert ou.tolist() == [65535, 10, 30010]


@pytest.mark.parametrize("backend", ["numpy", "compiled"])
def test_add_float_specials(backend: str) -> None:
    using = kernels.NUMPY if backend == "numpy" else need_compiled()
    s = Stream.derive(10, b"", "f")
    x = np.array([np.nan, np.inf, -np.inf, 0.5, 2.0], np.float32)
    out = np.empty_like(x)
    n = kernels.add_normal(x, out, s, 0, 0.01, lo=0.0, hi=1.0, using=using)
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == 0.0 and out[4] == 1.0
    assert n == 3


def test_add_argument_checks() -> None:
    s = Stream.derive(1, b"", "")
    x = np.zeros(10, np.uint8)
    with pytest.raises(TypeError):
        kernels.add_normal(x.astype(np.float64), x.astype(np.float64), s, 0, 1.0)
    with pytest.raises(ValueError):
        kernels.add_normal(x, np.zeros(10, np.uint16), s, 0, 1.0)
    with pytest.raises(ValueError):
        kernels.add_normal(x, x, s, 0, 1.0, repeat=0)
    with pytest.raises(ValueError):
        kernels.add_normal(
            np.zeros((4, 4), np.uint8)[:, ::2], np.zeros((4, 2), np.uint8), s, 0, 1.0
        )
    with pytest.raises(ValueError):
        kernels.add_normal(x, x, s, 0, 1.0, lo=10, hi=5)
    with pytest.raises(ValueError):
        kernels.add_normal(x, x, s, -1, 1.0)
    # overlapping but different views: x is read before it is overwritten
    big = np.arange(20, dtype=np.uint8)
    ref = np.empty(19, np.uint8)
    kernels.add_normal(big[:19].copy(), ref, s, 0, 2.0)
    kernels.add_normal(big[:19], big[1:], s, 0, 2.0)
    assert (big[1:] == ref).all()


# Golden SHA-256 digests: the output format. Changing any of these changes every noisy file.
GOLDEN = {
    "normal": ("a3cc0961e25b33baccaeee1e387caea1486293d3b054b7dc6f13d34585090073"),
    "add_normal_u8": ("4d25c729a77403596014c29e8f2d41f4ab003e01704603df28800f4f04071ce6:652"),
    "add_normal_u8_mono": ("b120a130f441af2284981e975fe6498501fc8366d1614891980b963f8ca2b74e:1512"),
    "add_normal_f32": ("5b154031dea229146d992bb0f4211bd088c1e933f25a71d38cf57c194f70917c:300"),
    "add_normal_i16": ("cc033f1308b1cab7f3f0f128d42b2372884da1eb8c53093301edcb587949adfa:1"),
    "add_uniform_u8": ("3dbf0e481b0f4974b2287e6e768831d7c2e23d286156f937b9eac7a7b50464a3:470"),
}


def golden_outputs(using: kernels.Backend | None = None) -> dict[str, str]:
    s = Stream.derive(2024, b"golden.png", "gaussian")
    img = (np.arange(64 * 48 * 3, dtype=np.uint32) * 2654435761 % 251).astype(np.uint8)
    img = img.reshape(64, 48, 3)
    out: dict[str, str] = {}

    def h(a: np.ndarray) -> str:
        return hashlib.sha256(a.tobytes()).hexdigest()

    out["normal"] = h(kernels.normal(s, 12345, 100003, using=using))
    o = np.empty_like(img)
    n = kernels.add_normal(img, o, s, 7, 25.0, using=using)
    out["add_normal_u8"] = h(o) + f":{n}"
    n = kernels.add_normal(img, o, s, 7, 25.0, 1.0, 16, 235, repeat=3, using=using)
    out["add_normal_u8_mono"] = h(o) + f":{n}"
    f = img.astype(np.float32) / np.float32(255)
    of = np.empty_like(f)
    n = kernels.add_normal(f, of, s, 3, 0.05, 0.0, 0.0, 1.0, using=using)
    out["add_normal_f32"] = h(of) + f":{n}"
    a = (img.astype(np.int16) - 128) * 200
    oa = np.empty_like(a)
    n = kernels.add_normal(a, oa, s, 2**40 + 1, 3000.0, using=using)
    out["add_normal_i16"] = h(oa) + f":{n}"
    n = kernels.add_uniform(img, o, s, 0, 30.0, 0.0, using=using)
    out["add_uniform_u8"] = h(o) + f":{n}"
    return out


def test_golden_digests_numpy() -> None:
    assert golden_outputs(kernels.NUMPY) == GOLDEN


def test_golden_digests_compiled(isa: str) -> None:
    assert golden_outputs(need_compiled()) == GOLDEN


def test_generic_path_forced_from_python() -> None:
    """set_isa is a test hook only: the default is the best path the CPU has."""
    need_compiled()
    assert kernels._MOD is not None
    assert kernels._MOD.isa() == kernels._MOD.available()[0]
    with pytest.raises(ValueError):
        kernels._MOD.set_isa("avx1024")


@pytest.mark.parametrize(
    "flags", ["-O0", "-O3 -march=native -ffp-contract=fast"], ids=["O0", "native-contract-fast"]
)
def test_bytes_do_not_depend_on_build_flags(tmp_path: Path, flags: str) -> None:
    """The kernel rebuilt with other flags (even with FMA contraction allowed): the goldens."""
    import importlib.util
    import shlex
    import shutil
    import sysconfig

    need_compiled()
    cc = shutil.which("gcc") or shutil.which("cc")
    include = sysconfig.get_paths()["include"]
    if cc is None or not Path(include, "Python.h").exists():
        pytest.skip("no C compiler or Python headers")
    src = Path(kernels.__file__).with_name("_kernel.c")
    so = tmp_path / "_kernel.so"
    cmd = [cc, *shlex.split(flags), "-fPIC", "-shared", f"-I{include}", str(src), "-o", str(so)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    spec = importlib.util.spec_from_file_location("noisecli.rng._kernel", so)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.set_table(np.ascontiguousarray(kernels.TABLE, dtype="<f4").tobytes())
    for path in mod.available():
        mod.set_isa(path)
        assert golden_outputs(kernels._Compiled(mod)) == GOLDEN, (flags, path)


def test_square_sums_identical(isa: str) -> None:
    """The exact integer sums of squares: every compiled path equals the twin, and both equal
    a plain Python computation of the definition."""
    c = need_compiled()
    s = Stream.derive(5, b"audio.wav", "white")
    for start, count in ((0, 0), (0, 1), (3, 1000), (2**40 + 1, 5000), (7, 300_001)):
        twin = kernels.normal_square_sum(s, start, count, using=kernels.NUMPY)
        assert kernels.normal_square_sum(s, start, count, using=c) == twin, (isa, start, count)
    z = kernels.normal(s, 11, 2000, using=kernels.NUMPY).astype(np.float64)
    exact = sum(int(v * v * 2.0**40) for v in z.tolist())
    assert kernels.normal_square_sum(s, 11, 2000, using=c) == exact
    rng = np.random.default_rng(4)
    x = rng.integers(-32768, 32768, 100_003).astype(np.int16)
    y = rng.integers(-32768, 32768, x.size).astype(np.int16)
    x[:4] = [-32768, -32768, 32767, 0]
    y[:4] = [32767, -32768, -32768, 0]
    for a, b in ((x, None), (x, y), (x[:5], y[:5]), (x[:0], y[:0])):
        want = (
            sum(v * v for v in a.astype(np.int64).tolist())
            if b is None
            else sum((int(q) - int(p)) ** 2 for p, q in zip(a.tolist(), b.tolist(), strict=True))
        )
        assert kernels.square_sum_i16(a, b, using=kernels.NUMPY) == want
        assert kernels.square_sum_i16(a, b, using=c) == want, (isa, a.size, b is None)


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_of_given_values_equals_the_add_that_makes_them(isa: str, dtype: Any) -> None:
    """``add_values`` on normals made before gives ``add_normal``'s bytes and count, on every
    path and in the twin (the second pass of an audio mix reuses the first pass's normals)."""
    c = need_compiled()
    rng = np.random.default_rng(12)
    s = Stream.derive(8, b"a.wav", "white")
    for shape in [(1,), (37,), (1000, 2), (4099,), (70_001, 2)]:
        x = sample(dtype, shape, rng)
        for repeat in (1, 2, 3, 600):
            start = int(rng.integers(0, 2**33))
            z = kernels.normal(s, start, -(-x.size // repeat) + int(rng.integers(0, 3)))
            lo, hi = (None, None) if rng.random() < 0.5 else (-5.5, 200.25)
            want = np.empty_like(x)
            count = kernels.add_normal(x, want, s, start, 300.0, 0.5, lo, hi, repeat, using=c)
            for backend in (kernels.NUMPY, c):
                got = np.empty_like(x)
                n = kernels.add_values(x, got, z, 300.0, 0.5, lo, hi, repeat, using=backend)
                assert (n, got.tobytes()) == (count, want.tobytes()), (isa, shape, repeat)


def test_square_sum_also_writes_the_normals_it_sums(isa: str) -> None:
    c = need_compiled()
    s = Stream.derive(6, b"b.wav", "white")
    for start, count in ((0, 0), (5, 1), (3, 1000), (7, 300_001)):
        want = kernels.normal_square_sum(s, start, count, using=kernels.NUMPY)
        for backend in (kernels.NUMPY, c):
            z = np.full(count, np.nan, np.float32)
            assert kernels.normal_square_sum(s, start, count, z, using=backend) == want, isa
            assert z.tobytes() == kernels.normal(s, start, count).tobytes(), (isa, count)
    with pytest.raises(ValueError, match="out must be"):
        kernels.normal_square_sum(s, 0, 10, np.empty(9, np.float32), using=c)


@pytest.mark.parametrize("backend", ["numpy", "compiled"])
def test_given_values_are_checked(backend: str) -> None:
    if backend == "compiled":
        need_compiled()
    b = kernels.backend(backend)
    x = np.zeros(10, np.int16)
    out = np.empty_like(x)
    with pytest.raises(ValueError, match="values for 10 samples"):
        kernels.add_values(x, out, np.zeros(4, np.float32), 1.0, repeat=2, using=b)
    with pytest.raises(TypeError, match="float32"):
        kernels.add_values(x, out, np.zeros(10, np.float64), 1.0, using=b)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="C-contiguous"):
        kernels.add_values(x, out[::2], np.zeros(10, np.float32), 1.0, using=b)
