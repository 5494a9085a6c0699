"""``stylebridge restore ...``: upscale, denoise, inpaint, and the old-photo chain."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import report_files, say

restore_app = typer.Typer(
    help="Restore images: super-resolution, denoising, inpainting of damage, old photos.",
    no_args_is_help=True,
)

INPUTS_HELP = "Image files and/or folders."
OUT_HELP = "Output folder (or a file name for a single input)."
MODEL_HELP = "A run folder from `stylebridge train` instead of the bundled model."
OVERWRITE_HELP = "Replace existing output files (never an input)."
ENSEMBLE_HELP = "Average over the 8 rotations and mirror images: 8x the time, a little sharper."


@restore_app.command("upscale")
def upscale(
    inputs: list[Path] = typer.Argument(..., help=INPUTS_HELP),
    out: Path = typer.Option(..., "--out", "-o", help=OUT_HELP),
    scale: int = typer.Option(4, "--scale", help="2 or 4."),
    model: Path = typer.Option(None, "--model", help=MODEL_HELP),
    tile: int = typer.Option(512, min=0, help="Input tile side in px (0: whole image)."),
    ensemble: bool = typer.Option(False, "--ensemble", help=ENSEMBLE_HELP),
    gan: bool = typer.Option(
        False,
        "--gan",
        help="The bundled GAN model: sharper texture, invented where the input has none "
        "(about 1 dB lower PSNR than the default model).",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Super-resolution: every image 2 or 4 times larger, with detail a resize cannot add.

    Example: stylebridge restore upscale print.jpg --scale 4 -o big/
    """
    results = api.restore_files(
        "upscale",
        inputs,
        out,
        scale=scale,
        model=model,
        tile=tile,
        ensemble=ensemble,
        overwrite=overwrite,
        gan=gan,
    )
    report_files(results, len(api.expand_inputs(inputs)), out, "restoring")


@restore_app.command("denoise")
def denoise(
    inputs: list[Path] = typer.Argument(..., help=INPUTS_HELP),
    out: Path = typer.Option(..., "--out", "-o", help=OUT_HELP),
    strength: float = typer.Option(
        1.0, min=0.0, max=4.0, help="Scale the estimated noise level: <1 keeps grain, >1 smooths."
    ),
    sigma: float = typer.Option(
        None, min=0.0, max=255.0, help="Noise level in 0-255 units instead of the estimate."
    ),
    model: Path = typer.Option(None, "--model", help=MODEL_HELP),
    ensemble: bool = typer.Option(False, "--ensemble", help=ENSEMBLE_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Blind denoising of photos and scans (the noise level is estimated per image).

    Example: stylebridge restore denoise scans/ -o clean/ --strength 0.8
    """
    results = api.restore_files(
        "denoise",
        inputs,
        out,
        strength=strength,
        sigma=sigma,
        model=model,
        ensemble=ensemble,
        overwrite=overwrite,
    )
    report_files(results, len(api.expand_inputs(inputs)), out, "restoring")


@restore_app.command("inpaint")
def inpaint(
    inputs: list[Path] = typer.Argument(..., help=INPUTS_HELP),
    out: Path = typer.Option(..., "--out", "-o", help=OUT_HELP),
    mask: Path = typer.Option(None, "--mask", help="White = missing; the image's size."),
    auto_mask: str = typer.Option(
        None, "--auto-mask", help="Find the damage: 'scratches' (thin cracks and scratches)."
    ),
    sensitivity: float = typer.Option(
        1.0, min=0.1, max=5.0, help="--auto-mask: above 1 finds fainter scratches."
    ),
    method: str = typer.Option("model", help="model | telea | biharmonic."),
    model: Path = typer.Option(None, "--model", help=MODEL_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Fill damaged parts: a mask you drew, or scratches found automatically.

    Example: stylebridge restore inpaint scroll.jpg --mask cracks.png -o fixed/
    """
    results = api.restore_files(
        "inpaint", inputs, out, mask=mask, auto_mask=auto_mask, sensitivity=sensitivity,
        method=method, model=model, overwrite=overwrite,
    )  # fmt: skip
    report_files(results, len(api.expand_inputs(inputs)), out, "restoring")


@restore_app.command("old-photo")
def old_photo(
    photo: Path = typer.Argument(..., help="The photo or print to restore."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for every stage."),
    scale: int = typer.Option(4, "--scale", help="2 or 4; 0 skips the upscale."),
    strength: float = typer.Option(1.0, min=0.0, max=4.0, help="Denoising strength."),
    sensitivity: float = typer.Option(1.0, min=0.1, max=5.0, help="Scratch sensitivity."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Scratches found and filled, then denoised, then upscaled; writes each stage.

    Example: stylebridge restore old-photo grandma.jpg -o restored/
    """
    written = api.restore_old_photo(
        photo, out, scale=scale or None, strength=strength, sensitivity=sensitivity,
        overwrite=overwrite, progress=lambda stage: say(f"{stage}"),
    )  # fmt: skip
    for stage, path in written.items():
        say(f"{stage}: {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(restore_app, name="restore")
