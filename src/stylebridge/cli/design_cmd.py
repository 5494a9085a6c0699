"""``stylebridge design ...``: garments, style variants, seamless patterns and recolouring."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from ..errors import ConfigError
from .progress import progress_bar, say
from .style_options import MIX, STYLE_FROM, STYLE_IMAGE

design_app = typer.Typer(
    help="Culture-inspired garments and textiles: restyle a garment, compare styles, "
    "generate seamless patterns, recolour to a culture's palette.",
    no_args_is_help=True,
)

STYLE_HELP = "A bundled style (see `stylebridge styles`) or a trained run folder."
OVERWRITE_HELP = "Replace existing output files (never an input)."


def _mask_choice(mask: Path | None, auto_mask: bool) -> None:
    if mask is not None and auto_mask:
        raise ConfigError("give either --mask or --auto-mask, not both")


@design_app.command("garment")
def garment(
    photo: Path = typer.Argument(..., help="The photo of a person wearing the garment."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    style: str = typer.Option(None, "--style", "-s", help=STYLE_HELP),
    style_image: list[Path] = STYLE_IMAGE,
    style_from: str = STYLE_FROM,
    mix: str = MIX,
    engine: str = typer.Option(None, help="A `train stylenet` run instead of the bundled engine."),
    mask: Path = typer.Option(None, help="Garment mask image: white = restyle, black = keep."),
    auto_mask: bool = typer.Option(
        False, "--auto-mask", help="Find the garment automatically (face + GrabCut, offline)."
    ),
    strength: float = typer.Option(1.0, min=0.0, max=1.0, help="Blend with the original."),
    feather: float = typer.Option(
        None, min=0.0, help="Edge ramp inside the mask in px (default 1.5% of the shorter side)."
    ),
    max_side: int = typer.Option(None, min=16, help="Stylize at most this long a side."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
    dyes_from: Path = typer.Option(
        None,
        "--dyes-from",
        help="The wax finish (batik) in this cloth photo's three colours and their shares; "
        "the feature engine's styles only.",
    ),
) -> None:
    """Restyle only the garment; face, skin and background stay untouched.

    \b
    Examples:
      stylebridge design garment me.jpg --style ukiyoe --auto-mask -o out/
      stylebridge design garment me.jpg --style-from indonesian_batik --mask dress.png -o out/
      stylebridge design garment me.jpg --style-image kimono.jpg --auto-mask -o out/
      stylebridge design garment me.jpg -s indonesian_batik --dyes-from cloth.jpg \
          --auto-mask -o out/
    """
    _mask_choice(mask, auto_mask)
    if mask is None and not auto_mask:
        raise ConfigError("give a garment mask (--mask MASK.png) or --auto-mask")
    sources = [style, style_image or None, style_from, mix]
    if sum(s is not None for s in sources) != 1:
        raise ConfigError("give one style: --style, --style-image, --style-from or --mix")
    result = api.design_garment(
        photo,
        style,
        out,
        style_image=style_image or None,
        style_from=style_from,
        mix=api.parse_mix(mix) if mix else None,
        engine=engine,
        mask=mask,
        auto_mask=auto_mask,
        strength=strength,
        feather=feather,
        max_side=max_side,
        overwrite=overwrite,
        dyes=api.design_dyes(dyes_from) if dyes_from is not None else None,
    )
    for kind, path in result.files.items():
        say(f"{kind:8s} {path}")


@design_app.command("variants")
def variants(
    photo: Path = typer.Argument(..., help="The photo to restyle."),
    styles: str = typer.Option(..., help="Comma list of bundled styles or run folders."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    mask: Path = typer.Option(None, help="Restyle only this garment mask (white)."),
    auto_mask: bool = typer.Option(False, "--auto-mask", help="Find the garment automatically."),
    strength: float = typer.Option(1.0, min=0.0, max=1.0, help="Blend with the original."),
    max_side: int = typer.Option(None, min=16, help="Stylize at most this long a side."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """One labelled contact sheet of the photo (or its garment) in several cultural styles.

    Example: stylebridge design variants me.jpg --styles ukiyoe,chinese_ink,western_oil -o out/
    """
    _mask_choice(mask, auto_mask)
    names = [s.strip() for s in styles.split(",") if s.strip()]
    with progress_bar("styles", len(names)) as update:
        api.design_variants(
            photo,
            names,
            out,
            mask=mask,
            auto_mask=auto_mask,
            strength=strength,
            max_side=max_side,
            progress=lambda done, total: update(done),
            overwrite=overwrite,
        )
    say(f"contact sheet: {out / 'variants.png'}")


def _seeds(seeds: int, first_seed: int) -> list[int]:
    return list(range(first_seed, first_seed + seeds))


def _training_step(report, update) -> None:
    """The loop's ``StepReport``: a message line, or a step with the two adversarial losses."""
    if report.message:
        say(report.message)
        return
    g, d = report.losses.get("loss/g/adv", 0.0), report.losses.get("loss/d/adv", 0.0)
    update(report.step, report.total, info=f"g {g:.2f} d {d:.2f}")


