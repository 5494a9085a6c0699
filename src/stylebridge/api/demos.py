"""The demo: every bundled style on sample photos, as a contact sheet and an HTML page."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import zoo
from ..data.samples import sample_photos
from ..errors import ConfigError
from ..imageio import save_image
from ..sheets import contact_sheet, html_page, save_sheet
from .models import load, style_notes
from .training import train

__all__ = ["DemoResult", "demo"]


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
    """Stylize the sample photos shipped with scikit-image/scikit-learn with every bundled
    culture style (the colour looks when an install has no culture style).

    Without bundled styles, trains a small FastCUT model on ``domain_a -> domain_b`` for
    ``seconds`` first, so the whole path (train, save, load, stylize) runs.
    """
    out = Path(out)
    models = dict(zoo.culture_styles() or zoo.looks())
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
