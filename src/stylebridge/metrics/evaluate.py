"""``evaluate``: set metrics over two folders via one extractor, paired metrics by file name."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from ..errors import ConfigError, DataError
from . import keys as K
from .features import build_extractor, cache_dir
from .fid import bootstrap_interval, frechet_distance, frechet_distance_features
from .folders import (
    Pairing,
    choose,
    list_images,
    load_pair,
    pair_by_name,
    resized_pixels,
    set_digest,
)
from .inception_score import effective_splits, inception_score
from .kid import kid
from .prdc import prdc
from .ssim import ms_ssim, psnr, ssim
from .stats import FeatureSet, cached_features

StageProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SetOptions:
    """Settings of the set metrics; recorded in every result."""

    kid_subsets: int = 100
    kid_subset_size: int | None = None  # None: min(1000, half the smaller set)
    fid_bootstrap: int = 50  # resamples for the FID interval; 0 turns it off
    prdc_k: int = 5
    is_splits: int = 10
    seed: int = 0


def parse_metrics(metrics: str | Sequence[str]) -> list[str]:
    """A comma list or a sequence of names -> validated list in canonical order."""
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    names = [n.strip().lower().replace("_", "-") for n in names if n.strip()]
    unknown = [n for n in names if n not in K.METRIC_NAMES]
    if unknown or not names:
        raise ConfigError(
            f"unknown metric(s) {', '.join(unknown) or '(none)'}; choose from: "
            f"{', '.join(K.METRIC_NAMES)}"
        )
    return [n for n in K.METRIC_NAMES if n in names]


def fid_warning(real: FeatureSet, fake: FeatureSet, name: str) -> str | None:
    dims = real.features.shape[1]
    if min(real.count, fake.count) >= dims:
        return None
    return (
        f"FID ({name}): {real.count} real / {fake.count} fake images for {dims} feature "
        "dimensions; the covariance is rank-deficient and FID is biased upward, so compare "
        "FIDs only at equal image counts (KID is unbiased)"
    )


def _fid(real: FeatureSet, fake: FeatureSet, opts: SetOptions) -> dict[str, float]:
    dims = real.features.shape[1]
    if min(real.count, fake.count) >= dims:  # the streamed float64 statistics suffice
        value = frechet_distance(real.mean, real.cov, fake.mean, fake.cov)
    else:  # fewer images than dimensions: the n x n form is exact and much cheaper
        value = frechet_distance_features(real.features, fake.features)
    out = {K.KEY_FID: value}
    if opts.fid_bootstrap:
        low, high = bootstrap_interval(
            real.features, fake.features, num=opts.fid_bootstrap, seed=opts.seed
        )
        out.update({K.KEY_FID_CI_LOW: low, K.KEY_FID_CI_HIGH: high})
    return out


@contextmanager
def single_threaded():
    """Run the metric maths on one thread, then restore the setting.

    It is hundreds of small float64 operations; with several threads they wait on each other,
    which on a busy CPU costs far more than the maths (docs/benchmarks.md). The network, with
    its large convolutions, keeps all threads.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def set_metrics(
    real: FeatureSet, fake: FeatureSet, metrics: Sequence[str], opts: SetOptions
) -> dict[str, float]:
    """The requested feature-based scores between two extracted sets."""
    with single_threaded():
        return _set_metrics(real, fake, metrics, opts)


def _set_metrics(
    real: FeatureSet, fake: FeatureSet, metrics: Sequence[str], opts: SetOptions
) -> dict[str, float]:
    out: dict[str, float] = {}
    if min(real.count, fake.count) < 2:
        raise DataError("set metrics need at least two readable images per set")
    if "fid" in metrics:
        out.update(_fid(real, fake, opts))
    if "kid" in metrics:
        out[K.KEY_KID], out[K.KEY_KID_STD] = kid(
            real.features,
            fake.features,
            num_subsets=opts.kid_subsets,
            subset_size=opts.kid_subset_size,
            seed=opts.seed,
        )
    if "is" in metrics:
        if real.logits is None or fake.logits is None:
            raise ConfigError(
                f"IS needs an extractor with class logits; "
                f"{real.extractor['name']!r} has none (use lite0)"
            )
        out[K.KEY_IS], out[K.KEY_IS_STD] = inception_score(
            fake.logits, effective_splits(fake.count, opts.is_splits)
        )
        out[K.KEY_IS_REAL], out[K.KEY_IS_REAL_STD] = inception_score(
            real.logits, effective_splits(real.count, opts.is_splits)
        )
    if "prdc" in metrics:
        if min(real.count, fake.count) <= opts.prdc_k:
            raise DataError(
                f"precision/recall with k={opts.prdc_k} need more than {opts.prdc_k} images per set"
            )
        out.update(prdc(real.features, fake.features, k=opts.prdc_k))
    return out


