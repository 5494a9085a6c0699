"""Training: the resolved configuration, resume, and the one training loop."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..metrics import training_evaluator
from ..models.files import read_run_config
from ..training import StepReport, TrainConfig, build_config, config_to_dict
from ..training import train as _train_loop
from ..training.checkpoint import STATE_NAME
from ..training.config import saved_settings

__all__ = ["config_to_dict", "train", "training_config"]


def _evaluator(config) -> Callable | None:
    """The loop gets metrics as a callable built here, so training never imports metrics."""
    if not config.eval_every:
        return None
    if not config.eval_real:
        raise ConfigError("eval_every needs eval_real (a folder of real target-domain images)")
    # GANs ignore the source images (only their count matters); pix2pix translates its sketches
    source = config.domain_a or config.data or (config.pairs and str(Path(config.pairs) / "a"))
    return training_evaluator(source, config.eval_real, size=config.size)


def training_config(
    method: str | None = None,
    *,
    config_file: str | os.PathLike | None = None,
    overrides: list[str] | None = None,
    resume: bool = False,
    **options: Any,
) -> TrainConfig:
    """The resolved configuration ``train`` would use (``--dry-run`` prints it)."""
    values = {k: v for k, v in options.items() if v is not None}
    if method:
        values["method"] = method
    if not resume:
        return build_config(values, config_file, overrides)
    out = values.get("out")
    if not out:
        raise ConfigError("resume needs out (the run folder to continue)")
    if not (Path(out) / STATE_NAME).is_file():
        raise ConfigError(f"{out}: nothing to resume (no {STATE_NAME})")
    saved, saved_model = saved_settings(read_run_config(Path(out)), Path(out) / "config.json")
    if "method" in values and values["method"] != saved["method"]:
        raise ConfigError(f"{out} was trained with {saved['method']}, not {values['method']}")
    return build_config({**saved, **values, "model": saved_model}, None, overrides)


def train(
    method: str | None = None,
    *,
    config_file: str | os.PathLike | None = None,
    overrides: list[str] | None = None,
    resume: bool = False,
    progress: Callable[[StepReport], None] | None = None,
    **options: Any,
) -> Path:
    """Train a translation model; returns the run folder.

    Args:
        method: ``cyclegan``, ``cut``, ``fastcut`` (``domain_a``, ``domain_b``), ``pix2pix``
            (``pairs``) or a GAN: ``dcgan``, ``lsgan``, ``wgan``, ``wgan-gp``, ``sngan``,
            ``stylegan2`` (``data``).
        config_file: a YAML file of options (see ``TrainConfig`` and the method's config).
        overrides: ``["steps=500", "model.lambda_a=5"]`` applied last.
        resume: continue the run in ``out`` at its saved step with its saved settings;
            ``options``/``overrides`` may still change e.g. ``steps`` or logging intervals.
        progress: called after every step with a ``StepReport``.
        options: any ``TrainConfig`` field (domain_a, domain_b, out, size, steps, ...).
    """
    config = training_config(
        method, config_file=config_file, overrides=overrides, resume=resume, **options
    )
    return _train_loop(config, resume=resume, progress=progress, evaluator=_evaluator(config))
