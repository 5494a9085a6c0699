"""What the web UI's buttons do: plain functions over ``api``, testable without a browser.

Every handler takes upload file paths (as Gradio hands them over) and returns PIL images or
text. Bad input raises a ``StylebridgeError`` whose one-line message the app shows to the user.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .. import api
from ..errors import ConfigError, ImageError, StylebridgeError

RUN_FOLDER = "run folder (path below)"
ENGINE = "feature engine (culture mix or painting)"
Progress = Callable[[float, str], None]


@dataclass
class WebSettings:
    """Server-side limits and options for ``stylebridge web``."""

    max_megapixels: float = 16.0  # uploads above this are refused with a message
    max_file_mb: int = 20  # larger files are refused by the upload itself
    # photos are stylized at most this long a side, then resized back (the feature engine at
    # its own measured scale where that is smaller: 768 px, a culture style's render_side)
    work_side: int = 1024
    cultures: Path | None = None  # folder of culture folders for the analysis panel and palettes
    concurrency: int = 1  # requests computed at once; the others wait in the queue
    queue_size: int = 16  # waiting requests beyond this get "queue is full"
    max_pattern_steps: int = 800
    models_dir: Path | None = None  # "run folder" names a folder under this; None: bundled only

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1e6)


def style_choices() -> list[str]:
    """The engine first (mix sliders or an uploaded painting), then the bundled styles (culture
    styles, then the translation looks) and a run folder."""
    return [ENGINE, *api.styles(), RUN_FOLDER]


AUTO = "auto"  # a mix: the engine and fusion its cultures' styles use; a painting: the bundled


def engine_choices() -> list[str]:
    """The feature-fusion engines a painting or a mix can render with (the default first)."""
    return [AUTO, *api.feature_engines()]


def fusion_choices() -> list[str]:
    """The engine's fusions (the default first: a mix's cultures' own, else WCT)."""
    return [AUTO, *api.FUSIONS]


def mix_cultures() -> list[str]:
    """The bundled culture codes the mix sliders offer (the content-photo code is no culture)."""
    return [name for name in api.culture_codes() if name != "photo"]


