"""A fusion of two cultures, measured: a 0 -> 1 sweep of feature-space mixes of culture A and
culture B rendered on one photo, and for each step how far the output moved toward each culture.

Movement toward a culture is the projection of the output's shift (from the photo) onto the
photo -> culture-mean direction, with descriptors standardised by the pooled spread, as
``analyze translation`` measures it: 0 = the photo's own style, 1 = the culture's mean. The
culture means come from the corpora, described with the same descriptors (hand-crafted colour,
texture, edge and empty-space statistics) that ``analyze`` uses, never with the engine's
encoder, so the measurement does not repeat the engine's loss.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..data.files import list_images
from ..errors import DataError
from ..fileio import atomic_write
from ..imageio import load_image, save_image
from .extract import extract
from .translation import descriptor_matrix, edge_ssim, projection


@dataclass
class FusionSweep:
    folder: Path
    steps: list[dict]
    grid: Path


def _toward(start: np.ndarray, goal: np.ndarray, output: np.ndarray, scale) -> float:
    """``projection`` of one output between two descriptor vectors, in standardised units."""
    return projection(start[None] / scale, goal[None] / scale, output[None] / scale)


def _culture_means(folders: dict[str, Path], per_culture: int, cache) -> dict[str, np.ndarray]:
    means, spread = {}, []
    for name, folder in folders.items():
        files = list_images(folder)
        if len(files) < 2:
            raise DataError(f"{folder}: fewer than 2 images to describe culture {name!r}")
        picks = np.random.default_rng(0).permutation(len(files))[:per_culture]
        table = extract([(str(files[i]), name) for i in sorted(picks)], cache=cache)
        matrix = descriptor_matrix(table)
        means[name] = matrix.mean(0)
        spread.append(matrix)
    means["_scale"] = np.where(np.vstack(spread).std(0) > 1e-12, np.vstack(spread).std(0), 1.0)
    return means


def _grid(images: list[Image.Image], labels: list[str], height: int = 256) -> Image.Image:
    tiles = [im.resize((max(1, round(im.width * height / im.height)), height)) for im in images]
    band = 28
    width = sum(t.width for t in tiles) + 8 * (len(tiles) + 1)
    sheet = Image.new("RGB", (width, height + band + 16), "white")
    draw = ImageDraw.Draw(sheet)
    x = 8
    for tile, label in zip(tiles, labels, strict=True):
        sheet.paste(tile, (x, 8))
        draw.text((x + 4, height + 14), label, fill=(20, 20, 20))
        x += tile.width + 8
    return sheet


def fusion_sweep(
    renderer_for: Callable[[float], object],
    photo: str | os.PathLike,
    out: str | os.PathLike,
    *,
    names: tuple[str, str],
    steps: int = 5,
    culture_folders: dict[str, Path] | None = None,
    per_culture: int = 40,
    cache: str | os.PathLike | None = None,
    render_options: dict | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> FusionSweep:
    """Render ``photo`` at ``steps`` mixes (weight of B from 0 to 1) into ``out``: one PNG per
    step, ``sweep.png`` (the grid) and ``sweep.json`` (per step: weights, edge SSIM and, with
    ``culture_folders``, movement toward each culture)."""
    if steps < 2:
        raise DataError(f"a sweep needs at least 2 steps, got {steps}")
    progress = progress or (lambda stage, done, total: None)
    out = Path(out)
    loaded = load_image(photo)
    rgb = np.asarray(loaded.rgb)
    rows, images, labels, files = [], [loaded.rgb], ["photo"], []
    a, b = names
    for i in range(steps):
        t = i / (steps - 1)
        image = renderer_for(t).stylize(loaded, **(render_options or {})).convert("RGB")
        path = save_image(image, out / f"step_{i:02d}_{a}{1 - t:.2f}_{b}{t:.2f}.png")
        files.append(path)
        images.append(image)
        labels.append(f"{a} {1 - t:.2f} / {b} {t:.2f}")
        rows.append(
            {
                "step": i,
                "weights": {a: round(1 - t, 4), b: round(t, 4)},
                "file": path.name,
                "edge_ssim": round(edge_ssim(rgb, np.asarray(image)), 4),
            }
        )
        progress("render sweep", i + 1, steps)
    if culture_folders:
        means = _culture_means(culture_folders, per_culture, cache)
        table = extract([(str(photo), "photo")] + [(str(f), "out") for f in files], cache=cache)
        if table.failures:
            raise DataError(f"{photo}: could not be described ({table.failures[0][1]})")
        matrix = descriptor_matrix(table)
        for row, output in zip(rows, matrix[1:], strict=True):
            row["moved_toward"] = {
                name: round(_toward(matrix[0], means[name], output, means["_scale"]), 4)
                for name in (a, b)
            }
            # both cultures often lie the same way from a photo (less saturated, softer), so
            # also place the output on the A -> B axis itself: 0 at A's mean, 1 at B's
            row["position_a_to_b"] = round(_toward(means[a], means[b], output, means["_scale"]), 4)
    grid = save_image(_grid(images, labels), out / "sweep.png")
    summary = {"photo": str(photo), "cultures": [a, b], "steps": rows}
    atomic_write(out / "sweep.json", (json.dumps(summary, indent=2) + "\n").encode())
    return FusionSweep(out, rows, grid)
