"""Stylizer: a trained generator applied to real photographs of any size, shape and mode."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from ..data import expand_inputs
from ..errors import ConfigError, ImageError, StylebridgeError
from ..fileio import OutputError, check_outputs
from ..imageio import MIN_SIDE, as_loaded, load_image, save_image
from ..models.files import generator_from_config, read_run_config
from ..nn import choose_precision, pick_device, prepare_runtime
from .color import preserve_color as _preserve_color
from .onnx import OnnxGenerator, onnx_for
from .tiling import NonFiniteOutputError, Progress, TileRunner

BACKENDS = ("torch", "onnxruntime")


@dataclass
class StylizeResult:
    source: Path
    output: Path | None
    error: str | None = None
    notes: tuple[str, ...] = ()


MIN_TILE = 64  # smaller tiles leave the generator's reflect padding nothing to reflect


def _resize_max_side(
    image: Image.Image, max_side: int | None, path: str, full: tuple[int, int] | None = None
) -> Image.Image:
    """Shrink so the long side is ``max_side``; an image so thin that its short side would fall
    under ``MIN_SIDE`` is refused (the generator cannot pad a 1 px side). ``full``: the
    image's own size when ``image`` is a reduced decode of it."""
    width, height = full or image.size
    if not max_side or max(width, height) <= max_side:
        return image
    scale = max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if min(size) < MIN_SIDE:
        raise ImageError(
            path,
            f"{width}x{height} px would be translated at {size[0]}x{size[1]} px "
            f"with max side {max_side}; the short side must stay at least {MIN_SIDE} px "
            "(crop the image or raise --max-side)",
        )
    return image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image


def _load(image, max_side: int | None, full_pixels: bool):
    """A file given with ``max_side`` decodes reduced (JPEG at 1/2..1/8 scale, others reduced
    at once) unless the full-size pixels are needed for blending or colour."""
    if isinstance(image, (str, os.PathLike)):
        return load_image(image, draft_side=None if full_pixels else max_side)
    return as_loaded(image)


def check_tile(tile: int) -> None:
    if tile < 0 or 0 < tile < MIN_TILE:
        raise ConfigError(f"tile must be 0 (no tiling) or at least {MIN_TILE} px, got {tile}")


def _folder_targets(files: list[Path], out: Path, suffix: str = "") -> list[Path]:
    """``out/<stem><suffix>.png`` per input; a name seen in another input folder gets a ``_``."""
    used: set[str] = set()
    targets = []
    for path in files:
        name = path.stem + suffix
        while name in used:
            name += "_"
        used.add(name)
        targets.append(out / f"{name}.png")
    return targets


class FirstFrameWarning(UserWarning):
    """An animated image was translated as its first frame (``note`` says how many it had)."""

    def __init__(self, path: str, note: str):
        super().__init__(f"{path}: {note}")
        self.note = note


def warn_dropped_frames(loaded) -> None:
    """An animated file is translated as its first frame: say so, as Python libraries do."""
    for note in loaded.notes:
        if note.startswith("animated"):
            warnings.warn(FirstFrameWarning(loaded.path, note), stacklevel=3)


