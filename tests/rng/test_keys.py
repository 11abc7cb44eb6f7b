"""Output keys and each output's randomness: a pure function of (seed, key)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest

from noisecli.rng.keys import file_key, output_random, sample_key


def test_file_key_depends_on_path_and_copy_only() -> None:
    assert file_key("a/b.png", 0) == file_key("a/b.png", 0)
    keys = {file_key("a/b.png", 0), file_key("a/b.png", 1), file_key("a/c.png", 0)}
    assert len(keys) == 3
    # no two (path, copy) pairs can encode alike: the path ends at the NUL
    assert file_key("a1", 0) != file_key("a", 10)


def test_keys_are_stable_across_interpreters() -> None:
    """Python's hash() is salted per process; the keys and the streams must not be."""
    code = (
        "from noisecli.rng.keys import file_key, output_random; "
        "r = output_random(5, file_key('dir/é.png', 2)); "
        "print(file_key('dir/é.png', 2).hex(), r.stream.key.hex(), r.draws.random())"
    )
    outputs = set()
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        outputs.add(proc.stdout.strip())
    assert len(outputs) == 1


def test_sample_keys() -> None:
    assert sample_key(3) == sample_key((3,))
    assert len({sample_key(3), sample_key((3, 0)), sample_key((0, 3)), sample_key(-3)}) == 4
    with pytest.raises(ValueError, match="tuple of ints"):
        sample_key((1, "a"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tuple of ints"):
        sample_key(2**70)


def test_output_randomness_is_independent_and_reproducible() -> None:
    a, b = output_random(7, file_key("a", 0)), output_random(7, file_key("a", 0))
    assert a.stream == b.stream and a.draws.random() == b.draws.random()
    assert a.stream != a.draws.stream  # parameters and noise come from two streams
    assert output_random(8, file_key("a", 0)).stream != a.stream
    assert output_random(7, file_key("a", 1)).stream != a.stream
    again = pickle.loads(pickle.dumps(output_random(7, file_key("a", 0))))
    assert again.stream == a.stream
