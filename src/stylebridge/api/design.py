"""Fashion and textile design: garments, variants, seamless patterns, palettes (docs/design.md)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .. import design
from ..data import list_images
from ..errors import ConfigError
from ..fileio import check_outputs
from ..imageio import as_loaded, save_image
from ..inference.feature_style import StyleRenderer
from ..inference.finish import Dyes
from ..sheets import contact_sheet, save_sheet
from .models import load, model_folder
from .training import train

__all__ = [
    "design_dyes",
    "design_garment",
    "design_palette",
    "design_pattern",
    "design_recolor",
    "design_variants",
    "wax_options",
]

PATTERN_STEPS = 1500  # minutes on a CPU; enough for a motif's palette and local forms


def design_garment(
    photo,
    style: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    style_image=None,
    style_from: str | os.PathLike | None = None,
    mix: dict[str, float] | None = None,
    engine: str | os.PathLike | None = None,
    mask=None,
    auto_mask: bool = False,
    strength: float = 1.0,
    feather: float | None = None,
    max_side: int | None = None,
    overwrite: bool = False,
    dyes: Dyes | None = None,
):
    """Restyle only the garment of ``photo``, in any style source ``stylize`` takes.

    Args:
        style: a bundled style or a run folder (a translation model); or else one of
            style_image / style_from / mix: the feature-fusion engine (``engine`` picks a
            ``train stylenet`` run instead of the bundled one), as in ``stylize``.
        mask: a mask file (white = garment) or an (H, W) float array; or pass ``auto_mask``.
        auto_mask: find the garment offline (face detection + GrabCut; see docs/design.md).
        feather: edge ramp inside the mask in px (default 1.5% of the shorter side).
        out: a folder for ``<photo>_<style>.png``, ``..._mask.png`` and ``..._mask_overlay.png``.
        overwrite: replace those files if they exist (never the photo or the mask).
        dyes: the wax finish in this colourway (``design_dyes("cloth.jpg")``): batik in a
            chosen cloth's colours; the feature engine's styles only.
    Returns a ``design.GarmentResult``; pixels outside the mask are unchanged.
    """
    from .rendering import style_renderer  # the engine loads torch models: only when asked

    given = [v is not None for v in (style, style_image, style_from, mix)]
    if sum(given) != 1:
        raise ConfigError("give exactly one of style, style_image, style_from or mix")
    folder = model_folder(style) if style is not None else None
    stem = Path(photo).stem if isinstance(photo, (str, os.PathLike)) else "photo"
    label = Path(folder).name if folder is not None else _source_label(style_image, style_from)
    if out is not None:  # checked before any work
        targets = design.garment_files(out, stem, label)
        paintings = style_image if isinstance(style_image, (list, tuple)) else [style_image]
        check_outputs(targets.values(), _paths(photo, mask, *paintings), overwrite=overwrite)
    if folder is not None:
        stylizer = load(folder)
    else:
        stylizer = style_renderer(
            style_image=style_image, style_from=style_from, mix=mix, engine=engine
        )
    dyed = wax_options(stylizer, dyes) if dyes is not None else {}
    result = design.restyle_garment(
        stylizer,
        photo,
        mask=mask,
        auto=auto_mask,
        strength=strength,
        feather_px=feather,
        max_side=max_side,
        **dyed,
    )
    if out is not None:
        design.save_garment(result, out, stem, label, replace=overwrite)
    return result


def _source_label(style_image, style_from) -> str:
    """The engine style's part of output file names: the painting or source name, or "mix"."""
    source = style_image if style_from is None else style_from
    if source is None:
        return "mix"
    if isinstance(source, (list, tuple)):
        return Path(source[0]).stem if len(source) == 1 else "images"
    if isinstance(source, (str, os.PathLike)):
        return Path(source).stem
    return "painting"


def _paths(*items) -> list:
    """The inputs given as files (others are arrays or images): never to be written over."""
    return [p for p in items if isinstance(p, (str, os.PathLike))]


