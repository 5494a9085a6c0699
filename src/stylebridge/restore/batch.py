"""Restoring many files: every output named and checked before any work, a bad file never
stops the batch, and no output replaces an input."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from PIL import Image

from ..data import expand_inputs
from ..errors import ImageError
from ..fileio import OutputError, check_outputs
from ..imageio import LoadedImage, load_image, save_image
from ..inference import StylizeResult
from ..inference.stylizer import _folder_targets


def restore_files(
    inputs: Iterable[str | os.PathLike],
    out: str | os.PathLike,
    work: Callable[[LoadedImage], Image.Image],
    *,
    suffix: str = "",
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike] = (),
) -> Iterator[StylizeResult]:
    """Apply ``work`` to every image of ``inputs``; ``out`` is a folder, or a file for one
    input. Yields one result per input, with its one-line error if it failed. ``protect``:
    other files (a mask) that no output may replace."""
    files = expand_inputs(inputs)
    out = Path(out)
    single = len(files) == 1 and out.suffix != "" and not out.is_dir()
    targets = [out] if single else _folder_targets(files, out, suffix)
    guarded = [*files, *map(Path, protect)]
    check_outputs(targets, guarded, out_dir=None if single else out, overwrite=overwrite)
    for path, target in zip(files, targets, strict=True):
        try:
            loaded = load_image(path)
            saved = save_image(work(loaded), target, replace=overwrite)
            yield StylizeResult(path, saved, notes=tuple(loaded.notes))
        except (ImageError, OutputError) as err:
            yield StylizeResult(path, None, str(err))
