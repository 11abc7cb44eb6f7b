"""The command line: click options -> RunConfig -> runner -> exit code. Only module using click."""

from __future__ import annotations

import dataclasses
import os
import secrets
import sys
import textwrap
import traceback
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from noisecli import __version__
from noisecli.config import (
    AUDIO_FORMATS,
    DEFAULT_SNR_DB,
    IMAGE_FORMATS,
    ON_CLIP,
    AudioOptions,
    RunConfig,
)
from noisecli.errors import NoiseCliError, UsageError, save_traceback
from noisecli.noise import NOISES, get_noise, noise_names
from noisecli.noise.base import Noise, Param

F = Callable[..., Any]


def _noise_params(*media: str) -> list[Param]:
    """Every parameter of every noise of the media, once each (shared names share an option)."""
    seen: dict[str, Param] = {}
    for cls in NOISES:
        if _serves(cls, media):
            for param in cls.cli_params:
                seen.setdefault(param.name, param)
    return list(seen.values())


def _serves(cls: type[Noise], media: tuple[str, ...]) -> bool:
    return any(m in cls.media for m in media)


def _users(name: str, *media: str) -> str:
    return ", ".join(
        c.name for c in NOISES if _serves(c, media) and name in {p.name for p in c.cli_params}
    )


def _option_help(name: str, *media: str) -> str:
    """A parameter's help; when noises give it different meanings, what they share and a pointer."""
    helps = list(
        dict.fromkeys(
            p.help for c in NOISES if _serves(c, media) for p in c.cli_params if p.name == name
        )
    )
    if len(helps) == 1:
        text = helps[0]
    else:
        shared: list[str] = []
        for words in zip(*(h.split() for h in helps), strict=False):
            if len(set(words)) > 1:
                break
            shared.append(words[0])
        text = f"{' '.join(shared) or name}; units differ by noise (see `noisecli noises`)"
    return f"{text} [{_users(name, *media)}]"


def noise_options(*media: str, default_noise: str | None = "") -> Callable[[F], F]:
    """Click options for ``--noise`` and all registered noise parameters of the media.

    ``--noise`` defaults to the first noise of the first medium, unless ``default_noise``
    is given (None: chosen later, e.g. from the input's medium).
    """

    def decorate(func: F) -> F:
        for param in reversed(_noise_params(*media)):
            flag = "--" + param.name.replace("_", "-")
            help_text = _option_help(param.name, *media)
            if param.is_flag:
                func = click.option(flag, param.name, is_flag=True, default=None, help=help_text)(
                    func
                )
            else:
                func = click.option(flag, param.name, metavar=param.metavar, help=help_text)(func)
        names = list(dict.fromkeys(n for m in media for n in noise_names(m)))
        return click.option(
            "--noise",
            "noise_name",
            default=names[0] if default_noise == "" else default_noise,
            show_default=default_noise == "",
            metavar="NAME",
            help=f"noise to add: {', '.join(names)} (see `noisecli noises`)",
        )(func)

    return decorate


def build_noise(media: str, noise_name: str, values: dict[str, Any]) -> Any:
    cls = get_noise(noise_name, media)
    given = {k: v for k, v in values.items() if v is not None and v is not False}
    noise = cls.from_options(given)
    if media == "audio":  # open --background now: a missing folder is a usage error
        from noisecli.audio.recordings import bind

        noise = bind(noise)
    return noise


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def choose_noise(
    media: str,
    noise_name: str,
    noise_given: bool,
    values: dict[str, Any],
    recipe: str | None,
    sweep: str | None,
) -> Noise:
    """The run's noise: ``--noise`` and its options, a ``--recipe`` file or a ``--sweep``.

    The three exclude each other; a recipe sets every parameter itself, a sweep takes
    only ``--severity`` and ``--preset``. A bad recipe fails here, before any work.
    """
    given = [k for k, v in values.items() if v is not None and v is not False]
    if sweep is not None:
        from noisecli.noise.recipe import Sweep

        if recipe is not None:
            raise UsageError("--sweep and --recipe exclude each other")
        if noise_given:
            raise UsageError("--sweep and --noise exclude each other: --sweep names its noises")
        other = [k for k in given if k not in ("severity", "preset")]
        if other:
            raise UsageError(
                f"--sweep takes --severity and --preset only, not {_flag(other[0])} "
                "(each severity sets the strength from its table)"
            )
        return Sweep(sweep, values.get("severity") or "1:5", values.get("preset"))
    if recipe is not None:
        from noisecli.noise.recipe import Recipe

        if noise_given:
            raise UsageError("--recipe and --noise exclude each other: the recipe names its noises")
        if given:
            raise UsageError(
                f"--recipe and {_flag(given[0])} exclude each other: "
                "each step of the recipe sets its own parameters"
            )
        loaded = Recipe.load(recipe, media=media)  # type: ignore[arg-type]
        if media == "audio":  # open the recordings now: a missing folder is a usage error
            from noisecli.audio.mix import bind_recipe

            loaded = bind_recipe(loaded)
        return loaded
    noise: Noise = build_noise(media, noise_name, values)
    return noise


