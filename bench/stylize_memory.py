"""Peak memory of stylizing one large photo through tiles, per image size, each in a fresh process.

    python bench/stylize_memory.py [--mp 6,24,96] [--style ukiyoe] [--tile 512]

Each size runs in its own subprocess (so one run's peak does not hide the next's): a random
smooth photo of that many megapixels is written as PNG, loaded through ``imageio`` and stylized
with ``Stylizer.stylize(path, tile=TILE)``. Printed per size: wall time, the process's peak RSS
(``ru_maxrss``), the RSS before stylizing (torch and the model loaded), and the image's own
decoded bytes. With tiling the growth over the baseline should stay near a few copies of the
uint8 image (input, output, blending of one row of tiles), whatever the size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _one(megapixels: float, style: str, tile: int, threads: int) -> dict:
    import numpy as np
    import torch
    from PIL import Image

    import stylebridge
    from stylebridge import zoo

    torch.set_num_threads(threads)
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(megapixels * 1e6 / width)
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (height // 64 + 1, width // 64 + 1, 3), dtype=np.uint8)
    photo = Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.png"
        photo.save(path)
        del photo, small
        model = stylebridge.load(zoo.style_path(style), precision="fp32")
        model.stylize(np.zeros((64, 64, 3), np.uint8))  # the network built and warmed up
        baseline = _rss_mib()
        start = time.perf_counter()
        out = model.stylize(path, tile=tile)
        seconds = time.perf_counter() - start
    return {
        "size": f"{width}x{height}",
        "megapixels": round(width * height / 1e6, 1),
        "decoded_mib": round(width * height * 3 / 2**20),
        "baseline_rss_mib": round(baseline),
        "peak_rss_mib": round(_rss_mib()),
        "seconds": round(seconds, 1),
        "output": "x".join(map(str, out.size)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mp", default="6,24", help="comma-separated image sizes in megapixels")
    parser.add_argument("--style", default="ukiyoe")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_one(args.child, args.style, args.tile, args.threads)))
        return
    print(f"{'size':>12} {'MP':>6} {'image MiB':>9} {'base RSS':>9} {'peak RSS':>9} {'s':>7}")
    for mp in [float(v) for v in args.mp.split(",")]:
        command = [sys.executable, __file__, "--child", str(mp), "--style", args.style]
        command += ["--tile", str(args.tile), "--threads", str(args.threads)]
        row = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
        print(
            f"{row['size']:>12} {row['megapixels']:>6} {row['decoded_mib']:>9} "
            f"{row['baseline_rss_mib']:>9} {row['peak_rss_mib']:>9} {row['seconds']:>7}"
        )


if __name__ == "__main__":
    main()
