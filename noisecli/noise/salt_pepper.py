"""Salt-and-pepper (impulse) noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from noisecli.noise.base import MediaInfo, Param, Prepared, Span, flag_param
from noisecli.noise.level import Level
from noisecli.noise.params import number_param
from noisecli.noise.severity import SEVERITY_PARAMS, Graded
from noisecli.noise.units import range_ends, require_range, uniform_field
from noisecli.rng.keys import OutputRandom


@dataclass(frozen=True)
class SaltPepper(Graded):
    """``y = hi`` with probability ``amount·r``, ``lo`` with ``amount·(1 - r)``, else ``x``.

    ``r = salt_ratio``; ``lo``/``hi`` are the ends of the data range (black and white): the
    dtype's range for files, ``data_range`` or the integer dtype's range for arrays.
    Each value is drawn independently (as scikit-image and ImageNet-C do); with
    ``per_pixel`` all colour channels of a pixel are set together (a black or white pixel).
    ``severity`` s sets ``amount`` to the ImageNet-C constant.
    """

    name: ClassVar[str] = "salt-pepper"
    aliases: ClassVar[tuple[str, ...]] = ("impulse", "salt-and-pepper")
    summary: ClassVar[str] = "a fraction of values set to the range's min or max"
    example: ClassVar[str] = "--amount 0.01:0.05 --per-pixel"
    cli_params: ClassVar[tuple[Param, ...]] = (
        number_param(
            "amount", "fraction of values (pixels with --per-pixel) replaced, 0..1", maximum=1.0
        ),
        number_param("salt_ratio", "fraction of the replaced values set to white", maximum=1.0),
        flag_param("per_pixel", "replace whole pixels (all colour channels) instead of values"),
        *SEVERITY_PARAMS,
    )

    amount: Level = Level.fixed(0.05)
    salt_ratio: Level = Level.fixed(0.5)
    per_pixel: bool = False

    def check(self, info: MediaInfo) -> None:
        require_range(info, self.name, "sets values to the ends of the data range")

    def prepare_values(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        amount = self.amount.draw(rnd.draws)
        ratio = self.salt_ratio.draw(rnd.draws)
        params: dict[str, float | str | bool] = {
            "amount": round(amount, 6),
            "salt_ratio": round(ratio, 6),
            "per_pixel": self.per_pixel,
        }
        return Prepared(params, (np.float32(amount * ratio), np.float32(amount), rnd.stream))

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        salt_below, change_below, stream = prepared.state
        draw = uniform_field(stream, span, chunk, self.per_pixel)
        black, white = range_ends(info)
        np.copyto(chunk, chunk.dtype.type(black), where=draw < change_below)
        np.copyto(chunk, chunk.dtype.type(white), where=draw < salt_below)
        return chunk
