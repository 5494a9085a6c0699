"""``stylebridge import``: models trained by other code bases, as stylebridge model folders."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import say

import_app = typer.Typer(
    no_args_is_help=True, help="Turn models trained elsewhere into stylebridge model folders."
)


@import_app.command("cyclegan")
def cyclegan(
    source: Path = typer.Argument(
        ...,
        metavar="PTH_OR_RUN_DIR",
        help="A latest_net_G.pth file, or a checkpoints/NAME folder of the reference code.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="The model folder to write."),
    epoch: str = typer.Option("latest", help="Which saved epoch of a run folder: latest or N."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a model in --out."),
) -> None:
    """Import ResNet generators of junyanz/pytorch-CycleGAN-and-pix2pix (weights only).

    \b
    Examples:
      stylebridge import cyclegan latest_net_G.pth -o style_monet/
      stylebridge import cyclegan checkpoints/horse2zebra -o horse2zebra/
      stylebridge stylize style_monet/ photo.jpg -o photo_monet.png
    """
    folder = api.import_cyclegan(source, out, epoch=epoch, overwrite=overwrite)
    config = api.load(folder, device="cpu").config
    g = config["generator"]
    say(
        f"wrote {folder}: {', '.join(config['directions'])}; ResNet generator, ngf {g['ngf']}, "
        f"{g['n_blocks']} blocks, {g['norm']} norm"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
