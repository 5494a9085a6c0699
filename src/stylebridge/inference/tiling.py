"""Running a fully convolutional generator over an image of any size.

Small images go through whole (padded to the generator's multiple, and to at least two of
them a side, so no feature map is left 1 px across). Large ones go
through overlapping tiles blended with smooth weights; instance-norm statistics are first summed
over all tiles, then frozen, so every tile is normalised like the whole image and no seam shows.
Memory stays bounded by one tile plus float32 blending accumulators for one row of tiles
(``_Band``), beside the uint8 input and output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from ..errors import StylebridgeError
from ..imageio import to_model_range, to_pixel_range
from ..nn import GlobalStatsInstanceNorm

Progress = Callable[[int, int], None]


class NonFiniteOutputError(StylebridgeError):
    """The network returned NaN/inf: written out they would be a silently black image."""


def set_norm_mode(net: nn.Module | Callable, mode: str) -> bool:
    """Switch every instance norm to instance/collect/frozen; True if the net has any.

    A net that is not a torch module (an onnxruntime graph) has none that can be switched.
    """
    if not isinstance(net, nn.Module):
        return False
    found = False
    for module in net.modules():
        if isinstance(module, GlobalStatsInstanceNorm):
            if mode == "collect":
                module.reset_stats()
            module.mode = mode
            found = True
    return found


def _positions(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def _ramp(n: int, overlap: int) -> np.ndarray:
    """1-D blending weight: raised cosine up over ``overlap`` pixels at both ends, 1 inside."""
    if overlap <= 0:
        return np.ones(n, np.float32)
    i = np.arange(n, dtype=np.float32) + 0.5
    edge = np.minimum(i, n - i) / overlap
    return np.clip(0.5 - 0.5 * np.cos(np.pi * np.clip(edge, 0, 1)), 1e-3, 1).astype(np.float32)


class TileRunner:
    """Applies ``net`` ((1,3,h,w) in [-1,1] -> (1,3,h*scale,w*scale)) to uint8 HxWx3 arrays of
    any size; ``scale`` is 1 for translators and 2 or 4 for super-resolution.

    ``net`` is a torch module or a callable such as ``OnnxGenerator``; only a module gets frozen
    whole-image statistics when tiled, a callable normalises each tile by its own.
    """

    def __init__(
        self,
        net: nn.Module | Callable[[torch.Tensor], torch.Tensor],
        device: torch.device,
        multiple: int,
        amp_dtype: torch.dtype | None = None,
        channels_last: bool = True,
        scale: int = 1,
    ):
        self.net = net
        self.scale = scale
        self.device = device
        self.multiple = multiple
        self.amp_dtype = amp_dtype
        self.channels_last = channels_last

    def _forward(self, pixels: np.ndarray) -> np.ndarray:
        h, w = pixels.shape[:2]
        x = torch.from_numpy(np.array(pixels, dtype=np.float32)).permute(2, 0, 1)[None]
        x = to_model_range(x).to(self.device)
        # at least two of the network's strides per side: a side of one stride leaves a 1 px
        # feature map, which the networks' reflection padding cannot pad
        pad_h = max((-h) % self.multiple, 2 * self.multiple - h)
        pad_w = max((-w) % self.multiple, 2 * self.multiple - w)
        if pad_h or pad_w:
            mode = "reflect" if pad_h < h and pad_w < w else "replicate"
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with (
            torch.inference_mode(),
            torch.autocast(
                self.device.type,
                dtype=self.amp_dtype or torch.float32,
                enabled=self.amp_dtype is not None,
            ),
        ):
            y = self.net(x)
            y = y[0, :, : h * self.scale, : w * self.scale].float()
            if not bool(torch.isfinite(y).all()):
                raise NonFiniteOutputError("the network produced NaN/inf values")
            y = to_pixel_range(y, quantize=False)
            return y.permute(1, 2, 0).cpu().numpy()

    def run(
        self,
        pixels: np.ndarray,
        tile: int = 512,
        overlap: int = 64,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """uint8 HxWx3 -> uint8 (H*scale)x(W*scale)x3, whole or tiled."""
        h, w = pixels.shape[:2]
        s = self.scale
        if tile <= 0 or (h <= tile and w <= tile):
            out = self._forward(pixels)
            if progress:
                progress(1, 1)
            return np.clip(out + 0.5, 0, 255).astype(np.uint8)
        out = np.empty((h * s, w * s, 3), np.uint8)

        def write(top: int, rows: np.ndarray) -> None:
            out[top : top + rows.shape[0]] = rows

        self._tiled(
            lambda y, x: pixels[y : y + tile, x : x + tile], h, w, tile, overlap, write, progress
        )
        return out

    def run_image(
        self,
        image: Image.Image,
        tile: int = 512,
        overlap: int = 64,
        progress: Progress | None = None,
    ) -> Image.Image:
        """RGB image -> RGB image, reading tiles by crop and writing finished rows by paste, so
        no full-size array sits beside the input and output images (a 144 MP photo is 0.58 GB
        in each; an array copy of either added 0.43 GB)."""
        w, h = image.size
        s = self.scale
        if tile <= 0 or (h <= tile and w <= tile):
            pixels = self.run(np.asarray(image), tile=tile, overlap=overlap, progress=progress)
            return Image.fromarray(pixels, "RGB")
        out = Image.new("RGB", (w * s, h * s))

        def crop(y: int, x: int) -> np.ndarray:
            return np.asarray(image.crop((x, y, min(x + tile, w), min(y + tile, h))))

        def write(top: int, rows: np.ndarray) -> None:
            out.paste(Image.fromarray(rows, "RGB"), (0, top))

        self._tiled(crop, h, w, tile, overlap, write, progress)
        return out

    def _tiled(
        self,
        crop: Callable[[int, int], np.ndarray],
        h: int,
        w: int,
        tile: int,
        overlap: int,
        write: Callable[[int, np.ndarray], None],
        progress: Progress | None,
    ) -> None:
        """Overlapping tiles (``crop(y, x)``) blended one row of tiles at a time; finished
        output rows go to ``write(top, uint8 rows)``."""
        s = self.scale
        overlap = min(overlap, tile // 4)
        step = tile - overlap
        boxes = [(y, x) for y in _positions(h, tile, step) for x in _positions(w, tile, step)]
        has_norm = set_norm_mode(self.net, "collect")
        passes = 2 if has_norm else 1
        total = passes * len(boxes)
        done = 0
        try:
            if has_norm:
                for y, x in boxes:
                    self._forward(crop(y, x))
                    done += 1
                    if progress:
                        progress(done, total)
                set_norm_mode(self.net, "frozen")
            rows = _positions(h, tile, step)
            band = _Band(min(h, tile) * s, w * s)
            for i, y in enumerate(rows):
                for x in _positions(w, tile, step):
                    patch = crop(y, x)
                    th, tw = patch.shape[:2]
                    ramps = _ramp(th * s, overlap * s), _ramp(tw * s, overlap * s)
                    window = np.outer(*ramps)[..., None]
                    band.add(y * s, x * s, self._forward(patch) * window, window)
                    done += 1
                    if progress:
                        progress(done, total)
                until = rows[i + 1] if i + 1 < len(rows) else h  # no later tile reaches above
                band.finish(y * s, until * s, write)
        finally:
            set_norm_mode(self.net, "instance")


class _Band:
    """Blending accumulators for one row of tiles (``tile`` rows of the image) instead of the
    whole image: a 150 MP photo needs 100 MB here, not 2.4 GB. Rows that no later tile reaches
    are normalised into the output and the rest moves up for the next row of tiles."""

    def __init__(self, height: int, width: int):
        self.top = 0  # image row of the accumulators' first row
        self.acc = np.zeros((height, width, 3), np.float32)
        self.weight = np.zeros((height, width, 1), np.float32)

    def add(self, y: int, x: int, values: np.ndarray, window: np.ndarray) -> None:
        top = y - self.top
        th, tw = values.shape[:2]
        self.acc[top : top + th, x : x + tw] += values
        self.weight[top : top + th, x : x + tw] += window

    def finish(self, y: int, until: int, write: Callable[[int, np.ndarray], None]) -> None:
        """Hand image rows [y, until) to ``write``; the next row of tiles starts at ``until``."""
        done = until - self.top
        blended = self.acc[:done]  # finished rows: normalised in place, no float copy
        blended /= self.weight[:done]
        blended += 0.5
        np.clip(blended, 0, 255, out=blended)
        write(self.top, blended.astype(np.uint8))  # truncating cast: +0.5 made it round
        keep = self.acc.shape[0] - done
        self.acc[:keep] = self.acc[done:]  # numpy copies overlapping rows safely
        self.weight[:keep] = self.weight[done:]
        self.acc[keep:] = 0
        self.weight[keep:] = 0
        self.top = until
