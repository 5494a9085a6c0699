"""The ``stylebridge`` command. Each command group lives in its own module with ``register(app)``."""

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
    from . import data_cmd, demo_cmd, stylize_cmd, train_cmd

    for module in (data_cmd, train_cmd, stylize_cmd, demo_cmd):
        module.register(app)


_register_commands()


def main() -> None:
    """Entry point: a StylebridgeError becomes one line on stderr and exit status 1."""
    try:
        app(standalone_mode=False)
    except StylebridgeError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)
    except (typer.Exit, SystemExit) as done:
        code = getattr(done, "exit_code", getattr(done, "code", 0))
        sys.exit(code or 0)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as err:  # click usage errors and the like
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        raise
