"""``stylebridge demo``: the first command a new user runs; offline, on what ships."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import say


def demo(
    out: Path = typer.Option(Path("demo_out"), "--out", "-o", help="Folder for the results."),
    seconds: float = typer.Option(
        60.0, min=5.0, help="Training time budget when no bundled model is available."
    ),
    domain_a: Path = typer.Option(None, help="Source images for the demo training run."),
    domain_b: Path = typer.Option(None, help="Target-style images for the demo training run."),
) -> None:
    """Stylize sample photos that ship with scikit-image and write a contact sheet.

    With no bundled culture model it first trains a small FastCUT model for --seconds on the
    given folders (default: scikit-image's photos -> its texture samples) to show the whole path.
    """
    result = api.demo(out, seconds=seconds, domain_a=domain_a, domain_b=domain_b, log=say)
    say(f"contact sheet: {result.sheet}")
    say(f"page: {result.page}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