def run_and_exit(action: Callable[[], int], verbose: bool) -> None:
    """Run an action, turning expected errors into one line and an exit code."""
    try:
        code = action()
    except NoiseCliError as exc:
        click.echo(f"noisecli: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("noisecli: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # an unexpected failure: short message, traceback saved
        where = save_traceback()
        if verbose:
            traceback.print_exc()
        click.echo(f"noisecli: internal error: {exc!r} ({where})", err=True)
        sys.exit(70)
    sys.exit(code)


def _print_version(ctx: click.Context) -> None:
    from noisecli.rng import kernels

    click.echo(f"noisecli, version {__version__} (noise kernel: {kernels.ACTIVE})")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, param, value: _print_version(ctx) if value else None,
    help="Show the version and which noise kernel is active (compiled or numpy), then exit.",
)
def main() -> None:
    """Add realistic, reproducible noise to images and audio.

    Run `noisecli COMMAND --help` for the options and examples of a command.
    """


def cluster_options(func: F) -> F:
    """--scheduler / --scheduler-file: run the files on a Dask cluster."""
    func = click.option(
        "--scheduler-file",
        metavar="PATH",
        help="run on the Dask cluster described by this scheduler file",
    )(func)
    return click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs noisecli[distributed])",
    )(func)


IMAGE_EXAMPLES = """
\b
Examples:
  noisecli image photos/ -o noisy/ --std 25 --seed 7 -j 2
  noisecli image 'data/**/*.png' extra.jpg -o noisy/ --std 5:40 --copies 3
  noisecli image photos/ -o noisy/ --std 10% --mono --format png
  noisecli image photos/ -o noisy/ --noise salt-pepper --amount 0.01:0.05
  noisecli image photos/ -o noisy/ --noise shot --severity 1:5 --seed 3
  noisecli image photos/ -o noisy/ --recipe camera.toml --seed 1
  noisecli image val/ -o bench/ --sweep gaussian,shot,impulse,speckle --severity 1:5
  noisecli image - -o - < in.png > out.png
  noisecli image /shared/in -o /shared/out --seed 7 --scheduler tcp://10.0.0.5:8786

\b
For gaussian and uniform, --std is in 8-bit levels whatever the bit depth
(25 means 25/255 of full scale on uint8, uint16 and float32 images alike);
N% is a percentage of full scale; `noisecli noises` gives every noise's
units. LOW:HIGH draws a value per output. Outputs mirror each input's
tree under OUT; OUT/metadata.csv lists every written file with the
parameters drawn. --recipe FILE applies several noises in order, each with
a probability (the format: `noisecli noises`). --sweep writes every noise
at every --severity (default 1:5) as OUT/NOISE/SEVERITY/PATH, ImageNet-C's
layout. Exit codes: 0 ok, 1 some files failed, 2 usage error,
130 interrupted.
"""


def choice_option(
    *decls: str, choices: tuple[str, ...], default: str, help: str
) -> Callable[[F], F]:
    """An option taking one of ``choices``, its default shown in --help."""
    return click.option(
        *decls, type=click.Choice(choices), default=default, show_default=True, help=help
    )


