"""Stylizing a large collection with a translation model, on the local process or on Ray.

The local engine is ``Stylizer.stylize_files`` in this process. ``engine="ray"`` sends chunks of
(input, output) pairs to Ray actors that each load the model once; the driver names every
output and checks them all (no output replaces an input, none exists unless ``overwrite``)
before anything is sent, so the outputs are the local engine's, file for file.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..data import expand_inputs
from ..engine import ENGINES, Engine, map_chunks
from ..fileio import check_outputs
from ..inference import StylizeResult
from ..inference.stylizer import _folder_targets
from .models import load, model_folder

__all__ = ["ENGINES", "stylize_batch"]

CHUNK = 8  # images per Ray task


class _BatchWorker:
    """One Ray actor's model, loaded once; stylizes (input, output) pairs."""

    def __init__(self, folder: str, device: str, backend: str, overwrite: bool, options: dict):
        self.stylizer = load(folder, device=device, backend=backend)
        self.overwrite, self.options = overwrite, options

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> list[StylizeResult]:
        out = []
        for source, target in pairs:
            results = self.stylizer.stylize_files(
                [source], target, overwrite=self.overwrite, **self.options
            )
            out += list(results)
        return out


def stylize_batch(
    model: str | os.PathLike,
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    device: str = "auto",
    backend: str = "torch",
    **options: Any,
) -> Iterator[StylizeResult]:
    """Translate files and folders into the folder ``out`` with a run folder or bundled style;
    yields one result per input, in order. ``options`` go to ``Stylizer.stylize``."""
    where = Engine(engine, workers, address)
    if where.kind == "local":
        stylizer = load(model, device=device, backend=backend)
        yield from stylizer.stylize_files(inputs, out, overwrite=overwrite, **options)
        return
    files = expand_inputs(inputs)
    out = Path(out)
    targets = _folder_targets(files, out)
    check_outputs(targets, files, out_dir=out, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    pairs = [(str(f), str(t)) for f, t in zip(files, targets, strict=True)]
    chunks = [pairs[i : i + CHUNK] for i in range(0, len(pairs), CHUNK)]
    setup = functools.partial(
        _BatchWorker, str(model_folder(model)), device, backend, overwrite, options
    )
    for results in map_chunks(setup, chunks, where):
        yield from results
