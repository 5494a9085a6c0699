"""Sample photographs that ship inside installed dependencies, for demos and tests offline."""

from __future__ import annotations

import numpy as np
from PIL import Image

# name -> loader; scikit-image's and scikit-learn's bundled files (no download)
_SKIMAGE = ("astronaut", "coffee", "chelsea", "rocket")


def sample_photos() -> dict[str, Image.Image]:
    """A few public-domain/CC photos: scikit-image's astronaut, coffee, chelsea, rocket and
    scikit-learn's china and flower when scikit-learn is installed."""
    from skimage import data as skdata

    photos = {
        name: Image.fromarray(np.asarray(getattr(skdata, name)())).convert("RGB")
        for name in _SKIMAGE
    }
    try:
        from sklearn.datasets import load_sample_images
    except ImportError:
        return photos
    bunch = load_sample_images()
    for name, arr in zip(bunch.filenames, bunch.images, strict=True):
        photos[name.rsplit("/", 1)[-1].split(".")[0]] = Image.fromarray(arr)
    return photos
