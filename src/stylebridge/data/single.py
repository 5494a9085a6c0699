"""One folder of images for the unconditional GANs; sample ``i`` is a function of (seed, i)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .datasets import ImageSource, random_crop_flip


class SingleDataset(Dataset):
    """The folder walked epoch by epoch in shuffled order; random crop of the longer side, flip."""

    def __init__(self, source: ImageSource, size: int, *, seed: int = 0, flip: bool = True):
        self.sources = (source,)
        self.size = size
        self.seed = seed
        self.flip = flip

    def __len__(self) -> int:  # the sampler decides the length
        return 2**62

    def __getitem__(self, sample_id: int) -> dict[str, torch.Tensor]:
        source = self.sources[0]
        n = len(source)
        epoch, pos = divmod(sample_id, n)
        order = np.random.default_rng([self.seed, 3, epoch]).permutation(n)
        rng = np.random.default_rng([self.seed, 4, sample_id])
        for attempt in range(n):
            pixels = source.get(int(order[(pos + attempt) % n]))
            if pixels is not None:
                return {"real": random_crop_flip(pixels, self.size, rng, self.flip)}
        raise DataError(f"{source.name}: every image failed to decode")
