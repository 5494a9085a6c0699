"""The README's portrait picture: the sitter, then each culture without and with --portrait.

Usage: python scripts/portrait_sheet.py [--out docs/images/portrait_sheet.jpg]

The sitter is scikit-image's astronaut (a public-domain NASA portrait that ships with the
package). Prints the SSIM of the face box to the photo for each rendering.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skdata

from stylebridge import api
from stylebridge.design.portrait import find_faces
from stylebridge.metrics.ssim import ssim
from stylebridge.sheets import contact_sheet, save_sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/portrait_sheet.jpg"))
    parser.add_argument("--cultures", default="chinese_ink,ukiyoe,western_oil")
    args = parser.parse_args()
    photo = Image.fromarray(skdata.astronaut())
    (x, y, w, h), *_ = find_faces(photo)
    face = (slice(y, y + h), slice(x, x + w))
    crop = (
        max(0, x - w),
        max(0, y - h // 2),
        min(photo.width, x + 2 * w),
        min(photo.height, y + 2 * h),
    )
    rows = []
    for culture in args.cultures.split(","):
        plain = api.stylize(photo, culture)  # the culture style, its finish included
        portrait = api.stylize(photo, culture, portrait=True)
        scores = [ssim(np.asarray(photo)[face], np.asarray(im)[face]) for im in (plain, portrait)]
        print(f"{culture}: face SSIM {scores[0]:.3f} plain, {scores[1]:.3f} --portrait")
        rows.append((culture, [photo.crop(crop), plain.crop(crop), portrait.crop(crop)]))
    sheet = contact_sheet(rows, ["photo", "stylized", "--portrait"], cell=240)
    save_sheet(sheet, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
