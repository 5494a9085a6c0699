"""Loading a restoration model folder and running it over an image of any size.

A restoration model is an ordinary run folder (``config.json`` + safetensors, written by the one
training loop) whose config names its ``task``. The bundled ones live in ``zoo/restore/<task>``;
a user's own run folder is accepted wherever a bundled one is.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, ImageError
from ..inference.tiling import NonFiniteOutputError, TileRunner
from ..models.files import generator_from_config, read_run_config
from ..nn import pick_device, prepare_runtime
from ..zoo import restoration_dir

TASKS = ("super-resolution", "denoising", "inpainting")


class Restorer:
    """One restoration network, loaded once, applied to uint8 HxWx3 arrays through the tiler.

    ``model`` is a run or model folder, or None for the bundled model of ``task`` (for
    super-resolution, the one of ``scale``; with ``gan`` the bundled GAN upscaler).
    """

    def __init__(
        self,
        task: str,
        model: str | os.PathLike | None = None,
        *,
        scale: int | None = None,
        device: str = "auto",
        gan: bool = False,
    ):
        if task not in TASKS:
            raise ConfigError(f"unknown restoration task {task!r}; use one of {', '.join(TASKS)}")
        if gan and model is not None:
            raise ConfigError(
                "give a model folder or the bundled GAN model (--gan, gan=True), not both"
            )
        folder = Path(model) if model is not None else _bundled(task, scale, gan)
        config = read_run_config(folder)
        found = config.get("task")
        if found != task:
            what = f"a {found} model" if found else f"a {config.get('method')} model"
            raise ConfigError(f"{folder} holds {what}, not a {task} model")
        self.folder = folder
        self.config = config
        self.device = pick_device(device)
        prepare_runtime(self.device)
        net, _ = generator_from_config(folder, "generator")
        self.net = net.to(self.device).to(memory_format=torch.channels_last)
        self.scale = int(getattr(self.net.config, "scale", 1))
        # the bundled x4 model also serves x2: its output is then reduced by half (Lanczos)
        self.output_scale = scale or self.scale
        if scale is not None and scale != self.scale and (model is not None or scale > self.scale):
            raise ConfigError(f"{folder} upscales x{self.scale}, not x{scale}")

    def run(
        self,
        pixels: np.ndarray,
        *,
        tile: int = 512,
        path: str = "<image>",
        ensemble: bool = False,
        **inputs,
    ):
        """uint8 HxWx3 -> uint8 (H*scale)x(W*scale)x3; ``inputs`` go to the network's forward
        (the denoiser's noise level). The inpainter takes HxWx4: the mask as a fourth channel
        (255 = missing), so that image and mask travel through the same tiles.

        ``ensemble``: the mean over the eight rotations and mirror images of the input, each
        turned back (geometric self-ensemble, Lim et al. 2017): 8x the time, +0.1-0.2 dB."""
        if not ensemble:
            return self._run_once(pixels, tile, path, inputs)
        total = None
        for turns in range(4):
            for mirror in (False, True):
                view = np.rot90(pixels, turns)
                view = np.ascontiguousarray(view[:, ::-1] if mirror else view)
                out = self._run_once(view, tile, path, inputs).astype(np.float32)
                out = np.rot90(out[:, ::-1] if mirror else out, -turns)
                total = out if total is None else total + out
        return np.clip(total / 8 + 0.5, 0, 255).astype(np.uint8)

    def _run_once(self, pixels: np.ndarray, tile: int, path: str, inputs: dict) -> np.ndarray:
        if self.config.get("task") == "inpainting":
            net = _SplitMask(self.net)
        else:
            net = self.net if not inputs else _Bound(self.net, inputs)
        runner = TileRunner(net, self.device, self.net.multiple, None, scale=self.scale)
        try:
            return runner.run(pixels, tile=tile, overlap=32)
        except NonFiniteOutputError:
            raise ImageError(path, "the model produced NaN/inf values; nothing written") from None


def _bundled(task: str, scale: int | None, gan: bool = False) -> Path:
    """The bundled model of a task; x2 falls back to the x4 model when no x2 model ships."""
    try:
        return restoration_dir(task, scale, gan=gan)
    except ConfigError:
        if task == "super-resolution" and scale == 2:
            return restoration_dir(task, 4, gan=gan)
        raise


class _Bound:
    """The network with extra forward arguments fixed, as the tiler calls ``net(x)``."""

    def __init__(self, net, inputs: dict):
        self.net, self.inputs = net, inputs

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, **self.inputs)


class _SplitMask:
    """(1, 4, h, w) in [-1, 1] -> the inpainter's image and its 0/1 mask."""

    def __init__(self, net):
        self.net = net

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x[:, :3], (x[:, 3:] > 0).to(x.dtype))
