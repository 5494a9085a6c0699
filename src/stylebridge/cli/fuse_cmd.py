"""``stylebridge fuse`` and ``stylebridge style-code``: the feature-fusion engine's own commands."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import progress_bar, say


def fuse(
    culture_a: str = typer.Argument(..., help="First culture (or style folder, image or code)."),
    culture_b: str = typer.Argument(..., help="Second culture (or style folder, image or code)."),
    photo: Path = typer.Argument(..., help="The photo to render."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for the sweep."),
    steps: int = typer.Option(5, min=2, max=21, help="Mixes from A (0) to B (1)."),
    cultures: Path = typer.Option(
        None,
        help="Folder with one subfolder per culture: also measure each step's movement "
        "toward A and B.",
    ),
    fusion: str = typer.Option("wct", help="wct | adain."),
    strength: float = typer.Option(1.0, min=0.0, max=1.0, help="0 keeps the photo."),
    max_side: int = typer.Option(api.RENDER_SIDE, min=16, help="Render at most this long a side."),
    engine: Path = typer.Option(None, help="A `train stylenet` run instead of the bundled one."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier sweep."),
) -> None:
    """Fuse two cultures in feature space: a 0 -> 1 sweep grid, measured.

    \b
    Examples:
      stylebridge fuse chinese_ink western_oil photo.jpg -o sweep/
      stylebridge fuse chinese_ink ukiyoe photo.jpg -o sweep/ \\
          --cultures ../shared/data/cultures
    """
    with progress_bar("fusing", steps) as update:
        sweep = api.fuse(
            culture_a,
            culture_b,
            photo,
            out,
            steps=steps,
            cultures=cultures,
            engine=engine,
            overwrite=overwrite,
            progress=lambda stage, done, total: update(done) if stage == "render sweep" else None,
            fusion=fusion,
            strength=strength,
            max_side=max_side,
        )
    for row in sweep.steps:
        weights = ", ".join(f"{k} {v:.2f}" for k, v in row["weights"].items())
        moved = row.get("moved_toward")
        toward = (
            "; moved toward "
            + ", ".join(f"{k} {v:+.2f}" for k, v in moved.items())
            + f"; on the {culture_a} -> {culture_b} axis {row['position_a_to_b']:+.2f}"
            if moved
            else ""
        )
        typer.echo(f"step {row['step']}: {weights}; edge SSIM {row['edge_ssim']:.2f}{toward}")
    say(f"wrote {sweep.grid} and {sweep.folder / 'sweep.json'}")


def style_code(
    source: str = typer.Argument(
        ..., help="A folder of style images (pooled), one image, or a culture name."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="The code file to write (.safetensors)."),
    tone: str = typer.Option(
        "as-is", help="as-is, or paper: aged paper whitened and colour dropped (ink on silk)."
    ),
    engine: Path = typer.Option(None, help="A `train stylenet` run instead of the bundled one."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing code."),
) -> None:
    """Save a style code: a painting's, a folder's or a culture's feature statistics.

    \b
    Examples:
      stylebridge style-code my_paintings/ -o mine.safetensors
      stylebridge stylize photo.jpg --style-from mine.safetensors -o out.png
    """
    target = out.with_suffix(".safetensors")
    if target.exists() and not overwrite:
        raise typer.BadParameter(f"{target} exists; pass --overwrite to replace it")
    code = api.style_code(
        source,
        out=target,
        tone=tone,
        engine=engine,
        on_skip=lambda message: say(f"skipped {message}"),
    )
    say(f"wrote {target} ({code.card.get('image_count', 1)} image(s))")


def register(app: typer.Typer) -> None:
    app.command("fuse")(fuse)
    app.command("style-code")(style_code)
