"""Model folders and bundled styles: open, save, export and import them."""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from .. import zoo
from ..errors import ConfigError, ModelFileError
from ..fileio import check_outputs
from ..inference import ONNX_TOLERANCE, OnnxExport, Stylizer, export_module, export_onnx
from ..inference.feature_style import StyleCode, StylePreset, StyleRenderer
from ..inference.finish import describe_finish, grey_share
from ..models import cyclegan_reference as reference
from ..models.files import read_run_config
from ..models.pretrained import copy_model_folder, save_generators

__all__ = [
    "export",
    "import_cyclegan",
    "is_culture_style",
    "load",
    "model_folder",
    "save",
    "style_card",
    "style_notes",
    "styles",
]


def load(
    model: str | os.PathLike,
    *,
    device: str = "auto",
    precision: str = "auto",
    backend: str = "torch",
    engine: str | os.PathLike | None = None,
) -> Stylizer | StyleRenderer:
    """Open a run or model folder, or a bundled style by name, for inference:
    ``load("ukiyoe").stylize(image) -> PIL.Image``; ``save`` writes what ``load`` reads.

    A culture style (``stylebridge styles``) is the feature-fusion engine with that culture's
    code at its measured settings, and loads as a ``StyleRenderer``; a translation model (a
    ``train`` run, the ``*_look`` styles) as a ``Stylizer``. Both have ``stylize`` and
    ``stylize_files``. ``backend`` is ``torch`` or ``onnxruntime`` (CPU; the ``[onnx]`` extra).
    ``engine`` renders a culture style with another feature-fusion engine than its own
    (``"bundled"``, ``"fast"`` or a ``train stylenet`` run), at the style's settings.
    """
    folder = model_folder(model)
    config = read_run_config(folder)
    if config.get("method") == zoo.CULTURE_STYLE:
        from .rendering import feature_engine  # rendering imports this module

        preset = StylePreset.read(folder, config)
        renderer_engine = feature_engine(
            preset.engine_dir() if engine is None else engine,
            device=device,
            precision=precision,
            backend=backend,
        )
        return preset.renderer(renderer_engine)
    if engine is not None:
        raise ConfigError(
            f"{model} is a translation model: an engine ({engine}) renders culture styles and "
            "style images, not a translation model"
        )
    return Stylizer(folder, device=device, precision=precision, backend=backend)


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
    if isinstance(model, StyleRenderer) and model.run_dir is None:
        raise ConfigError(
            "this engine renderer is no model folder; save its style with "
            "stylebridge.style_code(source, out=...)"
        )
    loaded = isinstance(model, (Stylizer, StyleRenderer))
    source = model.run_dir if loaded else model_folder(model)
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
    """Bundled style name -> model folder: the culture styles (the feature-fusion engine with
    a culture's code), then the translation models (the ``*_look`` FastCUT styles)."""
    return zoo.styles()


def is_culture_style(model: str | os.PathLike) -> bool:
    """Whether a folder or bundled name is a culture style (the engine with a culture's code),
    not a translation model."""
    folder = model_folder(model)
    return read_run_config(folder).get("method") == zoo.CULTURE_STYLE


def style_card(name: str) -> dict:
    """The card of a bundled style (summary, look, data, metrics, notes)."""
    return zoo.describe(name)


def style_notes(style: str) -> tuple[str, str]:
    """(what a bundled style does, what it does not) from its model card, for pages and UIs."""
    card = zoo.describe(style)
    does_not = [n for n in card.get("notes", []) if n.startswith("- Does not:")]
    caveat = does_not[0].removeprefix("- Does not:").strip() if does_not else ""
    return card.get("look", ""), caveat


def export(
    model: str | os.PathLike | None,
    *,
    onnx: str | os.PathLike,
    direction: str = "a2b",
    exporter: str = "auto",
    tolerance: float = ONNX_TOLERANCE,
    overwrite: bool = False,
    style_image=None,
    style_from: str | os.PathLike | None = None,
    mix: dict[str, float] | None = None,
    fusion: str | None = None,
    strength: float = 1.0,
    tone: str = "as-is",
) -> OnnxExport:
    """Export a model folder's (or bundled style's) generator to an ONNX file, or the
    feature-fusion engine with one style fixed (give ``style_image``, ``style_from`` or ``mix``;
    ``model`` is then a ``train stylenet`` run, or None for the bundled engine).

    Args:
        onnx: the file to write; NCHW float input in [-1, 1], dynamic batch/height/width.
        direction: ``a2b`` or ``b2a``.
        exporter: ``auto`` (torch.export-based, else the TorchScript tracer), ``dynamo`` or
            ``torchscript``.
        tolerance: largest accepted max abs difference to PyTorch on a random input.
        overwrite: replace an existing file (never one of the model's own files).
        fusion, strength, tone: the engine's rendering options, fixed in the graph (a culture
            style's own fusion unless given; ``strength`` scales its measured strength).
    """
    sources = style_image is not None or style_from is not None or mix is not None
    preset = not sources and model is not None and is_culture_style(model)
    if sources or preset:
        from .rendering import style_renderer  # rendering imports this module

        renderer = (
            load(model, device="cpu")
            if preset
            else style_renderer(
                style_image=style_image, style_from=style_from, mix=mix, engine=model, tone=tone
            )
        )
        fusion = fusion or renderer.fusion
        finish_spec = renderer.finish_at(strength)  # as stylize applies it at this strength
        strength = renderer.strength * strength
        folder = renderer.engine.model_dir
        check_outputs([Path(onnx)], [p for p in folder.rglob("*") if p.is_file()],
                      overwrite=overwrite)  # fmt: skip
        card = renderer.code.card if isinstance(renderer.code, StyleCode) else {"name": "mix"}
        metadata = {
            "stylebridge.engine": folder.name,
            "stylebridge.style": str(card.get("name") or card.get("source") or "style"),
            "stylebridge.fusion": fusion,
            "stylebridge.strength": f"{strength:g}",
        }
        grey = grey_share(finish_spec)  # a linear map of the pixels: baked into the graph
        finish = describe_finish(finish_spec)  # a mix: each culture's finish, its weight
        if finish != "none":  # classical filtering has no ONNX form: said, not baked
            metadata["stylebridge.finish"] = (
                finish if grey else f"{finish} (not in the graph: stylebridge.inference.finish)"
            )
        if renderer.white_level < 1.0:  # a scale of the tones: baked into the graph
            metadata["stylebridge.white_level"] = f"{renderer.white_level:g}"
        baked = renderer.engine.baked(renderer.code, fusion, strength, renderer.white_level, grey)
        # torch.export fixes this graph's batch size, so "auto" goes straight to the tracer
        # (the check would catch it, after about 10 s of exporting)
        exporter = "torchscript" if exporter == "auto" else exporter
        report = export_module(baked, onnx, exporter=exporter, tolerance=tolerance,
                               metadata=metadata, overwrite=overwrite)  # fmt: skip
        if finish != "none" and not grey:
            needs = [what for key, what in (("flat", "palette"), ("wax", "dyes")) if key in finish]
            report.notes += (
                f"the style's {finish!r} finish is not in the graph (no ONNX form): "
                "apply stylebridge.inference.finish.apply_finish to its outputs"
                + (f" with the style's {' and '.join(needs)} and the photo" if needs else ""),
            )
        return report
    if model is None:
        raise ConfigError("name a model folder or bundled style, or give a style source")
    return export_onnx(
        model_folder(model),
        onnx,
        direction=direction,
        exporter=exporter,
        tolerance=tolerance,
        overwrite=overwrite,
    )


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
