"""Write the bundled culture styles: one model folder per culture that names the bundled
feature-fusion engine, the culture's code and the settings chosen for it by measurement.

Usage: python scripts/build_culture_styles.py [--results eval_presets/results.json]

The settings below were picked from a sweep over fusion (WCT, AdaIN) and strength (0.7, 0.85,
1.0) on 25 held-out photos (`scripts/evaluate_feature_engine.py --fusion F --strength S`): the
setting that keeps content edge SSIM nearest 0.3 or above while the culture classifiers still
name the culture. With ``--results`` (the same script's run over the finished styles, label
``culture_style``) the measured numbers go into each config.json card and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from stylebridge.fileio import atomic_write
from stylebridge.models.files import FORMAT, write_json

ZOO = Path(__file__).resolve().parents[1] / "src" / "stylebridge" / "zoo"

# culture -> (fusion, strength, summary, what it looks like, what it does not do); the looks were
# written after looking at held-out photos rendered with each style (README sheet)
STYLES = {
    "chinese_ink": (
        "adain",
        1.0,
        "greyscale ink wash on white paper",
        "greyscale ink wash on white: colour dropped, pale graded washes with dark accents on "
        "contours, soft brushy texture, empty light areas where the photo is plain",
        "draw calligraphic contour strokes of varying width, or keep small detail (faces, text)",
    ),
    "ukiyoe": (
        "wct",
        1.0,
        "print palette on cream paper, dark contours",
        "muted woodblock-print palette on cream paper, dark contours along the main edges, "
        "softened forms and smoothed surfaces",
        "make flat colour fields with bold outlines or bokashi gradients: it reads more as a "
        "watercolour print than a woodblock print",
    ),
    "western_oil": (
        "wct",
        0.7,
        "broken colour in dabs of paint",
        "broken colour in visible dabs of paint over the whole surface, a deeper palette, the "
        "photo's shapes kept",
        "build impasto relief or directional brush strokes that follow forms",
    ),
    "islamic_ornament": (
        "adain",
        1.0,
        "mineral manuscript palette, fine repeated texture",
        "mineral palette of manuscript painting and tile work (lapis, turquoise, ochre, gold) "
        "with a fine repeated texture",
        "draw geometric line-work, arabesques or calligraphy",
    ),
    "indonesian_batik": (
        "wct",
        1.0,
        "dye palette with a mottled crackle texture",
        "brown, indigo and cream dye palette with a mottled, crackle-like texture",
        "draw batik motifs or wax-resist lines; the weakest style: the culture classifiers "
        "rarely call its outputs batik",
    ),
}
MEASURES = ("overall_movement", "classified_as_target", "six_way_target", "edge_ssim")


def card(name: str, measured: dict | None) -> dict:
    fusion, strength, short, look, does_not = STYLES[name]
    label = name.replace("_", " ")
    fusion_name = {"adain": "AdaIN", "wct": "WCT"}[fusion]
    summary = f"photo -> {label}: {short} (feature-fusion engine, {fusion_name} at {strength:g})"
    result = {
        "style": name,
        "summary": summary,
        "look": look,
        "notes": [f"- Does: {look}.", f"- Does not: {does_not}."],
        "method": "engine_style",
        "engine": "feature_engine (bundled)",
        "code": f"feature_engine/codes/{name}.safetensors",
    }
    if measured:
        result["metrics"] = {k: measured[k] for k in MEASURES if k in measured}
    return result


def card_markdown(name: str, config: dict) -> str:
    c = config["card"]
    meta = {
        "license": "apache-2.0",
        "license_note": "The settings are released under the project's Apache-2.0 licence. "
        "The engine's training images and the culture corpus keep their owners' terms.",
        "library_name": "stylebridge",
        "pipeline_tag": "image-to-image",
        "tags": ["style-transfer", "feature-fusion", config["fusion"], name],
        "base_model": "feature_engine (bundled with stylebridge)",
        "settings": {"fusion": config["fusion"], "strength": config["strength"]},
        "metrics": c.get("metrics", {}),
    }
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False, width=100).strip(),
        "---",
        "",
        f"# {name}: {c['summary']}",
        "",
        "The bundled feature-fusion engine (see `feature_engine/MODEL_CARD.md` for its training "
        f"data and run) rendering with the {name.replace('_', ' ')} code: the moments of the "
        "engine's features pooled over every image of the culture corpus.",
        "",
        *c["notes"],
        "",
        "Settings chosen by measurement on 25 held-out photos (a sweep over WCT and AdaIN at "
        "strength 0.7, 0.85 and 1.0). `stylebridge stylize --strength` scales the strength; "
        "`--fusion` replaces the fusion; `--style-from "
        f"{name}` uses the same code at full-strength WCT.",
        "",
    ]
    if c.get("metrics"):
        m = c["metrics"]
        lines += [
            "| held-out photos (25) | movement to culture mean | photo-vs-culture classifier "
            "| six-way classifier | edge SSIM |",
            "|---|---|---|---|---|",
            f"| {name} | {m.get('overall_movement', 0):.2f} | "
            f"{m.get('classified_as_target', 0):.2f} | {m.get('six_way_target', 0):.2f} | "
            f"{m.get('edge_ssim', 0):.3f} |",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="evaluate_feature_engine results.json")
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results else {}
    for name, (fusion, strength, *_) in STYLES.items():
        folder = ZOO / name
        measured = results.get(name, {}).get("culture_style")
        config = {
            "format": FORMAT,
            "method": "engine_style",
            "engine": "bundled",
            "code": name,
            "fusion": fusion,
            "strength": strength,
            "directions": {},
            "exports": {},
            "card": card(name, measured),
        }
        folder.mkdir(exist_ok=True)
        write_json(folder / "config.json", config)
        atomic_write(folder / "MODEL_CARD.md", card_markdown(name, config).encode())
        print(name, "->", folder)


if __name__ == "__main__":
    main()
