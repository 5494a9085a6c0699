"""Time a culture style with a flat finish at large output sizes: the finish at the rendered size
(``finish_to_size``, what ``stylize`` does) against the same finish over the enlarged output
(the way it ran before), in the same run, with their mean difference in grey levels.

Usage: python bench/finish_speed.py [--style ukiyoe] [--sides 1024,2048] [--runs 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

import stylebridge
from stylebridge.inference.finish import apply_finish


def _photo(long_side: int) -> Image.Image:
    """A sample photo shipped with scikit-image, enlarged to ``long_side`` (3:2)."""
    from skimage import data

    return Image.fromarray(data.chelsea()).resize((long_side, long_side * 2 // 3), Image.BICUBIC)


def _median_s(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="ukiyoe", help="a culture style with a flat finish")
    parser.add_argument("--sides", default="1024,2048", help="output long sides")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    style = stylebridge.load(args.style)
    if style.finish not in ("flat", "flat_detail"):
        raise SystemExit(f"{args.style} has no flat finish ({style.finish})")
    print(f"{args.style} ({style.finish}), median of {args.runs}")
    print("| output | at the rendered size s | over the output s | ratio | mean abs diff |")
    print("|---|---|---|---|---|")
    for side in (int(s) for s in args.sides.split(",")):
        photo = _photo(side)
        now_s, now = _median_s(lambda p=photo: style.stylize(p), args.runs)

        def before(p=photo):
            plain = np.asarray(style.stylize(p, finish="none"))
            return apply_finish(plain, style.finish, style.palette)

        before_s, old = _median_s(before, args.runs)
        differ = float(np.abs(np.asarray(now, np.int16) - old).mean())
        print(
            f"| {photo.width}x{photo.height} | {now_s:.2f} | {before_s:.2f} | "
            f"{before_s / now_s:.1f}x | {differ:.1f} |"
        )


if __name__ == "__main__":
    main()