def _extract_sets(
    real_dir: Path, fake_dir: Path, extractor, *, max_images, seed, batch_size, cache_root, progress
) -> tuple[FeatureSet, FeatureSet]:
    sets = []
    load = partial(resized_pixels, size=extractor.input_size)
    for stage, folder in (("real features", real_dir), ("fake features", fake_dir)):
        files = choose(list_images(folder), max_images, seed)
        digest = set_digest(files, extractor.name, extractor.version, "resize")
        report = partial(progress, stage) if progress else None
        fs = cached_features(
            files,
            extractor,
            digest=digest,
            cache_root=cache_root,
            load=load,
            batch_size=batch_size,
            progress=report,
        )
        if report and fs.cached:
            report(len(files), len(files))
        sets.append(fs)
    return sets[0], sets[1]


def paired_metrics(
    pairing: Pairing,
    metrics: Sequence[str],
    *,
    max_images: int | None,
    seed: int,
    progress: StageProgress | None,
):
    """Mean SSIM/PSNR/MS-SSIM over files matched by name; returns (scores, count, notes)."""
    pairs = choose(pairing.pairs, max_images, seed)
    funcs = {
        "ssim": (K.KEY_SSIM, ssim),
        "psnr": (K.KEY_PSNR, psnr),
        "ms-ssim": (K.KEY_MS_SSIM, ms_ssim),
    }
    sums = {funcs[m][0]: 0.0 for m in metrics}
    resized = 0
    for done, (_, real_path, fake_path) in enumerate(pairs, 1):
        a, b, was_resized = load_pair(real_path, fake_path)
        resized += was_resized
        for metric in metrics:
            key, func = funcs[metric]
            try:
                sums[key] += func(a, b)
            except ValueError as err:
                raise DataError(f"{real_path}: {err}") from None
        if progress:
            progress("pairs", done, len(pairs))
    notes = []
    if resized:
        notes.append(
            f"{resized} fake image(s) differed in size from their real pair and were "
            "resized to it (bicubic) before SSIM/PSNR"
        )
    if pairing.real_only or pairing.fake_only:
        notes.append(
            f"{len(pairing.real_only)} real and {len(pairing.fake_only)} fake image(s) "
            f"have no partner of the same name (listed under {K.KEY_MISSING_PAIRS})"
        )
    return {k: v / len(pairs) for k, v in sums.items()}, len(pairs), notes


