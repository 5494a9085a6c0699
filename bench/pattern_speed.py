"""Texture GAN speed: training step and 1024 px generation, and what seamlessness costs.

The reference, measured in the same run, is the same generator with zero padding and clamped
upsampling (an ordinary, non-tileable SGAN); the ratio is the price of circular padding.
Usage: python bench/pattern_speed.py [--steps 30] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from PIL import Image

from stylebridge.design import TextureConfig, generate, train_texture


def _motif() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8))


def _train_step_s(tileable: bool, steps: int) -> float:
    """Median seconds per training step after a warm-up run."""
    config = TextureConfig(steps=steps, circular=tileable)
    train_texture([_motif()], TextureConfig(steps=3, circular=tileable))  # warm-up
    stamps: list[float] = []
    train_texture([_motif()], config, progress=lambda report: stamps.append(time.perf_counter()))
    return statistics.median(np.diff(stamps))


def _generate_s(tileable: bool) -> float:
    g = train_texture([_motif()], TextureConfig(steps=1))
    generate(g, 256, 256, tileable=tileable)
    start = time.perf_counter()
    generate(g, 1024, 1024, tileable=tileable)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0, help="0 = torch's default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"{'':24s} {'circular':>10s} {'zeros (ref)':>12s} {'ratio':>7s}")
    for name, fn in (
        ("train step (s)", lambda t: _train_step_s(t, args.steps)),
        ("1024x1024 pattern (s)", _generate_s),
    ):
        circular, zeros = fn(True), fn(False)
        print(f"{name:24s} {circular:10.3f} {zeros:12.3f} {circular / zeros:6.2f}x")


if __name__ == "__main__":
    main()
