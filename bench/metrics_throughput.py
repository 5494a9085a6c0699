"""Throughput of the Lite0 metrics path: network variants, then 1,000 images end to end.

    python bench/metrics_throughput.py [--images 1000] [--corpus ../shared/data/cultures]

Part 1 times the network alone on random 224 px batches: plain BatchNorm vs folded, NCHW vs
channels_last, no_grad vs inference_mode. Part 2 runs ``evaluate(metrics="fid,kid")`` without
the cache on half the images as "real" and half as "fake" (256 px files: decoding, resizing,
features, FID with its bootstrap interval, KID) and prints images/s.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylebridge.metrics import KEY_FID, KEY_KID, build_extractor, evaluate
from stylebridge.metrics.lite0 import load_lite0

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cultures"


def _time_network(net, x: torch.Tensor, mode, repeats: int) -> float:
    """Seconds per image, best of ``repeats`` after one warm-up batch."""
    with mode():
        net(x)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            net(x)
            best = min(best, time.perf_counter() - start)
    return best / x.shape[0]


def network_variants(cache: Path, batch: int, repeats: int) -> None:
    fused = build_extractor("lite0", device="cpu", cache=cache).net  # folded BN, channels_last
    plain = load_lite0(cache)
    x = torch.rand(batch, 3, 224, 224) * 2 - 1
    x_cl = x.contiguous(memory_format=torch.channels_last)
    variants = [
        ("plain BN, NCHW, no_grad", plain, x, torch.no_grad),
        (
            "folded BN, NCHW, no_grad",
            copy.deepcopy(fused).to(memory_format=torch.contiguous_format),
            x,
            torch.no_grad,
        ),
        ("folded BN, channels_last, no_grad", fused, x_cl, torch.no_grad),
        ("folded BN, channels_last, inference_mode", fused, x_cl, torch.inference_mode),
    ]
    print(f"network alone, batch {batch}, 224 px, {torch.get_num_threads()} threads:")
    for label, net, inp, mode in variants:
        per_image = _time_network(net, inp, mode, repeats)
        print(f"  {label:42s} {per_image * 1000:6.1f} ms/img  {1 / per_image:6.1f} img/s")


def image_folders(root: Path, corpus: Path, count: int) -> tuple[Path, Path]:
    """Two folders of ``count // 2`` 256 px images each: corpus links, else synthetic JPEGs."""
    files = sorted(corpus.glob("*/*.jpg")) if corpus.is_dir() else []
    real, fake = root / "real", root / "fake"
    real.mkdir()
    fake.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        target = (real if i % 2 == 0 else fake) / f"{i:05d}.jpg"
        if i < len(files):
            target.symlink_to(files[i].resolve())
        else:
            small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(small).resize((256, 256), Image.BICUBIC).save(target, quality=90)
    used = min(count, len(files))
    print(
        f"\n{count} images, {count // 2} real + {count // 2} fake ({used} from the corpus, "
        f"{count - used} synthetic), {torch.get_num_threads()} threads:"
    )
    return real, fake


def end_to_end(real: Path, fake: Path, cache: Path, batch: int) -> None:
    start = time.perf_counter()
    result = evaluate(
        real, fake, metrics="fid,kid", batch_size=batch, cache=False, cache_path=cache
    )
    total = time.perf_counter() - start
    timing = result["timing"]
    images = result["num_real"] + result["num_fake"]
    print(f"  FID (lite0) {result[KEY_FID]:.2f}, KID (lite0) {result[KEY_KID]:.4f}")
    print(
        f"  features: {timing['features_s']:.1f} s ({timing['images_per_s']:.1f} img/s, "
        f"decoding included) on {timing['device']}"
    )
    print(f"  FID + bootstrap + KID: {timing['set_metrics_s']:.1f} s")
    print(f"  total: {total:.1f} s for {images} images ({images / total:.1f} img/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--skip-variants", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        if not args.skip_variants:
            network_variants(cache, args.batch, args.repeats)
        real, fake = image_folders(Path(tmp), args.corpus, args.images)
        end_to_end(real, fake, cache, args.batch)


if __name__ == "__main__":
    main()
