"""Texture GAN speed: training step and 1024 px generation, and what seamlessness costs.

Trains the ``texture`` method through the one training loop (as ``design pattern`` does). The
reference, measured in the same run, is the same generator with zero padding and clamped
upsampling (an ordinary, non-tileable SGAN); the ratio is the price of circular padding.
Usage: python bench/pattern_speed.py [--steps 30] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylebridge import api
from stylebridge.design import generate, load_texture_model


def _train(root: Path, name: str, steps: int, tileable: bool, stamps: list[float] | None = None):
    motif = root / "motif.png"
    if not motif.exists():
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(motif)

    def tick(report) -> None:
        if stamps is not None and not report.message:
            stamps.append(time.perf_counter())

    return api.train(
        "texture",
        data=[str(motif)],
        out=str(root / name),
        size=64,
        load_size=256,
        steps=steps,
        device="cpu",
        precision="fp32",
        sample_every=steps,
        checkpoint_every=steps,
        overrides=[f"model.circular={str(tileable).lower()}"],
        progress=tick,
    )


def _train_step_s(root: Path, tileable: bool, steps: int) -> float:
    """Median seconds per training step (loop included) after a warm-up run."""
    _train(root, f"warm_{tileable}", 3, tileable)
    stamps: list[float] = []
    _train(root, f"run_{tileable}", steps, tileable, stamps)
    return statistics.median(np.diff(stamps))


def _generate_s(root: Path, tileable: bool) -> float:
    g = load_texture_model(_train(root, f"gen_{tileable}", 1, tileable))
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
    with tempfile.TemporaryDirectory(prefix="pattern-bench-") as tmp:
        root = Path(tmp)
        for name, fn in (
            ("train step (s)", lambda t: _train_step_s(root, t, args.steps)),
            ("1024x1024 pattern (s)", lambda t: _generate_s(root, t)),
        ):
            circular, zeros = fn(True), fn(False)
            print(f"{name:24s} {circular:10.3f} {zeros:12.3f} {circular / zeros:6.2f}x")


if __name__ == "__main__":
    main()
