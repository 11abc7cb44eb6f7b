"""Same bytes whatever SIMD level numpy dispatches to, on both kernel paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from noisecli.rng import kernels

# Digests of normal() and add_normal() outputs, printed as JSON with the numpy features in use.
PROBE = r"""
import hashlib, json
import numpy as np
from numpy._core._multiarray_umath import __cpu_features__ as feats
from noisecli.rng import kernels
from noisecli.rng.philox import Stream

s = Stream.derive(31337, b"simd.png", "gaussian")
out = {}
out["normal"] = hashlib.sha256(kernels.normal(s, 3, 200003).tobytes()).hexdigest()
img = (np.arange(321 * 123 * 3, dtype=np.uint32) * 2654435761 % 253).astype(np.uint8)
img = img.reshape(321, 123, 3)
for name, x, args in (
    ("u8", img, (25.0, 0.0)),
    ("f32", img.astype(np.float32) / np.float32(255), (0.1, 0.0, 0.0, 1.0)),
    ("i16", (img.astype(np.int16) - 128) * 250, (2000.0, 0.0)),
):
    o = np.empty_like(x)
    n = kernels.add_normal(x, o, s, 17, *args)
    out["add_" + name] = hashlib.sha256(o.tobytes()).hexdigest() + ":" + str(n)
    n = kernels.add_normal(x, o, s, 17, *args, repeat=3)
    out["mono_" + name] = hashlib.sha256(o.tobytes()).hexdigest() + ":" + str(n)
print(json.dumps({"active": kernels.ACTIVE, "digests": out,
                  "features": sorted(k for k, v in feats.items() if v)}))
"""

DISABLE_SETS = [
    ["X86_V4", "AVX512_ICL", "AVX512_SPR"],
    ["X86_V4", "AVX512_ICL", "AVX512_SPR", "X86_V3"],
]


def dispatchable() -> set[str]:
    """Feature names numpy can disable here (its dispatch targets); others are dropped."""
    from numpy._core._multiarray_umath import __cpu_dispatch__

    return set(__cpu_dispatch__)


def run_probe(disable: list[str], pure: bool) -> dict[str, object]:
    env = dict(os.environ)
    names = [n for n in disable if n in dispatchable()]
    if names:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(names)
    else:
        env.pop("NPY_DISABLE_CPU_FEATURES", None)
    if pure:
        env["NOISECLI_PURE"] = "1"
    else:
        env.pop("NOISECLI_PURE", None)
    res = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    data: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return data


@pytest.fixture(scope="module")
def here() -> dict[str, object]:
    return run_probe([], pure=os.environ.get("NOISECLI_PURE") == "1")


@pytest.mark.parametrize("disable", DISABLE_SETS, ids=["no-avx512", "no-avx512-no-avx2"])
@pytest.mark.parametrize("pure", [True, False], ids=["numpy", "compiled"])
def test_digests_do_not_depend_on_simd_level(
    here: dict[str, object], disable: list[str], pure: bool
) -> None:
    if not pure and kernels.COMPILED is None:
        pytest.skip("compiled kernel not built")
    got = run_probe(disable, pure)
    assert got["active"] == ("numpy" if pure or kernels.COMPILED is None else kernels.COMPILED.name)
    features = got["features"]
    assert isinstance(features, list)
    for name in disable:
        if name in dispatchable():
            assert name not in features, f"{name} still enabled"
    assert got["digests"] == here["digests"]


def test_in_process_digests_match_probe(here: dict[str, object]) -> None:
    """The subprocess probe computes what this process computes (same code, same bytes)."""
    import hashlib

    from noisecli.rng.philox import Stream

    s = Stream.derive(31337, b"simd.png", "gaussian")
    want = hashlib.sha256(kernels.normal(s, 3, 200003).tobytes()).hexdigest()
    digests = here["digests"]
    assert isinstance(digests, dict)
    assert digests["normal"] == want
    twin = hashlib.sha256(kernels.normal(s, 3, 200003, using=kernels.NUMPY).tobytes())
    assert digests["normal"] == twin.hexdigest()
