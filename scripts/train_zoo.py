"""Train the bundled culture models and write them into src/stylebridge/zoo/<style>/.

Usage: python scripts/train_zoo.py --cultures ../shared/data/cultures --styles ukiyoe,chinese_ink
Every 10th photo (sorted by name) is held out for evaluation; the card lists them. The defaults
are the settings the bundled models were trained with. Afterwards run scripts/evaluate_zoo.py
for the held-out metrics, look at the outputs, and write the card's ``look`` and ``notes``.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch

import stylebridge
from stylebridge.data import list_images, set_digest
from stylebridge.models.files import atomic_save_tensors, read_tensors, write_json

ZOO = Path(stylebridge.__file__).resolve().parent / "zoo"
ARCH = ["model.ngf=16", "model.n_blocks=6", "model.upsample=resize"]


def split(folder: Path, work: Path) -> tuple[Path, list[str]]:
    """Symlink all but every 10th image into ``work``; return it and the held-out names."""
    files = list_images(folder)
    held = [f.name for i, f in enumerate(files) if i % 10 == 0]
    work.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(files):
        if i % 10 and not (work / f.name).exists():
            (work / f.name).symlink_to(f.resolve())
    return work, held


def export(run: Path, style: str, card: dict) -> Path:
    """Copy the a2b generator as fp16 with a config.json that carries the model card."""
    target = ZOO / style
    config = json.loads((run / "config.json").read_text())
    tensors, _ = read_tensors(run / config["directions"]["a2b"])
    atomic_save_tensors({k: v.half() for k, v in tensors.items()}, target / "g_ab.safetensors")
    config["directions"] = {"a2b": "g_ab.safetensors"}
    config["train"]["domain_a"] = "photo"
    config["train"]["domain_b"] = style
    config["train"]["out"] = f"zoo/{style}"
    for side in config["data"].values():
        side["path"] = Path(side["path"]).name
    config["card"] = card
    write_json(target / "config.json", config)
    return target


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cultures", type=Path, required=True)
    ap.add_argument("--styles", default="ukiyoe,chinese_ink,western_oil")
    ap.add_argument("--method", default="fastcut")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--load-size", type=int, default=256)
    ap.add_argument("--work", type=Path, default=Path("runs/zoo"))
    ap.add_argument("--export-only", action="store_true", help="Card and export, no training.")
    args = ap.parse_args()
    photos, held = split(args.cultures / "photo", args.work / "photo_train")
    for style in args.styles.split(","):
        run = args.work / f"photo2{style}"
        if not args.export_only:
            stylebridge.train(
                args.method,
                domain_a=str(photos),
                domain_b=str(args.cultures / style),
                out=str(run),
                size=args.size,
                load_size=args.load_size,
                steps=args.steps,
                sample_every=500,
                checkpoint_every=250,
                overrides=ARCH,
                resume=(run / "train_state.safetensors").exists(),
            )
        saved = json.loads((run / "config.json").read_text())
        records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
        wall = records[-1]["time"] - records[0]["time"]
        card = {
            "style": style,
            "summary": f"photo -> {style.replace('_', ' ')}, {args.method} "
            "(small ResNet generator: ngf 16, 6 blocks, 0.5 M parameters)",
            "method": args.method,
            "steps": saved["step"],
            "train_size": args.size,
            "load_size": args.load_size,
            "hardware": f"{platform.machine()} CPU, {torch.get_num_threads()} threads "
            "(2 cores, shared with other jobs)",
            "wall_time_s": round(wall),
            "data": {
                "photo_train": len(list_images(photos)),
                style: len(list_images(args.cultures / style)),
                "photo_held_out": held,
                "photo_hash": set_digest(list_images(args.cultures / "photo")),
                "style_hash": set_digest(list_images(args.cultures / style)),
            },
            "recommended_max_side": args.load_size * 2,
        }
        print(style, "->", export(run, style, card), f"{wall:.0f} s", flush=True)


if __name__ == "__main__":
    main()
