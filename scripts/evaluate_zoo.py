"""Measure each bundled model on its held-out photos and write the numbers into its model card.

Usage: python scripts/evaluate_zoo.py --cultures ../shared/data/cultures [--styles ukiyoe]
       python scripts/evaluate_zoo.py --cards-only   # re-render summaries and MODEL_CARD.md

For each style: the held-out photos (listed in the card) are translated, then FID and KID
(EfficientNet-Lite0 features) against the whole target-culture corpus are computed for the
translations and, as the baseline, for the untranslated photos. The card's ``look`` (one line)
and ``notes`` (what the model does and does not do) are written by a person who looked at the
outputs; this script only renders them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import stylebridge
from stylebridge import zoo
from stylebridge.imageio import save_image
from stylebridge.models.files import atomic_write_bytes, read_tensors, write_json


def _measure(real: Path, fake: Path) -> dict:
    result = stylebridge.evaluate(str(real), str(fake), metrics="fid,kid", features="lite0")
    keep = ("fid", "kid", "kid_std", "labels", "num_real", "num_fake", "warnings")
    return {k: v for k, v in result.items() if k in keep}


def summary(card: dict) -> str:
    """The one line ``stylebridge styles`` prints: direction, look, size, held-out KID change."""
    line = f"photo -> {card['style'].replace('_', ' ')}"
    if card.get("look"):
        line += f": {card['look']}"
    line += f" ({card['method']}, {card['num_parameters'] / 1e6:.1f} M parameters, "
    line += f"{card['file_mb']:.0f} MB fp16"
    m = card.get("metrics")
    if m:
        line += f"; held-out KID (lite0) {m['untranslated']['kid']:.3f} -> "
        line += f"{m['translated']['kid']:.3f}"
    return line + ")"


def card_markdown(name: str, card: dict) -> str:
    m = card.get("metrics", {})
    lines = [
        f"# {name}: photo -> {card['style'].replace('_', ' ')}",
        "",
        card["summary"],
        "",
        f"- architecture: {card['architecture']}",
        f"- method: {card['method']}, {card['steps']} steps of batch {card.get('batch_size', 1)} "
        f"at {card['train_size']} px crops "
        f"(images resized to {card['load_size']} px on the shorter side)",
        f"- hardware: {card['hardware']}; wall time {card['wall_time_s'] / 60:.0f} min",
        f"- training data: {card['data']['photo_train']} photos, "
        f"{card['data'][card['style']]} {card['style']} images (shared culture corpus; content "
        f"hashes {card['data']['photo_hash'][:12]}, {card['data']['style_hash'][:12]})",
        f"- held out: {len(card['data']['photo_held_out'])} photos (every 10th by name): "
        + ", ".join(card["data"]["photo_held_out"]),
        f"- recommended `--max-side`: {card['recommended_max_side']}",
    ]
    if m:
        t, b = m["translated"], m["untranslated"]
        lines += [
            "",
            f"| held-out photos vs {card['style']} corpus | FID (lite0) | KID (lite0) |",
            "| --- | --- | --- |",
            f"| untranslated photos | {b['fid']:.1f} | {b['kid']:.4f} +- {b['kid_std']:.4f} |",
            f"| translated by this model | {t['fid']:.1f} | {t['kid']:.4f} +- {t['kid_std']:.4f} |",
            "",
            "Lower is closer to the culture's images. Lite0 numbers are comparable within this "
            "project only, not with Inception FIDs in papers; with fewer images than feature "
            "dimensions FID is biased upwards, KID is not.",
        ]
    if card.get("notes"):
        lines += ["", "## What it does and does not do", "", *card["notes"]]
    return "\n".join(lines) + "\n"


def describe_architecture(folder: Path, config: dict) -> dict:
    """Generator settings, parameter count and file size, read from the folder itself."""
    g = config["generator"]
    weights = folder / config["directions"]["a2b"]
    tensors, _ = read_tensors(weights)
    return {
        "architecture": f"ResNet generator, ngf {g['ngf']}, {g['n_blocks']} residual blocks, "
        f"{g['upsample']} upsampling, {g['norm']} norm",
        "num_parameters": sum(t.numel() for t in tensors.values()),
        "file_mb": weights.stat().st_size / 1e6,
    }


def write_card(folder: Path, config: dict) -> None:
    """Refresh the summary from the card's fields, then write config.json and MODEL_CARD.md."""
    config["card"].update(describe_architecture(folder, config))
    config["card"]["summary"] = summary(config["card"])
    write_json(folder / "config.json", config)
    card_text = card_markdown(folder.name, config["card"])
    atomic_write_bytes(folder / "MODEL_CARD.md", card_text.encode())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cultures", type=Path)
    ap.add_argument("--styles", default="")
    ap.add_argument("--cards-only", action="store_true", help="No evaluation; re-render cards.")
    args = ap.parse_args()
    if not (args.cultures or args.cards_only):
        ap.error("--cultures is required unless --cards-only")
    names = args.styles.split(",") if args.styles else list(zoo.styles())
    for name in names:
        folder = zoo.style_path(name)
        config = json.loads((folder / "config.json").read_text())
        if args.cards_only:
            write_card(folder, config)
            print(name, "->", folder / "MODEL_CARD.md")
            continue
        card = config["card"]
        work = Path(tempfile.mkdtemp())
        originals, translated = work / "photos", work / "translated"
        model = stylebridge.load(folder)
        for file_name in card["data"]["photo_held_out"]:
            src = args.cultures / "photo" / file_name
            originals.mkdir(exist_ok=True)
            shutil.copy(src, originals / file_name)
            save_image(model.stylize(src), translated / (Path(file_name).stem + ".png"))
        target = args.cultures / card["style"]
        card["metrics"] = {
            "translated": _measure(target, translated),
            "untranslated": _measure(target, originals),
        }
        config["card"] = card
        write_card(folder, config)
        print(
            name,
            json.dumps({k: {m: v[m] for m in ("fid", "kid")} for k, v in card["metrics"].items()}),
        )
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
