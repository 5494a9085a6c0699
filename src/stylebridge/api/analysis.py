"""Cultural analysis: compare corpora, measure what a translation changed, place one image.

``stylebridge.analysis`` pulls pandas and scikit-learn, so it is imported on first use and
``import stylebridge.api`` stays light.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..data import list_images
from ..errors import ConfigError
from ..imageio import as_loaded, load_image
from .models import load, model_folder

__all__ = ["analyze", "analyze_translation", "cache_info", "clear_cache", "closest_cultures"]


REPORT_FILES = ("index.html", "stats.json", "features.parquet", "coordinates.parquet")
TRANSLATION_FILES = ("index.html", "translation.json", "movement.png", "examples.png")


def _check_report_folder(out, inputs, names, overwrite: bool) -> None:
    """Before any work: a report never goes into a folder of input images, and an earlier
    report (or any file of the same name) is replaced only with ``overwrite``."""
    from ..fileio import check_outputs

    files = [f for p in inputs for f in (list_images(p) if Path(p).is_dir() else [Path(p)])]
    targets = [Path(out) / name for name in names]
    check_outputs(targets, files, out_dir=out, overwrite=overwrite)


def analyze(
    inputs: list[str | os.PathLike],
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    **options: Any,
):
    """Compare image corpora by culture; writes ``out``/index.html, stats.json,
    features.parquet and PNG plots and returns an ``analysis.CorpusReport``.

    Args:
        inputs: one folder per culture (named by the folder), or CSV manifests (file,label).
        overwrite: replace an earlier report in ``out`` (never an input).
        options: ``cache``, ``use_cache``, ``workers``, ``engine`` (local, ray), ``address``
            (Ray), ``reference`` (an earlier report folder), ``permutations``,
            ``classifier_permutations``, ``maps`` (pca, umap), ``seed``, ``progress``, ``log``
            (see ``analysis.analyze_corpus``).
    """
    from ..analysis import analyze_corpus

    _check_report_folder(out, inputs, REPORT_FILES, overwrite)
    return analyze_corpus(inputs, out, **options)


def cache_info(cache: str | os.PathLike | None = None) -> dict[str, Any]:
    """The analysis feature cache: folder, entries and bytes."""
    from ..analysis.extract import cache_root, cache_usage

    entries, size = cache_usage(cache)
    return {"folder": str(cache_root(cache)), "entries": entries, "bytes": size}


def clear_cache(cache: str | os.PathLike | None = None) -> tuple[int, int]:
    """Delete the cached analysis features; returns (entries, bytes) removed."""
    from ..analysis.extract import clear_cache as _clear

    return _clear(cache)


def analyze_translation(
    model: str | os.PathLike,
    source: str | os.PathLike,
    target: str | os.PathLike,
    out: str | os.PathLike,
    *,
    direction: str = "a2b",
    max_side: int | None = None,
    device: str = "auto",
    overwrite: bool = False,
    **options: Any,
):
    """Stylize ``source`` images with a run folder or bundled style and measure how far they
    moved toward ``target`` (per descriptor), the edges kept, and a classifier's verdict.

    Returns an ``analysis.TranslationReport``; ``options``: ``max_images``, ``cache``,
    ``workers``, ``seed``, ``progress``, ``log``. An earlier report in ``out`` is replaced
    only with ``overwrite``.
    """
    from ..analysis import analyze_translation as _analyze_translation

    _check_report_folder(out, [source, target], TRANSLATION_FILES, overwrite)

    stylizer = load(model_folder(model), device=device)
    stylize_options = {"direction": direction, "max_side": max_side}
    return _analyze_translation(
        stylizer, source, target, out, stylize_options=stylize_options, **options
    )


@functools.lru_cache(maxsize=4)
def _culture_centroids(cultures: str, per_culture: int):
    """Per-culture mean descriptor vectors and the pooled within-culture spread (cached)."""
    from ..analysis import DESCRIPTOR_NAMES, describe_image

    means, spreads = {}, []
    for folder in sorted(p for p in Path(cultures).iterdir() if p.is_dir()):
        files = list_images(folder)
        if not files:
            continue
        picked = [files[i] for i in np.linspace(0, len(files) - 1, per_culture).astype(int)]
        rows = np.array(
            [
                [describe_image(np.asarray(load_image(f).rgb))[n] for n in DESCRIPTOR_NAMES]
                for f in dict.fromkeys(picked)
            ],
            np.float64,
        )
        means[folder.name] = rows.mean(0)
        spreads.append(rows.std(0))
    if not means:
        raise ConfigError(f"{cultures}: no culture folders with images")
    return means, np.mean(spreads, 0) + 1e-6


def closest_cultures(image, cultures: str | os.PathLike, *, per_culture: int = 20):
    """Which culture folders an image is closest to: ``[(culture, distance), ...]``, nearest first.

    A simple measure, not a classifier: the RMS over the analysis module's descriptors of the
    z-scored difference between the image and each culture's mean (z-scored by the pooled
    within-culture spread, from ``per_culture`` evenly spaced images per folder).
    """
    from ..analysis import DESCRIPTOR_NAMES, describe_image

    means, spread = _culture_centroids(str(Path(cultures).resolve()), per_culture)
    values = describe_image(np.asarray(as_loaded(image).rgb))
    x = np.array([values[n] for n in DESCRIPTOR_NAMES], np.float64)
    distances = {c: float(np.sqrt(np.mean(((x - m) / spread) ** 2))) for c, m in means.items()}
    return sorted(distances.items(), key=lambda item: item[1])
