"""Readers and writers: OpenCV for images, soundfile for audio (both imported lazily)."""

from __future__ import annotations

from collections.abc import Mapping


def has_extension(name: str, extensions: Mapping[str, str]) -> bool:
    """True if ``name`` ends in one of ``extensions`` (case-insensitive, not a bare dotfile)."""
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in extensions