@design_app.command("pattern")
def pattern(
    motifs: list[Path] = typer.Argument(None, help="Motif images or folders to learn from."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    size: int = typer.Option(1024, min=32, help="Side of each pattern in px (multiple of 16)."),
    tileable: bool = typer.Option(
        True, "--tileable/--no-tileable", help="Seamless when tiled (circular padding)."
    ),
    seeds: int = typer.Option(4, min=1, max=64, help="How many patterns to generate."),
    first_seed: int = typer.Option(0, help="Seed of the first pattern."),
    steps: int = typer.Option(None, min=1, help="Training steps (default 1500)."),
    minutes: float = typer.Option(0.0, min=0.0, help="Stop training after this long (0 = off)."),
    model: Path = typer.Option(None, help="Reuse a saved OUT/texture_model folder; no training."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Learn a texture from motif image(s) on the CPU and generate seamless patterns of any size.

    Writes pattern_seedN.png, a 2x2 tiling of each, and the model in OUT/texture_model.
    Example: stylebridge design pattern batik1.jpg batik2.jpg --size 1024 --tileable -o out/
    """
    if not motifs and model is None:
        raise ConfigError("give motif images (or --model OUT/texture_model)")
    with progress_bar("training texture", steps) as update:
        result = api.design_pattern(
            motifs or [],
            out,
            size=size,
            seeds=_seeds(seeds, first_seed),
            tileable=tileable,
            steps=steps,
            time_limit_s=minutes * 60,
            model=model,
            progress=lambda r: _training_step(r, update),
            on_skip=lambda message: say(f"skipped {message}"),
            overwrite=overwrite,
        )
    for seed, score in result.seams.items():
        say(f"seed {seed}: seam ratio {score.ratio:.2f} (1 = as smooth as the interior)")
    say(f"{len(result.files)} file(s) written to {out}")
    if result.model_dir:
        say(f"model: {result.model_dir}")


@design_app.command("recolor")
def recolor(
    pattern: Path = typer.Argument(..., help="The pattern (or any image) to recolour."),
    palette_from: list[Path] = typer.Option(
        ..., "--palette-from", help="Images or folders (e.g. a culture folder) for the palette."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output image file (.png)."),
    colors: int = typer.Option(6, min=2, max=16, help="Palette size."),
    amount: float = typer.Option(1.0, min=0.0, max=1.0, help="0 keeps the colours, 1 = full."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Recolour a pattern into the dominant colours (k-means in CIELAB) of a set of images.

    Example: stylebridge design recolor out/pattern_seed0.png
    --palette-from cultures/ukiyoe -o out/pattern_ukiyoe.png
    """
    _, palette = api.design_recolor(
        pattern,
        palette_from,
        out,
        colors=colors,
        amount=amount,
        on_skip=lambda message: say(f"skipped {message}"),
        overwrite=overwrite,
    )
    shares = ", ".join(
        f"#{r:02x}{g:02x}{b:02x} {s:.0%}"
        for (r, g, b), s in zip(palette.rgb, palette.shares, strict=True)
    )
    say(f"palette: {shares}")
    say(f"written: {out} and {out.with_name(out.stem + '_palette.png')}")


def register(app: typer.Typer) -> None:
    app.add_typer(design_app, name="design")
