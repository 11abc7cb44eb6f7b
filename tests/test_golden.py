"""Golden bytes: the digests of the whole matrix (tests/golden.py) are those stored, here,
with the numpy twin of the compiled kernel, and with numpy's SIMD paths switched off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from noisecli.rng import kernels
from tests.golden import DIGESTS, compute

ROOT = Path(__file__).resolve().parents[1]
# numpy's names for the x86 feature groups: AVX-512 off, then AVX2 (x86-64-v3) off too
NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
NO_AVX2 = NO_AVX512 + " X86_V3"


def stored() -> dict[str, str]:
    digests: dict[str, str] = json.loads(DIGESTS.read_text())
    return digests


def _differences(found: dict[str, str], expected: dict[str, str]) -> list[str]:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    changed = sorted(k for k in set(found) & set(expected) if found[k] != expected[k])
    return (
        [f"changed: {k}" for k in changed]
        + [f"missing: {k}" for k in missing]
        + [f"new: {k}" for k in extra]
    )


@pytest.fixture(scope="module")
def here() -> dict[str, str]:
    return compute()


def test_the_matrix_is_large(here: dict[str, str]) -> None:
    assert len(here) >= 350
    assert len(set(here.values())) == len(here)  # every case noised differently


def test_digests_are_the_stored_ones(here: dict[str, str]) -> None:
    """A failure here is a change of output bytes: if deliberate, run
    `python -m tests.golden --write` and say why in CHANGELOG.md."""
    assert _differences(here, stored()) == []


def _in_subprocess(env: dict[str, str]) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.golden"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    digests: dict[str, str] = json.loads(proc.stdout)
    return digests


def _numpy_features(env: dict[str, str]) -> str:
    code = (
        "import numpy._core._multiarray_umath as m; "
        "print(sorted(k for k, v in m.__cpu_features__.items() if v))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    "env",
    [
        {"NOISECLI_PURE": "1"},
        {"NPY_DISABLE_CPU_FEATURES": NO_AVX512},
        {"NPY_DISABLE_CPU_FEATURES": NO_AVX2},
        {"NPY_DISABLE_CPU_FEATURES": NO_AVX2, "NOISECLI_PURE": "1"},
        {"NOISECLI_ISA": "generic"},
        {"NOISECLI_ISA": "avx2", "NPY_DISABLE_CPU_FEATURES": NO_AVX512},
    ],
    ids=["numpy-twin", "no-avx512", "no-avx2", "twin-no-avx2", "kernel-scalar", "kernel-avx2"],
)
def test_same_digests_with_the_twin_and_without_simd(env: dict[str, str]) -> None:
    isa = env.get("NOISECLI_ISA")
    if isa is not None:
        if kernels._MOD is None or isa not in kernels._MOD.available():
            if os.environ.get("CI") == "true" and isa == "generic":
                pytest.fail("CI builds the compiled kernel")
            pytest.skip(f"the kernel's {isa} path is not available here")
        assert _active(env) == f"compiled ({isa})"
    if "X86_V3" in env.get("NPY_DISABLE_CPU_FEATURES", ""):
        # the switch must really change numpy's dispatch, else the test proves nothing
        assert "'X86_V3'" not in _numpy_features(env)
    assert _differences(_in_subprocess(env), stored()) == []


def _active(env: dict[str, str]) -> str:
    code = "from noisecli.rng import kernels; print(kernels.ACTIVE)"
    proc = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_code_path_the_cpu_lacks_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import noisecli.rng.kernels"],
        env={**os.environ, "NOISECLI_ISA": "avx1024"},
        capture_output=True,
        text=True,
    )
    if kernels._MOD is None:
        assert proc.returncode == 0  # no compiled kernel: nothing to choose
    else:
        assert proc.returncode != 0 and "NOISECLI_ISA=avx1024: this CPU runs" in proc.stderr


def test_the_twin_is_really_used_when_forced() -> None:
    code = "from noisecli.rng import kernels; print(kernels.ACTIVE)"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "NOISECLI_PURE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == "numpy"
    if os.environ.get("CI") == "true":
        assert kernels.ACTIVE.startswith("compiled"), "CI builds the compiled kernel"