def backend_runtime(backend: str, device: str, precision: str) -> tuple[str, str]:
    """Check a backend name; onnxruntime runs on the CPU in fp32, so it takes ``device``
    auto or cpu and returns ("cpu", "fp32"); torch keeps what was asked."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend == "onnxruntime":
        if device not in ("auto", "cpu"):
            raise ConfigError(f"the onnxruntime backend runs on cpu only, not {device!r}")
        return "cpu", "fp32"
    return device, precision


class Stylizer:
    """Loads a run or model folder once and stylizes many images.

    ``stylize`` returns an image the size of the input; EXIF orientation is applied, alpha is kept,
    and images larger than ``tile`` go through overlapping tiles with frozen global statistics.
    ``backend="onnxruntime"`` runs an exported graph on CPU (shipped in the folder or exported
    once into the cache); its tiles use per-tile statistics (see ``inference.onnx``).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike,
        *,
        device: str = "auto",
        precision: str = "auto",
        channels_last: bool = True,
        backend: str = "torch",
    ):
        device, precision = backend_runtime(backend, device, precision)
        self.run_dir = Path(run_dir)
        self.config = read_run_config(self.run_dir)
        if self.config.get("task"):
            raise ConfigError(
                f"{self.run_dir} holds a {self.config['task']} model "
                f"({self.config.get('method')}); use stylebridge restore"
            )
        if not self.config.get("directions") and self.config.get("exports"):
            raise ConfigError(
                f"{self.run_dir} holds a {self.config.get('method')} GAN, which makes images "
                "from noise, not from an input; use stylebridge generate"
            )
        self.backend = backend
        self.device = pick_device(device)
        prepare_runtime(self.device)
        self.amp_dtype = choose_precision(precision, self.device)
        self.channels_last = channels_last
        self._runners: dict[str, TileRunner] = {}

    @property
    def directions(self) -> list[str]:
        return sorted(self.config.get("directions", {}))

    def runner(self, direction: str) -> TileRunner:
        if direction not in self._runners:
            self._runners[direction] = self._build_runner(direction)
        return self._runners[direction]

    def _build_runner(self, direction: str) -> TileRunner:
        if self.backend == "onnxruntime":
            graph = OnnxGenerator(onnx_for(self.run_dir, direction))
            return TileRunner(graph, self.device, graph.multiple, None, channels_last=False)
        net, _ = generator_from_config(self.run_dir, direction)
        net = net.to(self.device)
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        return TileRunner(net, self.device, net.multiple, self.amp_dtype, self.channels_last)

    def stylize(
        self,
        image,
        *,
        direction: str = "a2b",
        strength: float = 1.0,
        max_side: int | None = None,
        tile: int = 512,
        overlap: int = 64,
        preserve_color: bool = False,
        progress: Progress | None = None,
    ) -> Image.Image:
        """Translate one image (path, PIL image or uint8 array) and return a PIL image.

        Args:
            direction: ``a2b`` or ``b2a`` (CUT runs only have ``a2b``).
            strength: 0 keeps the input, 1 is the full translation; values between blend pixels.
            max_side: translate at most this long a side (closer to the training scale), then
                resize back to the input size.
            tile: the largest side sent through the network at once; 0 disables tiling.
            preserve_color: keep the input's colours (Cb/Cr) and take only the stylized
                luminance (Y), for a change of texture and tone without a change of palette.
        """
        if not 0.0 <= strength <= 1.0:
            raise ConfigError(f"strength must be within [0, 1], got {strength}")
        if direction not in self.directions:
            raise ConfigError(
                f"direction {direction!r} not in this model "
                f"(available: {', '.join(self.directions)})"
            )
        check_tile(tile)
        loaded = _load(image, max_side, full_pixels=preserve_color or strength < 1.0)
        warn_dropped_frames(loaded)
        work = _resize_max_side(loaded.rgb, max_side, loaded.path, loaded.size)
        try:  # tiles are cropped from the image and pasted into the result: no array copies
            result = self.runner(direction).run_image(work, tile, overlap, progress)
        except NonFiniteOutputError:
            raise ImageError(
                loaded.path, "the model produced NaN/inf values for this image; nothing written"
            ) from None
        del work
        if result.size != loaded.size:
            result = result.resize(loaded.size, Image.Resampling.BICUBIC)
        if preserve_color:
            result = _preserve_color(loaded.rgb, result)
        if strength < 1.0:
            result = Image.blend(loaded.rgb, result, strength)
        if loaded.alpha is not None:
            alpha = loaded.alpha
            if alpha.size != result.size:
                alpha = alpha.resize(result.size, Image.Resampling.LANCZOS)
            result.putalpha(alpha)
        return result

    def stylize_files(
        self,
        inputs: Iterable[str | os.PathLike],
        out: str | os.PathLike,
        *,
        on_file: Callable[[StylizeResult], None] | None = None,
        overwrite: bool = False,
        **options,
    ) -> Iterator[StylizeResult]:
        """Translate files and folders into ``out`` (a folder, or a file for a single input).

        A bad file yields a result with its one-line error and the batch goes on. An output
        never replaces an input; an existing output is refused unless ``overwrite``, also when
        another run writes it meanwhile.
        """
        files = expand_inputs(inputs)
        out = Path(out)
        single_file = len(files) == 1 and out.suffix != "" and not out.is_dir()
        targets = [out] if single_file else _folder_targets(files, out)
        check_tile(options.get("tile", 512))
        check_outputs(targets, files, out_dir=None if single_file else out, overwrite=overwrite)
        for path, target in zip(files, targets, strict=True):
            try:
                with warnings.catch_warnings(record=True) as caught:  # into the result instead
                    warnings.simplefilter("always", FirstFrameWarning)
                    image = self.stylize(path, **options)
                notes = [w.message.note for w in caught if w.category is FirstFrameWarning]
                saved = save_image(image, target, replace=overwrite)
                result = StylizeResult(path, saved, notes=tuple(notes))
            except (ImageError, OutputError) as err:  # this file only: the batch goes on
                result = StylizeResult(path, None, str(err))
            except StylebridgeError:
                raise
            if on_file:
                on_file(result)
            yield result
