"""Stylizing: one-shot ``stylize``, the feature-fusion engine, style codes and fusion sweeps."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from .. import zoo
from ..design.portrait import PortraitStylizer
from ..errors import ConfigError
from ..fileio import check_outputs
from ..inference.feature_style import (
    FUSIONS,
    RENDER_SIDE,
    FeatureEngine,
    MixPreset,
    StyleCode,
    StyleRenderer,
    parse_mix,
    resolve_mix,
    resolve_style,
)
from ..inference.finish import FINISHES
from .models import load

__all__ = [
    "FINISHES",
    "FUSIONS",
    "RENDER_SIDE",
    "culture_codes",
    "feature_engine",
    "feature_engines",
    "fuse",
    "parse_mix",
    "portrait_stylizer",
    "style_code",
    "style_renderer",
    "stylize",
]


def culture_codes() -> list[str]:
    """The bundled engine's culture style codes, by name (``style_from=`` and ``mix=`` keys)."""
    return list(zoo.culture_codes())


def feature_engines() -> list[str]:
    """The bundled feature-fusion engines by name (``engine=``): ``bundled``, the default and
    best measured, and ``fast``, its distilled decoder (2-3x faster, a little softer)."""
    return list(zoo.ENGINES)


def stylize(
    image,
    model: str | os.PathLike | None = None,
    *,
    style_image=None,
    style_from: str | os.PathLike | None = None,
    mix: dict[str, float] | None = None,
    engine: str | os.PathLike | None = None,
    portrait: bool = False,
    face_strength: float = 0.35,
    backend: str = "torch",
    **options,
) -> Image.Image:
    """One-shot: render ``image`` (path, PIL image or uint8 array) in a style; returns a PIL
    image of the input's size.

    Exactly one style source:
        model: a model folder or bundled style name (``stylize(photo, "ukiyoe")``);
        style_image: a painting (path or PIL image) for the feature-fusion engine;
        style_from: a folder of style images (pooled), a bundled culture name, a saved code
            (.safetensors) or a ``StyleCode``;
        mix: cultures with weights, mixed in feature space (``{"chinese_ink": 0.6, ...}``).
    ``engine`` picks a trained ``stylenet`` run instead of the bundled engine; ``options`` go
    to ``Stylizer.stylize`` or ``FeatureEngine.render`` (fusion, strength, mask, outside, ...).
    ``portrait`` renders faces found in the image at ``face_strength`` x the strength, so the
    sitter stays recognisable (``design.portrait``). ``backend``: torch or onnxruntime (CPU).
    """
    given = [v is not None for v in (model, style_image, style_from, mix)]
    if sum(given) != 1:
        raise ConfigError("give exactly one of model, style_image, style_from or mix")
    if model is not None:
        stylizer = load(model, backend=backend)
    else:
        stylizer = style_renderer(
            style_image=style_image,
            style_from=style_from,
            mix=mix,
            outside=options.pop("outside", None),
            engine=engine,
            backend=backend,
        )
    if portrait:
        stylizer = portrait_stylizer(stylizer, face_strength)
    return stylizer.stylize(image, **options)


def portrait_stylizer(stylizer, face_strength: float = 0.35) -> PortraitStylizer:
    """Any stylizer made face-aware: faces (found offline) at ``face_strength`` x the
    strength, blended through feathered masks; ``.stylize`` and ``.stylize_files``."""
    return PortraitStylizer(stylizer, face_strength)


def style_renderer(
    *,
    style_image=None,
    style_from: str | os.PathLike | None = None,
    mix: dict[str, float] | None = None,
    outside=None,
    engine: str | os.PathLike | None = None,
    tone: str = "as-is",
    on_skip: Callable[[str], None] | None = None,
    backend: str = "torch",
) -> StyleRenderer:
    """The feature-fusion engine bound to one style source (and ``outside`` for masks):
    ``.stylize(image, fusion=..., strength=..., mask=...)`` and ``.stylize_files(...)``."""
    given = [v is not None for v in (style_image, style_from, mix)]
    if sum(given) != 1:
        raise ConfigError("give exactly one of style_image, style_from or mix")
    settings = MixPreset.of(mix) if mix is not None else MixPreset()  # a mix: its styles' own
    feature = feature_engine(engine or settings.engine, backend=backend)
    if mix is not None:
        code = resolve_mix(feature, mix)
    elif isinstance(style_image, (list, tuple)):  # several paintings pooled into one style
        code = feature.code_from_images(style_image, tone=tone, name="images", source="images")
    else:
        source = style_image if style_image is not None else style_from
        code = resolve_style(feature, source, tone=tone, on_skip=on_skip)
    if outside is not None and not isinstance(outside, StyleCode):
        outside = resolve_style(feature, outside, tone=tone, on_skip=on_skip)
    return _renderer(feature, code, settings, outside)


def _renderer(feature: FeatureEngine, code, settings: MixPreset, outside=None) -> StyleRenderer:
    return StyleRenderer(
        feature,
        code,
        outside,
        fusion=settings.fusion,
        strength=settings.strength,
        finish=settings.finish,
        white_level=settings.white_level,
        render_side=settings.render_side,
    )


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
    from ..analysis.fusion import fusion_sweep  # analysis pulls pandas/sklearn: load on use

    # one engine and render side for the whole sweep: the ones the two cultures' styles share
    feature = feature_engine(engine or MixPreset.of({culture_a: 1.0, culture_b: 1.0}).engine)
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

    def renderer_for(t: float) -> StyleRenderer:  # each culture's settings at its weight
        settings = MixPreset.of({culture_a: 1.0 - t, culture_b: t})
        return _renderer(feature, [(code_a, 1.0 - t), (code_b, t)], settings)

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


# two bundled engines (culture styles use both) on two backends; each holds the ~5 MB encoder
@functools.lru_cache(maxsize=4)
def _engine(folder: str, device: str, precision: str, backend: str) -> FeatureEngine:
    return FeatureEngine(folder, device=device, precision=precision, backend=backend)


def feature_engine(
    model: str | os.PathLike | None = None,
    *,
    device: str = "auto",
    precision: str = "auto",
    backend: str = "torch",
) -> FeatureEngine:
    """The feature-fusion engine: the bundled one, ``"fast"`` (the bundled distilled decoder,
    1.8x faster on PyTorch, 2.8x on onnxruntime, measured lower: docs/feature_engine.md), or
    a ``stylebridge train stylenet`` run. Loaded once per process (the encoder and decoder
    are reused across calls). ``backend="onnxruntime"`` renders through the two networks
    exported once to ONNX (CPU; the ``[onnx]`` extra), which is faster on a CPU than PyTorch."""
    name = "bundled" if model is None else str(model)
    folder = zoo.engine_dir(name) if name in zoo.ENGINES else Path(model)
    return _engine(str(folder.resolve()), device, precision, backend)


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
