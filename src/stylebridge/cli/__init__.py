"""The ``stylebridge`` command; each command group is a module with ``register(app)``."""

from __future__ import annotations

import sys

import typer

from .. import __version__
from ..errors import StylebridgeError
from .help import use_conventional_help

app = typer.Typer(
    name="stylebridge",
    help="GAN style transfer between visual cultures, style measurement and design tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stylebridge {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version."
    ),
) -> None:
    """GAN style transfer between visual cultures, style measurement and design tools."""


def _register_commands() -> None:
    from . import (
        analyze_cmd,
        data_cmd,
        demo_cmd,
        design_cmd,
        evaluate_cmd,
        export_cmd,
        fuse_cmd,
        generate_cmd,
        import_cmd,
        restore_cmd,
        stylize_cmd,
        train_cmd,
        web_cmd,
    )

    for module in (
        data_cmd,
        train_cmd,
        stylize_cmd,
        fuse_cmd,
        generate_cmd,
        export_cmd,
        import_cmd,
        evaluate_cmd,
        analyze_cmd,
        design_cmd,
        restore_cmd,
        web_cmd,
        demo_cmd,
    ):
        module.register(app)


_register_commands()
use_conventional_help(app)


def main() -> None:
    """Entry point: a StylebridgeError becomes one line on stderr and exit status 1."""
    try:
        app()  # standalone: usage errors print typer's short message and exit 2
    except StylebridgeError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)
