"""``stylebridge stylize``: translate files and folders of any size."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from ..data import expand_inputs
from .progress import progress_bar, say


def stylize(
    model: Path = typer.Argument(..., help="Run or model folder (holds config.json)."),
    inputs: list[Path] = typer.Argument(..., help="Image files and/or folders."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (or file for one input)."),
    direction: str = typer.Option("a2b", help="a2b or b2a (CycleGAN runs have both)."),
    strength: float = typer.Option(1.0, min=0.0, max=1.0, help="Blend with the original."),
    max_side: int = typer.Option(None, min=16, help="Translate at most this long a side."),
    tile: int = typer.Option(512, min=0, help="Tile side for large images; 0 = never tile."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | mps"),
) -> None:
    """Translate images; outputs keep the input size, orientation and transparency."""
    stylizer = api.load(model, device=device)
    failures = 0
    inputs = expand_inputs(inputs)
    total = len(inputs)
    with progress_bar("stylizing", total) as update:
        done = 0
        options = dict(direction=direction, strength=strength, max_side=max_side, tile=tile)
        for result in stylizer.stylize_files(inputs, out, **options):
            done += 1
            update(done)
            if result.error:
                failures += 1
                say(f"skipped {result.error}")
            elif total <= 20:
                say(f"{result.source} -> {result.output}")
    say(f"{done - failures} of {total} image(s) written to {out}")
    if failures:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("stylize")(stylize)
