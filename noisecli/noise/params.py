"""Command-line parameters shared by several noises, and the check for exclusive options."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import MISSING, fields
from typing import Any

from noisecli.errors import UsageError
from noisecli.noise.base import Param, flag_param
from noisecli.noise.level import Level, parse_level

MONO = flag_param("mono", "one noise field shared by all colour channels")


def number_param(
    name: str,
    help: str,
    *,
    minimum: float = 0.0,
    maximum: float | None = None,
    positive: bool = False,
    integer: bool = False,
    metavar: str = "VALUE",
) -> Param:
    """A plain number or ``LOW:HIGH`` range (no percentages) within ``[minimum, maximum]``.

    ``positive`` excludes 0; ``integer`` accepts whole numbers only.
    """

    def parse(text: str, option: str) -> Level:
        level = parse_level(text, option, minimum=minimum, maximum=maximum, allow_percent=False)
        if positive and level.lo <= 0:
            raise UsageError(f"{option}: {text!r} must be greater than 0")
        if integer and not (level.lo.is_integer() and level.hi.is_integer()):
            raise UsageError(f"{option}: {text!r} must be a whole number or a range of them")
        return level

    return Param(name, help, parse, metavar=metavar)


def choice_param(name: str, help: str, choices: Iterable[str]) -> Param:
    """One word out of ``choices`` (case-insensitive)."""
    allowed = tuple(choices)

    def parse(text: str, option: str) -> str:
        word = text.strip().lower()
        if word not in allowed:
            raise UsageError(f"{option}: {text!r} is not one of {', '.join(allowed)}")
        return word

    return Param(name, help, parse, metavar="NAME")


def given_options(options: Mapping[str, Any]) -> set[str]:
    """Names of the options that carry a value."""
    return {key for key, value in options.items() if value is not None}


def changed_fields(noise: Any) -> set[str]:
    """Names of a dataclass's fields whose value differs from the field's default."""
    return {
        f.name
        for f in fields(noise)
        if f.default is not MISSING and getattr(noise, f.name) != f.default
    }


def reject_together(noise: str, switch: str, params: Iterable[str], given: Collection[str]) -> None:
    """Raise ``UsageError`` if ``switch`` is given together with one of ``params``."""
    if switch not in given:
        return
    for param in params:
        if param in given:
            raise UsageError(
                f"--{switch.replace('_', '-')} and --{param.replace('_', '-')} exclude each "
                f"other (noise {noise!r}): give one of them"
            )
