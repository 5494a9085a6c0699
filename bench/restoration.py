"""Restoration against classical baselines, on the same images in one run.

    python bench/restoration.py [--data ../shared/data] [--tasks sr,denoise,inpaint,scratches]
        [--sr-model DIR] [--gan-model DIR] [--denoise-model DIR] [--inpaint-model DIR]
        [--denoise-images 24] [--json out.json] [--sheets DIR]

Super-resolution (x4 unless ``--scale 2``): low-resolution inputs are the originals cropped to
a multiple of the scale and downscaled bicubically (PIL, antialiased: MATLAB imresize's kind);
PSNR and SSIM are on the Y channel (BT.601) with ``scale`` border pixels cropped, the papers'
convention. Sets: Set5, Set14 (``sr_benchmarks``), and held-out images no model was trained on:
the second-source culture corpora (``cultures_extra``, 10 per culture) and ``unsplash`` photos.
Baselines: bicubic and Lanczos resizing. The PSNR model also runs with the x8 self-ensemble
(``--ensemble``). KID (lite0) of the GAN and PSNR models over all SR images together (outputs
against originals).

Denoising: CBSD68 (colour) with white Gaussian noise of sigma 15, 25, 50 (seeded), RGB PSNR.
Baselines: OpenCV ``fastNlMeansDenoisingColored`` (h = 0.9 sigma, not tuned),
scikit-image ``denoise_nl_means`` (sigma-aware) and ``denoise_wavelet`` (BayesShrink), and
BM3D when the ``bm3d`` package is installed (``pip install 'stylebridge[bench]'``). Ours runs
blind (noise level estimated), blind with the x8 self-ensemble (``--ensemble``) and, for
reference, told the true level.

Inpainting: held-out images with synthetic damage (``data.degrade.damage_masks``, seeded; the
same masks for every method); PSNR inside the mask only, and KID (lite0) against the originals
twice: of the whole 256 px images, and of 64 px crops centred on damaged pixels (four per image,
seeded, the same places for every method and the originals), where the fill is most of what
the metric sees. Baselines: Telea (``cv2.inpaint``) and biharmonic (scikit-image).

Scratch detection (``--auto-mask scratches``): the same held-out images with synthetic cracks
(``damage_mask(..., "cracks")``, 1-3 px random walks, seeded) painted three ways: bright (near
white), dark (near black) and pale (a 35% white veil, the faint light scratch of an old print).
Recall counts the crack pixels that differ visibly (more than 20 grey levels) from the
original; precision counts found pixels within 2 px of a crack; "clean" is the share of a
clean image marked. Baseline: black-hat and top-hat responses with a fixed threshold (no line
or context test), at a threshold that marks about as much of a clean image as ours.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from stylebridge.data.degrade import damage_mask, damage_masks
from stylebridge.imageio import load_image
from stylebridge.metrics.features import build_extractor
from stylebridge.metrics.kid import kid
from stylebridge.metrics.ssim import psnr, ssim
from stylebridge.restore import (
    Restorer,
    denoise_image,
    detect_scratches,
    estimate_noise,
    inpaint_image,
    upscale_image,
)
from stylebridge.sheets import contact_sheet, save_sheet


class _Features:
    """Lite0 pooled features of PIL images, in batches (the KID metric's network)."""

    def __init__(self):
        self.net = build_extractor("lite0", device="cpu")

    @torch.inference_mode()
    def __call__(self, images: list[Image.Image]) -> torch.Tensor:
        out = []
        for i in range(0, len(images), 32):
            batch = [torch.from_numpy(np.asarray(im.convert("RGB"), np.float32)) for im in
                     images[i : i + 32]]  # fmt: skip
            x = torch.stack([self.net.resize(b.permute(2, 0, 1)[None])[0] for b in batch])
            out.append(self.net(x)[0])
        return torch.cat(out)


def _kid(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    mean, std = kid(real, fake, num_subsets=50, seed=0)
    return {"kid": mean, "kid_std": std}


def _luma(pixels: np.ndarray) -> np.ndarray:
    """BT.601 studio-range Y, as the SR papers compute PSNR."""
    x = pixels.astype(np.float64)
    return 16.0 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255.0


def _files(folder: Path, limit: int | None = None) -> list[Path]:
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    return found[:limit] if limit else found


def sr_sets(data: Path) -> dict[str, list[Path]]:
    sets = {}
    for name in ("Set5", "Set14", "BSD100"):
        folder = data / "sr_benchmarks" / name
        if folder.is_dir():
            sets[name] = _files(folder)
    extra = data / "cultures_extra"
    held = []
    if extra.is_dir():
        for group in sorted(p for p in extra.iterdir() if p.is_dir()):
            held += _files(group, 10)
    if held:
        sets["cultures (2nd source)"] = held
    photos = data / "content_photos" / "unsplash"
    if photos.is_dir():
        sets["photos (held out)"] = _files(photos)
    return sets


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(load_image(path).rgb)


def bench_sr(data: Path, scale: int, models: dict[str, Restorer], sheets: Path | None):
    rows, outputs, originals = [], {name: [] for name in models}, []
    sheet_rows = []
    for set_name, files in sr_sets(data).items():
        scores: dict[str, list[tuple[float, float]]] = {}
        for path in files:
            hr = _rgb(path)
            h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
            hr = hr[:h, :w]
            lr_image = Image.fromarray(hr).resize((w // scale, h // scale), Image.BICUBIC)
            candidates = {
                "bicubic": np.asarray(lr_image.resize((w, h), Image.BICUBIC)),
                "lanczos": np.asarray(lr_image.resize((w, h), Image.LANCZOS)),
            }
            loaded = load_image(path)
            loaded.rgb, loaded.alpha = lr_image, None
            for name, restorer in models.items():
                out = np.asarray(upscale_image(loaded, restorer))
                candidates[name] = out
                outputs[name].append(out)
            if "ours (PSNR)" in models:  # the x8 self-ensemble (--ensemble), PSNR rows only
                candidates["ours (PSNR, x8)"] = np.asarray(
                    upscale_image(loaded, models["ours (PSNR)"], ensemble=True)
                )
            originals.append(hr)
            b = scale
            for name, out in candidates.items():
                y_out, y_ref = _luma(out)[b:-b, b:-b], _luma(hr)[b:-b, b:-b]
                scores.setdefault(name, []).append(
                    (psnr(y_out, y_ref), ssim(y_out, y_ref, data_range=255.0))
                )
            if sheets is not None and len(sheet_rows) < 6 and set_name != "Set14":
                sheet_rows.append(
                    (
                        path.stem[:14],
                        [Image.fromarray(candidates[k]) for k in ("bicubic", *models)]
                        + [Image.fromarray(hr)],
                    )
                )
        for name, values in scores.items():
            rows.append(
                {
                    "task": f"SR x{scale}",
                    "set": set_name,
                    "method": name,
                    "images": len(values),
                    "psnr_y": statistics.mean(v[0] for v in values),
                    "ssim_y": statistics.mean(v[1] for v in values),
                }
            )
    kids = {}
    if models:
        features = _Features()
        real_features = features(_crops(originals))
        for name, images in outputs.items():
            kids[name] = _kid(real_features, features(_crops(images)))
    if sheets is not None and sheet_rows:
        labels = ["bicubic", *models, "original"]
        save_sheet(contact_sheet(sheet_rows, labels, cell=256), sheets / "sr_sheet.jpg")
    return rows, kids


def _crops(images: list[np.ndarray], size: int = 128) -> list[Image.Image]:
    """Four fixed corners-and-centre crops per image: KID on detail, not on whole scenes."""
    crops = []
    for im in images:
        h, w = im.shape[:2]
        for y, x in ((0, 0), (h - size, w - size), ((h - size) // 2, (w - size) // 2)):
            if y >= 0 and x >= 0:
                crops.append(Image.fromarray(im[y : y + size, x : x + size]))
    return crops


def _baselines(noisy: np.ndarray, sigma: float) -> dict[str, np.ndarray]:
    from skimage.restoration import denoise_nl_means, denoise_wavelet

    out = {}
    h = 0.9 * sigma  # OpenCV filter strength: a common choice, not tuned per image or set
    out["opencv-nlm"] = cv2.fastNlMeansDenoisingColored(noisy, None, h, h, 7, 21)
    x = noisy.astype(np.float64) / 255
    s = sigma / 255
    nlm = denoise_nl_means(
        x, h=0.8 * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True, channel_axis=-1
    )
    out["skimage-nlm"] = np.clip(nlm * 255 + 0.5, 0, 255).astype(np.uint8)
    wav = denoise_wavelet(x, method="BayesShrink", mode="soft", rescale_sigma=True, channel_axis=-1)
    out["skimage-wavelet"] = np.clip(wav * 255 + 0.5, 0, 255).astype(np.uint8)
    try:
        import bm3d
    except ImportError:
        return out
    out["bm3d"] = np.clip(bm3d.bm3d_rgb(x, s) * 255 + 0.5, 0, 255).astype(np.uint8)
    return out


def bench_denoise(
    data: Path,
    model: Restorer | None,
    limit: int,
    sheets: Path | None,
    sigmas: tuple[int, ...] = (15, 25, 50),
    baselines: bool = True,
):
    folder = data / "sr_benchmarks" / "CBSD68"
    if not folder.is_dir():
        return []
    files = _files(folder, limit)
    rows = []
    for sigma in sigmas:
        scores: dict[str, list[float]] = {}
        times: dict[str, float] = {}
        estimates: list[float] = []
        sheet_rows = []
        for i, path in enumerate(files):
            clean = _rgb(path)
            rng = np.random.default_rng([sigma, i])
            noisy_f = clean.astype(np.float64) + rng.normal(0, sigma, clean.shape)
            noisy = np.clip(noisy_f + 0.5, 0, 255).astype(np.uint8)
            start = time.perf_counter()
            candidates = _baselines(noisy, sigma) if baselines else {}
            times["baselines"] = times.get("baselines", 0) + time.perf_counter() - start
            if model is not None:
                loaded = load_image(path)
                loaded.rgb = Image.fromarray(noisy)
                candidates["ours (blind)"] = np.asarray(denoise_image(loaded, model)[0])
                candidates["ours (told sigma)"] = np.asarray(
                    denoise_image(loaded, model, sigma=sigma)[0]
                )
                candidates["ours (blind, x8)"] = np.asarray(
                    denoise_image(loaded, model, ensemble=True)[0]
                )
                estimates.append(estimate_noise(noisy))
            candidates["noisy"] = noisy
            for name, out in candidates.items():
                scores.setdefault(name, []).append(psnr(out, clean))
            if sheets is not None and sigma == 25 and i < 4:
                keep = ("noisy", "opencv-nlm", "bm3d", "ours (blind)")
                sheet_rows.append(
                    (
                        path.stem,
                        [Image.fromarray(candidates[k]) for k in keep if k in candidates]
                        + [Image.fromarray(clean)],
                    )
                )
        for name, values in scores.items():
            rows.append(
                {
                    "task": "denoise",
                    "set": f"CBSD68 sigma {sigma}",
                    "method": name,
                    "images": len(values),
                    "psnr": statistics.mean(values),
                    # the blind model's mean estimated level, on its own row
                    **(
                        {"noise_estimate": statistics.mean(estimates)}
                        if name == "ours (blind)"
                        else {}
                    ),
                }
            )
        if sheets is not None and sheet_rows:
            labels = [k for k in ("noisy", "opencv-nlm", "bm3d", "ours (blind)") if
                      any(r["method"] == k for r in rows)] + ["clean"]  # fmt: skip
            save_sheet(contact_sheet(sheet_rows, labels, cell=256), sheets / "denoise_sheet.jpg")
    return rows


def _hole_centres(holes: np.ndarray, count: int, rng: np.random.Generator, size: int):
    """``count`` crop corners (y, x) of ``size`` px windows centred on damaged pixels."""
    ys, xs = np.nonzero(holes)
    picks = rng.choice(len(ys), size=min(count, len(ys)), replace=False)
    h, w = holes.shape
    return [
        (int(np.clip(ys[i] - size // 2, 0, h - size)), int(np.clip(xs[i] - size // 2, 0, w - size)))
        for i in picks
    ]


def _cut(image: np.ndarray, corners, size: int) -> list[Image.Image]:
    return [Image.fromarray(image[y : y + size, x : x + size]) for y, x in corners]


def _held_out_files(data: Path) -> list[Path]:
    """The held-out images of the inpainting and scratch benches: second-source paintings,
    then photos."""
    sets = sr_sets(data)
    return sets.get("cultures (2nd source)", []) + sets.get("photos (held out)", [])


def _square(image: Image.Image, side: int) -> Image.Image:
    """The top-left ``side`` px square, or the whole image resized to it when smaller."""
    if min(image.size) >= side:
        return image.crop((0, 0, side, side))
    return image.resize((side, side), Image.BICUBIC)


def bench_inpaint(data: Path, model: Restorer | None, sheets: Path | None, crop: int = 64):
    files = _held_out_files(data)
    if not files:
        return [], {}
    methods = ["telea", "biharmonic"] + (["model"] if model is not None else [])
    scores = {m: [] for m in methods}
    filled = {m: [] for m in methods}
    originals = []
    sheet_rows = []
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    hole_real: list[Image.Image] = []
    hole_filled: dict[str, list[Image.Image]] = {m: [] for m in methods}
    for path in files:
        loaded = load_image(path)
        loaded.rgb = _square(loaded.rgb, 256)
        loaded.alpha = None
        original = np.asarray(loaded.rgb)
        holes = damage_masks(1, 256, gen)[0, 0].numpy() > 0.5
        originals.append(original)
        corners = _hole_centres(holes, 4, rng, crop)
        hole_real += _cut(original, corners, crop)
        row = [Image.fromarray(np.where(holes[..., None], 128, original).astype(np.uint8))]
        for m in methods:
            out = np.asarray(inpaint_image(loaded, holes, method=m, restorer=model))
            scores[m].append(psnr(out[holes].astype(np.float64), original[holes]))
            filled[m].append(out)
            hole_filled[m] += _cut(out, corners, crop)
            row.append(Image.fromarray(out))
        if len(sheet_rows) < 6:
            sheet_rows.append((path.stem[:14], [*row, Image.fromarray(original)]))
    rows = [
        {
            "task": "inpaint",
            "set": "held-out (mask only)",
            "method": m,
            "images": len(v),
            "psnr": statistics.mean(v),
        }
        for m, v in scores.items()
    ]
    features = _Features()
    real = features([Image.fromarray(o) for o in originals])
    kids = {m: _kid(real, features([Image.fromarray(o) for o in v])) for m, v in filled.items()}
    real_holes = features(hole_real)
    kids |= {f"{m} (holes)": _kid(real_holes, features(v)) for m, v in hole_filled.items()}
    if sheets is not None:
        labels = ["damaged", *methods, "original"]
        save_sheet(contact_sheet(sheet_rows, labels, cell=256), sheets / "inpaint_sheet.jpg")
    return rows, kids


SCRATCH_PAINTS = {
    "bright": lambda rgb: np.full_like(rgb, 235.0),
    "dark": lambda rgb: np.full_like(rgb, 20.0),
    "pale": lambda rgb: rgb + 0.35 * (255.0 - rgb),
}


def _hat_threshold(pixels: np.ndarray, threshold: float, width: int = 3) -> np.ndarray:
    """The baseline: thin bright or dark structures (top-hat, black-hat) above a threshold."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1,) * 2)
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    bright = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    return np.maximum(dark, bright) > threshold


def bench_scratches(data: Path, side: int = 256) -> list[dict]:
    files = _held_out_files(data)
    if not files:
        return []
    rng = np.random.default_rng(0)
    images, cracks = [], []
    for path in files:
        images.append(np.asarray(_square(load_image(path).rgb, side)))
        cracks.append(damage_mask(side, "cracks", rng))
    # the baseline's threshold: the one that marks about as much clean area as ours does
    ours_clean = float(np.mean([detect_scratches(im).mean() for im in images]))
    thresholds = np.arange(10, 250, 4)
    clean_at = [np.mean([_hat_threshold(im, t).mean() for im in images]) for t in thresholds]
    baseline_t = float(thresholds[int(np.argmin(np.abs(np.array(clean_at) - ours_clean)))])
    methods = {
        "ours": lambda px: detect_scratches(px),
        "ours (sensitivity 1.5)": lambda px: detect_scratches(px, sensitivity=1.5),
        f"top/black-hat > {baseline_t:g}": lambda px: _hat_threshold(px, baseline_t),
    }
    rows = []
    for name, detect in methods.items():
        clean = float(np.mean([detect(im).mean() for im in images]))
        for paint, colour in SCRATCH_PAINTS.items():
            hits = visible = found_total = found_near = 0
            for image, crack in zip(images, cracks, strict=True):
                original = image.astype(np.float32)
                damaged = np.where(crack[..., None], colour(original), original)
                damaged = damaged.round().clip(0, 255).astype(np.uint8)
                seen = crack & (np.abs(damaged.astype(np.float32) - original).mean(-1) > 20)
                found = detect(damaged)
                near = cv2.dilate(crack.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
                hits += int((found & seen).sum())
                visible += int(seen.sum())
                found_total += int(found.sum())
                found_near += int((found & near).sum())
            rows.append(
                {
                    "task": "scratches",
                    "set": f"held-out, {paint}",
                    "method": name,
                    "images": len(images),
                    "recall": hits / max(visible, 1),
                    "precision": found_near / max(found_total, 1),
                    "clean_marked": clean,
                }
            )
    return rows


def bench_latency(model: Restorer, side: int = 512, repeats: int = 3) -> dict[str, float]:
    """Seconds for one ``side`` px image (random pixels), median of ``repeats`` after a warm-up."""
    pixels = (np.random.default_rng(0).random((side, side, 3)) * 255).astype(np.uint8)
    model.run(pixels)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.run(pixels)
        times.append(time.perf_counter() - start)
    return {"side": side, "out_side": side * model.scale, "seconds": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--tasks", default="sr,denoise,inpaint,latency")
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--sr-model", type=Path)
    parser.add_argument("--gan-model", type=Path)
    parser.add_argument("--denoise-model", type=Path)
    parser.add_argument("--inpaint-model", type=Path)
    parser.add_argument("--denoise-images", type=int, default=24)
    parser.add_argument("--sigmas", default="15,25,50", help="denoising noise levels")
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help="denoise: our model's rows only (the inputs are seeded, so a baseline row of "
        "an earlier run on the same images still compares)",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--sheets", type=Path)
    args = parser.parse_args()
    tasks = set(args.tasks.split(","))
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if args.sheets:
        args.sheets.mkdir(parents=True, exist_ok=True)
    report: dict = {"rows": [], "kid": {}}

    def model_or_bundled(task, path, **kw):
        try:
            return Restorer(task, path, **kw)
        except Exception as err:  # a missing bundled model: that row is left out
            print(f"({task}: {err})")
            return None

    if "sr" in tasks or "latency" in tasks:
        sr_models = {}
        psnr_model = model_or_bundled("super-resolution", args.sr_model, scale=args.scale)
        if psnr_model is not None:
            sr_models["ours (PSNR)"] = psnr_model
        if args.gan_model:
            sr_models["ours (GAN)"] = Restorer("super-resolution", args.gan_model)
        if "sr" in tasks:
            rows, kids = bench_sr(args.data, args.scale, sr_models, args.sheets)
            report["rows"] += rows
            report["kid"]["sr"] = kids
        if "latency" in tasks and psnr_model is not None:
            report["latency"] = bench_latency(psnr_model)
    if "denoise" in tasks:
        model = model_or_bundled("denoising", args.denoise_model)
        sigmas = tuple(int(v) for v in args.sigmas.split(","))
        report["rows"] += bench_denoise(
            args.data, model, args.denoise_images, args.sheets, sigmas, not args.no_baselines
        )
    if "inpaint" in tasks:
        model = model_or_bundled("inpainting", args.inpaint_model)
        rows, kids = bench_inpaint(args.data, model, args.sheets)
        report["rows"] += rows
        report["kid"]["inpaint"] = kids
    if "scratches" in tasks:
        report["rows"] += bench_scratches(args.data)
    print(f"{'task':9s} {'set':24s} {'method':18s} {'n':>3s} {'PSNR':>7s} {'SSIM':>6s}")
    for row in report["rows"]:
        if row["task"] == "scratches":
            print(
                f"{row['task']:9s} {row['set']:24s} {row['method']:18s} {row['images']:3d} "
                f"recall {row['recall']:.3f}  precision {row['precision']:.3f}  "
                f"clean marked {row['clean_marked']:.4f}"
            )
            continue
        value = row.get("psnr_y", row.get("psnr"))
        ssim_value = f"{row['ssim_y']:.4f}" if "ssim_y" in row else ""
        print(
            f"{row['task']:9s} {row['set']:24s} {row['method']:18s} {row['images']:3d} "
            f"{value:7.2f} {ssim_value:>6s}"
        )
    for task, kids in report["kid"].items():
        for name, value in kids.items():
            print(f"KID (lite0) {task:8s} {name:18s} {value['kid']:.4f} +- {value['kid_std']:.4f}")
    if "latency" in report:
        lat = report["latency"]
        print(f"latency: {lat['side']} px -> {lat['out_side']} px in {lat['seconds']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
