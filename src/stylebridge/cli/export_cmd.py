"""``stylebridge export``: a model folder's generator as a portable ONNX file."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import say


def export(
    model: str = typer.Argument(
        ..., metavar="RUN_OR_STYLE", help="A folder with config.json, or a bundled style name."
    ),
    onnx: Path = typer.Option(..., "--onnx", help="The .onnx file to write."),
    direction: str = typer.Option("a2b", help="a2b or b2a (CycleGAN runs have both)."),
    exporter: str = typer.Option(
        "auto", help="auto (torch.export, else the TorchScript tracer) | dynamo | torchscript."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing .onnx file."),
) -> None:
    """Export a generator to ONNX and check it against PyTorch with onnxruntime.

    The graph takes float32 NCHW images in [-1, 1] of any batch and any sides that are multiples
    of 4, and returns the translated images in the same range.

    Example: stylebridge export runs/photo2ukiyoe --onnx photo2ukiyoe.onnx --direction a2b
    """
    report = api.export(
        model, onnx=onnx, direction=direction, exporter=exporter, overwrite=overwrite
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


def register(app: typer.Typer) -> None:
    app.command("export")(export)
