"""The command line: click options -> RunConfig -> runner -> exit code. Only module using click."""

from __future__ import annotations

import dataclasses
import os
import secrets
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

from noisecli import __version__
from noisecli.config import IMAGE_FORMATS, RunConfig
from noisecli.errors import NoiseCliError, save_traceback
from noisecli.noise import NOISES, get_noise, noise_names
from noisecli.noise.base import Param

F = Callable[..., Any]


def _noise_params(media: str) -> list[Param]:
    """Every parameter of every noise of a medium, once each (shared names share an option)."""
    seen: dict[str, Param] = {}
    for cls in NOISES:
        if media in cls.media:
            for param in cls.cli_params:
                seen.setdefault(param.name, param)
    return list(seen.values())


def _users(name: str, media: str) -> str:
    return ", ".join(
        c.name for c in NOISES if media in c.media and name in {p.name for p in c.cli_params}
    )


def _option_help(name: str, media: str) -> str:
    """A parameter's help; when noises give it different meanings, what they share and a pointer."""
    helps = list(
        dict.fromkeys(
            p.help for c in NOISES if media in c.media for p in c.cli_params if p.name == name
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
    return f"{text} [{_users(name, media)}]"


def noise_options(media: str) -> Callable[[F], F]:
    """Click options for ``--noise`` and all registered noise parameters."""

    def decorate(func: F) -> F:
        for param in reversed(_noise_params(media)):
            flag = "--" + param.name.replace("_", "-")
            help_text = _option_help(param.name, media)
            if param.is_flag:
                func = click.option(flag, param.name, is_flag=True, default=None, help=help_text)(
                    func
                )
            else:
                func = click.option(flag, param.name, metavar=param.metavar, help=help_text)(func)
        names = noise_names(media)
        return click.option(
            "--noise",
            "noise_name",
            default=names[0],
            show_default=True,
            metavar="NAME",
            help=f"noise to add: {', '.join(names)} (see `noisecli noises`)",
        )(func)

    return decorate


def build_noise(media: str, noise_name: str, values: dict[str, Any]) -> Any:
    cls = get_noise(noise_name, media)
    given = {k: v for k, v in values.items() if v is not None and v is not False}
    return cls.from_options(given)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="noisecli")
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
  noisecli image - -o - < in.png > out.png
  noisecli image /shared/in -o /shared/out --seed 7 --scheduler tcp://10.0.0.5:8786

\b
For gaussian and uniform, --std is in 8-bit levels whatever the bit depth
(25 means 25/255 of full scale on uint8, uint16 and float32 images alike);
N% is a percentage of full scale; `noisecli noises` gives every noise's
units. LOW:HIGH draws a value per output. Outputs mirror each input's
tree under OUT; OUT/metadata.csv lists every written file with the
parameters drawn. Exit codes: 0 ok, 1 some files failed, 2 usage error,
130 interrupted.
"""


@main.command(epilog=IMAGE_EXAMPLES)
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o", "--output", required=True, metavar="OUT", help="output directory ('-' for stdout)"
)
@noise_options("image")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="seed for byte-identical reruns (default: random, printed)",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default=True,
    help="worker processes",
)
@click.option(
    "--copies",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="noisy copies per input, named NAME_n0, NAME_n1, ...",
)
@click.option("--suffix", default="", help="text added to each output's file stem, e.g. _noisy")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(IMAGE_FORMATS),
    default="keep",
    show_default=True,
    help="output format",
)
@click.option(
    "--quality",
    type=click.IntRange(0, 100),
    default=95,
    show_default=True,
    help="JPEG/WebP quality",
)
@click.option(
    "--chunk",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="rows per processing band (memory only; output identical)",
)
@click.option(
    "--max-pixels",
    type=click.IntRange(1, 2**30),
    default=2**28,
    show_default=True,
    help="refuse images with more pixels (checked from the header, before decoding)",
)
@click.option(
    "--allow-nested-output",
    is_flag=True,
    help="allow OUT inside an input directory (it is then never read as input)",
)
@click.option("--overwrite", is_flag=True, help="replace existing outputs")
@click.option("--skip-existing", is_flag=True, help="leave existing outputs alone (resume a run)")
@click.option("--dry-run", is_flag=True, help="list what would be written, write nothing")
@click.option("--fail-fast", is_flag=True, help="stop at the first failed file")
@click.option("--no-manifest", is_flag=True, help="do not write OUT/metadata.csv")
@click.option("-q", "--quiet", is_flag=True, help="no progress bar or summary (errors still shown)")
@click.option("-v", "--verbose", is_flag=True, help="list every file written or ignored")
@cluster_options
def image(
    inputs: tuple[str, ...],
    output: str,
    noise_name: str,
    seed: int | None,
    jobs: int,
    copies: int,
    suffix: str,
    fmt: str,
    quality: int,
    chunk: int,
    max_pixels: int,
    allow_nested_output: bool,
    overwrite: bool,
    skip_existing: bool,
    dry_run: bool,
    fail_fast: bool,
    no_manifest: bool,
    quiet: bool,
    verbose: bool,
    scheduler: str | None,
    scheduler_file: str | None,
    **noise_values: Any,
) -> None:
    """Noise images: files, directories (recursed) and glob patterns, written under OUT."""

    def action() -> int:
        from noisecli.runner import process_dataset

        noise = build_noise("image", noise_name, noise_values)
        cfg = RunConfig(
            inputs=inputs,
            output=output,
            noise=noise,
            media="image",
            seed=secrets.randbelow(2**32) if seed is None else seed,
            jobs=jobs,
            copies=copies,
            suffix=suffix,
            format=fmt,
            quality=quality,
            chunk=chunk,
            max_pixels=max_pixels,
            allow_nested_output=allow_nested_output,
            overwrite=overwrite,
            skip_existing=skip_existing,
            dry_run=dry_run,
            fail_fast=fail_fast,
            manifest=not no_manifest,
            quiet=quiet,
            verbose=verbose,
            scheduler=scheduler,
            scheduler_file=scheduler_file,
        )
        report = process_dataset(cfg)
        if not quiet and not dry_run:
            click.echo(f"noisecli: {report.summary()}", err=True)
        return report.exit_code

    run_and_exit(action, verbose)


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
