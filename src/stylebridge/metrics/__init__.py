"""Image-set metrics (FID, KID, IS, precision/recall/density/coverage) through offline feature
extractors, and paired metrics (SSIM, PSNR, MS-SSIM) matched by file name.

The standard FID Inception weights cannot be installed offline, so the default extractor is
EfficientNet-Lite0 (ImageNet) and results are labelled "FID (lite0)" and so on: comparable
within this project, not with published FIDs.
"""

from __future__ import annotations

from . import inception as _inception  # noqa: F401  (registers the "inception" extractor)
from .evaluate import SetOptions, evaluate, parse_metrics, set_metrics
from .features import FEATURES, FeatureExtractor, best_device, build_extractor, cache_dir
from .fid import bootstrap_interval, frechet_distance, frechet_distance_features
from .inception_score import inception_score
from .keys import (
    DEFAULT_METRICS,
    KEY_COVERAGE,
    KEY_DENSITY,
    KEY_EXTRACTOR,
    KEY_FID,
    KEY_FID_CI_HIGH,
    KEY_FID_CI_LOW,
    KEY_IS,
    KEY_IS_REAL,
    KEY_IS_REAL_STD,
    KEY_IS_STD,
    KEY_KID,
    KEY_KID_STD,
    KEY_LABELS,
    KEY_MISSING_PAIRS,
    KEY_MS_SSIM,
    KEY_NUM_FAKE,
    KEY_NUM_PAIRS,
    KEY_NUM_REAL,
    KEY_PRECISION,
    KEY_PSNR,
    KEY_RECALL,
    KEY_SETTINGS,
    KEY_SSIM,
    KEY_TIMING,
    KEY_WARNINGS,
    METRIC_NAMES,
    PAIRED_METRICS,
    SET_METRICS,
)
from .kid import kid, mmd_unbiased
from .prdc import prdc
from .ssim import ms_ssim, psnr, ssim
from .training import training_evaluator

__all__ = [
    "DEFAULT_METRICS",
    "FEATURES",
    "KEY_COVERAGE",
    "KEY_DENSITY",
    "KEY_EXTRACTOR",
    "KEY_FID",
    "KEY_FID_CI_HIGH",
    "KEY_FID_CI_LOW",
    "KEY_IS",
    "KEY_IS_REAL",
    "KEY_IS_REAL_STD",
    "KEY_IS_STD",
    "KEY_KID",
    "KEY_KID_STD",
    "KEY_LABELS",
    "KEY_MISSING_PAIRS",
    "KEY_MS_SSIM",
    "KEY_NUM_FAKE",
    "KEY_NUM_PAIRS",
    "KEY_NUM_REAL",
    "KEY_PRECISION",
    "KEY_PSNR",
    "KEY_RECALL",
    "KEY_SETTINGS",
    "KEY_SSIM",
    "KEY_TIMING",
    "KEY_WARNINGS",
    "METRIC_NAMES",
    "PAIRED_METRICS",
    "SET_METRICS",
    "FeatureExtractor",
    "SetOptions",
    "best_device",
    "bootstrap_interval",
    "build_extractor",
    "cache_dir",
    "evaluate",
    "frechet_distance",
    "frechet_distance_features",
    "inception_score",
    "kid",
    "mmd_unbiased",
    "ms_ssim",
    "parse_metrics",
    "prdc",
    "psnr",
    "set_metrics",
    "ssim",
    "training_evaluator",
]