def _input_files(paths: list) -> list[Path]:
    """Files as given and the images inside folders: an output must not replace any of them."""
    return [f for p in paths for f in (list_images(p) if Path(p).is_dir() else [Path(p)])]


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
    overwrite: bool = False,
):
    """One labelled contact sheet of ``photo`` (or only its garment) in several styles.

    Returns ``(sheet, images)``; with ``out``, writes ``variants.png`` and one file per style
    (existing ones only with ``overwrite``; never over the photo or the mask).
    """
    if not styles:
        raise ConfigError("give at least one style for the variants")
    folders = {Path(model_folder(s)).name: model_folder(s) for s in styles}
    label = Path(photo).stem if isinstance(photo, (str, os.PathLike)) else "photo"
    if out is not None:  # checked before any work
        targets = [Path(out) / "variants.png", *(Path(out) / f"{label}_{n}.png" for n in folders)]
        check_outputs(targets, _paths(photo, mask), overwrite=overwrite)
    loaded = as_loaded(photo)
    stylizers = {name: load(folder) for name, folder in folders.items()}
    first, weights = loaded.rgb, None
    if mask is not None or auto_mask:
        raw = design.garment_mask(loaded, mask, auto_mask)
        weights = design.feather(raw, design.default_feather(loaded.size))
        first = design.overlay(loaded, raw)
    images = design.variants(
        stylizers, loaded, weights, strength=strength, max_side=max_side, progress=progress
    )
    columns = ["input (mask)" if weights is not None else "input", *[n for n, _ in images]]
    sheet = contact_sheet([(label, [first, *[im for _, im in images]])], columns)
    if out is not None:
        save_sheet(sheet, Path(out) / "variants.png", replace=overwrite)
        for name, image in images:
            save_image(image, Path(out) / f"{label}_{name}.png", replace=overwrite)
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
    crop: int = 64,
    model: str | os.PathLike | None = None,
    device: str = "auto",
    overrides: list[str] | None = None,
    progress: Callable | None = None,
    on_skip: Callable[[str], None] | None = None,
    overwrite: bool = False,
):
    """Learn a texture from motif image(s) and write new patterns of any size, several seeds.

    Args:
        motifs: files or folders of motif images (ignored when ``model`` is given).
        size: side (or (width, height)) of each pattern; tileable sides are multiples of 16.
        seeds: one pattern per seed (default 0-3); each also gets a 2x2 tiling preview.
        steps / time_limit_s: training length (default ``PATTERN_STEPS``) and an optional cap
            in seconds; ``crop``: side of the training crops; ``overrides``: ``model.KEY=VALUE``
            options of the ``texture`` method (``models.TextureConfig``).
        model: a saved ``OUT/texture_model`` run folder to reuse, no training.
        progress: called with the training loop's ``StepReport`` after each step.
        overwrite: replace existing pattern files (never a motif); an existing
            ``OUT/texture_model`` is never trained over: reuse it with ``model``.
    Returns a ``design.PatternSet`` (images, seam scores, files, model folder).
    """
    seeds = list(seeds) if seeds else [0, 1, 2, 3]
    targets = [path for s in seeds for path in design.pattern_files(out, s)]
    trained = None
    if model is None:
        files, scale = design.motif_files(motifs, on_skip=on_skip, min_side=crop)
        check_outputs(targets, files, overwrite=overwrite)  # before the minutes of training
        trained = model = train(
            "texture",
            data=[str(f) for f in files],
            out=str(Path(out) / "texture_model"),
            size=crop,
            load_size=scale,
            steps=steps or PATTERN_STEPS,
            time_limit_s=time_limit_s,
            seed=seed,
            device=device,
            precision="fp32",  # small convolutions: bf16 saves little and shifts the colours
            overrides=[f"model.circular={str(tileable).lower()}", *(overrides or [])],
            progress=progress,
        )
    else:
        check_outputs(targets, Path(model).glob("*"), overwrite=overwrite)
    patterns = design.generate_set(design.load_texture_model(model), size, seeds, tileable)
    patterns = design.save_set(patterns, out, replace=overwrite)
    patterns.model_dir = trained
    return patterns


def design_palette(sources: list, colors: int = 6, on_skip: Callable[[str], None] | None = None):
    """The ``colors`` dominant colours (k-means in CIELAB) of images, files or folders."""
    return design.palette_of(sources, k=colors, on_skip=on_skip)


def design_dyes(image, dyes: int = 3):
    """A cloth photo's colourway for the wax finish (``stylize(..., dyes=...)``,
    ``--dyes-from``): its ``dyes`` colours and the share of the cloth each covers."""
    return design.dyes_of(image, dyes)


def wax_options(stylizer, dyes: Dyes) -> dict:
    """The render options that dye ``stylizer``'s result in ``dyes`` (the wax finish, as
    ``--dyes-from`` does); a translation model has no finish: one-line ConfigError."""
    if not isinstance(stylizer, StyleRenderer):
        raise ConfigError(
            "a cloth colourway dyes the wax finish of the feature engine: pick a culture "
            "style or a painting, folder or mix, not a translation model"
        )
    return {"finish": "wax", "dyes": dyes}


def design_recolor(
    image,
    palette_from: list,
    out: str | os.PathLike | None = None,
    *,
    colors: int = 6,
    amount: float = 1.0,
    on_skip: Callable[[str], None] | None = None,
    overwrite: bool = False,
):
    """Recolour a pattern into the palette of ``palette_from`` (e.g. a culture folder).

    ``palette_from`` is a list of images, files or folders, or a ``Palette`` from
    ``design_palette`` (reuse one palette for many patterns).

    Returns ``(image, palette)``; with ``out`` (a file), also writes ``<out stem>_palette.png``
    (existing files only with ``overwrite``; never over the pattern or a palette image).
    """
    is_palette = isinstance(palette_from, design.Palette)
    if out is not None:  # checked before any work
        out = Path(out)
        swatch = out.with_name(f"{out.stem}_palette.png")
        files = _paths(image, *([] if is_palette else palette_from))
        check_outputs([out, swatch], _input_files(files), overwrite=overwrite)
    palette = palette_from if is_palette else design_palette(palette_from, colors, on_skip)
    result = design.recolor(image, palette, amount=amount)
    if out is not None:
        save_image(result, out, replace=overwrite)
        save_image(palette.swatch(), swatch, replace=overwrite)
    return result, palette
