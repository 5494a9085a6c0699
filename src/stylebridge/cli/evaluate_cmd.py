"""``stylebridge evaluate``: FID/KID/IS/PRDC through an offline extractor, SSIM/PSNR by name."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import torch
import typer
from rich.console import Console
from rich.table import Table

from .. import api
from .progress import say, stage_bars

# (value key, spread key, how the spread reads) in display order
ROWS = [
    ("fid", ("fid_ci_low", "fid_ci_high"), "95% interval"),
    ("kid", "kid_std", "std over subsets"),
    ("is", "is_std", "std over splits"),
    ("is_real", "is_real_std", "std over splits"),
    ("precision", None, ""),
    ("recall", None, ""),
    ("density", None, ""),
    ("coverage", None, ""),
    ("ssim", None, ""),
    ("psnr", None, ""),
    ("ms_ssim", None, ""),
]


def _number(value: float) -> str:
    if math.isinf(value):
        return "inf"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


def _spread(result: dict[str, Any], key: str, spread, words: str) -> str:
    splits = result.get("settings", {}).get("is_splits_used", {})
    if isinstance(spread, tuple) and spread[0] in result:
        return f"{words} {_number(result[spread[0]])} – {_number(result[spread[1]])}"
    if splits.get({"is": "fake", "is_real": "real"}.get(key, "")) == 1:
        return "(1 split: too few images for a spread)"
    if isinstance(spread, str) and spread in result:
        return f"± {_number(result[spread])} ({words})"
    return ""


def _table(result: dict[str, Any]) -> Table:
    labels = result.get("labels", {})
    rows = [
        (labels.get(key, key), _number(result[key]), _spread(result, key, spread, words))
        for key, spread, words in ROWS
        if key in result
    ]
    with_spread = any(row[2] for row in rows)
    table = Table(title="stylebridge evaluate")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if with_spread:
        table.add_column("spread", justify="left")
    for row in rows:
        table.add_row(*(row if with_spread else row[:2]))
    return table


def _json_safe(value: Any) -> Any:
    """inf/nan (PSNR of identical images) become strings: strict JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _summary(result: dict[str, Any]) -> list[str]:
    lines = []
    extractor = result.get("extractor")
    if extractor:
        lines.append(
            f"images: {result['num_real']} real, {result['num_fake']} fake; features: "
            f"{extractor['name']} ({extractor['version']}, {extractor['dims']}-d)"
        )
    if "num_pairs" in result:
        missing = result["missing_pairs"]
        lines.append(f"pairs: {result['num_pairs']} matched by name")
        for side in ("real_only", "fake_only"):
            names = missing[side]
            if names:
                shown = ", ".join(names[:5]) + (
                    f" and {len(names) - 5} more" if len(names) > 5 else ""
                )
                lines.append(f"  {side.replace('_', '-')} (no partner): {shown}")
    return lines + [f"warning: {w}" for w in result.get("warnings", [])]


def evaluate(
    real: Path = typer.Option(..., "--real", help="Folder of real (reference) images."),
    fake: Path = typer.Option(..., "--fake", help="Folder of generated/translated images."),
    metrics: str = typer.Option(
        "fid,kid,is,prdc",
        help="Comma list of fid, kid, is, prdc, "
        "ssim, psnr, ms-ssim (the last three pair files by name).",
    ),
    features: str = typer.Option("lite0", help="Feature extractor: lite0, inception, pixel."),
    max_images: int = typer.Option(None, min=2, help="Use at most N images per folder."),
    batch_size: int = typer.Option(32, min=1, help="Images per network batch."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | mps"),
    kid_subsets: int = typer.Option(100, min=1, help="KID: number of random subsets."),
    kid_subset_size: int = typer.Option(
        None, min=2, help="KID: images per subset [default: min(1000, half the smaller set)]"
    ),
    fid_bootstrap: int = typer.Option(50, min=0, help="FID interval resamples; 0 = off."),
    prdc_k: int = typer.Option(5, min=1, help="Neighbours for precision/recall/density/coverage."),
    is_splits: int = typer.Option(10, min=1, help="IS splits (fewer for small sets)."),
    seed: int = typer.Option(0, help="Seed for image choice, KID subsets and bootstrap."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Reuse cached features."),
    cache_dir: Path = typer.Option(
        None, help="Cache folder [default: STYLEBRIDGE_CACHE_DIR or ~/.cache/stylebridge]"
    ),
    inception_weights: Path = typer.Option(
        None,
        envvar="STYLEBRIDGE_INCEPTION_WEIGHTS",
        help="Local pt_inception-2015-12-05-6726825d.pth for --features inception.",
    ),
    threads: int = typer.Option(
        0,
        min=0,
        help="CPU threads for torch; 0 keeps its default. On a busy machine 1 can "
        "be twice as fast (measured: docs/metrics.md).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Score generated images against real ones.

    Example: stylebridge evaluate --real photos/ --fake translated/ --metrics fid,kid,ssim

    FID/KID/IS use EfficientNet-Lite0 by default and are labelled "FID (lite0)": comparable
    within this project, not with published Inception FIDs.
    """
    if threads:
        torch.set_num_threads(threads)
    options = api.evaluation_options(
        kid_subsets=kid_subsets,
        kid_subset_size=kid_subset_size,
        fid_bootstrap=fid_bootstrap,
        prdc_k=prdc_k,
        is_splits=is_splits,
        seed=seed,
    )
    with stage_bars() as progress, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the result lists them; printed once below
        result = api.evaluate(
            real,
            fake,
            metrics=metrics,
            features=features,
            max_images=max_images,
            batch_size=batch_size,
            device=device,
            options=options,
            cache=cache,
            cache_path=cache_dir,
            inception_weights=inception_weights,
            progress=progress,
        )
    timing = result["timing"]
    if timing.get("images_per_s"):
        say(
            f"features: {timing['images_per_s']:.1f} images/s on {timing['device']} "
            f"({timing['features_s']:.1f} s)"
        )
    if as_json:
        typer.echo(json.dumps(_json_safe(result), indent=2))
        return
    out = Console()
    out.print(_table(result))
    for line in _summary(result):
        out.print(line, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
