"""Recipes: several noises applied in order, each with a probability, or one picked of a group.

A recipe is an ordered list of steps. A step is one registered noise with its parameters
and a probability ``p`` of being applied to an output (default 1). A ``one_of`` group picks
exactly one of its noises per output, with the given positive weights (default equal), and
may itself have a ``p``. A recipe of image noises is an image noise; a recipe of audio
noises is an audio recipe, where every step also says how loud it is.

The file format (TOML, UTF-8)::

    # camera.toml: a phone camera in dim light
    medium = "image"              # optional: "image" or "audio", checked against the steps

    [[step]]                      # steps run in the order written
    noise = "sensor"              # any noise of `noisecli noises`, by name or alias
    iso_like = "100:3200"         # parameters as on the command line: 25, "5:30", "10%"

    [[step]]
    noise = "salt-pepper"
    amount = "0.01:0.05"          # LOW:HIGH is drawn per output
    per_pixel = true              # switches are true / false
    p = 0.3                       # applied to 30% of the outputs (default 1)

    [[step]]                      # a group: exactly one of its noises, by weight
    one_of = [
        { noise = "gaussian", std = "5:20", weight = 2 },
        { noise = "gaussian", severity = 3, preset = "cifar10-c" },   # weight 1
    ]
    p = 0.5                       # the group itself is applied half the time

Parameter values are the command line's text, parsed by the noise's own parser: a number
(``std = 25``), a ``LOW:HIGH`` range drawn uniformly per output (``std = "5:30"``), a
percentage of full scale where the noise takes one (``std = "10%"``), a severity 1..5
(``severity = 3`` or ``"1:5"``), text (``preset = "cifar10-c"``) or a switch (``mono =
true``). Keys may be written ``iso_like`` or ``iso-like``. A ``one_of`` entry takes
``weight`` (a positive number) instead of ``p``; the entries may also be written as
``[[step.one_of]]`` tables after their ``[[step]]``. Groups do not nest.

In an audio recipe every step (and every ``one_of`` entry) sets its own loudness, one of
``snr`` (dB, of the input signal over this noise) or ``level`` (the noise's RMS in dBFS,
at most 0; ``-40`` or ``"-50:-30dBFS"``), each a value or a ``LOW:HIGH`` range::

    medium = "audio"
    [[step]]
    noise = "background"
    background = "noises/"        # a folder of recordings (or one file)
    snr = "0:20"
    [[step]]
    noise = "white"
    level = "-60:-40"
    p = 0.5

A bad recipe fails before any work with a :class:`~noisecli.errors.UsageError` naming the
file and the line (``camera.toml:7: ...``). Relative file names in a recipe file
(``background = "noises/"``) are relative to the folder of that file, whatever the working
directory; ``~/...`` and absolute names are kept as written.

Randomness. For each output ``prepare`` reads ``rnd.draws`` in this fixed order:

1. the decisions, step by step in recipe order: a step or group with ``0 < p < 1`` takes
   one ``random()`` and is applied if it is below ``p`` (``p = 1`` and ``p = 0`` take
   none); an applied group of two or more entries takes one more ``random()`` ``u`` and
   picks entry ``k`` where ``u·W`` falls in ``[W₀+…+W_(k-1), W₀+…+W_k)``, ``W`` the sum
   of the weights. So which steps apply depends only on the probabilities and weights,
   not on the parameters' ranges;
2. then each applied step in order prepares its noise: its parameters continue from the
   same draws, and its positional stream is ``rnd.stream.child(f"step{i}")``, ``i`` the
   step's position in the recipe (from 0, the same whatever was skipped, and the same
   for every entry of a group), so the steps' noises are independent of each other and
   a value's position keeps its meaning. An audio step then draws its level.

``Prepared.params`` records the steps applied, in order, and the positions skipped, e.g.
``{"steps": [{"noise": "sensor", "step": 0, "shot": 0.0004, ...}, {"noise": "gaussian",
"step": 2, "branch": 0, "std": 12.5, ...}], "skipped": [1]}`` (``branch``: the entry of a
group; audio steps add ``snr_db`` or ``level_dbfs``): JSON, a pure function of (seed,
output key).

Images: ``apply`` runs the applied steps' ``apply`` in order on the same float32 chunk,
each on the previous one's output as is: nothing is rounded or clipped between steps (a
noise that needs intensities in ``[0, 1]``, such as ``poisson`` or ``sensor``, clips its
own view of them); the engine rounds and clips once, at the end. A recipe copies nothing
itself: the only copies are those each step's own ``apply`` makes. A large chunk is taken
in tiles of whole rows (``TILE_VALUES`` values), all steps on one tile before the next, so
that each step finds the previous one's output in the CPU cache; a noise's values depend
only on their position, so the tiles change no byte. With exactly one step applied, that
step's native kernel (if any) is used.

Audio: the steps are mixed by the audio mixer (``noisecli.audio.mix``), each scaled to its
own level against the clean input, and their sum added; the recipe only draws them
(:meth:`Recipe.audio_steps`). The mixer adds to each step's record the level it reached
(``snr_reached_db`` or ``level_reached_dbfs``).

Sweeps: :class:`Sweep` is a set of graded noises at several severities, each written to an
output of its own by a batch run (``noisecli image --sweep``); it is not applied to one.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, ClassVar, Literal, NamedTuple

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise import get_noise
from noisecli.noise.base import MediaInfo, NativeKernel, Noise, Prepared, Span
from noisecli.noise.level import Level, parse_level
from noisecli.noise.recipe_toml import Scalar, Table, Where, dump, parse
from noisecli.noise.severity import (
    DEFAULT_PRESET,
    PRESETS,
    SEVERITY_MAX,
    SEVERITY_MIN,
    TARGETS,
)
from noisecli.noise.stream import AudioNoise
from noisecli.ranges import Media
from noisecli.rng.keys import OutputRandom
from noisecli.rng.philox import Draws

LevelKind = Literal["snr", "level"]
MEDIA: tuple[Media, ...] = ("image", "audio")
GROUP_KEYS = ("one_of", "p")  # all a one_of step holds
PATH_PARAMS = ("background",)  # parameters naming files: relative to the recipe file's folder
TILE_VALUES = 1 << 17  # values of a chunk every step noises in turn (see Recipe.apply)
_MAX_EXACT_INT = 2.0**53


def parse_snr(value: Level | str | float, name: str = "snr") -> Level:
    """An SNR in dB: ``10``, ``-5``, ``"5:30"`` (as ``noisecli.config.parse_snr``)."""
    if isinstance(value, Level):
        return value
    return parse_level(_as_text(value, name), name, allow_percent=False)


def parse_dbfs(value: Level | str | float, name: str = "level") -> Level:
    """A level in dBFS, at most 0: ``-40``, ``"-40dBFS"``, ``"-50:-30dBFS"``
    (as ``noisecli.config.parse_dbfs``)."""
    if isinstance(value, Level):
        return value
    parts = [p.strip() for p in _as_text(value, name).split(":")]
    bare = [p[: -len("dbfs")] if p.lower().endswith("dbfs") else p for p in parts]
    return parse_level(":".join(bare), name, maximum=0.0, allow_percent=False)


def _as_text(value: object, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise UsageError(f'{name} takes a number or text such as "5:30", not {_kind(value)}')


def _probability(value: object, name: str = "p") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{name} takes a number in [0, 1], not {_kind(value)}")
    p = float(value)
    if not 0.0 <= p <= 1.0:  # NaN fails too
        raise UsageError(f"{name} must be in [0, 1], got {value!r}")
    return p


def _weight(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"weight takes a positive number, not {_kind(value)}")
    w = float(value)
    if not (math.isfinite(w) and w > 0.0):
        raise UsageError(f"weight must be a positive number, got {value!r}")
    return w


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a switch"
    if isinstance(value, int | float):
        return "a number"
    for t, text in ((str, "text"), (list, "a list"), (dict, "a table")):
        if isinstance(value, t):
            return text
    return f"a {type(value).__name__}"  # TOML dates and times


def _coin(p: float, draws: Draws) -> bool:
    """Whether a step of probability ``p`` applies: one ``random()`` if ``0 < p < 1``."""
    if p >= 1.0:
        return True
    if p <= 0.0:
        return False
    return draws.random() < p


@dataclass(frozen=True, init=False)
class Step:
    """One noise of a recipe, applied with probability ``p``.

    Audio noises need their loudness, exactly one of ``snr`` (dB) or ``level`` (dBFS),
    each a value or a range (a :class:`Level`, a number or the command line's text).
    """

    noise: Noise
    p: float = 1.0
    snr: Level | None = None
    level: Level | None = None

    def __init__(
        self,
        noise: Noise,
        p: float = 1.0,
        *,
        snr: Level | str | float | None = None,
        level: Level | str | float | None = None,
    ) -> None:
        if not isinstance(noise, Noise):
            raise TypeError(f"a step holds a Noise, got {type(noise).__name__}")
        if isinstance(noise, Recipe):
            raise UsageError("a step of a recipe cannot be another recipe")
        snr_level = None if snr is None else parse_snr(snr)
        dbfs = None if level is None else parse_dbfs(level)
        if isinstance(noise, AudioNoise):
            if snr_level is not None and dbfs is not None:
                raise UsageError(f"snr and level exclude each other (noise {noise.name!r})")
            if snr_level is None and dbfs is None:
                raise UsageError(
                    f"audio noise {noise.name!r} needs its loudness: snr (dB) or level (dBFS)"
                )
        elif snr_level is not None or dbfs is not None:
            raise UsageError(f"snr and level apply to audio noises only, not to {noise.name!r}")
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "p", _probability(p))
        object.__setattr__(self, "snr", snr_level)
        object.__setattr__(self, "level", dbfs)

    @property
    def loudness(self) -> tuple[LevelKind, Level] | None:
        """``("snr", dB)`` or ``("level", dBFS)`` of an audio step; None for an image step."""
        if self.snr is not None:
            return "snr", self.snr
        if self.level is not None:
            return "level", self.level
        return None

    def describe(self) -> str:
        text = self.noise.describe()
        if self.loudness is not None:
            kind, value = self.loudness
            text += f" {kind}={value}"
        return text if self.p == 1.0 else f"{text} p={self.p:g}"


@dataclass(frozen=True, init=False)
class OneOf:
    """A group of a recipe: applied with probability ``p``, it applies exactly one of its
    steps, picked with probability proportional to its weight (all equal by default)."""

    steps: tuple[Step, ...]
    weights: tuple[float, ...]
    p: float = 1.0

    def __init__(
        self,
        steps: Iterable[Step | Noise],
        weights: Iterable[float] | None = None,
        p: float = 1.0,
    ) -> None:
        entries = tuple(s if isinstance(s, Step) else Step(s) for s in steps)
        if not entries:
            raise UsageError("one_of is empty: give it at least one noise")
        if any(s.p != 1.0 for s in entries):
            raise UsageError("an entry of one_of has no p of its own: give p to the group")
        given = (1.0,) * len(entries) if weights is None else tuple(weights)
        if len(given) != len(entries):
            raise UsageError(f"one_of has {len(entries)} entries but {len(given)} weights")
        object.__setattr__(self, "steps", entries)
        object.__setattr__(self, "weights", tuple(_weight(w) for w in given))
        object.__setattr__(self, "p", _probability(p))
        _common_media([(s.noise, f"one_of[{k}]") for k, s in enumerate(entries)])

    def pick(self, draws: Draws) -> int:
        """The entry for one output: one ``random()`` ``u``; entry ``k`` where ``u·W`` falls
        in ``[W_0 + … + W_(k-1), W_0 + … + W_k)``. A single entry takes no draw."""
        if len(self.steps) == 1:
            return 0
        u = draws.random() * sum(self.weights)
        total = 0.0
        for k, w in enumerate(self.weights):
            total += w
            if u < total:
                return k
        return len(self.weights) - 1

    def describe(self) -> str:
        equal = all(w == 1.0 for w in self.weights)
        parts = [
            s.describe() if equal else f"{s.describe()} w={w:g}"
            for s, w in zip(self.steps, self.weights, strict=True)
        ]
        text = f"one_of({' | '.join(parts)})"
        return text if self.p == 1.0 else f"{text} p={self.p:g}"


Entry = Step | OneOf
StepLike = Step | OneOf | Noise | Mapping[str, Any]


class Applied(NamedTuple):
    """One image step applied to an output: the noise and its prepared output."""

    noise: Noise
    prepared: Prepared
    position: int  # in the recipe, from 0
    branch: int | None  # the entry of a one_of, None for a plain step


class AudioStep(NamedTuple):
    """One audio step applied to an output, for the mixer.

    ``kind`` is ``"snr"`` (``value`` in dB) or ``"level"`` (``value`` in dBFS, the RMS of
    this noise alone); the mixer scales ``noise.stream(prepared)`` to it.
    """

    noise: AudioNoise
    prepared: Prepared
    kind: LevelKind
    value: float
    position: int  # in the recipe, from 0
    branch: int | None  # the entry of a one_of, None for a plain step


def _common_media(noises: Iterable[tuple[Noise, str]]) -> tuple[Media, ...]:
    """The media every noise applies to; mixing media is a ``UsageError``."""
    media = MEDIA
    first: tuple[Noise, str] | None = None
    for noise, label in noises:
        common = tuple(m for m in media if m in noise.media)
        if not common:
            assert first is not None
            raise UsageError(
                f"{label}: noise {noise.name!r} is an {'/'.join(noise.media)} noise, but "
                f"{first[1]} ({first[0].name!r}) makes this an {'/'.join(media)} recipe: "
                "a recipe does not mix media"
            )
        if first is None or common != media:
            first = (noise, label)
        media = common
    return media


def _entry_noises(entry: Entry) -> tuple[Noise, ...]:
    return tuple(s.noise for s in entry.steps) if isinstance(entry, OneOf) else (entry.noise,)


def _places(table: Table) -> tuple[Where, ...]:
    """Where each noise of a step table was written: the table, or each one_of entry."""
    items = table.data.get("one_of")
    if "one_of" not in table.data or not isinstance(items, list):
        return (table.where,)
    return tuple(
        table.entries[k].where if k < len(table.entries) else table.where for k in range(len(items))
    )


def _relative_to(noise: Noise, folder: str) -> Noise:
    """``noise`` with its relative file names (``PATH_PARAMS``) under ``folder``."""
    changes: dict[str, str] = {}
    for name in PATH_PARAMS:
        value = getattr(noise, name, None)
        if (
            isinstance(value, str)
            and value
            and not os.path.isabs(value)
            and not value.startswith("~")
            and "://" not in value
        ):
            changes[name] = os.path.join(folder, value)
    return replace(noise, **changes) if changes else noise  # type: ignore[type-var]


@dataclass(frozen=True, init=False)
class Recipe(Noise):
    """Several noises in order (see the module docstring): a noise itself.

    ``Recipe(steps)`` takes :class:`Step` and :class:`OneOf` objects, bare noises (a step
    with ``p = 1``) or plain dicts shaped like the TOML tables (``{"noise": "gaussian",
    "std": "5:30", "p": 0.5}``, ``{"one_of": [{...}, {...}], "p": 0.5}``).
    ``Recipe.load(path)`` and ``Recipe.from_toml(text)`` read the file format and
    ``to_toml()`` writes it, with ``Recipe.from_toml(r.to_toml()) == r``. ``media`` is the
    instance's: ``("image",)`` for image noises, ``("audio",)`` for audio noises.
    """

    name: ClassVar[str] = "recipe"
    media: ClassVar[tuple[Media, ...]] = MEDIA  # an instance narrows it to its steps'
    summary: ClassVar[str] = "several noises in order, each with a probability (a TOML file)"

    steps: tuple[Entry, ...]
    source: str | None = field(default=None, compare=False, repr=False)
    # where each noise of each step was written (one Where per noise of a step), for messages
    places: tuple[tuple[Where, ...], ...] = field(default=(), compare=False, repr=False)

    def __init__(
        self,
        steps: Iterable[StepLike],
        source: str | None = None,
        places: Iterable[Iterable[Where]] | None = None,
    ) -> None:
        if isinstance(steps, Mapping | str | Noise | Step | OneOf):
            raise TypeError("steps is a list of steps")
        context = _Context(None, None)
        entries: list[Entry] = []
        for i, item in enumerate(steps):
            label = f"steps[{i}]"
            if isinstance(item, Mapping):
                entries.append(_entry_from_table(Table(item, Where(label)), context))
                continue
            try:
                entry = item if isinstance(item, Step | OneOf) else Step(item)
            except UsageError as exc:
                raise UsageError(f"{label}: {exc}") from None
            for k, noise in enumerate(_entry_noises(entry)):
                sub = label if isinstance(entry, Step) else f"{label}.one_of[{k}]"
                context.check(noise.name, noise.media, Where(sub))
            entries.append(entry)
        if not entries:
            raise UsageError(f"{source or 'a recipe'}: a recipe needs at least one step")
        media = _common_media(
            (noise, f"steps[{i}]") for i, e in enumerate(entries) for noise in _entry_noises(e)
        )
        known = tuple(tuple(p) for p in places) if places is not None else ()
        if len(known) != len(entries) or any(
            len(p) != len(_entry_noises(e)) for p, e in zip(known, entries, strict=False)
        ):
            known = tuple(
                (Where(f"steps[{i}]"),)
                if isinstance(e, Step)
                else tuple(Where(f"steps[{i}].one_of[{k}]") for k in range(len(e.steps)))
                for i, e in enumerate(entries)
            )
        object.__setattr__(self, "steps", tuple(entries))
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "places", known)
        object.__setattr__(self, "media", media)

    # -- reading and writing ---------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str], media: Media | None = None) -> Recipe:
        """Read a recipe file; ``media``, if given, is the medium it must apply to.

        Relative file names in it (``background = "noises/"``) are taken relative to the
        folder of the recipe file, not to the working directory.
        """
        source = os.fspath(path)
        try:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        except IsADirectoryError:
            raise UsageError(f"{source}: is a directory, not a recipe file") from None
        except OSError as exc:
            raise UsageError(f"{source}: cannot read the recipe: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{source}: a recipe is UTF-8 text") from None
        folder = os.path.dirname(source)
        return cls.from_toml(text, source, media).map_noises(lambda n: _relative_to(n, folder))

    @classmethod
    def from_toml(cls, text: str, source: str = "<string>", media: Media | None = None) -> Recipe:
        """Parse a recipe from TOML text; ``source`` names it in error messages."""
        doc = parse(text, source)
        top = dict(doc.top)
        declared = top.pop("medium", None)
        if declared is not None and declared not in MEDIA:
            raise doc.where.fail(f'medium is "image" or "audio", got {declared!r}', key="medium")
        if top:
            key = next(iter(top))
            raise doc.where.fail(
                f"unknown key {key!r}: a recipe holds medium = ... and [[step]] tables", key=key
            )
        if media is not None and declared is not None and declared != media:
            raise doc.where.fail(
                f'this is an {declared} recipe (medium = "{declared}"), not for {media}',
                key="medium",
            )
        if doc.steps is None and doc.step_value is not None:
            raise doc.where.fail("write each step as a [[step]] table", key="step")
        if not doc.steps:
            raise doc.where.fail("the recipe has no step: add [[step]] tables", key="step")
        if declared is not None:
            context = _Context(declared, f'medium = "{declared}" at {doc.where.at("medium")}')
        elif media is not None:
            context = _Context(media, f"its use on {media}")
        else:
            context = _Context(None, None)
        entries = [_entry_from_table(table, context) for table in doc.steps]
        return cls(entries, source=source, places=[_places(table) for table in doc.steps])

    def to_toml(self) -> str:
        """The recipe as TOML text, read back equal by :meth:`from_toml`."""
        return dump({"medium": self.medium}, [_entry_table(e) for e in self.steps])

    # -- the model -------------------------------------------------------------------------

    @property
    def medium(self) -> Media:
        """``"image"`` or ``"audio"``: what the steps noise."""
        return self.media[0]

    @property
    def label(self) -> str:
        """The manifest's name of the recipe: ``recipe:camera.toml``, or ``recipe``."""
        return f"recipe:{os.path.basename(self.source)}" if self.source else "recipe"

    def where(self, position: int, branch: int | None = None, key: str | None = None) -> str:
        """Where a noise of the recipe was written: ``camera.toml:12`` (the line of ``key``
        in its table when known), or ``steps[1]`` / ``steps[1].one_of[0]`` from Python."""
        place = self.places[position][branch or 0]
        return place.at(key)

    def noises(self) -> Iterator[tuple[int, Noise]]:
        """Every noise of the recipe with its step's position (all entries of groups)."""
        for i, entry in enumerate(self.steps):
            for noise in _entry_noises(entry):
                yield i, noise

    def map_noises(self, fn: Callable[[Noise], Noise]) -> Recipe:
        """The same recipe with every noise replaced by ``fn(noise)`` (e.g. bound to its
        recordings by the audio package)."""
        return self.map_placed(lambda noise, where: fn(noise))

    def map_placed(self, fn: Callable[[Noise, Where], Noise]) -> Recipe:
        """:meth:`map_noises` with ``fn(noise, where)``: ``where.at(key)`` names the line of
        ``key`` in the noise's table (``speech.toml:7``), for messages."""

        def step(s: Step, where: Where) -> Step:
            return Step(fn(s.noise, where), s.p, snr=s.snr, level=s.level)

        entries: list[Entry] = [
            OneOf([step(s, w) for s, w in zip(e.steps, places, strict=True)], e.weights, e.p)
            if isinstance(e, OneOf)
            else step(e, places[0])
            for e, places in zip(self.steps, self.places, strict=True)
        ]
        return Recipe(entries, source=self.source, places=self.places)

    def decide(self, draws: Draws) -> tuple[list[tuple[int, Step, int | None]], list[int]]:
        """Phase 1 of the draws (module docstring): ``([(position, step, branch)], skipped)``."""
        applied: list[tuple[int, Step, int | None]] = []
        skipped: list[int] = []
        for i, entry in enumerate(self.steps):
            if not _coin(entry.p, draws):
                skipped.append(i)
            elif isinstance(entry, OneOf):
                k = entry.pick(draws)
                applied.append((i, entry.steps[k], k))
            else:
                applied.append((i, entry, None))
        return applied, skipped

    def check(self, info: MediaInfo) -> None:
        if info.media not in self.media:
            raise UsageError(
                f"{self.source or 'recipe'}: an {self.medium} recipe cannot noise {info.media}"
            )
        for _, noise in self.noises():
            noise.check(info)

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        """Decide the steps, then prepare each applied one (module docstring).

        The state is a tuple of :class:`Applied` (images) or :class:`AudioStep` (audio).
        """
        decided, skipped = self.decide(rnd.draws)
        records: list[dict[str, Any]] = []
        state: list[Applied | AudioStep] = []
        for position, step, branch in decided:
            sub = OutputRandom(rnd.draws, rnd.stream.child(f"step{position}"))
            prepared = step.noise.prepare(info, sub)
            record: dict[str, Any] = {"noise": step.noise.name, "step": position}
            if branch is not None:
                record["branch"] = branch
            loudness = step.loudness
            if loudness is not None and isinstance(step.noise, AudioNoise):
                kind, level = loudness
                value = level.draw(rnd.draws)
                record["snr_db" if kind == "snr" else "level_dbfs"] = round(value, 6)
                state.append(AudioStep(step.noise, prepared, kind, value, position, branch))
            else:
                state.append(Applied(step.noise, prepared, position, branch))
            record.update({k: v for k, v in prepared.params.items() if k not in record})
            records.append(record)
        return Prepared({"steps": records, "skipped": skipped}, tuple(state))

    def audio_steps(self, info: MediaInfo, rnd: OutputRandom) -> list[AudioStep]:
        """One output of an audio recipe: the steps applied, prepared, with their levels.

        The same draws as :meth:`prepare` (whose ``params`` the manifest records). Each
        step's noise is ``step.noise.stream(step.prepared)``, to be mixed in at
        ``step.kind`` / ``step.value``. Streams are read once: a mixer that passes over
        the output several times calls this again with a fresh ``output_random(seed,
        key)`` for each pass and gets the same steps, levels and samples.
        """
        if self.medium != "audio":
            raise UsageError(f"{self.source or 'recipe'}: an image recipe has no audio steps")
        return [s for s in self.prepare(info, rnd).state if isinstance(s, AudioStep)]

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        """The applied steps' ``apply`` in order on the same float32 chunk, unclipped in
        between; the engine rounds and clips once at the end. No copy of its own.

        A chunk of more than ``TILE_VALUES`` values is taken in tiles of whole rows, every
        step on one tile before the next tile: a step's temporaries then stay in the CPU
        cache for the next step (the engine's bands are several MB). Every noise gives the
        same values for any cut into rows, so the bytes do not change.
        """
        steps = prepared.state
        for step in steps:
            if not isinstance(step, Applied):
                raise UsageError("an audio recipe is mixed by the audio mixer, step by step")
        rows = len(chunk)
        per_row = chunk[0].size if rows else 0
        tile = max(1, TILE_VALUES // per_row) if per_row else rows
        if rows <= tile or not steps:
            for step in steps:
                chunk = step.noise.apply(chunk, span, info, step.prepared)
            return chunk
        pixels = per_row // chunk.shape[-1]
        for start in range(0, rows, tile):
            part = chunk[start : start + tile]
            at = Span(span.value + start * per_row, span.pixel + start * pixels)
            result = part
            for step in steps:
                result = step.noise.apply(result, at, info, step.prepared)
            if result is not part:  # a step that made a new array: back into the chunk
                part[...] = result
        return chunk

    def native_kernel(self, info: MediaInfo, prepared: Prepared) -> NativeKernel | None:
        """The kernel of the one step applied, if exactly one was and it has one."""
        state = prepared.state
        if len(state) == 1 and isinstance(state[0], Applied):
            return state[0].noise.native_kernel(info, state[0].prepared)
        return None

    def describe(self) -> str:
        return f"recipe({', '.join(e.describe() for e in self.steps)})"


# -- building from tables ----------------------------------------------------------------------


class _Context:
    """The recipe's medium, once known, and where it was set (for messages)."""

    def __init__(self, medium: Media | None, why: str | None) -> None:
        self.medium = medium
        self.why = why

    def check(self, name: str, media: tuple[Media, ...], where: Where) -> None:
        if self.medium is None:
            if len(media) == 1:
                self.medium = media[0]
                self.why = f"its first noise, {name!r} at {where.at('noise')}"
            return
        if self.medium not in media:
            raise where.fail(
                f"noise {name!r} is an {'/'.join(media)} noise, but this is an {self.medium} "
                f"recipe (set by {self.why})",
                key="noise",
            )


def _entry_from_table(table: Table, context: _Context) -> Entry:
    data, where = table.data, table.where
    if "one_of" not in data:
        if "weight" in data:
            raise where.fail("weight applies to the entries of a one_of only", key="weight")
        return _step_from_table(table, context, in_group=False)
    extra = [k for k in data if k not in GROUP_KEYS]
    if extra:
        raise where.fail(
            f"a one_of step holds one_of and p only, not {', '.join(map(repr, extra))} "
            "(give the parameters to its entries)",
            key=extra[0],
        )
    items = data["one_of"]
    if not isinstance(items, list) or not all(isinstance(e, Mapping) for e in items):
        raise where.fail(
            'one_of is a list of tables: one_of = [{ noise = "gaussian" }, ...]', key="one_of"
        )
    if not items:
        raise where.fail("one_of is empty: give it at least one noise", key="one_of")
    steps: list[Step] = []
    weights: list[float] = []
    for k, item in enumerate(items):
        if k < len(table.entries):
            sub = table.entries[k]
        else:
            sub = Table(item, Where(f"{where.label}.one_of[{k}]"))
        try:
            weights.append(_weight(item.get("weight", 1.0)))
        except UsageError as exc:
            raise sub.where.fail(str(exc), key="weight") from None
        steps.append(_step_from_table(sub, context, in_group=True))
    try:
        p = _probability(data.get("p", 1.0))
    except UsageError as exc:
        raise where.fail(str(exc), key="p") from None
    return OneOf(steps, weights, p)


def _step_from_table(table: Table, context: _Context, in_group: bool) -> Step:
    data, where = dict(table.data), table.where
    if in_group:
        if "one_of" in data:
            raise where.fail("one_of groups do not nest", key="one_of")
        if "p" in data:
            raise where.fail(
                "an entry of one_of has no p of its own: give p to the group, or weight here",
                key="p",
            )
        data.pop("weight", None)
    if "noise" not in data:
        raise where.fail("a step needs noise = NAME (or one_of = [...])")
    name = data.pop("noise")
    if not isinstance(name, str):
        raise where.fail(f"noise takes the name of a noise as text, not {_kind(name)}", "noise")
    try:
        cls = get_noise(name)
    except UsageError as exc:
        raise where.fail(str(exc), key="noise") from None
    if issubclass(cls, Recipe):
        raise where.fail("a step of a recipe cannot be another recipe", key="noise")
    context.check(cls.name, cls.media, where)
    values: dict[str, Any] = {}
    for key in ("p", "snr", "level"):
        if key in data:
            values[key] = data.pop(key)
    options = _options(cls, data, where)
    try:
        noise = cls.from_options(options)
    except UsageError as exc:
        message = _as_keys(cls, str(exc))
        raise where.fail(message, key=_blamed(message, data)) from None
    try:
        p = _probability(values.get("p", 1.0))
    except UsageError as exc:
        raise where.fail(str(exc), key="p") from None
    snr = _loudness(values, "snr", parse_snr, where)
    level = _loudness(values, "level", parse_dbfs, where)
    try:
        return Step(noise, p, snr=snr, level=level)
    except UsageError as exc:
        blame = "snr" if "snr" in values else "level" if "level" in values else None
        raise where.fail(str(exc), key=blame) from None


def _loudness(
    values: Mapping[str, Any],
    key: str,
    parser: Callable[[Level | str | float, str], Level],
    where: Where,
) -> Level | None:
    if key not in values:
        return None
    try:
        return parser(values[key], key)
    except UsageError as exc:
        raise where.fail(str(exc), key=key) from None


def _options(cls: type[Noise], data: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """The noise's parameters of a step table, type-checked; keys as the noise's fields."""
    specs = {p.name: p for p in cls.cli_params}
    options: dict[str, Any] = {}
    for raw, value in data.items():
        key = raw.replace("-", "_")
        spec = specs.get(key)
        if spec is None:
            own = ", ".join(sorted(specs)) or "none"
            extra = "p, snr, level" if "audio" in cls.media else "p"
            raise where.fail(
                f"unknown parameter {raw!r} for noise {cls.name!r} (its parameters: {own}; "
                f"a step also takes {extra})",
                key=raw,
            )
        if key in options:
            raise where.fail(f"parameter {key!r} is given twice", key=raw)
        if spec.is_flag:
            if not isinstance(value, bool):
                raise where.fail(f"{raw} is a switch: true or false, not {_kind(value)}", raw)
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            raise where.fail(
                f'{raw} takes a number or text such as "5:30", not {_kind(value)}', key=raw
            )
        # numbers as the text they would be on the command line, for the noise's parser
        options[key] = str(value) if isinstance(value, int | float) and not spec.is_flag else value
    return options


_OPTION = re.compile(r"--([a-z][a-z0-9-]*)")


def _as_keys(cls: type[Noise], message: str) -> str:
    """A noise's message with its command-line options (``--iso-like``) as recipe keys."""
    names = {p.name for p in cls.cli_params}

    def key(m: re.Match[str]) -> str:
        name = m.group(1).replace("-", "_")
        return name if name in names else m.group(0)

    return _OPTION.sub(key, message)


def _blamed(message: str, data: Mapping[str, Any]) -> str | None:
    """The key a noise's message starts with (``std: ...``), to point at its line."""
    head = message.split(":", 1)[0].strip()
    for raw in data:
        if raw.replace("-", "_") == head:
            return raw
    return None


# -- writing -----------------------------------------------------------------------------------


def _number(x: float) -> int | float:
    """A whole number as an int (``25``), other values as the shortest exact float."""
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < _MAX_EXACT_INT else x


def _level_value(level: Level) -> Scalar:
    """The command line's text of a level: ``25``, ``"5:30"``, ``"10%"``, ``"5%:10%"``."""
    if not level.percent and not level.is_range:
        return _number(level.lo)
    unit = "%" if level.percent else ""
    lo = f"{_number(level.lo)!r}{unit}"
    return f"{lo}:{_number(level.hi)!r}{unit}" if level.is_range else lo


def noise_options(noise: Noise) -> dict[str, Scalar]:
    """The parameters of a noise that differ from their defaults, as recipe values."""
    specs = {p.name for p in type(noise).cli_params}
    skip = noise.overridden()
    out: dict[str, Scalar] = {}
    for f in fields(noise):  # type: ignore[arg-type]
        value = getattr(noise, f.name)
        if f.name in skip:
            continue
        if f.default is not MISSING and value == f.default:
            continue
        if f.default_factory is not MISSING and value == f.default_factory():
            continue
        if f.name not in specs:
            raise UsageError(f"noise {noise.name!r}: {f.name} has no recipe parameter")
        if isinstance(value, Level):
            out[f.name] = _level_value(value)
        elif isinstance(value, bool | str):
            out[f.name] = value
        elif isinstance(value, int | float):
            out[f.name] = _number(value)
        else:
            raise UsageError(
                f"noise {noise.name!r}: {f.name} = {type(value).__name__} cannot be written "
                "to a recipe (give it as text)"
            )
    return out


def _step_table(step: Step, weight: float | None = None) -> dict[str, Scalar]:
    table: dict[str, Scalar] = {"noise": step.noise.name, **noise_options(step.noise)}
    if step.loudness is not None:
        kind, level = step.loudness
        table[kind] = _level_value(level)
    if weight is not None:
        table["weight"] = _number(weight)
    if step.p != 1.0:
        table["p"] = _number(step.p)
    return table


def _entry_table(entry: Entry) -> dict[str, Any]:
    if isinstance(entry, Step):
        return _step_table(entry)
    equal = all(w == 1.0 for w in entry.weights)
    table: dict[str, Any] = {
        "one_of": [
            _step_table(s, None if equal else w)
            for s, w in zip(entry.steps, entry.weights, strict=True)
        ]
    }
    if entry.p != 1.0:
        table["p"] = _number(entry.p)
    return table


# -- sweeps ------------------------------------------------------------------------------------


class Variant(NamedTuple):
    """One noise at one severity of a :class:`Sweep`, written under ``<folder>/<severity>/``."""

    folder: str  # the noise's name as the caller wrote it ("shot")
    severity: int
    noise: Noise

    @property
    def prefix(self) -> str:
        """``shot/3``: where this variant's outputs go, below the output root."""
        return f"{self.folder}/{self.severity}"


def parse_severities(value: str | int | Iterable[int], name: str = "--severity") -> tuple[int, ...]:
    """Every severity of a sweep: ``3``, ``"1:5"`` (each of 1..5) or ``"1,3,5"``."""
    if isinstance(value, bool):
        raise UsageError(f"{name} takes severities such as 1:5 or 1,3,5, not a switch")
    if isinstance(value, int):
        parts: list[str] = [str(value)]
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    else:
        parts = [str(v) for v in value]
    found: list[int] = []
    for part in parts:
        level = parse_level(part, name, minimum=SEVERITY_MIN, maximum=SEVERITY_MAX)
        if level.percent or not (level.lo.is_integer() and level.hi.is_integer()):
            raise UsageError(f"{name}: {part!r} is not a whole severity or a LOW:HIGH range")
        found.extend(range(int(level.lo), int(level.hi) + 1))
    if not found:
        raise UsageError(f"{name}: give at least one severity")
    return tuple(dict.fromkeys(found))


def _graded_names() -> str:
    """The noises with a severity table, with their aliases: ``poisson (shot)``."""
    out = []
    for name in TARGETS:
        aliases = get_noise(name).aliases
        out.append(f"{name} ({', '.join(aliases)})" if aliases else name)
    return ", ".join(out)


@dataclass(frozen=True, init=False)
class Sweep(Noise):
    """Every noise of a list at every severity of a list, each to its own output.

    A corruption benchmark in one run, laid out as ImageNet-C is:
    ``OUT/<noise>/<severity>/<path below the input root>``. ``noises`` are names of the
    noises with a severity table (``gaussian``, ``poisson`` or ``shot``, ``salt-pepper``
    or ``impulse``, ``speckle``); each is used as its folder name as written, so
    ``Sweep(["shot", "impulse"])`` writes ``shot/`` and ``impulse/``. A name and its alias
    together (``shot,poisson``) are refused. ``severities`` are ``"1:5"`` (each of them,
    the default), ``3`` or ``"1,3,5"``; ``preset`` the table (``imagenet-c`` by default).

    A sweep is not applied to one output: ``process_dataset(RunConfig(noise=Sweep(...)))``
    (or ``noisecli image --sweep``) writes one output per input file and variant, each
    with its own output key (``<noise>/<severity>/<input path>``).
    """

    name: ClassVar[str] = "sweep"
    media: ClassVar[tuple[Media, ...]] = ("image",)
    summary: ClassVar[str] = "every noise at every severity, each in its own folder"

    variants: tuple[Variant, ...]
    preset: str | None = None

    def __init__(
        self,
        noises: str | Iterable[str],
        severities: str | int | Iterable[int] = "1:5",
        preset: str | None = None,
    ) -> None:
        names = [n.strip() for n in noises.split(",")] if isinstance(noises, str) else list(noises)
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise UsageError(f"--sweep takes noise names separated by commas: {_graded_names()}")
        levels = parse_severities(severities)
        chosen = None if preset is None else preset.strip().lower()
        if chosen is not None and chosen not in PRESETS:
            raise UsageError(f"--preset: {preset!r} is not one of {', '.join(PRESETS)}")
        seen: dict[str, str] = {}
        variants: list[Variant] = []
        for written in names:
            folder = written.strip().lower()
            cls = get_noise(folder, "image")
            if cls.name not in TARGETS:
                raise UsageError(
                    f"--sweep: noise {cls.name!r} has no severity table; "
                    f"the noises with one: {_graded_names()}"
                )
            if cls.name in seen:
                raise UsageError(
                    f"--sweep: {seen[cls.name]!r} and {written.strip()!r} are the same noise "
                    f"({cls.name}): give it once"
                )
            seen[cls.name] = written.strip()
            for severity in levels:
                options: dict[str, Any] = {"severity": str(severity)}
                if chosen is not None:
                    options["preset"] = chosen
                variants.append(Variant(folder, severity, cls.from_options(options)))
        object.__setattr__(self, "variants", tuple(variants))
        object.__setattr__(self, "preset", chosen)

    @property
    def noises(self) -> tuple[str, ...]:
        """The folder names, in order."""
        return tuple(dict.fromkeys(v.folder for v in self.variants))

    @property
    def severities(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(v.severity for v in self.variants))

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        raise UsageError(
            "a sweep writes each noise and severity to an output of its own: run it on files "
            "(noisecli image --sweep, or process_dataset), or noise with one of its variants"
        )

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        raise UsageError("a sweep is not applied to one output")

    def describe(self) -> str:
        severities = ",".join(map(str, self.severities))
        return f"sweep({','.join(self.noises)} x {severities} {self.preset or DEFAULT_PRESET})"
