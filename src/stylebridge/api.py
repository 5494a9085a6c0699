"""The stable Python API. The CLI and the web UI call these functions and nothing deeper."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from torch import nn

from . import zoo
from .data import FolderReport, check_folder, expand_inputs
from .data.samples import sample_photos
from .errors import ConfigError, ModelFileError
from .imageio import save_image
from .inference import ONNX_TOLERANCE, OnnxExport, Stylizer, export_onnx
from .inference.feature_style import (
    FeatureEngine,
    StyleCode,
    StyleRenderer,
    parse_mix,
    resolve_mix,
    resolve_style,
)
from .models.files import read_run_config
from .models.pretrained import copy_model_folder, save_generators
from .sheets import contact_sheet, html_page, save_sheet
from .training import StepReport, TrainConfig, build_config, config_to_dict
from .training import train as _train_loop
from .training.checkpoint import STATE_NAME
from .training.config import saved_settings

__all__ = [
    "analyze",
    "analyze_translation",
    "anonymize",
    "anonymize_log_path",
    "check_data",
    "closest_cultures",
    "config_to_dict",
    "default_manifest_path",
    "demo",
    "design_garment",
    "design_palette",
    "design_pattern",
    "design_recolor",
    "design_variants",
    "evaluate",
    "evaluation_options",
    "expand_inputs",
    "export",
    "feature_engine",
    "fuse",
    "generate",
    "import_cyclegan",
    "load",
    "make_pairs",
    "model_folder",
    "parse_mix",
    "read_image",
    "save",
    "style_code",
    "style_renderer",
    "style_card",
    "style_notes",
    "styles",
    "stylize",
    "train",
    "training_config",
    "write_manifest",
]


def load(
    model: str | os.PathLike,
    *,
    device: str = "auto",
    precision: str = "auto",
    backend: str = "torch",
) -> Stylizer:
    """Open a run or model folder, or a bundled style by name, for inference:
    ``load("ukiyoe").stylize(image) -> PIL.Image``; ``save`` writes what ``load`` reads.

    ``backend`` is ``torch`` or ``onnxruntime`` (CPU; needs the ``[onnx]`` extra).
    """
    return Stylizer(model_folder(model), device=device, precision=precision, backend=backend)


def save(
    model: Stylizer | nn.Module | str | os.PathLike,
    folder: str | os.PathLike,
    *,
    method: str = "custom",
    overwrite: bool = False,
) -> Path:
    """Write a model folder that ``load``, ``stylize`` and ``export`` accept; returns it.

    ``model`` is what ``load`` returned, a bundled style name or model folder (copied with its
    card), or a generator built by ``stylebridge.nn.build_generator`` (saved as ``a2b``, with
    ``method`` recorded in config.json).
    """
    if isinstance(model, nn.Module):
        return save_generators(folder, {"a2b": model}, method=method, overwrite=overwrite)
    source = model.run_dir if isinstance(model, Stylizer) else model_folder(model)
    return copy_model_folder(source, folder, overwrite=overwrite)


def model_folder(model: str | os.PathLike) -> Path:
    """A run/model folder as given, or the folder of a bundled style name."""
    path = Path(model)
    if path.exists():
        return path
    if str(model) in zoo.styles():
        return zoo.style_path(str(model))
    bundled = ", ".join(zoo.styles()) or "none"
    raise ModelFileError(path, f"no such folder, nor a bundled style (bundled: {bundled})")


def styles() -> dict[str, Path]:
    """Bundled style name -> model folder."""
    return zoo.styles()


def style_card(name: str) -> dict:
    """The card of a bundled style (summary, look, data, metrics, notes)."""
    return zoo.describe(name)


def evaluation_options(**values: Any):
    """A ``metrics.SetOptions`` for ``evaluate(options=...)`` (kid_subsets, seed, ...)."""
    from .metrics import SetOptions

    return SetOptions(**values)


def default_manifest_path(folder: str | os.PathLike) -> Path:
    """Where ``write_manifest`` writes when given no ``out``."""
    from .data.manifest import MANIFEST_NAME

    return Path(folder) / MANIFEST_NAME


def anonymize_log_path(out: str | os.PathLike) -> Path:
    """The JSON-lines log ``anonymize`` writes into its output folder."""
    from .data.privacy import LOG_NAME

    return Path(out) / LOG_NAME


def export(
    model: str | os.PathLike,
    *,
    onnx: str | os.PathLike,
    direction: str = "a2b",
    exporter: str = "auto",
    tolerance: float = ONNX_TOLERANCE,
    overwrite: bool = False,
) -> OnnxExport:
    """Export a model folder's (or bundled style's) generator to an ONNX file.

    Args:
        onnx: the file to write; NCHW float input in [-1, 1], dynamic batch/height/width.
        direction: ``a2b`` or ``b2a``.
        exporter: ``auto`` (torch.export-based, else the TorchScript tracer), ``dynamo`` or
            ``torchscript``.
        tolerance: largest accepted max abs difference to PyTorch on a random input.
        overwrite: replace an existing file (never one of the model's own files).
    """
    return export_onnx(
        model_folder(model),
        onnx,
        direction=direction,
        exporter=exporter,
        tolerance=tolerance,
        overwrite=overwrite,
    )


def stylize(
    image,
    model: str | os.PathLike | None = None,
    *,
    style_image=None,
    style_from: str | os.PathLike | None = None,
    mix: dict[str, float] | None = None,
    engine: str | os.PathLike | None = None,
    **options,
) -> Image.Image:
    """One-shot: render ``image`` (path, PIL image or uint8 array) in a style; returns a PIL
    image of the input's size.

    Exactly one style source:
        model: a model folder or bundled style name (``stylize(photo, "ukiyoe")``);
        style_image: a painting (path or PIL image) for the feature-fusion engine;
        style_from: a folder of style images (pooled), a bundled culture name or a saved code;
        mix: cultures with weights, mixed in feature space (``{"chinese_ink": 0.6, ...}``).
    ``engine`` picks a trained ``stylenet`` run instead of the bundled engine; ``options`` go
    to ``Stylizer.stylize`` or ``FeatureEngine.render`` (fusion, strength, mask, outside, ...).
    """
    given = [v is not None for v in (model, style_image, style_from, mix)]
    if sum(given) != 1:
        raise ConfigError("give exactly one of model, style_image, style_from or mix")
    if model is not None:
        return load(model).stylize(image, **options)
    renderer = style_renderer(
        style_image=style_image,
        style_from=style_from,
        mix=mix,
        outside=options.pop("outside", None),
        engine=engine,
    )
    return renderer.stylize(image, **options)


def style_renderer(
    *,
    style_image=None,
    style_from: str | os.PathLike | None = None,
    mix: dict[str, float] | None = None,
    outside=None,
    engine: str | os.PathLike | None = None,
    tone: str = "as-is",
    on_skip: Callable[[str], None] | None = None,
) -> StyleRenderer:
    """The feature-fusion engine bound to one style source (and ``outside`` for masks):
    ``.stylize(image, fusion=..., strength=..., mask=...)`` and ``.stylize_files(...)``."""
    given = [v is not None for v in (style_image, style_from, mix)]
    if sum(given) != 1:
        raise ConfigError("give exactly one of style_image, style_from or mix")
    feature = feature_engine(engine)
    if mix is not None:
        code = resolve_mix(feature, mix)
    elif isinstance(style_image, (list, tuple)):  # several paintings pooled into one style
        code = feature.code_from_images(style_image, tone=tone, name="images", source="images")
    else:
        source = style_image if style_image is not None else style_from
        code = resolve_style(feature, source, tone=tone, on_skip=on_skip)
    if outside is not None and not isinstance(outside, StyleCode):
        outside = resolve_style(feature, outside, tone=tone, on_skip=on_skip)
    return StyleRenderer(feature, code, outside)


def fuse(
    culture_a: str,
    culture_b: str,
    photo: str | os.PathLike,
    out: str | os.PathLike,
    *,
    steps: int = 5,
    cultures: str | os.PathLike | None = None,
    per_culture: int = 40,
    engine: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    **render_options: Any,
):
    """A 0 -> 1 sweep from ``culture_a`` to ``culture_b`` (mixed in feature space) on one
    photo, written to ``out`` as PNGs, ``sweep.png`` and ``sweep.json``. With ``cultures`` (a
    folder with one subfolder per culture) each step also reports how far the output moved
    toward each culture. Returns an ``analysis.FusionSweep``."""
    from .analysis.fusion import fusion_sweep
    from .fileio import check_outputs

    feature = feature_engine(engine)
    code_a, code_b = resolve_style(feature, culture_a), resolve_style(feature, culture_b)
    names = (Path(str(culture_a)).stem, Path(str(culture_b)).stem)
    out = Path(out)
    check_outputs([out / "sweep.json", out / "sweep.png"], [photo], overwrite=overwrite)
    folders = None
    if cultures is not None:
        folders = {name: Path(cultures) / name for name in names}
        missing = [str(f) for f in folders.values() if not f.is_dir()]
        if missing:
            raise ConfigError(f"{missing[0]}: no such culture folder under --cultures")

    def renderer_for(t: float) -> StyleRenderer:
        return StyleRenderer(feature, [(code_a, 1.0 - t), (code_b, t)])

    return fusion_sweep(
        renderer_for,
        photo,
        out,
        names=names,
        steps=steps,
        culture_folders=folders,
        per_culture=per_culture,
        render_options=render_options,
        progress=progress,
    )


@functools.lru_cache(maxsize=2)
def _engine(folder: str, device: str, precision: str) -> FeatureEngine:
    return FeatureEngine(folder, device=device, precision=precision)


def feature_engine(
    model: str | os.PathLike | None = None, *, device: str = "auto", precision: str = "auto"
) -> FeatureEngine:
    """The feature-fusion engine: the bundled one, or a ``stylebridge train stylenet`` run.
    Loaded once per process (the encoder and decoder are reused across calls)."""
    folder = Path(model) if model is not None else zoo.engine_dir()
    return _engine(str(folder.resolve()), device, precision)


def style_code(
    source,
    *,
    out: str | os.PathLike | None = None,
    tone: str = "as-is",
    engine: str | os.PathLike | None = None,
    on_skip: Callable[[str], None] | None = None,
) -> StyleCode:
    """A style code from an image, a folder (pooled over its images) or a culture name;
    ``out`` saves it as ``NAME.safetensors`` with a ``NAME.json`` card. ``tone="paper"``
    whitens aged paper and drops colour first (ink painting on yellowed silk)."""
    code = resolve_style(feature_engine(engine), source, tone=tone, on_skip=on_skip)
    if out is not None:
        code.save(out)
    return code


def import_cyclegan(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    epoch: str = "latest",
    overwrite: bool = False,
) -> Path:
    """Turn generators trained by the reference CycleGAN code into a model folder that
    ``load``, ``stylize`` and ``export`` accept; returns it.

    ``source`` is a ``latest_net_G.pth`` file or a ``checkpoints/NAME/`` run folder
    (``{epoch}_net_G_A.pth`` -> a2b, ``{epoch}_net_G_B.pth`` -> b2a). Files are read with
    ``torch.load(weights_only=True)``, so nothing but tensors is unpickled.
    """
    from .models import cyclegan_reference as reference

    files = reference.reference_files(source, epoch)
    nets = {direction: reference.generator_from_reference(p) for direction, p in files.items()}
    section = dict(next(iter(nets.values())).config.__dict__)
    sources = {d: {"name": p.name, "sha256": reference.file_sha256(p)} for d, p in files.items()}
    return save_generators(
        out,
        nets,
        method="cyclegan",
        extra={"imported_from": {"code": reference.REFERENCE, "files": sources}},
        card_text=reference.card_text(Path(source), files, section),
        overwrite=overwrite,
    )


def check_data(folders: list[str | os.PathLike], progress=None) -> list[FolderReport]:
    """Corpus report per folder: counts, sizes, unreadable files with reasons, duplicates."""
    return [check_folder(folder, progress=progress) for folder in folders]


def anonymize(inputs: list[str | os.PathLike], out: str | os.PathLike, **options: Any):
    """Blur or pixelate faces and strip metadata into ``out``; returns one record per file
    (see ``stylebridge.data.privacy.anonymize``: method, min_face, progress)."""
    from .data.privacy import anonymize as _anonymize

    return _anonymize(inputs, out, **options)


def write_manifest(folder: str | os.PathLike, out: str | os.PathLike | None = None, **options):
    """Write a provenance CSV (file, sha256, size, width, height, source, licence) for every
    image under ``folder``; options: source, licence, progress. Returns the build result."""
    from .data.manifest import build_manifest, check_manifest_target, manifest_bytes
    from .models.files import atomic_write_bytes

    out = Path(out) if out else default_manifest_path(folder)
    check_manifest_target(out)
    result = build_manifest(folder, relative_to=out.parent, **options)
    atomic_write_bytes(out, manifest_bytes(result.rows))
    return result


def _evaluator(config) -> Callable | None:
    if not config.eval_every:
        return None
    if not config.eval_real:
        raise ConfigError("eval_every needs eval_real (a folder of real target-domain images)")
    from .metrics import training_evaluator

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


def evaluate(*args, **kwargs) -> dict[str, Any]:
    """Image-set metrics (FID/KID/IS (lite0), PRDC, SSIM/PSNR); see ``stylebridge.metrics``."""
    from .metrics import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


def analyze(inputs: list[str | os.PathLike], out: str | os.PathLike, **options: Any):
    """Compare image corpora by culture; writes ``out``/index.html, stats.json,
    features.parquet and PNG plots and returns an ``analysis.CorpusReport``.

    Args:
        inputs: one folder per culture (named by the folder), or CSV manifests (file,label).
        options: ``cache``, ``use_cache``, ``workers``, ``permutations``,
            ``classifier_permutations``, ``maps`` (pca, umap), ``seed``, ``progress``, ``log``
            (see ``analysis.analyze_corpus``).
    """
    from .analysis import analyze_corpus

    return analyze_corpus(inputs, out, **options)


def analyze_translation(
    model: str | os.PathLike,
    source: str | os.PathLike,
    target: str | os.PathLike,
    out: str | os.PathLike,
    *,
    direction: str = "a2b",
    max_side: int | None = None,
    device: str = "auto",
    **options: Any,
):
    """Stylize ``source`` images with a run folder or bundled style and measure how far they
    moved toward ``target`` (per descriptor), the edges kept, and a classifier's verdict.

    Returns an ``analysis.TranslationReport``; ``options``: ``max_images``, ``cache``,
    ``workers``, ``seed``, ``progress``, ``log``.
    """
    from .analysis import analyze_translation as _analyze_translation

    stylizer = load(model_folder(model), device=device)
    stylize_options = {"direction": direction, "max_side": max_side}
    return _analyze_translation(
        stylizer, source, target, out, stylize_options=stylize_options, **options
    )


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
    progress: Callable[[int, int], None] | None = None,
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
    stylizers = {style: load(path) for style, path in models.items()}  # load each once
    rows_images, rows_files, outputs = [], [], []
    for done, (photo_name, photo) in enumerate(photos.items(), 1):
        images, files = [photo], [save_image(photo, out / "inputs" / f"{photo_name}.png")]
        for style, stylizer in stylizers.items():
            result = stylizer.stylize(photo, max_side=512)
            saved = save_image(result, out / style / f"{photo_name}.png")
            images.append(result)
            files.append(saved)
            outputs.append(saved)
        rows_images.append((photo_name, images))
        rows_files.append((photo_name, files))
        log(f"stylized {photo_name} with {len(models)} style(s)")
        if progress:
            progress(done, len(photos))
    columns = ["input", *models]
    sheet = save_sheet(contact_sheet(rows_images, columns), out / "contact_sheet.png")
    page = html_page(
        out / "index.html",
        "stylebridge demo",
        rows_files,
        columns,
        notes="Sample photos from scikit-image and scikit-learn, translated by "
        "each bundled culture style.",
        column_notes={style: style_notes(style) for style in models if style in zoo.styles()},
    )
    return DemoResult(sheet, page, outputs)


def style_notes(style: str) -> tuple[str, str]:
    """(what a bundled style does, what it does not) from its model card, for pages and UIs."""
    card = zoo.describe(style)
    does_not = [n for n in card.get("notes", []) if n.startswith("- Does not:")]
    caveat = does_not[0].removeprefix("- Does not:").strip() if does_not else ""
    return card.get("look", ""), caveat


# --- GAN family and paired data (docs/gans.md) -------------------------------------------------
def generate(
    run_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    num: int = 64,
    seed: int = 0,
    truncation: float = 1.0,
    grid: bool = True,
    interpolation_frames: int = 0,
    style_mixing: bool = False,
    device: str = "auto",
    progress: Callable[[int, int], None] | None = None,
):
    """Write ``num`` images of a GAN run (dcgan ... stylegan2) into ``out``.

    Args:
        seed: latent seed; image ``i`` of a seed is the same whatever ``num``.
        truncation: 1 samples the full prior; lower values pull latents (StyleGAN2: styles)
            towards the mean, trading variety for typical-looking images.
        grid: also write ``grid.png``.
        interpolation_frames: frames of a looping latent walk, ``interpolation.gif``; 0 = none.
        style_mixing: also write ``style_mixing.png`` (stylegan2 runs).

    Returns a ``GenerateResult`` (``files``, ``grid``, ``extras``).
    """
    from .inference.generate import generate_files

    return generate_files(
        run_dir,
        out,
        count=num,
        seed=seed,
        truncation=truncation,
        grid=grid,
        interpolation_frames=interpolation_frames,
        style_mixing=style_mixing,
        device=device,
        progress=progress,
    )


def make_pairs(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    line_style: str = "xdog",
    size: int = 286,
    progress: Callable[[int, int], None] | None = None,
):
    """Build a pix2pix pairs folder: ``out/a`` line drawings derived from the paintings in
    ``source``, ``out/b`` the paintings (shorter side ``size``). Line styles: xdog, canny,
    pencil (``data.pairs.LINE_STYLES``). Returns a ``PairsReport`` with skipped files."""
    from .data.pairs import build_pairs

    return build_pairs(source, out, style=line_style, size=size, progress=progress)


# --- Design: garments, variants, patterns, palettes (docs/design.md) ---------------------------
def design_garment(
    photo,
    style: str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    mask=None,
    auto_mask: bool = False,
    strength: float = 1.0,
    feather: float | None = None,
    max_side: int | None = None,
):
    """Restyle only the garment of ``photo`` with a bundled style or a run folder.

    Args:
        mask: a mask file (white = garment) or an (H, W) float array; or pass ``auto_mask``.
        auto_mask: find the garment offline (face detection + GrabCut; see docs/design.md).
        feather: edge ramp inside the mask in px (default 1.5% of the shorter side).
        out: a folder for ``<photo>_<style>.png``, ``_mask.png`` and ``_mask_overlay.png``.
    Returns a ``design.GarmentResult``; pixels outside the mask are unchanged.
    """
    from . import design

    folder = model_folder(style)
    result = design.restyle_garment(
        load(folder),
        photo,
        mask=mask,
        auto=auto_mask,
        strength=strength,
        feather_px=feather,
        max_side=max_side,
    )
    if out is not None:
        stem = Path(photo).stem if isinstance(photo, (str, os.PathLike)) else "photo"
        design.save_garment(result, out, stem, Path(folder).name)
    return result


def design_variants(
    photo,
    styles: list[str],
    out: str | os.PathLike | None = None,
    *,
    mask=None,
    auto_mask: bool = False,
    strength: float = 1.0,
    max_side: int | None = None,
    progress: Callable[[int, int], None] | None = None,
):
    """One labelled contact sheet of ``photo`` (or only its garment) in several styles.

    Returns ``(sheet, images)``; with ``out``, writes ``variants.png`` and one file per style.
    """
    from . import design
    from .imageio import as_loaded

    if not styles:
        raise ConfigError("give at least one style for the variants")
    loaded = as_loaded(photo)
    folders = {Path(model_folder(s)).name: model_folder(s) for s in styles}
    stylizers = {name: load(folder) for name, folder in folders.items()}
    first, weights = loaded.rgb, None
    if mask is not None or auto_mask:
        raw = design.garment_mask(loaded, mask, auto_mask)
        weights = design.feather(raw, design.default_feather(loaded.size))
        first = design.overlay(loaded, raw)
    images = design.variants(
        stylizers, loaded, weights, strength=strength, max_side=max_side, progress=progress
    )
    label = Path(photo).stem if isinstance(photo, (str, os.PathLike)) else "photo"
    columns = ["input (mask)" if weights is not None else "input", *[n for n, _ in images]]
    sheet = contact_sheet([(label, [first, *[im for _, im in images]])], columns)
    if out is not None:
        save_sheet(sheet, Path(out) / "variants.png")
        for name, image in images:
            save_image(image, Path(out) / f"{label}_{name}.png")
    return sheet, images


def design_pattern(
    motifs: list[str | os.PathLike],
    out: str | os.PathLike,
    *,
    size: int | tuple[int, int] = 1024,
    seeds: list[int] | None = None,
    tileable: bool = True,
    steps: int | None = None,
    time_limit_s: float = 0.0,
    seed: int = 0,
    model: str | os.PathLike | None = None,
    progress: Callable | None = None,
    on_skip: Callable[[str], None] | None = None,
):
    """Learn a texture from motif image(s) and write new patterns of any size, several seeds.

    Args:
        motifs: files or folders of motif images (ignored when ``model`` is given).
        size: side (or (width, height)) of each pattern; tileable sides are multiples of 16.
        seeds: one pattern per seed (default 0-3); each also gets a 2x2 tiling preview.
        steps / time_limit_s: training length (default ``TextureConfig.steps``) and an optional
            cap in seconds; ``model``: a saved ``texture_model`` folder to reuse, no training.
    Returns a ``design.PatternSet`` (images, seam scores, files, model folder).
    """
    from . import design

    seeds = list(seeds) if seeds else [0, 1, 2, 3]
    if model is not None:
        patterns = design.generate_set(design.load_texture_model(model), size, seeds, tileable)
        return design.save_set(patterns, out)
    config = design.TextureConfig(seed=seed, time_limit_s=time_limit_s, circular=tileable)
    if steps is not None:
        config.steps = steps
    images = design.load_motifs(motifs, on_skip=on_skip, min_side=config.crop)
    names = [str(m) for m in motifs]
    return design.learn_patterns(
        images,
        out,
        size=size,
        seeds=seeds,
        tileable=tileable,
        config=config,
        progress=progress,
        motif_names=names,
    )


def design_palette(sources: list, colors: int = 6, on_skip: Callable[[str], None] | None = None):
    """The ``colors`` dominant colours (k-means in CIELAB) of images, files or folders."""
    from . import design

    return design.palette_of(sources, k=colors, on_skip=on_skip)


def design_recolor(
    image,
    palette_from: list,
    out: str | os.PathLike | None = None,
    *,
    colors: int = 6,
    amount: float = 1.0,
    on_skip: Callable[[str], None] | None = None,
):
    """Recolour a pattern into the palette of ``palette_from`` (e.g. a culture folder).

    ``palette_from`` is a list of images, files or folders, or a ``Palette`` from
    ``design_palette`` (reuse one palette for many patterns).

    Returns ``(image, palette)``; with ``out`` (a file), also writes ``<out stem>_palette.png``.
    """
    from . import design
    from .fileio import check_outputs

    is_palette = isinstance(palette_from, design.Palette)
    palette = palette_from if is_palette else design_palette(palette_from, colors, on_skip)
    result = design.recolor(image, palette, amount=amount)
    if out is not None:
        out = Path(out)
        swatch = out.with_name(f"{out.stem}_palette.png")
        files = [image, *([] if is_palette else palette_from)]
        sources = [p for p in files if isinstance(p, (str, os.PathLike))]
        check_outputs([out, swatch], sources, overwrite=True)  # never over the pattern itself
        save_image(result, out)
        save_image(palette.swatch(), swatch)
    return result, palette


@functools.lru_cache(maxsize=4)
def _culture_centroids(cultures: str, per_culture: int):
    """Per-culture mean descriptor vectors and the pooled within-culture spread (cached)."""
    import numpy as np

    from .analysis import DESCRIPTOR_NAMES, describe_image
    from .data import list_images
    from .imageio import load_image

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
    import numpy as np

    from .analysis import DESCRIPTOR_NAMES, describe_image
    from .imageio import as_loaded

    means, spread = _culture_centroids(str(Path(cultures).resolve()), per_culture)
    values = describe_image(np.asarray(as_loaded(image).rgb))
    x = np.array([values[n] for n in DESCRIPTOR_NAMES], np.float64)
    distances = {c: float(np.sqrt(np.mean(((x - m) / spread) ** 2))) for c, m in means.items()}
    return sorted(distances.items(), key=lambda item: item[1])


def read_image(path: str | os.PathLike, *, max_pixels: int | None = None) -> Image.Image:
    """An uploaded image file as RGB, refused with one line when over ``max_pixels``."""
    from .errors import ImageError
    from .imageio import load_image, probe_image

    info = probe_image(path)
    if max_pixels and info.width * info.height > max_pixels:
        raise ImageError(
            Path(path).name,
            f"{info.width}x{info.height} px ({info.width * info.height / 1e6:.1f} MP) is over "
            f"the {max_pixels / 1e6:.1f} MP limit for uploads; resize it first",
        )
    return load_image(path).rgb
