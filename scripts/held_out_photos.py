"""Write the held-out photo sets that the culture styles are measured on, outside the repo.

Usage: python scripts/held_out_photos.py --data ../shared/data --out held_out

Writes ``OUT/25`` (the 25 ``content_photos/unsplash`` photos, which no engine trained on and
which chose every setting) and ``OUT/93`` (those and CBSD68's 68, a denoising benchmark held
out of the content photos, resized like the content photos to 256 px on the shorter side, so
that both sets render at their own size). Then, for example:

    python scripts/evaluate_feature_engine.py --photos held_out/93 --max-images 93 --kid ...
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from PIL import Image

from stylebridge.data import list_images

SHORT_SIDE = 256


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--out", type=Path, default=Path("held_out"))
    args = parser.parse_args()
    unsplash = list_images(args.data / "content_photos" / "unsplash")
    cbsd = list_images(args.data / "sr_benchmarks" / "CBSD68")
    if len(unsplash) != 25 or len(cbsd) != 68:
        raise SystemExit(f"expected 25 unsplash and 68 CBSD68 photos, found {len(unsplash)} and "
                         f"{len(cbsd)} under {args.data}")  # fmt: skip
    for name in ("25", "93"):
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        for photo in unsplash:
            shutil.copyfile(photo, folder / photo.name)
    for photo in cbsd:
        image = Image.open(photo).convert("RGB")
        scale = SHORT_SIDE / min(image.size)
        size = (round(image.width * scale), round(image.height * scale))
        image.resize(size, Image.Resampling.LANCZOS).save(args.out / "93" / photo.name)
    print(f"{args.out / '25'}: 25 photos, {args.out / '93'}: 93 photos")


if __name__ == "__main__":
    main()
