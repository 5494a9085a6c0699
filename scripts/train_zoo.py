"""Train the bundled culture models and write them into src/stylebridge/zoo/<style>/.

Usage: python scripts/train_zoo.py --cultures ../shared/data/cultures --styles ukiyoe,chinese_ink
Every 10th photo (sorted by name) is held out for evaluation; the card lists them. The bundled
models were trained on one GPU, one process per style at once, with
``--size 256 --load-size 286 --batch-size 8 --time-budget 250 --set num_workers=3`` and then
resumed with ``--steps 3850`` (see their cards); the defaults are the earlier CPU settings.
Afterwards run scripts/evaluate_zoo.py for the held-out metrics, look at the outputs, and write
the card's ``look`` and ``notes``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
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


def hardware() -> str:
    """What the card says the model was trained on."""
    if torch.cuda.is_available():
        return f"1x {torch.cuda.get_device_name()} GPU"
    cores, threads = os.cpu_count(), torch.get_num_threads()
    return f"{platform.machine()} CPU, {threads} threads on {cores} cores"


def steps_for_budget(args, photos: Path, style_dir: Path, budget_s: float) -> int:
    """Steps that fit ``budget_s`` seconds, from a short probe run on the same data and settings.

    The learning-rate schedule decays over the planned steps, so a fixed wall-clock budget needs
    the step count up front rather than a time limit that would cut the decay off.
    """
    probe = args.work / f"probe_{style_dir.name}"
    marks: list[float] = []
    started = time.perf_counter()
    stylebridge.train(
        args.method,
        domain_a=str(photos),
        domain_b=str(style_dir),
        out=str(probe),
        size=args.size,
        load_size=args.load_size,
        batch_size=args.batch_size,
        steps=args.probe_steps,
        sample_every=10**9,
        checkpoint_every=10**9,
        overrides=ARCH + args.set,
        progress=lambda report: marks.append(time.perf_counter()),
    )
    skip = len(marks) // 3  # warm-up (cudnn autotune, loader start) is not the steady rate
    rate = (len(marks) - 1 - skip) / (marks[-1] - marks[skip])
    left = budget_s - (time.perf_counter() - started)
    shutil.rmtree(probe, ignore_errors=True)
    steps = max(args.probe_steps, int(rate * left * 0.9))
    print(f"{style_dir.name}: {rate:.1f} steps/s in the probe -> {steps} steps", flush=True)
    return steps


def export(run: Path, style: str, card: dict, zoo: Path = ZOO) -> Path:
    """Copy the a2b generator as fp16 with a config.json that carries the model card."""
    target = zoo / style
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
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument(
        "--time-budget",
        type=float,
        default=0.0,
        help="Seconds per style (probe included); overrides --steps when set.",
    )
    ap.add_argument("--probe-steps", type=int, default=60)
    ap.add_argument("--set", nargs="*", default=[], help="Extra key=value training overrides.")
    ap.add_argument("--work", type=Path, default=Path("runs/zoo"))
    ap.add_argument("--zoo", type=Path, default=ZOO, help="Where the exported models go.")
    ap.add_argument("--export-only", action="store_true", help="Card and export, no training.")
    args = ap.parse_args()
    photos, held = split(args.cultures / "photo", args.work / "photo_train")
    for style in args.styles.split(","):
        run = args.work / f"photo2{style}"
        if not args.export_only:
            steps = args.steps
            if args.time_budget and not (run / "train_state.safetensors").exists():
                steps = steps_for_budget(args, photos, args.cultures / style, args.time_budget)
            stylebridge.train(
                args.method,
                domain_a=str(photos),
                domain_b=str(args.cultures / style),
                out=str(run),
                size=args.size,
                load_size=args.load_size,
                batch_size=args.batch_size,
                steps=steps,
                sample_every=500,
                checkpoint_every=250,
                overrides=ARCH + args.set,
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
            "batch_size": saved["train"]["batch_size"],
            "hardware": hardware(),
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
        print(style, "->", export(run, style, card, args.zoo), f"{wall:.0f} s", flush=True)


if __name__ == "__main__":
    main()
