from __future__ import annotations

import numpy as np
import pytest

from noisecli.config import Level, RunConfig, parse_level
from noisecli.errors import UsageError
from noisecli.noise import Gaussian


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25", Level(25, 25)),
        (" 5:50 ", Level(5, 50)),
        ("10%", Level(10, 10, True)),
        ("5%:10%", Level(5, 10, True)),
        ("0", Level(0, 0)),
        ("2.5e1", Level(25, 25)),
    ],
)
def test_parse_level_accepts(text: str, expected: Level) -> None:
    assert parse_level(text, "--std", minimum=0) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "not a number"),
        ("-1", "below the minimum"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("50:5", "LOW greater than HIGH"),
        ("5:", "not a value"),
        ("1:2:3", "not a value"),
        ("5%:10", "mixes percentages"),
        ("", "not a value"),
    ],
)
def test_parse_level_rejects(text: str, reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        parse_level(text, "--std", minimum=0)


def test_level_draw_fixed_consumes_nothing_and_range_stays_inside() -> None:
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    assert Level.fixed(3).draw(rng) == 3
    assert rng.bit_generator.state == before
    values = [Level(5, 50).draw(rng) for _ in range(2000)]
    assert min(values) >= 5 and max(values) <= 50
    assert max(values) - min(values) > 40  # the whole range is used


def test_level_str_round_trips() -> None:
    for text in ("25", "5:50", "10%", "5%:10%"):
        assert str(parse_level(text, "--std")) == text


def _cfg(**kw: object) -> RunConfig:
    return RunConfig(inputs=("a",), output="o", noise=Gaussian(), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"jobs": 0}, "--jobs"),
        ({"copies": 0}, "--copies"),
        ({"chunk": 0}, "--chunk"),
        ({"quality": 101}, "--quality"),
        ({"overwrite": True, "skip_existing": True}, "exclude each other"),
        ({"format": "gif"}, "--format"),
        ({"suffix": "a/b"}, "--suffix"),
        ({"seed": -1}, "--seed"),
    ],
)
def test_run_config_validates(kw: dict[str, object], reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        _cfg(**kw)


def test_run_config_is_frozen() -> None:
    cfg = _cfg()
    with pytest.raises(AttributeError):
        cfg.seed = 3  # type: ignore[misc]
