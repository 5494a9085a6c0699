"""Datasets for translation training.

Each sample is a pure function of ``(seed, sample_id)``: which images, crop offsets and flips.
That makes ``--resume`` exact without saving loader state, and lets DDP ranks take disjoint ids.
"""

from __future__ import annotations

import math
import os
import signal
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from ..errors import DataError, ImageError
from ..imageio import load_image, probe_image, to_model_range
from .files import list_images

LOAD_SCALE = 286 / 256  # CycleGAN's resize-then-crop ratio, applied to the shorter side


class ImageSource:
    """One domain's images: header-checked up front, decoded lazily, resized copies cached."""

    def __init__(
        self,
        root: str | os.PathLike | Sequence[Path],
        load_size: int,
        cache: bool = True,
        exclude_groups: Sequence[str] = (),
    ):
        files = list_images(root) if isinstance(root, (str, os.PathLike)) else list(root)
        if exclude_groups:  # e.g. the photo folder of a corpus of cultures: content, not style
            files = [f for f in files if _group_of(root, f) not in exclude_groups]
        self.name = str(root) if isinstance(root, (str, os.PathLike)) else "files"
        self.load_size = load_size
        self.cache = cache
        self.skipped: list[tuple[Path, str]] = []
        self.files: list[Path] = []
        for path in files:
            try:
                info = probe_image(path)
            except ImageError as err:
                self.skipped.append((path, err.problem))
                continue
            if min(info.width, info.height) < 8:
                self.skipped.append((path, f"too small ({info.width}x{info.height} px)"))
                continue
            self.files.append(path)
        if not self.files:
            raise DataError(f"{self.name}: no usable image ({len(self.skipped)} unreadable)")
        self.group_names, self.groups = _groups(root, self.files)
        self._cached: dict[int, torch.Tensor] = {}
        self._broken: set[int] = set()  # passed the header check, failed to decode

    def __len__(self) -> int:
        return len(self.files)

    def _decode(self, index: int) -> torch.Tensor:
        image = load_image(self.files[index]).rgb
        w, h = image.size
        scale = self.load_size / min(w, h)
        size = (max(self.load_size, round(w * scale)), max(self.load_size, round(h * scale)))
        image = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)
        return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)  # uint8 CHW

    def get(self, index: int) -> torch.Tensor | None:
        """uint8 CHW with shorter side = load_size, or None if the file turned out corrupt."""
        if index in self._cached:
            return self._cached[index]
        if index in self._broken:
            return None
        try:
            pixels = self._decode(index)
        except ImageError as err:  # listed once per file, however often it is drawn
            warnings.warn(f"skipping {err}", stacklevel=2)
            self._broken.add(index)
            self.skipped.append((self.files[index], err.problem))
            return None
        if self.cache:
            self._cached[index] = pixels
        return pixels


def _group_of(root, file: Path) -> str:
    if isinstance(root, (str, os.PathLike)) and Path(root).is_dir():
        part = file.relative_to(root).parts
        return part[0] if len(part) > 1 else "."
    return "."


def _groups(root, files: list[Path]) -> tuple[list[str], list[int]]:
    """Each file's group: the first subfolder under the root (a culture in a corpus of
    cultures); files directly in the root, or listed one by one, form the group "."."""
    keys = [_group_of(root, f) for f in files]
    names = sorted(set(keys))
    index = {name: i for i, name in enumerate(names)}
    return names, [index[k] for k in keys]


def random_crop_flip(
    pixels: torch.Tensor, size: int, rng: np.random.Generator, flip: bool
) -> torch.Tensor:
    """uint8 CHW -> float CHW in [-1, 1], a size x size crop, maybe mirrored."""
    _, h, w = pixels.shape
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(0, w - size + 1))
    crop = pixels[:, top : top + size, left : left + size]
    if flip and rng.random() < 0.5:
        crop = crop.flip(-1)
    return to_model_range(crop)


class TwoSourceDataset(Dataset):
    """Two image sources cropped to ``size``; the step sampler decides the length, and the seed
    with the sample id decides every draw, so a resumed run sees what a straight run sees."""

    def __init__(
        self,
        source_a: ImageSource,
        source_b: ImageSource,
        size: int,
        *,
        seed: int = 0,
        flip: bool = True,
    ):
        self.sources = (source_a, source_b)
        self.size = size
        self.seed = seed
        self.flip = flip

    def __len__(self) -> int:  # the sampler decides the length; this bounds nothing
        return 2**62


class UnpairedDataset(TwoSourceDataset):
    """Domain A walked epoch by epoch in shuffled order, domain B drawn at random (as CycleGAN).
    ``label_b`` is the drawn B image's group (its subfolder), for culture-conditional losses."""

    def _pick(self, which: int, sample_id: int, attempt: int) -> int:
        n = len(self.sources[which])
        if which == 0:
            epoch, pos = divmod(sample_id, n)
            order = np.random.default_rng([self.seed, 0, epoch]).permutation(n)
            return int(order[(pos + attempt) % n])
        rng = np.random.default_rng([self.seed, 1, sample_id, attempt])
        return int(rng.integers(n))

    def __getitem__(self, sample_id: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, 2, sample_id])
        out = {}
        for which, key in ((0, "real_a"), (1, "real_b")):
            for attempt in range(len(self.sources[which])):
                index = self._pick(which, sample_id, attempt)
                pixels = self.sources[which].get(index)
                if pixels is not None:
                    break
            else:
                raise DataError(f"{self.sources[which].name}: every image failed to decode")
            out[key] = random_crop_flip(pixels, self.size, rng, self.flip)
        out["label_b"] = torch.tensor(self.sources[1].groups[index])
        return out


class StepSampler(Sampler[int]):
    """Sample ids from ``start`` on, strided across DDP ranks, for a fixed number of steps."""

    def __init__(
        self, start_step: int, num_steps: int, batch_size: int, rank: int = 0, world_size: int = 1
    ):
        self.start = start_step * batch_size * world_size
        self.stop = num_steps * batch_size * world_size
        self.rank = rank
        self.world_size = world_size

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start + self.rank, self.stop, self.world_size))

    def __len__(self) -> int:
        return max(0, math.ceil((self.stop - self.start - self.rank) / self.world_size))


def _ignore_stop_signals(_worker_id: int) -> None:
    """Ctrl-C, ``timeout`` and schedulers signal the whole process group; the workers leave the
    stop to the main process, which finishes its step and writes a checkpoint (a worker dying
    of the signal would abort that step instead). They still exit when the main process does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def make_loader(
    dataset: Dataset,
    *,
    start_step: int,
    num_steps: int,
    batch_size: int,
    device_type: str,
    rank: int = 0,
    world_size: int = 1,
    num_workers: int | None = None,
) -> DataLoader:
    """CPU training gets no worker processes (they would steal the cores the model needs)."""
    if num_workers is None:
        num_workers = 0 if device_type == "cpu" else min(8, os.cpu_count() or 1)
    sampler = StepSampler(start_step, num_steps, batch_size, rank, world_size)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=device_type == "cuda",
        persistent_workers=num_workers > 0,
        prefetch_factor=4 if num_workers > 0 else None,
        drop_last=True,
        worker_init_fn=_ignore_stop_signals if num_workers > 0 else None,
        # its own generator: starting an iterator then draws nothing from the global RNG, which
        # the GANs' latents and noise use, so a resumed run draws what a straight run draws
        generator=torch.Generator(),
    )
