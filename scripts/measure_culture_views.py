"""Which culture priors to switch on: where renderings differ most from the paintings, per view.

Usage: python scripts/measure_culture_views.py --cultures ../shared/data/cultures
           --rendered eval_engine/engine_culture [--photos HELD_OUT_PHOTOS] [--out views.json]

For each culture folder under ``--rendered`` (``CULTURE/translated/*``, as written by
``scripts/evaluate_feature_engine.py``), every image is summarised by each culture view of
``nn/culture_views`` (the view map's mean and its spatial spread) and by its empty-space share,
at 256 px on the short side. The effect size (Cohen's d) between the renderings and the
culture's paintings says how far the renderings are from the culture in that property; the
photos' d says how far a photo starts. A prior is worth switching on where the renderings are
still far (|d| large) and the photos were too, i.e. the property is the culture's, not noise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from stylebridge.data import list_images
from stylebridge.imageio import load_image
from stylebridge.nn.culture_views import VIEWS, empty_space_share

SIDE = 256


def summarise(path: Path) -> dict[str, float]:
    image = load_image(path).rgb
    scale = SIDE / min(image.size)
    image = image.resize((max(8, round(image.width * scale)), max(8, round(image.height * scale))))
    x = torch.from_numpy(np.asarray(image, np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    row = {"empty_space": float(empty_space_share(x)[0])}
    with torch.no_grad():
        for name, (view, _) in VIEWS.items():
            m = view(x)[0]
            row[f"{name}.mean"] = float(m.mean())
            row[f"{name}.spread"] = float(m.std((1, 2)).mean())
    return row


def table(files: list[Path], limit: int) -> dict[str, np.ndarray]:
    rows = [summarise(p) for p in files[:limit]]
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def cohen_d(a: np.ndarray, b: np.ndarray) -> float:
    pooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2) or 1e-9
    return float((a.mean() - b.mean()) / pooled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cultures", type=Path, required=True)
    parser.add_argument("--rendered", type=Path, required=True)
    parser.add_argument("--photos", type=Path)
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    photos = table(list_images(args.photos), args.limit) if args.photos else None
    results = {}
    for folder in sorted(p for p in args.rendered.iterdir() if (p / "translated").is_dir()):
        paintings = list_images(args.cultures / folder.name)
        order = np.random.default_rng(0).permutation(len(paintings))
        paint = table([paintings[i] for i in order], args.limit)
        rendered = table(list_images(folder / "translated"), args.limit)
        results[folder.name] = {
            key: {
                "rendered_d": round(cohen_d(rendered[key], paint[key]), 2),
                **({"photo_d": round(cohen_d(photos[key], paint[key]), 2)} if photos else {}),
                "painting_mean": round(float(paint[key].mean()), 3),
            }
            for key in paint
        }
        ranked = sorted(results[folder.name].items(), key=lambda kv: -abs(kv[1]["rendered_d"]))
        print(folder.name, ", ".join(f"{k} {v['rendered_d']:+.2f}" for k, v in ranked[:6]))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
