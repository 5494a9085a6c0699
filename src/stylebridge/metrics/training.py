"""Periodic evaluation during training: translate fixed source images, compare with real ones.

Built once (source pixels and real-set features are loaded a single time), then called with the
model's current ``translate`` function. Real and translated images take the same path (centre
crop to ``size``, 8-bit quantisation, the extractor's own resize), so the scores compare like
with like.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import torch

from ..errors import ConfigError
from ..imageio import to_model_range, to_pixel_range
from . import keys as K
from .evaluate import SetOptions, fid_warning, set_metrics
from .features import build_extractor, cache_dir
from .folders import choose, cropped_pixels, list_images, set_digest, to_batch
from .stats import FeatureSet, cached_features, run_batches

Translate = Callable[[torch.Tensor], torch.Tensor]
_RESULT_KEYS = {  # metric -> (result key, log name, log suffix)
    "fid": [(K.KEY_FID, "fid", "")],
    "kid": [(K.KEY_KID, "kid", ""), (K.KEY_KID_STD, "kid", "_std")],
    "is": [(K.KEY_IS, "is", ""), (K.KEY_IS_STD, "is", "_std")],
    "prdc": [
        (key, key, "") for key in (K.KEY_PRECISION, K.KEY_RECALL, K.KEY_DENSITY, K.KEY_COVERAGE)
    ],
}


class TrainingEvaluator:
    """Callable ``evaluator(translate) -> {"metric/kid_lite0": ..., ...}``."""

    def __init__(
        self,
        source_dir,
        real_dir,
        *,
        size: int,
        features: str,
        max_images: int,
        metrics: Sequence[str],
        device: str,
        batch_size: int,
        seed: int,
        cache_path: str | os.PathLike | None,
    ):
        bad = [m for m in metrics if m not in _RESULT_KEYS]
        if bad or not metrics:
            raise ConfigError(
                f"training evaluation supports {', '.join(_RESULT_KEYS)}; "
                f"not {', '.join(bad) or '(none)'}"
            )
        self.metrics = list(metrics)
        self.batch_size = batch_size
        self.options = SetOptions(fid_bootstrap=0, seed=seed)
        self.extractor = build_extractor(features, device=device, cache=cache_path)
        load = partial(cropped_pixels, size=size)
        sources = choose(list_images(source_dir), max_images, seed)
        self.source = to_model_range(to_batch([load(p) for p in sources]))
        reals = choose(list_images(real_dir), max_images, seed)
        digest = set_digest(reals, self.extractor.name, self.extractor.version, f"crop{size}")
        self.real: FeatureSet = cached_features(
            reals,
            self.extractor,
            digest=digest,
            cache_root=cache_dir(cache_path),
            load=load,
            batch_size=batch_size,
        )
        self._warned = False

    def _translated(self, translate: Translate):
        """Source batches through ``translate``, then clamped and quantised like saved files."""
        for start in range(0, self.source.shape[0], self.batch_size):
            batch = self.source[start : start + self.batch_size]
            with torch.no_grad():
                out = translate(batch.clone())
            if out.shape != batch.shape:
                raise ConfigError(
                    f"translate returned shape {tuple(out.shape)}, expected {tuple(batch.shape)}"
                )
            yield to_pixel_range(out.cpu()).float()

    def __call__(self, translate: Translate) -> dict[str, float]:
        # translate first, outside the extractor's inference_mode, so the model's own state
        # (BatchNorm buffers, autograd flags) behaves as in any no_grad call
        fake_batches = list(self._translated(translate))
        fake = run_batches(self.extractor, fake_batches, self.source.shape[0])
        if "fid" in self.metrics and not self._warned:
            self._warned = True
            if note := fid_warning(self.real, fake, self.extractor.name):
                warnings.warn(note, stacklevel=2)
        scores = set_metrics(self.real, fake, self.metrics, self.options)
        name = self.extractor.name
        return {
            K.training_key(log_name, name, suffix): scores[key]
            for metric in self.metrics
            for key, log_name, suffix in _RESULT_KEYS[metric]
            if key in scores
        }


def training_evaluator(
    source_dir: str | os.PathLike,
    real_dir: str | os.PathLike,
    *,
    size: int = 128,
    features: str = "lite0",
    max_images: int = 100,
    metrics: Sequence[str] = ("kid",),
    device: str = "auto",
    batch_size: int = 32,
    seed: int = 0,
    cache_path: str | os.PathLike | None = None,
) -> Callable[[Translate], dict[str, float]]:
    """An evaluator for the training loop.

    Args:
        source_dir: domain-A images to translate (at most ``max_images``, centre-cropped to
            ``size``, loaded once).
        real_dir: domain-B images to compare with (features extracted once, cached on disk).
        metrics: any of fid, kid, is, prdc.

    The returned callable takes ``translate(batch)``: NCHW float in [-1, 1] on the CPU in,
    the same shape out (any device), and returns e.g. ``{"metric/kid_lite0": 0.05,
    "metric/kid_lite0_std": 0.01}``. It calls ``translate`` under ``torch.no_grad``; putting
    the model in eval mode is the caller's choice.
    """
    return TrainingEvaluator(
        Path(source_dir),
        Path(real_dir),
        size=size,
        features=features,
        max_images=max_images,
        metrics=list(metrics),
        device=device,
        batch_size=batch_size,
        seed=seed,
        cache_path=cache_path,
    )
