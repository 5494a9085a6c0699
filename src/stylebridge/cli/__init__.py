"""The ``stylebridge`` command; each command group is a module with ``register(app)``."""

from __future__ import annotations

import sys

import typer

from ..errors import StylebridgeError

app = typer.Typer(
    name="stylebridge",
    help="GAN style transfer between visual cultures, style measurement and design tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    from . import (
        analyze_cmd,
        data_cmd,
        demo_cmd,
        design_cmd,
        evaluate_cmd,
        export_cmd,
        generate_cmd,
        stylize_cmd,
        train_cmd,
        web_cmd,
    )

    for module in (
        data_cmd,
        train_cmd,
        stylize_cmd,
        generate_cmd,
        export_cmd,
        evaluate_cmd,
        analyze_cmd,
        design_cmd,
        web_cmd,
        demo_cmd,
    ):
        module.register(app)


_register_commands()


def main() -> None:
    """Entry point: a StylebridgeError becomes one line on stderr and exit status 1."""
    try:
        app()  # standalone: usage errors print typer's short message and exit 2
    except StylebridgeError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)