class Handlers:
    """The UI's actions; keeps loaded models and culture palettes between requests."""

    def __init__(self, settings: WebSettings | None = None):
        self.settings = settings or WebSettings()
        self._lock = threading.Lock()
        self._stylizers: dict[str, object] = {}
        self._palettes: dict[str, object] = {}
        # the culture means are computed once (warm-up or first request); a request that
        # arrives meanwhile waits for that computation instead of running a second one
        self._culture_means = threading.Lock()

    # --- inputs -----------------------------------------------------------------------------
    def photo(self, path: str | None, what: str = "photo") -> Image.Image:
        """An upload as RGB after the size check, decoded by the project's guarded loader; a
        missing upload is a clear message, and a refusal names the file, not the server's
        upload folder."""
        if not path:
            raise ConfigError(f"upload a {what} first")
        check_upload_size(path, self.settings)
        try:
            return api.read_image(path, max_pixels=self.settings.max_pixels)
        except ImageError as err:
            raise ImageError(Path(path).name, err.problem) from None

    def preview(self, path: str | None) -> Image.Image | None:
        """What the upload box shows: the upload as decoded by ``photo`` (so a bomb or a
        non-image gets its one-line refusal at once), at most 1024 px on the long side."""
        if not path:
            return None
        image = self.photo(path, "file")
        image.thumbnail((1024, 1024))
        return image

    def model(self, style: str, run_dir: str | None) -> Path:
        if style == RUN_FOLDER:
            return self.run_folder(run_dir)
        if style not in api.styles():  # a typed path in the style box is no way round the rule
            raise ConfigError(f"unknown style {style!r}; pick a bundled style or a run folder")
        return api.model_folder(style)

    def run_folder(self, name: str | None) -> Path:
        """A model folder named relative to ``--models-dir``. Whatever is wrong with the name
        (outside the folder, missing, not a model) gets the same message, so answers never
        tell which server paths exist."""
        root = self.settings.models_dir
        if root is None:
            raise ConfigError(
                "this server offers the bundled styles only (start it with --models-dir DIR "
                "to offer the run folders under DIR)"
            )
        name = (name or "").strip()
        if not name:
            raise ConfigError("type the name of a run folder, or pick a bundled style")
        base = Path(root).resolve()
        folder = (base / name).resolve()
        if base not in folder.parents or not (folder / "config.json").is_file():
            raise ConfigError(f"no run folder named {name!r} on this server")
        return folder

    def stylizer(self, folder: Path):
        key = str(Path(folder).resolve())
        with self._lock:
            if key not in self._stylizers:
                self._stylizers[key] = api.load(folder)
            return self._stylizers[key]

    def public_message(self, err: StylebridgeError) -> str:
        """The error line a browser may see: run folders named relative to ``--models-dir``."""
        message = str(err)
        if self.settings.models_dir is not None:
            message = message.replace(str(Path(self.settings.models_dir).resolve()) + os.sep, "")
        return message

    # --- actions ----------------------------------------------------------------------------
    def renderer(
        self,
        style: str,
        run_dir: str | None = None,
        painting: str | None = None,
        mix: dict[str, float] | None = None,
        engine: str = AUTO,
    ):
        """What renders the choice: the engine bound to the source, or a translation model."""
        if style != ENGINE:
            return self.stylizer(self.model(style, run_dir))
        return api.style_renderer(**self.engine_source(painting, mix, engine))

    def engine_source(
        self, painting: str | None, mix: dict[str, float] | None, engine: str = AUTO
    ) -> dict:
        """The engine's style source: an uploaded painting, else the cultures mixed in feature
        space by the slider weights (zero sliders left out); rendered by the named ``engine``
        (only the bundled names: a request may not name a server path; ``auto``: a mix's
        cultures' own, a painting's the bundled one)."""
        if engine not in engine_choices():
            raise ConfigError(f"unknown engine {engine!r}; one of {', '.join(engine_choices())}")
        return {**self._style_source(painting, mix), "engine": None if engine == AUTO else engine}

    def _style_source(self, painting: str | None, mix: dict[str, float] | None) -> dict:
        if painting:
            image = self.photo(painting, "painting")
            try:
                return {"style_from": api.style_code(image)}
            except ImageError as err:  # named by the upload, not the server's upload folder
                raise ImageError(Path(painting).name, err.problem) from None
        weights = {name: float(w) for name, w in (mix or {}).items() if float(w) > 0}
        if not weights:
            raise ConfigError(
                "move at least one culture slider above 0 or upload a painting "
                f"(cultures: {', '.join(mix_cultures())})"
            )
        return {"mix": weights}

    def stylize(
        self,
        photo: str | None,
        style: str,
        run_dir: str | None = None,
        strength: float = 1.0,
        painting: str | None = None,
        mix: dict[str, float] | None = None,
        fusion: str = AUTO,
        engine: str = AUTO,
        cloth: str | None = None,
    ) -> Image.Image:
        """Stylize. The engine takes ``strength`` in feature space and ``fusion`` (``auto``: a
        mix's cultures' own); a translation model's result is blended with the photo by
        ``strength``. ``engine`` renders a painting or a mix (a culture style keeps its measured
        engine). ``cloth`` (a photo of a textile) gives the wax finish its colourway, as
        ``--dyes-from`` does."""
        image = self.photo(photo)
        side = self.work_side(style, run_dir)
        renderer = self.renderer(style, run_dir, painting, mix, engine)
        engine_style = style == ENGINE or api.is_culture_style(self.model(style, run_dir))
        dyes = api.design_dyes(self.photo(cloth, "cloth")) if cloth else None
        dyed = api.wax_options(renderer, dyes) if dyes is not None else {}
        if style == ENGINE:
            chosen = {} if fusion == AUTO else {"fusion": fusion}
            return renderer.stylize(
                image, max_side=side, strength=float(strength), **chosen, **dyed
            )
        if engine_style:  # a culture style: strength in feature space
            return renderer.stylize(image, max_side=side, strength=float(strength), **dyed)
        return Image.blend(image, renderer.stylize(image, max_side=side), float(strength))

    def work_side(self, style: str, run_dir: str | None) -> int | None:
        """The longest side a request renders at: the feature engine (a painting, a mix, a
        culture style) at its own measured scale as in the CLI and Python, the server's
        ``work_side`` only capping it; a translation model at ``work_side``."""
        side = self.settings.work_side
        if style == ENGINE or api.is_culture_style(self.model(style, run_dir)):
            return None if side >= api.RENDER_SIDE else side
        return side

    def garment(
        self,
        photo: str | None,
        style: str,
        run_dir: str | None,
        mask: str | None,
        auto: bool,
        strength: float = 1.0,
        painting: str | None = None,
        mix: dict[str, float] | None = None,
        engine: str = AUTO,
        cloth: str | None = None,
    ) -> tuple[Image.Image, Image.Image]:
        """Restyle the garment only, in any style source; returns the result and the mask
        overlay. ``cloth`` (a photo of a textile) gives the wax finish its colourway."""
        image = self.photo(photo)
        if not auto and not mask:
            raise ConfigError("upload a garment mask (white = garment) or tick auto-mask")
        mask_path = None if auto else mask
        if mask_path:
            self.photo(mask_path, "mask")  # same size limit as photos
        if style == ENGINE:
            source = self.engine_source(painting, mix, engine)
        else:
            source = {"style": self.model(style, run_dir)}
        dyes = api.design_dyes(self.photo(cloth, "cloth")) if cloth else None
        result = api.design_garment(
            image,
            **source,
            dyes=dyes,
            mask=mask_path,
            auto_mask=auto,
            strength=strength,
            max_side=self.work_side(style, run_dir),
        )
        return result.image, result.overlay

    def cultures(self) -> list[str]:
        root = self.settings.cultures
        if not root or not Path(root).is_dir():
            return []
        return sorted(p.name for p in Path(root).iterdir() if p.is_dir())

    def palette(self, culture: str):
        if culture not in self.cultures():
            raise ConfigError(f"unknown culture {culture!r}; choose one of {self.cultures()}")
        with self._lock:
            if culture not in self._palettes:
                folder = Path(self.settings.cultures) / culture
                self._palettes[culture] = api.design_palette([folder])
            return self._palettes[culture]

    def pattern(
        self,
        motifs: list[str] | None,
        size: int = 256,
        seeds: int = 2,
        steps: int = 300,
        culture: str | None = None,
        progress: Progress | None = None,
    ) -> tuple[list[Image.Image], Image.Image, str]:
        """Train on the uploaded motifs, return the patterns, a 2x2 tiling and seam ratios."""
        if not motifs:
            raise ConfigError("upload one or more motif images first")
        for path in motifs:
            self.photo(path, "motif")
        steps = int(min(max(1, steps), self.settings.max_pattern_steps))

        def report(r) -> None:
            if progress and not r.message:
                progress(r.step / r.total, f"training step {r.step}/{r.total}")

        with tempfile.TemporaryDirectory(prefix="stylebridge-pattern-") as out:
            result = api.design_pattern(
                motifs,
                out,
                size=int(size),
                seeds=list(range(int(seeds))),
                steps=steps,
                progress=report,
            )
            images = [im.copy() for im in result.images.values()]
        if culture:
            palette = self.palette(culture)
            images = [api.design_recolor(im, palette)[0] for im in images]
        first = images[0]
        tiled = Image.new("RGB", (first.width * 2, first.height * 2))
        for i in range(4):
            tiled.paste(first, ((i % 2) * first.width, (i // 2) * first.height))
        seams = ", ".join(f"seed {s}: {score.ratio:.2f}" for s, score in result.seams.items())
        note = f"Seam ratio (1 = the wrap-around seam is as smooth as the interior): {seams}"
        return images, tiled, note

    def warm_up(self) -> None:
        """Compute the culture means now (minutes on a busy CPU) so the first visitor need not."""
        if self.cultures():
            with self._culture_means:
                api.closest_cultures(Image.new("RGB", (64, 64), "grey"), self.settings.cultures)

    def closest(
        self,
        photo: str | None,
        result: Image.Image | None = None,
        progress: Progress | None = None,
    ) -> str:
        """A Markdown table of culture distances of the stylized result (nearest first) beside
        the uploaded photo's, so the table shows where the stylization moved the picture."""
        if not self.cultures():
            return (
                "The analysis panel needs a corpus of culture folders: start the app with "
                "`stylebridge web --cultures DIR`."
            )
        image = self.photo(photo)
        if progress:
            progress(0.0, "measuring the culture folders (the first time takes up to a minute)")
        with self._culture_means:
            before = dict(api.closest_cultures(image, self.settings.cultures))
            after = api.closest_cultures(result, self.settings.cultures) if result else None
        note = (
            "\n\nDistance: RMS of z-scored differences over 29 colour, tone, composition, line "
            "and texture descriptors to each culture's mean (lower = closer). A similarity, not "
            "a classifier."
        )
        if after is None:
            ranked = sorted(before.items(), key=lambda item: item[1])
            rows = "\n".join(f"| {i} | {c} | {d:.2f} |" for i, (c, d) in enumerate(ranked, 1))
            return (
                "Stylize first to compare the result; the uploaded photo:\n\n"
                "| rank | culture | photo |\n|---|---|---|\n" + rows + note
            )
        rows = "\n".join(
            f"| {i} | {c} | {d:.2f} | {before[c]:.2f} | {d - before[c]:+.2f} |"
            for i, (c, d) in enumerate(after, 1)
        )
        return "| rank | culture | result | photo | change |\n|---|---|---|---|---|\n" + rows + note


def check_upload_size(path: str, settings: WebSettings) -> None:
    """Refuse files over the byte limit (Gradio's own limit also applies before upload ends)."""
    size = Path(path).stat().st_size
    if size > settings.max_file_mb * 1_000_000:
        raise ImageError(
            Path(path).name,
            f"{size / 1e6:.1f} MB is over the {settings.max_file_mb} MB upload limit",
        )
