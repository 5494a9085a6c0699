"""``stylebridge stylize`` and ``stylebridge styles``: translate files and folders of any size."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import report_files, say
from .style_options import MIX, STYLE_FROM, STYLE_IMAGE


def _model_and_inputs(args: list[Path], style: str | None) -> tuple[Path, list[Path]]:
    """``--style NAME INPUT...`` or ``RUN_DIR INPUT...``; a bundled style name also works first."""
    if style:
        return api.model_folder(style), args
    if len(args) < 2:
        raise typer.BadParameter("give a model folder (or --style NAME) and at least one input")
    first = args[0]
    if not first.exists() and str(first) in api.styles():
        return api.model_folder(str(first)), args[1:]
    return first, args[1:]


def stylize(
    args: list[Path] = typer.Argument(
        ...,
        metavar="[RUN_DIR] INPUT...",
        help="A model folder or bundled style name, then images or folders (no RUN_DIR "
        "with --style).",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (or file for one input)."),
    style: str = typer.Option(
        None,
        help="A bundled style (see `stylebridge styles`): a culture style (the feature-fusion "
        "engine at the culture's measured settings) or a *_look translation model.",
    ),
    direction: str = typer.Option("a2b", help="a2b or b2a (CycleGAN runs have both)."),
    strength: float = typer.Option(
        1.0, min=0.0, max=1.0, help="0 keeps the photo, 1 the full style (its finish too)."
    ),
    max_side: int = typer.Option(None, min=16, help="Translate at most this long a side."),
    tile: int = typer.Option(512, min=0, help="Tile side for large images; 0 = never tile."),
    preserve_color: bool = typer.Option(
        False,
        "--preserve-color/--no-preserve-color",
        help="Keep the input's colours; take only the stylized luminance.",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing output files (never an input)."
    ),
    device: str = typer.Option("auto", help="auto | cpu | cuda | mps"),
    backend: str = typer.Option(
        "torch",
        help="torch | onnxruntime (CPU; translation models: large images tiled with per-tile "
        "statistics; the engine: the same rendering, faster).",
    ),
    style_image: list[Path] = STYLE_IMAGE,
    style_from: str = STYLE_FROM,
    mix: str = MIX,
    mask: Path = typer.Option(
        None, help="White where the style goes (same size as the input); see --outside."
    ),
    outside: str = typer.Option(
        None, help="With --mask: the style outside it (culture, folder, image or code)."
    ),
    fusion: str = typer.Option(
        None,
        help="Feature-fusion engine: wct | adain [default: wct; a culture style's own, a "
        "mix's heaviest culture's].",
    ),
    tone: str = typer.Option(
        "as-is", help="Style images as they are, or 'paper': aged paper whitened, colour dropped."
    ),
    finish: str = typer.Option(
        None,
        help="Feature-fusion engine: none | flat (print colour: flat regions, small palette) | "
        "flat_detail (flat, with the rendering's lines and grain) | grey (colour dropped) | "
        "wax (batik: a few dye levels with drawn lines) [default: none; a culture style's own, "
        "in a mix each culture's at its weight].",
    ),
    white_level: float = typer.Option(
        None,
        min=0.01,
        max=1.0,
        help="Feature-fusion engine: the grey that white becomes, e.g. 1 for white paper "
        "[default: 1; chinese_ink's 0.85, its paper as ink collections photograph it].",
    ),
    dyes_from: Path = typer.Option(
        None,
        "--dyes-from",
        help="Feature-fusion engine: the wax finish in this cloth photo's colourway (its three "
        "colours and their shares) [default: indonesian_batik's corpus colourway].",
    ),
    engine: str = typer.Option(
        None,
        help="ray: translate on a Ray cluster (a model, big folders; pip install "
        "'stylebridge[cluster]'); local: this machine (default); bundled or fast (the "
        "feature-fusion engine's distilled decoder, 2-3x faster), or a `train stylenet` run: "
        "the feature-fusion engine for --style-image/--style-from/--mix, or for a culture "
        "--style instead of its own.",
    ),
    portrait: bool = typer.Option(
        False,
        "--portrait",
        help="Find faces (offline) and style them lighter, at --face-strength, through "
        "feathered masks, so the sitter stays recognisable.",
    ),
    face_strength: float = typer.Option(
        0.35, min=0.0, max=1.0, help="With --portrait: the strength on faces (x --strength)."
    ),
    address: str = typer.Option(None, help="With --engine ray: auto | ray://host:port."),
    workers: int = typer.Option(None, min=1, help="With --engine ray: actors [default: CPUs]."),
) -> None:
    """Translate images; outputs keep the input size, orientation and transparency.

    \b
    Examples:
      stylebridge stylize runs/photo2ukiyoe photos/ -o out/ --max-side 512
      stylebridge stylize photo.jpg --style chinese_ink -o out.png
      stylebridge stylize photo.jpg --style ukiyoe_look --preserve-color -o o.png
      stylebridge stylize photo.jpg --style-image painting.jpg -o out.png
      stylebridge stylize photos/ --style-from paintings/ -o out/
      stylebridge stylize photo.jpg --mix ukiyoe=0.5,western_oil=0.5 -o out.png
      stylebridge stylize model.jpg --style-from indonesian_batik \\
          --mask garment.png --outside chinese_ink -o out.png
      stylebridge stylize portrait.jpg --style-from ukiyoe --portrait -o out.png
      stylebridge stylize photo.jpg --style indonesian_batik \\
          --dyes-from cloth.jpg -o out.png
    """
    if finish is not None and finish not in api.FINISHES:  # before any file is read
        raise typer.BadParameter(
            f"unknown finish {finish!r}; one of {', '.join(api.FINISHES)}", param_hint="--finish"
        )
    dyes = None
    if dyes_from is not None:
        if finish not in (None, "wax"):
            raise typer.BadParameter(
                f"--dyes-from colours the wax finish, not {finish!r}", param_hint="--finish"
            )
        finish, dyes = "wax", api.design_dyes(dyes_from)
    run_on = engine if engine in api.ENGINES else "local"
    engine = None if engine in api.ENGINES else engine
    stylizer = None
    if style_image or style_from or mix:
        if run_on != "local":
            raise typer.BadParameter("--engine ray runs translation models (a run or --style)")
        if style:
            raise typer.BadParameter(
                "--style picks a bundled style or model; --style-image/--style-from/--mix give "
                "the feature-fusion engine another style: give one of them"
            )
        stylizer = api.style_renderer(
            style_image=style_image if style_image else None,
            style_from=style_from,
            mix=api.parse_mix(mix) if mix else None,
            outside=outside,
            engine=engine,
            tone=tone,
            on_skip=lambda message: say(f"style: skipped {message}"),
            backend=backend,
        )
        inputs = args
        options = dict(
            strength=strength,
            max_side=max_side or api.RENDER_SIDE,
            tile=tile,
            preserve_color=preserve_color,
            fusion=fusion,
            finish=finish,
            white_level=white_level,
            mask=mask,
            dyes=dyes,
        )
    else:
        if mask is not None or outside is not None:
            raise typer.BadParameter("--mask/--outside need --style-image, --style-from or --mix")
        model, inputs = _model_and_inputs(args, style)
        api.model_folder(model)  # a missing model is named before the inputs are listed
        if engine is not None:  # a culture style on another feature-fusion engine
            stylizer = api.load(model, device=device, backend=backend, engine=engine)
        options = dict(
            direction=direction,
            strength=strength,
            max_side=max_side,
            tile=tile,
            preserve_color=preserve_color,
        )
        engine_options = {
            "fusion": fusion, "finish": finish, "white_level": white_level, "dyes": dyes
        }  # fmt: skip
        given = {k: v for k, v in engine_options.items() if v is not None}
        if given and not api.is_culture_style(model):
            flag = "dyes-from" if "dyes" in given else next(iter(given)).replace("_", "-")
            raise typer.BadParameter(
                f"--{flag} is an option of the feature-fusion engine and the culture styles, not "
                "of a translation model"
            )
        options |= given
    if portrait:
        if run_on != "local":
            raise typer.BadParameter("--portrait runs on this machine; drop --engine ray")
        if stylizer is None:
            stylizer = api.load(model, device=device, backend=backend)
        stylizer = api.portrait_stylizer(stylizer, face_strength)
    inputs = api.expand_inputs(inputs)
    total = len(inputs)
    if stylizer is None:
        say(f"stylizing {total} image(s) on the {run_on} engine")
        results = api.stylize_batch(
            model, inputs, out, engine=run_on, address=address, workers=workers,
            overwrite=overwrite, device=device, backend=backend, **options,
        )  # fmt: skip
    else:
        results = stylizer.stylize_files(inputs, out, overwrite=overwrite, **options)
    report_files(results, total, out, "stylizing")


def styles() -> None:
    """List the bundled culture styles, one per line: name, then what it does."""
    found = api.styles()
    if not found:
        say("no bundled styles in this install")
    for name in found:  # the list is data: stdout, so `stylebridge styles | cut -f1` works
        typer.echo(f"{name}\t{api.style_card(name).get('summary', '')}")


def register(app: typer.Typer) -> None:
    app.command("stylize")(stylize)
    app.command("styles")(styles)
