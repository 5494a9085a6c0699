"""The GAN family side by side: training speed and KID (lite0) after a fixed step budget.

One image folder (e.g. one culture of the corpus) is split with a fixed seed: 80% to train on,
20% held out. Each method trains for the same number of generator steps at the same size and
batch, then draws ``--num-samples`` images; KID (lite0) compares them with the held-out images.
The same architecture freshly initialised (untrained) is scored in the same way, and the
training images themselves give the floor a perfect generator could reach.

    python bench/gan_zoo.py --data ../shared/data/cultures/ukiyoe --size 64 --steps 300 \
        --out runs/gan_zoo [--methods dcgan,stylegan2] [--preset cpu|paper]

Every method gets DiffAugment (colour, translation, cutout): with ~150 training images a critic
without it memorises the corpus within a few hundred steps. ``--preset cpu`` (default) narrows
every network (DCGAN ngf/ndf 32, StyleGAN2 channel_max 32) and uses batch 8 so the whole table
fits a short CPU run; ``--preset paper`` keeps each method's widths and batch 32, for a GPU.
Training speed is real images consumed per second (batch x critic updates per step), as the
training loop reports it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

METHODS = ("dcgan", "lsgan", "wgan", "wgan-gp", "sngan", "stylegan2")
AUGMENT = "model.augment=color,translation,cutout"  # DiffAugment's policy for small corpora
PRESETS = {
    "cpu": {
        "stylegan2": ["model.channel_max=32", "batch_size=8", AUGMENT],
        "*": ["model.ngf=32", "model.ndf=32", "batch_size=8", AUGMENT],
    },
    "paper": {"*": [AUGMENT]},
}


def split_folder(data: Path, out: Path, holdout: float, seed: int) -> tuple[Path, Path]:
    """Symlinked train/ and heldout/ folders (the images themselves are not copied)."""
    from stylebridge.data import list_images

    files = list_images(data)
    order = np.random.default_rng(seed).permutation(len(files))
    n_held = max(2, round(len(files) * holdout))
    parts = {"heldout": order[:n_held], "train": order[n_held:]}
    folders = {}
    for name, indices in parts.items():
        folder = out / "split" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for i in indices:
            (folder / files[i].name).symlink_to(files[i].resolve())
        folders[name] = folder
    return folders["train"], folders["heldout"]


def write_samples(images: torch.Tensor, folder: Path) -> Path:
    from stylebridge.imageio import save_image, to_pil

    shutil.rmtree(folder, ignore_errors=True)
    for i, image in enumerate(images):
        save_image(to_pil(image), folder / f"{i:04d}.png")
    return folder


def kid_lite0(real: Path, fake: Path) -> tuple[float, float]:
    from stylebridge import api
    from stylebridge.metrics import KEY_KID, KEY_KID_STD

    result = api.evaluate(real, fake, metrics="kid", features="lite0")
    return result[KEY_KID], result[KEY_KID_STD]


def run_method(method: str, args, train: Path, heldout: Path) -> dict:
    from stylebridge import api
    from stylebridge.inference.generate import ImageGenerator
    from stylebridge.nn import build_generator

    preset = PRESETS[args.preset]
    overrides = preset.get(method, preset["*"]) + [f"seed={args.seed}"]
    run_dir = args.out / "runs" / method
    shutil.rmtree(run_dir, ignore_errors=True)
    speeds = []
    started = time.perf_counter()
    api.train(
        method,
        data=str(train),
        out=str(run_dir),
        size=args.size,
        steps=args.steps,
        sample_every=max(1, args.steps // 4),
        checkpoint_every=args.steps,
        log_every=max(1, args.steps // 20),
        overrides=overrides,
        progress=lambda r: speeds.append(r.images_per_s) if not r.message else None,
    )
    wall = time.perf_counter() - started
    generator = ImageGenerator(run_dir)
    z = generator.latents(args.num_samples, seed=args.seed + 1)
    t0 = time.perf_counter()
    trained = generator.images(z)
    gen_speed = args.num_samples / (time.perf_counter() - t0)
    torch.manual_seed(args.seed)
    untrained_net = build_generator(generator.config["generator"]).eval().to(generator.device)
    with torch.no_grad():
        untrained = torch.cat(
            [untrained_net(c.to(generator.device)).float().cpu() for c in z.split(64)]
        )
    folder = args.out / "samples" / method
    kid, kid_std = kid_lite0(heldout, write_samples(trained, folder / "trained"))
    kid0, _ = kid_lite0(heldout, write_samples(untrained, folder / "untrained"))
    params = sum(p.numel() for p in generator.net.parameters())
    return {
        "method": method,
        "train_images_per_s": speeds[-1] if speeds else float("nan"),
        "generate_images_per_s": gen_speed,
        "train_wall_s": wall,
        "g_params_m": params / 1e6,
        "kid": kid,
        "kid_std": kid_std,
        "kid_untrained": kid0,
        "samples": str(run_dir / "samples"),
    }


def table(rows: list[dict], floor: float, args) -> str:
    lines = [
        f"GAN zoo: {args.data.name} at {args.size} px, {args.steps} generator steps, "
        f"preset {args.preset}, {torch.get_num_threads()} thread(s), {args.num_samples} samples "
        "vs the held-out images",
        "",
        "| method | G params (M) | train img/s | generate img/s | train wall (s) "
        "| KID (lite0) | untrained KID |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['g_params_m']:.2f} | {r['train_images_per_s']:.1f} "
            f"| {r['generate_images_per_s']:.0f} | {r['train_wall_s']:.0f} "
            f"| {r['kid']:.3f} ± {r['kid_std']:.3f} | {r['kid_untrained']:.3f} |"
        )
    lines.append(f"| (training images) | | | | | {floor:.3f} | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="Folder of images.")
    parser.add_argument("--out", type=Path, required=True, help="Work folder (runs, samples).")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--num-samples", type=int, default=200)
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 = default.")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train, heldout = split_folder(args.data, args.out, args.holdout, args.seed)
    floor, _ = kid_lite0(heldout, train)
    rows = []
    for method in args.methods.split(","):
        rows.append(run_method(method.strip(), args, train, heldout))
        print(json.dumps(rows[-1]), flush=True)
    report = table(rows, floor, args)
    (args.out / "gan_zoo.json").write_text(json.dumps({"rows": rows, "floor": floor}, indent=2))
    (args.out / "gan_zoo.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