def batch_options(
    media: str,
    formats: tuple[str, ...],
    chunk: int,
    chunk_help: str,
    medium: list[Callable[[F], F]],
) -> Callable[[F], F]:
    """The arguments and options every batch command shares; ``medium``'s own options are
    listed right after the noise options."""
    options: list[Callable[[F], F]] = [
        click.argument("inputs", nargs=-1, required=True),
        click.option(
            "-o",
            "--output",
            required=True,
            metavar="OUT",
            help="output directory" + (" ('-' for stdout)" if media == "image" else ""),
        ),
        noise_options(media),
        click.option(
            "--recipe",
            metavar="FILE",
            help="noises from a recipe file (TOML; see `noisecli noises`) instead of --noise",
        ),
        *medium,
        click.option(
            "--seed",
            type=click.IntRange(min=0),
            help="seed for byte-identical reruns (default: random, printed)",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(min=1),
            default=os.cpu_count() or 1,
            show_default=True,
            help="worker processes",
        ),
        click.option(
            "--copies",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="noisy copies per input, named NAME_n0, NAME_n1, ...",
        ),
        click.option(
            "--suffix", default="", help="text added to each output's file stem, e.g. _noisy"
        ),
        choice_option("--format", "fmt", choices=formats, default="keep", help="output format"),
        click.option(
            "--chunk",
            type=click.IntRange(min=1),
            default=chunk,
            show_default=True,
            help=chunk_help,
        ),
        click.option(
            "--allow-nested-output",
            is_flag=True,
            help="allow OUT inside an input directory (it is then never read as input)",
        ),
        click.option("--overwrite", is_flag=True, help="replace existing outputs"),
        click.option(
            "--skip-existing", is_flag=True, help="leave existing outputs alone (resume a run)"
        ),
        click.option("--dry-run", is_flag=True, help="list what would be written, write nothing"),
        click.option("--fail-fast", is_flag=True, help="stop at the first failed file"),
        click.option("--no-manifest", is_flag=True, help="do not write OUT/metadata.csv"),
        click.option(
            "-q", "--quiet", is_flag=True, help="no progress bar or summary (errors still shown)"
        ),
        click.option("-v", "--verbose", is_flag=True, help="list every file written or ignored"),
        cluster_options,
    ]

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


BATCH_KEYS = (
    "inputs",
    "output",
    "seed",
    "jobs",
    "copies",
    "suffix",
    "fmt",
    "chunk",
    "allow_nested_output",
    "overwrite",
    "skip_existing",
    "dry_run",
    "fail_fast",
    "no_manifest",
    "quiet",
    "verbose",
    "scheduler",
    "scheduler_file",
)


def run_batch(media: str, options: dict[str, Any], extra: Callable[[], dict[str, Any]]) -> None:
    """Options of a batch command -> RunConfig -> process_dataset -> summary and exit code.

    ``options`` holds the shared options and the noise's values; ``extra`` gives the
    medium's own RunConfig fields (it may raise a usage error).
    """
    values = dict(options)
    shared = {k: values.pop(k) for k in BATCH_KEYS}
    noise_name = values.pop("noise_name")
    recipe = values.pop("recipe")
    sweep = values.pop("sweep", None)
    noise_given = click.get_current_context().get_parameter_source("noise_name") not in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    )

    def action() -> int:
        from noisecli.api.dataset import process_dataset
        from noisecli.batch.allocator import keep_freed_memory

        keep_freed_memory()  # this process is ours: -j 1 runs its files here
        noise = choose_noise(media, noise_name, noise_given, values, recipe, sweep)
        seed = shared.pop("seed")
        cfg = RunConfig(
            noise=noise,
            media=media,  # type: ignore[arg-type]
            seed=secrets.randbelow(2**32) if seed is None else seed,
            format=shared.pop("fmt"),
            manifest=not shared.pop("no_manifest"),
            **shared,
            **extra(),
        )
        report = process_dataset(cfg)
        if not cfg.quiet and not cfg.dry_run:
            click.echo(f"noisecli: {report.summary()}", err=True)
        return report.exit_code

    run_and_exit(action, shared["verbose"])


