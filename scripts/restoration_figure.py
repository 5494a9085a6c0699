"""README figure for restoration: input | classical baseline | stylebridge | original, per task.

Usage: python scripts/restoration_figure.py --data ../shared/data
           [--out docs/images/restoration_sheet.jpg] [--inpaint-model RUN]

Rows: x4 upscale of a Set5 crop (baseline bicubic), denoising at sigma 25 of a CBSD68 crop
(baseline BM3D if installed, else OpenCV non-local means), inpainting of synthetic cracks and
strokes on a held-out ukiyo-e print (baseline biharmonic). Every image is one no model saw.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from stylebridge.data.degrade import damage_masks
from stylebridge.imageio import LoadedImage
from stylebridge.restore import Restorer, denoise_image, inpaint_image, upscale_image
from stylebridge.sheets import contact_sheet, save_sheet

CELL = 200


def _loaded(pixels: np.ndarray) -> LoadedImage:
    return LoadedImage(rgb=Image.fromarray(pixels), path="<figure>")


def upscale_row(data: Path) -> tuple[str, list[Image.Image]]:
    hr = np.asarray(Image.open(data / "sr_benchmarks" / "Set5" / "butterfly.png").convert("RGB"))
    hr = hr[40:232, 40:232]
    lr = Image.fromarray(hr).resize((48, 48), Image.BICUBIC)
    ours = upscale_image(_loaded(np.asarray(lr)), Restorer("super-resolution", scale=4))
    shown = lr.resize((192, 192), Image.NEAREST)
    return "upscale x4", [shown, lr.resize((192, 192), Image.BICUBIC), ours, Image.fromarray(hr)]


def denoise_row(data: Path) -> tuple[str, list[Image.Image]]:
    clean = np.asarray(Image.open(data / "sr_benchmarks" / "CBSD68" / "101087.png").convert("RGB"))
    clean = clean[60:252, 120:312]
    noisy = np.clip(clean + np.random.default_rng(25).normal(0, 25, clean.shape) + 0.5, 0, 255)
    noisy = noisy.astype(np.uint8)
    try:
        import bm3d

        base = bm3d.bm3d_rgb(noisy / 255.0, 25 / 255.0)
        baseline = np.clip(base * 255 + 0.5, 0, 255).astype(np.uint8)
    except ImportError:
        baseline = cv2.fastNlMeansDenoisingColored(noisy, None, 22, 22, 7, 21)
    ours, _ = denoise_image(_loaded(noisy), Restorer("denoising"))
    return "denoise s25", [Image.fromarray(x) for x in (noisy, baseline)] + [
        ours,
        Image.fromarray(clean),
    ]


def inpaint_row(data: Path, model: Path | None) -> tuple[str, list[Image.Image]]:
    files = sorted((data / "cultures_extra" / "ukiyoe").glob("*.jpg"))
    original = np.asarray(Image.open(files[3]).convert("RGB").resize((256, 256)))[32:224, 32:224]
    holes = damage_masks(1, 192, torch.Generator().manual_seed(7), kinds=("cracks", "strokes"))
    holes = holes[0, 0].numpy() > 0.5
    damaged = np.where(holes[..., None], 255, original).astype(np.uint8)
    loaded = _loaded(original)
    baseline = inpaint_image(loaded, holes, method="biharmonic")
    ours = inpaint_image(loaded, holes, method="model", restorer=Restorer("inpainting", model))
    return "inpaint", [Image.fromarray(damaged), baseline, ours, Image.fromarray(original)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("docs/images/restoration_sheet.jpg"))
    parser.add_argument("--inpaint-model", type=Path)
    args = parser.parse_args()
    rows = [upscale_row(args.data), denoise_row(args.data)]
    rows.append(inpaint_row(args.data, args.inpaint_model))
    columns = ["input", "classical (bicubic / BM3D / biharmonic)", "stylebridge", "original"]
    save_sheet(contact_sheet(rows, columns, cell=CELL), args.out)
    print(args.out)


if __name__ == "__main__":
    main()
