"""``stylebridge generate``: new images, a latent walk and a style-mixing grid from a GAN run."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import progress_bar, say


def generate(
    run_dir: Path = typer.Argument(..., help="A GAN run folder (dcgan ... stylegan2)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    num: int = typer.Option(64, "--num", "-n", min=1, max=100_000, help="Images to write."),
    seed: int = typer.Option(0, help="Latent seed; image i of a seed never changes."),
    truncation: float = typer.Option(
        1.0, min=0.0, max=1.0, help="Pull latents towards the mean: < 1 trades variety for quality."
    ),
    grid: bool = typer.Option(True, "--grid/--no-grid", help="Also write grid.png."),
    interpolation: int = typer.Option(
        0, min=0, max=2000, help="Frames of a looping latent walk (interpolation.gif); 0 = none."
    ),
    style_mixing: bool = typer.Option(
        False, "--style-mixing/--no-style-mixing", help="Write style_mixing.png (stylegan2)."
    ),
    device: str = typer.Option("auto", help="auto | cpu | cuda | mps"),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing output files (never the run's own)."
    ),
) -> None:
    """Generate images with a trained GAN.

    Example: stylebridge generate runs/ukiyoe_sg2 -n 64 --seed 1 --truncation 0.7 -o gen/
    --interpolation 48 --style-mixing
    """
    with progress_bar("generating", num) as update:
        result = api.generate(
            run_dir,
            out,
            num=num,
            seed=seed,
            truncation=truncation,
            grid=grid,
            interpolation_frames=interpolation,
            style_mixing=style_mixing,
            device=device,
            progress=lambda done, total: update(done, total),
            overwrite=overwrite,
        )
    say(f"{len(result.files)} image(s) written to {out}")
    for path in filter(None, [result.grid, *result.extras.values()]):
        say(f"  {path}")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