@main.command(epilog=IMAGE_EXAMPLES)
@batch_options(
    "image",
    IMAGE_FORMATS,
    256,
    "rows per processing band (memory only; output identical)",
    [
        click.option(
            "--quality",
            type=click.IntRange(0, 100),
            default=95,
            show_default=True,
            help="JPEG/WebP quality",
        ),
        click.option(
            "--max-pixels",
            type=click.IntRange(1, 2**30),
            default=2**28,
            show_default=True,
            help="refuse images with more pixels (checked from the header, before decoding)",
        ),
        click.option(
            "--sweep",
            metavar="NOISES",
            help="every noise of a list (gaussian,shot,impulse,speckle) at every --severity, "
            "written to OUT/NOISE/SEVERITY/ (instead of --noise)",
        ),
    ],
)
def image(quality: int, max_pixels: int, **options: Any) -> None:
    """Noise images: files, directories (recursed) and glob patterns, written under OUT."""
    run_batch("image", options, lambda: {"quality": quality, "max_pixels": max_pixels})


AUDIO_EXAMPLES = """
\b
Examples:
  noisecli audio speech/ -o noisy/ --snr 10 --seed 1
  noisecli audio speech/ -o aug/ --noise pink --snr 5:30 --copies 3
  noisecli audio podcast.flac -o out/ --level -40dBFS --noise brown
  noisecli audio speech/ -o aug/ --background noises/ --snr 0:20
  noisecli audio speech/ -o aug/ --recipe speech.toml --seed 1
  noisecli audio take.wav -o out/ --snr 0 --on-clip scale --format flac

\b
SNR is 10·log10(signal power / noise power) over the whole file, powers
averaged over channels, reached exactly (a first pass measures the file).
--level sets the noise RMS in dBFS (20·log10 RMS, full scale 1.0). Values
are clipped to the output's range and counted; --on-clip scale lowers the
noisy signal instead, --on-clip error fails the file. A silent file under
--snr fails (SNR undefined). Outputs keep container, subtype, rate and
channels; OUT/metadata.csv records the levels reached. --recipe FILE mixes
several noises, each at its own snr or level against the clean input (so
no --snr/--level with it). Exit codes: 0 ok, 1 some files failed, 2 usage
error, 130 interrupted.
"""


@main.command(epilog=AUDIO_EXAMPLES)
@batch_options(
    "audio",
    AUDIO_FORMATS,
    65536,
    "frames per processing block (memory only; output identical)",
    [
        click.option(
            "--snr",
            metavar="DB",
            help="signal-to-noise ratio in dB, or LOW:HIGH drawn per output "
            f"[default: {DEFAULT_SNR_DB:g}]",
        ),
        click.option(
            "--level",
            metavar="DBFS",
            help="noise RMS in dBFS instead of an SNR, e.g. -40dBFS or -50:-30",
        ),
        choice_option(
            "--on-clip",
            choices=ON_CLIP,
            default="clip",
            help="values beyond full scale: clip (and count), scale the file down, or fail it",
        ),
        click.option(
            "--no-clip", is_flag=True, help="let float outputs exceed ±1.0 (no effect on PCM)"
        ),
    ],
)
def audio(snr: str | None, level: str | None, on_clip: str, no_clip: bool, **options: Any) -> None:
    """Noise audio: files, directories (recursed) and glob patterns, written under OUT."""
    ctx = click.get_current_context()
    if options.get("background") and ctx.get_parameter_source("noise_name") in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    ):
        options["noise_name"] = "background"
    run_batch(
        "audio",
        options,
        lambda: {"audio": AudioOptions.from_values(snr, level, on_clip, no_clip)},
    )


