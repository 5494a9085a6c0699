"""Training: the resolved configuration, resume, and the one training loop."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..inference.feature_style import FeatureEngine
from ..metrics import training_evaluator
from ..models.files import read_run_config
from ..training import StepReport, TrainConfig, build_config, config_to_dict
from ..training import train as _train_loop
from ..training.checkpoint import STATE_NAME
from ..training.config import saved_settings
from ..training.distributed import context_from_env

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
    run = _train_loop(config, resume=resume, progress=progress, evaluator=_evaluator(config))
    if config.method == "multiculture" and config.cultures and context_from_env().is_main:
        _write_culture_codes(run, Path(config.cultures), config.model.paper_tone_groups)
    return run


def _write_culture_codes(run: Path, cultures: Path, paper_tone_groups: str = "") -> list[Path]:
    """``RUN/codes/<culture>.safetensors`` for each subfolder of ``cultures``: what
    ``stylize --engine RUN --style-from <culture>`` and ``--mix`` find by name. Groups named in
    ``paper_tone_groups`` are taken with aged paper whitened (ink on yellowed silk is not
    yellow ink)."""
    engine = FeatureEngine(run, device="cpu")
    paper = {g.strip() for g in paper_tone_groups.split(",") if g.strip()}
    written = []
    for folder in sorted(
        p for p in cultures.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        tone = "paper" if folder.name in paper else "as-is"
        code = engine.code_from_folder(folder, tone=tone)
        code.card.update({"name": folder.name, "source": folder.name, "tone": tone})
        written.append(code.save(run / "codes" / folder.name))
    return written
