"""``stylebridge export``: a model folder's generator as a portable ONNX file."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import say
from .style_options import MIX, STYLE_FROM, STYLE_IMAGE


def export(
    model: str = typer.Argument(
        None,
        metavar="[RUN_OR_STYLE]",
        help="A folder with config.json, or a bundled style name; with a style source, a "
        "stylenet run (default: the bundled feature-fusion engine).",
    ),
    onnx: Path = typer.Option(..., "--onnx", help="The .onnx file to write."),
    direction: str = typer.Option("a2b", help="a2b or b2a (CycleGAN runs have both)."),
    style_image: list[Path] = STYLE_IMAGE,
    style_from: str = STYLE_FROM,
    mix: str = MIX,
    fusion: str = typer.Option(
        None, help="Feature-fusion engine: wct | adain [default: wct; a culture style's own]."
    ),
    strength: float = typer.Option(1.0, min=0.0, max=1.0, help="Feature-fusion engine: 0-1."),
    tone: str = typer.Option("as-is", help="Feature-fusion engine style images: as-is | paper."),
    exporter: str = typer.Option(
        "auto", help="auto (torch.export, else the TorchScript tracer) | dynamo | torchscript."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing .onnx file."),
) -> None:
    """Export a generator, or the feature-fusion engine with one style fixed, to ONNX, and
    check it against PyTorch with onnxruntime.

    The graph takes float32 NCHW images in [-1, 1] of any batch and any sides that are multiples
    of 4 (8 for the engine), and returns the translated images in the same range. An engine
    graph takes the content's statistics from each image itself; its WCT whitening uses
    Newton-Schulz iterations (ONNX has no eigendecomposition).

    Example: stylebridge export runs/photo2ukiyoe --onnx photo2ukiyoe.onnx --direction a2b

    Example: stylebridge export --style-from ukiyoe --onnx ukiyoe_engine.onnx

    Example: stylebridge export --style-image painting.jpg --fusion adain --onnx mine.onnx

    Example: stylebridge export chinese_ink --onnx ink.onnx  (a culture style, its settings)
    """
    report = api.export(
        model,
        onnx=onnx,
        direction=direction,
        exporter=exporter,
        overwrite=overwrite,
        style_image=list(style_image) if style_image else None,
        style_from=style_from,
        mix=api.parse_mix(mix) if mix else None,
        fusion=fusion,
        strength=strength,
        tone=tone,
    )
    size_mb = report.path.stat().st_size / 2**20
    shape = "x".join(map(str, report.check_shape))
    say(
        f"wrote {report.path} ({size_mb:.1f} MB, {report.exporter} exporter, "
        f"{report.seconds:.1f} s)"
    )
    say(
        f"onnxruntime vs PyTorch on a random {shape} input: max abs diff "
        f"{report.max_abs_diff:.2e} (limit {report.tolerance:g})"
    )
    if report.fallback_reason:
        say(f"note: the dynamo exporter failed ({report.fallback_reason}); used TorchScript")
    for note in report.notes:
        say(f"note: {note}")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