@main.command()
def noises() -> None:
    """List every noise with its parameters, their units, and an example."""
    from noisecli.noise.severity import PRESETS, TARGETS, severity_label

    for cls in NOISES:
        click.echo(f"{cls.name} ({', '.join(cls.media)}): {cls.summary}")
        if cls.aliases:
            click.echo(f"  aliases: {', '.join(cls.aliases)}")
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        for param in cls.cli_params:
            flag = "--" + param.name.replace("_", "-")
            default = defaults.get(param.name)
            shown = not param.is_flag and default not in (None, dataclasses.MISSING)
            note = f" [{default}]" if shown else ""
            if not param.is_flag:
                flag += " " + param.metavar
            click.echo(f"  {flag:<18} {param.help}{note}")
        if cls.name in TARGETS:
            for preset in PRESETS:
                click.echo(f"  {severity_label(preset, cls.name)}")
        if cls.example:
            media = cls.media[0]
            click.echo(f"  example: noisecli {media} in/ -o out/ --noise {cls.name} {cls.example}")
        click.echo()
    click.echo(RECIPE_FORMAT.strip("\n"))
    click.echo()
    graded = ", ".join(
        f"{n} ({', '.join(get_noise(n).aliases)})" if get_noise(n).aliases else n for n in TARGETS
    )
    click.echo(SWEEP_FORMAT.strip("\n"))
    click.echo(
        textwrap.fill(
            f"noises with a severity table: {graded}",
            88,
            initial_indent="  ",
            subsequent_indent="    ",
        )
    )


RECIPE_EXAMPLE = """\
# camera.toml: sensor noise on every image, stuck pixels on 30% of them
medium = "image"                 # or "audio"; checked against the steps

[[step]]                         # steps run in the order written
noise = "sensor"                 # any noise above, by name or alias
iso_like = "100:3200"            # its parameters, written as on the command line

[[step]]
noise = "salt-pepper"
amount = "0.01:0.05"             # LOW:HIGH is drawn per output
p = 0.3                          # applied to 30% of the outputs (default 1)

[[step]]                         # a group: exactly one of its noises, by weight
one_of = [
    { noise = "gaussian", std = "5:20", weight = 2 },
    { noise = "speckle", std = 0.1 },
]
p = 0.5
"""

RECIPE_FORMAT = (
    """
recipe files (--recipe FILE): several noises in order, in TOML
  each [[step]] names a noise and its parameters (keys as the options above,
  iso_like or iso-like); p = P applies it to that fraction of the outputs;
  one_of = [...] applies exactly one of its noises (weight = W, default equal).
  Audio steps set their own loudness: snr = DB (over the clean input) or
  level = DBFS, each a value or LOW:HIGH. Relative file names (background =
  "noises/") are relative to the folder of the recipe file. A bad recipe stops
  the run before any work (exit 2), naming the file and the line.
  example:
"""
    + "".join(f"    {line}\n" if line else "\n" for line in RECIPE_EXAMPLE.splitlines())
    + """\
  use: noisecli image photos/ -o noisy/ --recipe camera.toml
       noisecli audio speech/ -o aug/ --recipe speech.toml
  OUT/metadata.csv: noise "recipe:camera.toml", params {"steps": [...applied,
  with the values drawn...], "skipped": [positions]}
"""
)

SWEEP_FORMAT = """\
severity sweeps (--sweep NOISES): every noise at every --severity, one run
  noisecli image val/ -o bench/ --sweep gaussian,shot,impulse,speckle --severity 1:5
  writes OUT/NOISE/SEVERITY/PATH (ImageNet-C's layout; NOISE as written, aliases
  kept) and one OUT/metadata.csv with corruption and severity columns.
  --severity 1:5 (default), 3 or 1,3,5; --preset imagenet-c|cifar10-c.
"""


PREVIEW_EXAMPLES = """
\b
Examples:
  noisecli preview photo.jpg --std 25
  noisecli preview photo.jpg --noise gaussian --std 10% --mono --seed 7
  noisecli preview photo.jpg --std 25 --save preview.png   # no window

\b
Sliders: the noise's main parameter (and its severity, if it has one) and
the seed. Keys: space new seed, s save the noisy image at full resolution
(and print the `noisecli image` command writing the same bytes), d toggle
the difference view, q or Esc close. The view fits the screen and is never
enlarged beyond 1:1 unless --zoom asks for it.
"""


