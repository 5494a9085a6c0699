"""Result keys of ``evaluate`` (stable; scripts may rely on them) and their human labels.

Keys are fixed whatever the extractor; the ``labels`` entry of every result names the extractor,
e.g. "FID (lite0)". Only the standard FID Inception network earns a plain "FID".
"""

from __future__ import annotations

KEY_FID = "fid"
KEY_FID_CI_LOW = "fid_ci_low"
KEY_FID_CI_HIGH = "fid_ci_high"
KEY_KID = "kid"
KEY_KID_STD = "kid_std"
KEY_IS = "is"  # of the fake set
KEY_IS_STD = "is_std"
KEY_IS_REAL = "is_real"  # of the real set, as a reference point
KEY_IS_REAL_STD = "is_real_std"
KEY_PRECISION = "precision"
KEY_RECALL = "recall"
KEY_DENSITY = "density"
KEY_COVERAGE = "coverage"
KEY_SSIM = "ssim"
KEY_PSNR = "psnr"
KEY_MS_SSIM = "ms_ssim"

KEY_LABELS = "labels"  # {metric key: "FID (lite0)", ...}
KEY_EXTRACTOR = "extractor"  # {"name", "version", "dims", "classes", "input_size", "standard"}
KEY_NUM_REAL = "num_real"
KEY_NUM_FAKE = "num_fake"
KEY_NUM_PAIRS = "num_pairs"
KEY_MISSING_PAIRS = "missing_pairs"  # {"real_only": [names], "fake_only": [names]}
KEY_SETTINGS = "settings"
KEY_TIMING = "timing"
KEY_WARNINGS = "warnings"

SET_METRICS = ("fid", "kid", "is", "prdc")
PAIRED_METRICS = ("ssim", "psnr", "ms-ssim")
METRIC_NAMES = SET_METRICS + PAIRED_METRICS
DEFAULT_METRICS = SET_METRICS


def labels(keys: list[str], extractor: str, standard: bool, k: int) -> dict[str, str]:
    """Human labels for the metric keys present in a result."""
    tag = "" if standard else f" ({extractor})"
    base = {
        KEY_FID: f"FID{tag}",
        KEY_FID_CI_LOW: f"FID{tag} 95% interval, low",
        KEY_FID_CI_HIGH: f"FID{tag} 95% interval, high",
        KEY_KID: f"KID{tag}",
        KEY_KID_STD: f"KID{tag} std over subsets",
        KEY_IS: f"IS{tag}, fake set",
        KEY_IS_STD: f"IS{tag}, fake set, std over splits",
        KEY_IS_REAL: f"IS{tag}, real set",
        KEY_IS_REAL_STD: f"IS{tag}, real set, std over splits",
        KEY_PRECISION: f"Precision ({extractor}, k={k})",
        KEY_RECALL: f"Recall ({extractor}, k={k})",
        KEY_DENSITY: f"Density ({extractor}, k={k})",
        KEY_COVERAGE: f"Coverage ({extractor}, k={k})",
        KEY_SSIM: "SSIM (mean over pairs)",
        KEY_PSNR: "PSNR dB (mean over pairs)",
        KEY_MS_SSIM: "MS-SSIM (mean over pairs)",
    }
    return {key: base[key] for key in keys if key in base}


def training_key(metric: str, extractor: str, suffix: str = "") -> str:
    """Log key for periodic evaluation during training, e.g. ``metric/kid_lite0_std``."""
    return f"metric/{metric}_{extractor}{suffix}"
