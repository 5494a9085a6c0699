"""The feature-fusion engine's style-source options, shared by every command that takes them."""

from __future__ import annotations

import typer

STYLE_IMAGE = typer.Option(
    None,
    "--style-image",
    help="Feature-fusion engine: take the style of this painting (repeat to pool several).",
)
STYLE_FROM = typer.Option(
    None,
    "--style-from",
    help="Feature-fusion engine: a folder of style images (pooled), a culture name or a "
    "saved style code (.safetensors).",
)
MIX = typer.Option(
    None,
    help="Feature-fusion engine: cultures mixed in feature space, e.g. "
    "chinese_ink=0.6,western_oil=0.4.",
)