@main.command(epilog=PREVIEW_EXAMPLES)
@click.argument("source", metavar="IMAGE")
@noise_options("image")
@click.option(
    "--seed", type=click.IntRange(min=0), help="seed of the first view (default: random, 0..999)"
)
@click.option(
    "--zoom",
    type=click.FloatRange(min=0.01, max=32),
    help="display scale, e.g. 2 for 200% (default: fit the screen, at most 1)",
)
@click.option("--save", metavar="PATH", help="write the side-by-side PNG instead of a window")
@click.option(
    "--out-dir", default=".", show_default=True, metavar="DIR", help="where the s key saves"
)
def preview(
    source: str,
    noise_name: str,
    seed: int | None,
    zoom: float | None,
    save: str | None,
    out_dir: str,
    **noise_values: Any,
) -> None:
    """Show an image and its noisy version side by side, with sliders."""

    def action() -> int:
        from noisecli.look.levels import NoiseSpec
        from noisecli.look.preview import PreviewRequest, run_preview

        spec = NoiseSpec.from_values("image", noise_name, noise_values)
        chosen = secrets.randbelow(1000) if seed is None else seed
        return run_preview(PreviewRequest(source, spec, chosen, zoom, save, out_dir))

    run_and_exit(action, False)


SHEET_EXAMPLES = """
\b
Examples:
  noisecli sheet photo.jpg --std 0,10,25,50 -o levels.png
  noisecli sheet photo.jpg --std 5:50 --steps 4 --crop 200x150+40+20 -o levels.png
  noisecli sheet photo.jpg --noise gaussian --severity 1:5 -o severities.png
  noisecli sheet speech.wav --snr 20,10,0 -o snr.png

\b
Give one parameter several levels: a list A,B,C or a range LOW:HIGH
(--steps evenly spaced values). Image tiles are exactly what `noisecli image
--seed SEED` writes at each level, labelled with the level and the PSNR
against the original (the numbers `noisecli measure` prints). Sound files
give log-frequency spectrograms of the clean signal and of each level,
labelled with the measured SNR.
"""


@main.command(epilog=SHEET_EXAMPLES)
@click.argument("source", metavar="INPUT")
@click.option("-o", "--output", required=True, metavar="OUT.png", help="the PNG to write")
@noise_options("image", "audio", default_noise=None)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="seed")
@click.option("--snr", metavar="DB", help="sound files: SNR levels in dB, e.g. 20,10,0")
@click.option("--level", metavar="DBFS", help="sound files: noise RMS levels, e.g. -50,-40,-30")
@click.option("--steps", type=click.IntRange(2), default=5, help="values per LOW:HIGH range [5]")
@click.option("--crop", metavar="WxH[+X+Y]", help="show only this part of the image (centred)")
@click.option("--columns", type=click.IntRange(min=1), help="tiles per row (default: up to 5)")
def sheet(
    source: str,
    output: str,
    noise_name: str | None,
    seed: int,
    snr: str | None,
    level: str | None,
    steps: int,
    crop: str | None,
    columns: int | None,
    **noise_values: Any,
) -> None:
    """Render one input at several levels of one noise into a labelled PNG."""

    def action() -> int:
        from noisecli.errors import UsageError
        from noisecli.look.levels import NoiseSpec
        from noisecli.look.measure import medium_of
        from noisecli.look.sheet import SheetRequest, make_sheet, write_sheet

        media = medium_of(source)
        names = noise_names(media)
        if noise_name is None and not names:
            raise UsageError(f"no registered noise applies to {media}")
        extra = {"snr": snr, "level": level}
        spec = NoiseSpec.from_values(media, noise_name or names[0], noise_values, extra)
        result = make_sheet(SheetRequest(source, spec, seed, steps, crop, columns))
        write_sheet(result, output)
        for line in result.lines():
            click.echo(line)
        click.echo(f"wrote {output}", err=True)
        return 0

    run_and_exit(action, False)


@main.command()
@click.argument("clean", metavar="CLEAN")
@click.argument("noisy", metavar="NOISY")
@click.option("--json", "as_json", is_flag=True, help="one JSON object instead of text")
def measure(clean: str, noisy: str, as_json: bool) -> None:
    """Compare a noisy file with its clean original.

    Images: PSNR, noise sigma in 8-bit levels and clipped fraction. Sound files: SNR (dB),
    noise RMS (dBFS) and clipped samples.
    """

    def action() -> int:
        from noisecli.look.measure import measure_files, render

        click.echo(render(measure_files(clean, noisy), as_json))
        return 0

    run_and_exit(action, False)