def evaluate(
    real: str | os.PathLike,
    fake: str | os.PathLike,
    *,
    metrics: str | Sequence[str] = K.DEFAULT_METRICS,
    features: str = "lite0",
    max_images: int | None = None,
    batch_size: int = 32,
    device: str = "auto",
    options: SetOptions | None = None,
    cache: bool = True,
    cache_path: str | os.PathLike | None = None,
    inception_weights: str | os.PathLike | None = None,
    progress: StageProgress | None = None,
) -> dict[str, Any]:
    """Compare a folder of generated (``fake``) images with a folder of ``real`` ones.

    Args:
        metrics: any of fid, kid, is, prdc (set metrics, through the ``features`` extractor)
            and ssim, psnr, ms-ssim (paired by file name), as a list or "fid,kid".
        features: extractor name from ``FEATURES`` (lite0, inception, pixel).
        max_images: use at most this many images (pairs) per folder, a seeded random choice.
        options: KID subsets, FID bootstrap, PRDC k, IS splits, seed (``SetOptions``).
        cache: reuse features cached under ``cache_path`` (default STYLEBRIDGE_CACHE_DIR or
            ~/.cache/stylebridge), keyed by file contents and extractor version.
        inception_weights: local FID Inception weights for ``features="inception"``.
        progress: called as ``progress(stage, done, total)``.

    Returns a dict keyed by the ``KEY_*`` constants; ``labels`` names each metric with its
    extractor and ``warnings`` lists caveats (small sets, skipped files, missing pairs).
    """
    chosen = parse_metrics(metrics)
    opts = options or SetOptions()
    real_dir, fake_dir = Path(real), Path(fake)
    report = _Report()
    set_names = [m for m in chosen if m in K.SET_METRICS]
    paired = [m for m in chosen if m in K.PAIRED_METRICS]
    pairing = None
    if paired:  # fail early, before the slow feature extraction
        pairing = pair_by_name(real_dir, list_images(real_dir), fake_dir, list_images(fake_dir))
    extractor = None
    if set_names:
        extractor = build_extractor(
            features, device=device, cache=cache_path, weights=inception_weights
        )
        root = cache_dir(cache_path) if cache else None
        real_fs, fake_fs = _extract_sets(
            real_dir,
            fake_dir,
            extractor,
            max_images=max_images,
            seed=opts.seed,
            batch_size=batch_size,
            cache_root=root,
            progress=progress,
        )
        _set_part(report, real_fs, fake_fs, set_names, opts, extractor)
    if pairing is not None:
        _paired_part(report, pairing, paired, max_images, opts.seed, progress)
    name = extractor.name if extractor else features
    result = report.result
    label = (extractor.label or extractor.name) if extractor else features
    result[K.KEY_LABELS] = K.labels(
        list(result), label, bool(extractor and extractor.standard), opts.prdc_k
    )
    result[K.KEY_SETTINGS] = {
        "metrics": chosen,
        "features": name,
        "max_images": max_images,
        "real": str(real_dir),
        "fake": str(fake_dir),
        **asdict(opts),
        **report.settings,
    }
    result[K.KEY_TIMING] = report.timing
    result[K.KEY_WARNINGS] = report.notes
    for note in report.notes:
        warnings.warn(note, stacklevel=2)
    return result


@dataclass
class _Report:
    """What ``evaluate`` collects on the way: scores, caveats, timings, extra settings."""

    result: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timing: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def _set_part(
    report: _Report,
    real: FeatureSet,
    fake: FeatureSet,
    names: list[str],
    opts: SetOptions,
    extractor,
) -> None:
    report.timing.update(_extraction_timing(real, fake, str(extractor.device)))
    for fs in (real, fake):
        if fs.skipped:
            report.notes.append(
                f"skipped {len(fs.skipped)} unreadable file(s), e.g. {fs.skipped[0]}"
            )
    if "fid" in names and (warning := fid_warning(real, fake, extractor.name)):
        report.notes.append(warning)
    start = time.perf_counter()
    report.result.update(set_metrics(real, fake, names, opts))
    report.timing["set_metrics_s"] = time.perf_counter() - start
    report.result[K.KEY_NUM_REAL] = real.count
    report.result[K.KEY_NUM_FAKE] = fake.count
    report.result[K.KEY_EXTRACTOR] = extractor.describe()
    if "is" in names:
        report.settings["is_splits_used"] = {
            "fake": effective_splits(fake.count, opts.is_splits),
            "real": effective_splits(real.count, opts.is_splits),
        }


def _paired_part(
    report: _Report, pairing: Pairing, names: list[str], max_images: int | None, seed: int, progress
) -> None:
    start = time.perf_counter()
    with single_threaded():
        scores, count, notes = paired_metrics(
            pairing, names, max_images=max_images, seed=seed, progress=progress
        )
    report.timing["paired_metrics_s"] = time.perf_counter() - start
    report.result.update(scores)
    report.result[K.KEY_NUM_PAIRS] = count
    report.result[K.KEY_MISSING_PAIRS] = {
        "real_only": pairing.real_only,
        "fake_only": pairing.fake_only,
    }
    report.notes += notes


def _extraction_timing(real: FeatureSet, fake: FeatureSet, device: str) -> dict[str, Any]:
    computed = [fs for fs in (real, fake) if not fs.cached]
    seconds = sum(fs.seconds for fs in computed)
    images = sum(fs.count for fs in computed)
    return {
        "device": device,
        "features_s": seconds,
        "images_per_s": images / seconds if seconds > 0 else None,
        "cached": {"real": real.cached, "fake": fake.cached},
    }
