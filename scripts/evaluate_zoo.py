"""Measure each bundled model on its held-out photos and write the numbers into its model card.

Usage: python scripts/evaluate_zoo.py --cultures ../shared/data/cultures [--styles ukiyoe]
       python scripts/evaluate_zoo.py --cards-only   # re-render summaries and MODEL_CARD.md
       python scripts/evaluate_zoo.py --cards-only --cultures ../shared/data/cultures
           # also refresh each card's datasets (sources, terms) from the corpus MANIFEST.csv

For each style: the held-out photos (listed in the card) are translated, then FID and KID
(EfficientNet-Lite0 features) against the whole target-culture corpus are computed for the
translations and, as the baseline, for the untranslated photos. The card's ``look`` (one line)
and ``notes`` (what the model does and does not do) are written by a person who looked at the
outputs; this script only renders them.

MODEL_CARD.md opens with YAML front matter, as model hubs read it: licence, the training
datasets with their content and manifest hashes, the held-out metrics (``model-index``), and
the intended and out-of-scope uses.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import yaml

import stylebridge
from stylebridge import zoo
from stylebridge.imageio import save_image
from stylebridge.models.files import atomic_write_bytes, read_tensors, write_json

LICENSE = "apache-2.0"
LICENSE_NOTE = (
    "The weights are released under the project's Apache-2.0 licence. The training images keep "
    "their owners' terms, listed per dataset under `datasets`."
)
INTENDED_USES = [
    "Giving photos the palette, tone and texture of {style} images, for creative and design "
    "work, teaching and demos.",
    "Studying and measuring unpaired style transfer (held-out metrics below, "
    "`stylebridge analyze translation`).",
]
OUT_OF_SCOPE_USES = [
    "Passing outputs off as genuine {style} works, or attributing them to an artist, school "
    "or tradition.",
    "Evidence about {style} as a culture: the model learned a few hundred images, not the "
    "tradition; use `stylebridge analyze` on a documented corpus for measurements.",
    "Identity-sensitive edits of people (faces, skin tone) and any use where a changed colour "
    "could mislead (medical, forensic or news images).",
    "Re-drawing a photo as a print or painting: the model transfers colour and texture, it "
    "does not change line work or composition.",
]


def dataset_entries(cultures: Path, config: dict) -> list[dict]:
    """The two training sets as recorded by the run (count, content hash) plus what the corpus
    manifest says of their sources and terms, and the manifest's own hash."""
    manifest = cultures / "MANIFEST.csv"
    rows = list(csv.DictReader(manifest.open(newline="")))
    manifest_sha256 = hashlib.sha256(manifest.read_bytes()).hexdigest()
    entries = []
    for side, group in (("a", "photo"), ("b", config["card"]["style"])):
        recorded = config["data"][side]
        group_rows = [r for r in rows if r["group"] == group]
        entries.append(
            {
                "name": recorded["path"],
                "images": recorded["count"],
                "sha256": recorded["hash"],
                "manifest": f"MANIFEST.csv, group {group} ({len(group_rows)} images)",
                "manifest_sha256": manifest_sha256,
                "sources": sorted({f"{r['source_repo']}@{r['source_commit']}" for r in group_rows}),
                "terms": sorted({r["note"] for r in group_rows}),
            }
        )
    return entries


def front_matter(name: str, card: dict) -> str:
    """YAML metadata for hubs: licence, datasets with hashes, metrics (model-index), uses."""
    style = card["style"].replace("_", " ")
    meta = {
        "license": LICENSE,
        "license_note": LICENSE_NOTE,
        "library_name": "stylebridge",
        "pipeline_tag": "image-to-image",
        "tags": ["style-transfer", "unpaired-image-translation", card["method"], card["style"]],
        "datasets": card.get("datasets", []),
        "intended_uses": [u.format(style=style) for u in INTENDED_USES],
        "out_of_scope_uses": [u.format(style=style) for u in OUT_OF_SCOPE_USES],
    }
    m = card.get("metrics")
    if m:
        held_out = len(card["data"]["photo_held_out"])
        metrics = [
            {
                "type": kind,
                "name": f"{label}, {which} held-out photos",
                "value": round(m[which][kind], 4),
            }
            for kind, label in (("kid", "KID (lite0)"), ("fid", "FID (lite0)"))
            for which in ("translated", "untranslated")
        ]
        meta["model-index"] = [
            {
                "name": name,
                "results": [
                    {
                        "task": {"type": "image-to-image", "name": f"photo -> {style}"},
                        "dataset": {
                            "name": f"{held_out} held-out photos vs the {style} corpus",
                            "type": "stylebridge-cultures",
                        },
                        "metrics": metrics,
                    }
                ],
            }
        ]
    text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{text}---\n\n"


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
    return front_matter(name, card) + "\n".join(lines) + "\n"


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
    names = args.styles.split(",") if args.styles else list(zoo.looks())
    for name in names:
        folder = zoo.style_path(name)
        config = json.loads((folder / "config.json").read_text())
        if args.cultures:
            config["card"]["datasets"] = dataset_entries(args.cultures, config)
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
