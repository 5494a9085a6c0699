"""The stable Python API. The CLI and the web UI call these functions and nothing deeper."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from . import zoo
from .data import FolderReport, check_folder
from .data.samples import sample_photos
from .errors import ConfigError, ModelFileError
from .imageio import save_image
from .inference import ONNX_TOLERANCE, OnnxExport, Stylizer, export_onnx
from .models.files import read_run_config
from .sheets import contact_sheet, html_page, save_sheet
from .training import StepReport, TrainConfig, build_config
from .training import train as _train_loop
from .training.checkpoint import STATE_NAME

__all__ = [
    "check_data",
    "demo",
    "evaluate",
    "export",
    "load",
    "model_folder",
    "stylize",
    "train",
    "training_config",
]


def load(
    run_dir: str | os.PathLike,
    *,
    device: str = "auto",
    precision: str = "auto",
    backend: str = "torch",
) -> Stylizer:
    """Open a run or model folder for inference: ``load(run).stylize(image) -> PIL.Image``.

    ``backend`` is ``torch`` or ``onnxruntime`` (CPU; needs the ``[onnx]`` extra).
    """
    return Stylizer(run_dir, device=device, precision=precision, backend=backend)


def model_folder(model: str | os.PathLike) -> Path:
    """A run/model folder as given, or the folder of a bundled style name."""
    path = Path(model)
    if path.exists():
        return path
    if str(model) in zoo.styles():
        return zoo.style_path(str(model))
    bundled = ", ".join(zoo.styles()) or "none"
    raise ModelFileError(path, f"no such folder, nor a bundled style (bundled: {bundled})")


def export(
    model: str | os.PathLike,
    *,
    onnx: str | os.PathLike,
    direction: str = "a2b",
    exporter: str = "auto",
    tolerance: float = ONNX_TOLERANCE,
) -> OnnxExport:
    """Export a model folder's (or bundled style's) generator to an ONNX file.

    Args:
        onnx: the file to write; NCHW float input in [-1, 1], dynamic batch/height/width.
        direction: ``a2b`` or ``b2a``.
        exporter: ``auto`` (torch.export-based, else the TorchScript tracer), ``dynamo`` or
            ``torchscript``.
        tolerance: largest accepted max abs difference to PyTorch on a random input.
    """
    return export_onnx(
        model_folder(model), onnx, direction=direction, exporter=exporter, tolerance=tolerance
    )


def stylize(image, model: str | os.PathLike, **options) -> Image.Image:
    """One-shot: translate ``image`` (path, PIL image or uint8 array) with the model folder."""
    return load(model).stylize(image, **options)


def check_data(folders: list[str | os.PathLike], progress=None) -> list[FolderReport]:
    """Corpus report per folder: counts, sizes, unreadable files with reasons, duplicates."""
    return [check_folder(folder, progress=progress) for folder in folders]


def _evaluator(config) -> Callable | None:
    if not config.eval_every:
        return None
    if not config.eval_real:
        raise ConfigError("eval_every needs eval_real (a folder of real target-domain images)")
    from .metrics import training_evaluator

    return training_evaluator(config.domain_a, config.eval_real, size=config.size)


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
    saved = read_run_config(Path(out))["train"]
    saved_model = saved.pop("model", {}) or {}
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
        method: ``cyclegan``, ``cut`` or ``fastcut``.
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


def evaluate(*args, **kwargs) -> dict[str, Any]:
    """Image-set metrics (FID/KID/IS (lite0), PRDC, SSIM/PSNR); see ``stylebridge.metrics``."""
    from .metrics import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


@dataclass
class DemoResult:
    sheet: Path
    page: Path
    outputs: list[Path]


def demo(
    out: str | os.PathLike = "demo_out",
    *,
    seconds: float = 60.0,
    domain_a: str | os.PathLike | None = None,
    domain_b: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Stylize the sample photos shipped with scikit-image/scikit-learn with every bundled style.

    Without bundled styles, trains a small FastCUT model on ``domain_a -> domain_b`` for
    ``seconds`` first, so the whole path (train, save, load, stylize) runs.
    """
    out = Path(out)
    models = {name: path for name, path in zoo.styles().items()}
    if not models:
        if not (domain_a and domain_b):
            raise ConfigError(
                "no bundled style model in this install; pass --domain-a and "
                "--domain-b to train a demo model first"
            )
        run_dir = out / "demo_run"
        log(f"training a small FastCUT model for {seconds:.0f} s -> {run_dir}")
        train(
            "fastcut",
            domain_a=str(domain_a),
            domain_b=str(domain_b),
            out=str(run_dir),
            size=128,
            steps=100_000,
            time_limit_s=seconds,
            sample_every=200,
            overrides=["model.ngf=16", "model.n_blocks=3"],
            resume=False,
        )
        models = {"demo": run_dir}
    photos = sample_photos()
    rows_images, rows_files, outputs = [], [], []
    for photo_name, photo in photos.items():
        images, files = [photo], [save_image(photo, out / "inputs" / f"{photo_name}.png")]
        for style, path in models.items():
            result = load(path).stylize(photo, max_side=512)
            saved = save_image(result, out / style / f"{photo_name}.png")
            images.append(result)
            files.append(saved)
            outputs.append(saved)
        rows_images.append((photo_name, images))
        rows_files.append((photo_name, files))
        log(f"stylized {photo_name} with {len(models)} style(s)")
    columns = ["input", *models]
    sheet = save_sheet(contact_sheet(rows_images, columns), out / "contact_sheet.png")
    page = html_page(
        out / "index.html",
        "stylebridge demo",
        rows_files,
        columns,
        notes="Sample photos from scikit-image and scikit-learn, translated by "
        "each bundled culture style.",
    )
    return DemoResult(sheet, page, outputs)
