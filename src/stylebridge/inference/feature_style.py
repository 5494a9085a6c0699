"""The feature-fusion style engine at inference: any painting, a folder, a culture, or a mix.

A style is a :class:`StyleCode`: the moments of the frozen encoder's features at the fusion
layer, pooled over one or many style images, saved as a small safetensors file with a JSON card.
Mixing cultures mixes their moments (feature space, not pixels); a mask picks one style inside
and another outside, blended on the feature grid. Content statistics are taken once from the
whole image, so the fusion is one fixed affine map of the features and large images can go
through the tiler without seams.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from .. import zoo
from ..data import list_images, set_digest
from ..errors import ConfigError, ImageError, ModelFileError
from ..fileio import atomic_write
from ..imageio import IMAGE_SUFFIXES, as_loaded, load_image, printable, to_tensor
from ..models.files import CONFIG_NAME, read_run_config, read_tensors, tensor_bytes
from ..models.stylenet import FUSION_BLOCK, StyleEncoder, load_engine
from ..nn import choose_precision, pick_device, prepare_runtime
from ..nn.efficientnet_lite import fix_same_padding
from ..nn.feature_fusion import (
    EPS,
    FUSIONS,
    StyleMoments,
    in_float32,
    newton_schulz_inverse_sqrt,
    sym_power,
)
from ..nn.style_decoder import DetailPacker, StyleDecoder
from .color import LUMA
from .color import preserve_color as _preserve_color
from .finish import (
    FINISHES,
    Dyes,
    Finish,
    FinishShare,
    apply_finish,
    check_finish,
    check_palette,
    check_white_level,
    finish_to_size,
    lower_white,
    scaled_finish,
)
from .onnx import OnnxGenerator, export_module
from .onnx import cache_dir as onnx_cache_dir
from .stylizer import Stylizer, backend_runtime, warn_dropped_frames
from .tiling import NonFiniteOutputError, TileRunner

CODE_FORMAT = "stylebridge.stylecode/1"
STYLE_SIDE = 256  # style images are encoded with this shorter side: the training scale
MIN_STYLE_SIDE = 32
# the longest side the engine renders at unless asked otherwise (then enlarged to the input's
# size): the scale every measured setting was chosen at; a culture style may name a smaller one
RENDER_SIDE = 768
TONES = ("as-is", "paper")  # paper: yellowed paper made white, colour removed (ink on silk)
OnSkip = Callable[[str], None]


@dataclass
class StyleCode:
    """A style as moments of the encoder's fusion features, with where they came from."""

    moments: StyleMoments
    card: dict = field(default_factory=dict)

    def save(self, path: str | os.PathLike) -> Path:
        """``NAME.safetensors`` plus ``NAME.json`` (the card), both written atomically."""
        path = Path(path).with_suffix(".safetensors")
        tensors = {
            "mean": self.moments.mean.float(),
            "second": self.moments.second.float(),
        }
        card = {"format": CODE_FORMAT, "count": self.moments.count, **self.card}
        atomic_write(path, tensor_bytes(tensors, {"format": CODE_FORMAT}))
        atomic_write(path.with_suffix(".json"), (json.dumps(card, indent=2) + "\n").encode())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, channels: int | None = None) -> StyleCode:
        path = Path(path).with_suffix(".safetensors")
        tensors, metadata = read_tensors(path)
        if metadata.get("format") != CODE_FORMAT or set(tensors) != {"mean", "second"}:
            raise ModelFileError(path, f"not a style code (format is not {CODE_FORMAT})")
        mean, second = tensors["mean"].double(), tensors["second"].double()
        c = mean.shape[0]
        if mean.dim() != 1 or tuple(second.shape) != (c, c) or (channels and c != channels):
            raise ModelFileError(
                path, f"style code has shapes {tuple(mean.shape)}, {tuple(second.shape)}"
            )
        if not (torch.isfinite(mean).all() and torch.isfinite(second).all()):
            raise ModelFileError(path, "style code holds NaN/inf values")
        card_path = path.with_suffix(".json")
        card = {}
        if card_path.is_file():
            try:
                card = json.loads(card_path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                raise ModelFileError(card_path, "corrupt JSON card") from None
        count = float(card.get("count", 1.0)) if isinstance(card, dict) else 1.0
        return cls(StyleMoments(mean, second, count), card if isinstance(card, dict) else {})


def paper_tone(image: Image.Image) -> Image.Image:
    """Ink on aged silk or paper -> ink on white: each channel divided by its paper level (the
    95th percentile), then grey. The yellowing belongs to the collection's age, not to ink
    painting, so a culture code must not learn it."""
    arr = np.asarray(image.convert("RGB"), np.float32)
    paper = np.percentile(arr.reshape(-1, 3), 95, axis=0).clip(1, 255)
    white = np.clip(arr * (255.0 / paper), 0, 255)
    grey = white @ LUMA
    return Image.fromarray(np.repeat(grey[..., None], 3, 2).round().astype(np.uint8), "RGB")


def _encoder_grid(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``size`` scaled, each side rounded to a multiple of 8: the sides the encoder graph takes
    (its padding is fixed for them), so both backends read an image on the same grid."""
    return tuple(max(8, 8 * round(side * scale / 8)) for side in size)


def _check_style_image(image: Image.Image, source: str) -> None:
    if min(image.size) < MIN_STYLE_SIDE:
        raise ImageError(
            source,
            f"too small for a style ({image.width}x{image.height} px; at least "
            f"{MIN_STYLE_SIDE} px per side)",
        )
    small = np.asarray(image.convert("RGB").resize((64, 64)), np.float32)
    if small.std() < 2.0:
        raise ImageError(source, "is one flat colour: it has no style to take")


class FeatureEngine:
    """The trained decoder with its frozen encoder; renders content photos with style codes."""

    def __init__(
        self,
        model_dir: str | os.PathLike,
        *,
        device: str = "auto",
        precision: str = "auto",
        backend: str = "torch",
    ):
        device, precision = backend_runtime(backend, device, precision)
        self.model_dir = Path(model_dir)
        self.decoder, detail_block, self.config = load_engine(self.model_dir)
        self.codes = zoo.culture_codes(self.model_dir)  # a multiculture run's own cultures
        self.device = pick_device(device)
        prepare_runtime(self.device)
        self.amp_dtype = choose_precision(precision, self.device)
        self.decoder = self.decoder.to(self.device)
        name = (self.config.get("exports") or {}).get("decoder", "decoder.safetensors")
        self.encoder = StyleEncoder("lite1", detail_block).to(self.device)
        if backend == "torch":  # NHWC for oneDNN: 1.5x on the CPU (docs/feature_engine.md)
            self.encoder.to(memory_format=torch.channels_last)
            self.decoder.to(memory_format=torch.channels_last)
        self.channels = self.encoder.channels
        self.backend = backend
        # what renders: the torch modules, or the same two networks as onnxruntime graphs (the
        # encoder graph computing the decoder's detail term: _EncoderGraph)
        self.encode: Callable[[torch.Tensor], torch.Tensor] = self.encoder.content
        self.decode: Callable[[torch.Tensor], torch.Tensor] = self.decoder
        if backend == "onnxruntime":
            encoder_graph, decoder_graph = self._graphs(name)
            self.encode, self.decode = OnnxGenerator(encoder_graph), OnnxGenerator(decoder_graph)

    def cultures(self) -> dict[str, Path]:
        """Culture name -> code file this engine knows: the bundled codes, and its own (a
        multiculture run's) over them."""
        return {**zoo.culture_codes(), **self.codes}

    def _graphs(self, weights_name: str) -> tuple[Path, Path]:
        """The encoder (to the fusion layer) and the decoder as ONNX graphs, exported once per
        set of weights into the cache and checked against PyTorch there."""
        digest = hashlib.sha256(b"stylebridge.engine-onnx/5")  # 5: the detail term in the encoder
        digest.update(json.dumps(self.decoder.config.to_dict(), sort_keys=True).encode())
        digest.update(f"{self.encoder.variant}:{FUSION_BLOCK}:{self.encoder.detail_block}".encode())
        digest.update((self.model_dir / weights_name).read_bytes())
        key = digest.hexdigest()[:40]
        parts = {
            "encoder": _EncoderGraph(self.encoder, self.decoder),
            "decoder": _DecoderGraph(self.decoder),
        }
        paths = []
        for part, module in parts.items():
            target = onnx_cache_dir() / f"engine-{key}-{part}.onnx"
            if not target.is_file():
                export_module(module.cpu(), target, exporter="torchscript", overwrite=True)
            paths.append(target)
        return paths[0], paths[1]

    # --- style codes ---------------------------------------------------------------------
    @torch.inference_mode()
    def _moments(self, image: Image.Image) -> StyleMoments:
        x = to_tensor(image).to(self.device)
        with self._autocast():
            features = self.encode(x).float()[:, : self.channels]  # detail channels are no style
        return StyleMoments.of(features[0])

    def moments_of(self, image: Image.Image) -> StyleMoments:
        """A style image's moments, encoded with its shorter side at the training scale."""
        size = _encoder_grid(image.size, STYLE_SIDE / min(image.size))
        return self._moments(image.convert("RGB").resize(size, Image.Resampling.LANCZOS))

    def code_from_images(
        self,
        images: Iterable[object],
        *,
        tone: str = "as-is",
        name: str = "",
        on_skip: OnSkip | None = None,
        source: str = "",
    ) -> StyleCode:
        """Pool the style of many images; unusable ones are skipped (and reported), none
        usable is an error naming ``source``."""
        if tone not in TONES:
            raise ConfigError(f"unknown tone {tone!r}; one of {', '.join(TONES)}")
        parts, files = [], []
        for item in images:
            label = printable(item) if isinstance(item, (str, os.PathLike)) else "<image>"
            try:
                loaded = (
                    load_image(item) if isinstance(item, (str, os.PathLike)) else as_loaded(item)
                )
                _check_style_image(loaded.rgb, label)
            except ImageError as err:
                if on_skip is None:
                    raise
                on_skip(str(err))
                continue
            rgb = paper_tone(loaded.rgb) if tone == "paper" else loaded.rgb
            parts.append(self.moments_of(rgb))
            if isinstance(item, (str, os.PathLike)):
                files.append(Path(item))
        if not parts:
            raise ImageError(source or "<style>", "no usable style image")
        card = {
            "name": name,
            "source": source,
            "image_count": len(parts),
            "tone": tone,
            "encoder": "lite1",
            "fusion_block": FUSION_BLOCK,
            "style_side": STYLE_SIDE,
        }
        if files:
            card["files_hash"] = set_digest(files)
        return StyleCode(StyleMoments.pool(parts), card)

    def code_from_folder(
        self, folder: str | os.PathLike, *, tone: str = "as-is", on_skip: OnSkip | None = None
    ) -> StyleCode:
        folder = Path(folder)
        if not folder.is_dir():
            raise ImageError(folder, "not a folder of style images")
        files = list_images(folder)
        if not files:
            raise ImageError(folder, "holds no image files to take a style from")
        skip = on_skip or (lambda message: None)
        code = self.code_from_images(
            files, tone=tone, name=folder.name, on_skip=skip, source=str(folder)
        )
        manifest = folder / "MANIFEST.csv"
        if not manifest.is_file():
            manifest = folder.parent / "MANIFEST.csv"
        if manifest.is_file():
            code.card["manifest_sha256"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
        return code

    def baked(
        self,
        code: StyleCode | list[tuple[StyleCode, float]],
        fusion: str = "wct",
        strength: float = 1.0,
        white_level: float = 1.0,
        grey: float = 0.0,
    ) -> BakedStyle:
        """This engine with ``code`` fixed, as one image -> image module (for ONNX export);
        ``grey``: how much of the ``grey`` finish the graph applies (1: all of it; a call's
        strength below 1 scales it, as ``StyleRenderer.stylize`` does)."""
        if not 0.0 <= strength <= 1.0:
            raise ConfigError(f"strength must be within [0, 1], got {strength}")
        if not 0.0 <= grey <= 1.0:
            raise ConfigError(f"the grey finish's share must be within [0, 1], got {grey}")
        white_level = check_white_level(white_level)
        return BakedStyle(
            self.encoder, self.decoder, mixed(code), fusion, strength, white_level, grey
        ).eval()

    # --- rendering -----------------------------------------------------------------------
    def _autocast(self):
        return torch.autocast(
            self.device.type,
            dtype=self.amp_dtype or torch.float32,
            enabled=self.amp_dtype is not None,
        )

    def content_moments(self, image: Image.Image, side: int = RENDER_SIDE) -> StyleMoments:
        """The content's own moments from the whole image shrunk to ``side`` px: for tiled
        rendering, where every tile must be fused with the same map."""
        size = _encoder_grid(image.size, min(1.0, side / max(image.size)))
        return self._moments(image.resize(size, Image.Resampling.BILINEAR))

    def render(
        self,
        image,
        code: StyleCode | list[tuple[StyleCode, float]],
        *,
        fusion: str = "wct",
        strength: float = 1.0,
        mask=None,
        outside: StyleCode | None = None,
        max_side: int | None = RENDER_SIDE,
        tile: int = 1024,
        preserve_color: bool = False,
        finish: Finish = "none",
        palette: np.ndarray | None = None,
        dyes: Dyes | None = None,
        white_level: float = 1.0,
    ) -> Image.Image:
        """Render ``image`` in a style; returns a PIL image of the input's size.

        Args:
            code: a style code, or ``[(code, weight), ...]`` mixed in feature space.
            fusion: ``wct`` (full covariance: texture and palette) or ``adain`` (per channel).
            strength: 0 keeps the content's features, 1 takes the style's fully.
            mask: an L image (white = ``code`` inside); with ``outside``, the other style
                outside, else the original photo outside.
            max_side: render at most this long a side, then resize to the input size.
            tile: largest side rendered at once (tiles share one fusion map, so no seams).
            finish: ``none``, ``flat`` (print colour: flat regions in a small palette, found
                at the rendered size and enlarged with crisp borders; ``inference.finish``),
                ``flat_detail`` (those regions with the rendering's lines and grain),
                ``grey`` or ``wax`` (batik: dye levels with drawn lines); for a mix of
                cultures, their finishes as ``FinishShare``s (``MixPreset.of``).
            palette: the flat finish's colours ((N, 3) uint8; a culture style's); None takes
                the image's own.
            dyes: the wax finish's colourway (``inference.finish.Dyes``; a culture style's);
                None takes the rendering's own three colours.
            white_level: the grey that white becomes (``inference.finish.lower_white``; the
                ink style's paper), after the finish.
        """
        if fusion not in FUSIONS:
            raise ConfigError(f"unknown fusion {fusion!r}; one of {', '.join(FUSIONS)}")
        if not 0.0 <= strength <= 1.0:
            raise ConfigError(f"strength must be within [0, 1], got {strength}")
        check_finish(finish)
        white_level = check_white_level(white_level)
        loaded = as_loaded(image)
        warn_dropped_frames(loaded)  # an animated file: its first frame, said as a Stylizer does
        work = loaded.rgb
        if max_side and max(work.size) > max_side:
            scale = max_side / max(work.size)
            size = (max(8, round(work.width * scale)), max(8, round(work.height * scale)))
            work = work.resize(size, Image.Resampling.LANCZOS)
        if min(work.size) < 8:
            raise ImageError(loaded.path, f"too small to render ({work.width}x{work.height} px)")
        styles = [mixed(code)]
        weight = None
        if mask is not None:
            weight = _mask_array(mask, work.size, loaded.path)
            if outside is not None:
                styles.append(mixed(outside))
        tiled = len(styles) == 1 and tile > 0 and max(work.size) > tile
        # one pass takes the content's moments from its own features (one encoding); tiles
        # share moments taken once from the whole image, so they share one fusion map
        content = self.content_moments(work) if tiled else None
        renderer = _Renderer(
            self.encode, self.decode, styles, fusion, strength, content, self.channels
        )
        runner = TileRunner(
            renderer, self.device, 8, self.amp_dtype, channels_last=self.backend == "torch"
        )
        pixels = np.asarray(work)
        try:
            if len(styles) == 1:
                out = runner.run(pixels, tile=tile, overlap=64)
            else:
                out = _render_masked(runner, renderer, pixels, weight, tile)
        except NonFiniteOutputError:
            raise ImageError(
                loaded.path, "the model produced NaN/inf values; nothing written"
            ) from None
        result = Image.fromarray(out, "RGB")
        photo_outside = mask is not None and outside is None
        if photo_outside:  # the photo itself outside the mask: only the style is finished
            m = Image.fromarray((weight * 255).round().astype(np.uint8), "L")
            finished = apply_finish(out, finish, palette, dyes=dyes, photo=pixels)
            result = Image.composite(Image.fromarray(lower_white(finished, white_level)), work, m)
        if not photo_outside and finish != "none":  # at the rendered size, where measured
            finished = finish_to_size(
                out, loaded.rgb.size, finish, palette, dyes=dyes, photo=pixels
            )
            result = Image.fromarray(finished)
        elif result.size != loaded.rgb.size:
            result = result.resize(loaded.rgb.size, Image.Resampling.BICUBIC)
        if not photo_outside and white_level < 1.0:
            result = Image.fromarray(lower_white(np.asarray(result), white_level))
        if preserve_color:
            result = _preserve_color(loaded.rgb, result)
        if loaded.alpha is not None:
            result.putalpha(loaded.alpha)
        return result


class BakedStyle(nn.Module):
    """The engine with one style fixed, as a single image -> image graph (ONNX export): the
    content's moments come from its own features inside the graph, per image, and WCT's
    whitening uses Newton-Schulz iterations in place of an eigendecomposition (ONNX has none).
    Takes and returns NCHW in [-1, 1], sides multiples of 8."""

    multiple = 8

    def __init__(
        self,
        encoder,
        decoder,
        style: StyleMoments,
        fusion: str,
        strength: float,
        white_level: float = 1.0,
        grey: float = 0.0,
    ):
        super().__init__()
        if fusion not in FUSIONS:
            raise ConfigError(f"unknown fusion {fusion!r}; one of {', '.join(FUSIONS)}")
        self.encoder = fix_same_padding(copy.deepcopy(encoder))  # sides: multiples of 8
        self.decoder = decoder
        self.fusion, self.strength = fusion, float(strength)
        self.white_level = float(white_level)  # a scale of [0, 1] tones: in the graph
        self.grey = float(grey)  # the grey finish's share: luminance in all three channels
        colour = torch.diag(style.std) if fusion == "adain" else style.colouring
        self.register_buffer("style_mean", style.mean.float()[:, None])
        self.register_buffer("colour", colour.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features, detail = self.encoder.fusion_and_detail(x)  # detail unpacked: see forward
        features = features.float()
        flat = features.flatten(2)  # no Python shape arithmetic: the graph keeps any size
        centred = flat - flat.mean(2, keepdim=True)
        if self.fusion == "adain":  # the style's std over the content's, per channel
            whitened = centred / (centred.square().mean(2, keepdim=True) + EPS).sqrt()
        else:
            covariance = centred @ centred.transpose(1, 2) / centred.shape[2]
            whitened = newton_schulz_inverse_sqrt(covariance) @ centred
        fused = self.colour @ whitened + self.style_mean
        fused = flat + self.strength * (fused - flat)
        fused = fused.reshape_as(features)
        if detail is None:
            out = self.decoder(fused)
        else:  # the decoder's detail layer on the stride-4 features: no pack and unpack
            out = self.decoder.render(fused, self.decoder.detail(detail))
        if self.grey > 0.0:  # LUMA is a weighted mean: [-1, 1] maps onto itself
            luma = torch.as_tensor(LUMA, dtype=out.dtype, device=out.device).view(1, 3, 1, 1)
            pixels = out.clamp(-1.0, 1.0)
            grey = (pixels * luma).sum(1, keepdim=True).expand_as(out)
            out = grey if self.grey >= 1.0 else pixels + self.grey * (grey - pixels)
        if self.white_level < 1.0:  # clipped as pixels are, then tones x level, in [-1, 1]
            out = (out.clamp(-1.0, 1.0) + 1.0) * self.white_level - 1.0
        return out


class StyleRenderer:
    """The engine bound to one style (and maybe a second one outside a mask), with the same
    ``stylize`` and ``stylize_files`` calls as a translation model's ``Stylizer``.

    ``fusion``, ``strength``, ``finish`` and ``white_level`` are this style's settings (a
    culture style's measured ones): a call's ``fusion``, ``finish`` or ``white_level`` replaces
    the setting, a call's ``strength`` scales it, so 1.0 is always the style at its full
    setting. The strength scales the finish too (``inference.finish.scaled_finish``): ukiyo-e's
    blocks or batik's wax at full over a half-strength rendering were no half-way style, and at
    strength 0 the photo came back posterised; now 0 is the decoded photo and a portrait's
    faces, rendered at a lower strength, get a lighter finish with it."""

    def __init__(
        self,
        engine: FeatureEngine,
        code: StyleCode | list[tuple[StyleCode, float]],
        outside: StyleCode | None = None,
        *,
        fusion: str = "wct",
        strength: float = 1.0,
        finish: Finish = "none",
        palette: np.ndarray | None = None,
        dyes: Dyes | None = None,
        white_level: float = 1.0,
        render_side: int | None = None,
        run_dir: Path | None = None,
        config: dict | None = None,
    ):
        self.engine, self.code, self.outside = engine, code, outside
        self.fusion, self.strength, self.finish = fusion, float(strength), finish
        self.white_level = check_white_level(white_level)
        # the longest side this style renders at (a culture style's measured scale): a call's
        # max_side caps it further, max_side=0 renders at full size; None: the engine's default
        self.render_side = check_render_side(render_side)
        self.palette = palette  # the flat finish's colours (a culture style's), else the image's
        self.dyes = dyes  # the wax finish's colourway (a culture style's), else the rendering's
        self.run_dir, self.config = run_dir, config or {}  # a culture style's folder and record

    def stylize(self, image, **options) -> Image.Image:
        # translation-model options with no meaning here: one direction, tiles overlap by 64
        for name in ("direction", "overlap", "progress"):
            options.pop(name, None)
        strength = options.pop("strength", 1.0)
        if not 0.0 <= strength <= 1.0:
            raise ConfigError(f"strength must be within [0, 1], got {strength}")
        fusion = options.pop("fusion", None) or self.fusion
        white_level = options.pop("white_level", None)
        white_level = self.white_level if white_level is None else white_level
        dyes = options.pop("dyes", None) or self.dyes  # a call's colourway (--dyes-from)
        finish = self.finish_at(strength, options.pop("finish", None), dyes)
        # None (a translation model's "as is") is the style's own scale, else the engine's
        # default; a call's max_side caps the style's, and max_side=0 renders at full size
        asked = options.pop("max_side", None)
        if asked is None:
            asked = self.render_side
        elif asked and self.render_side:
            asked = min(asked, self.render_side)
        if asked is not None:
            options["max_side"] = asked
        return self.engine.render(
            image,
            self.code,
            outside=self.outside,
            fusion=fusion,
            strength=self.strength * strength,
            finish=finish,
            palette=self.palette,
            dyes=dyes,
            white_level=white_level,
            **options,
        )

    def finish_at(self, strength: float, finish: Finish | None = None, dyes: Dyes | None = None):
        """The finish a call at ``strength`` applies (its ``finish``, else this style's), moved
        that fraction of the way from the rendering (``inference.finish.scaled_finish``): what
        ``stylize`` renders and ``export`` names or bakes."""
        finish = finish or self.finish
        if strength >= 1.0:
            return finish
        return scaled_finish(finish, strength, self.palette, dyes or self.dyes)

    stylize_files = Stylizer.stylize_files  # one batch writer: overwrite rules, bad files skipped


def resolve_style(
    engine: FeatureEngine,
    source: str | os.PathLike | Image.Image | StyleCode,
    *,
    tone: str = "as-is",
    on_skip: OnSkip | None = None,
) -> StyleCode:
    """A style from what a user names: a culture (the engine's own codes, else the bundled
    ones), a saved code (.safetensors or a
    ``StyleCode``), a folder of images (pooled), or one image file or PIL image."""
    if isinstance(source, StyleCode):
        return source
    if isinstance(source, Image.Image):
        return engine.code_from_images([source], tone=tone)
    cultures = engine.cultures()
    path = Path(source)
    if not path.exists() and str(source) in cultures:
        return StyleCode.load(cultures[str(source)], channels=engine.channels)
    if path.suffix.lower() == ".safetensors":
        return StyleCode.load(path, channels=engine.channels)
    if path.is_dir():
        return engine.code_from_folder(path, tone=tone, on_skip=on_skip)
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        return engine.code_from_images([path], tone=tone, name=path.stem, source=str(path))
    valid = ", ".join(cultures) or "none bundled"
    raise ConfigError(
        f"{printable(path)}: not a culture, style code, folder or image (cultures: {valid})"
    )


def resolve_mix(engine: FeatureEngine, mix: dict[str, float]) -> list[tuple[StyleCode, float]]:
    """``{"chinese_ink": 0.6, "western_oil": 0.4}`` -> codes with weights; names are bundled
    cultures (or saved codes / folders); bad names or weights list the valid cultures."""
    paths = [name for name in mix if Path(name).exists()]
    check_mix_names(mix, list(engine.cultures()), other_sources=paths)
    return [(resolve_style(engine, name), float(w)) for name, w in mix.items()]


@dataclass
class MixPreset:
    """A mix of cultures' settings, taken from their culture styles (``zoo.culture_styles``):
    the engine they share (else the bundled one), the heaviest culture's fusion, strength and
    white level averaged by weight, each culture's finish at its weight (``FinishShare``) and the
    smallest render side. A culture at weight 1 gets exactly its style's settings; names with no
    culture style (the ``photo`` code, saved codes, folders) add weight and nothing else."""

    engine: str = "bundled"
    fusion: str = "wct"
    strength: float = 1.0
    finish: Finish = "none"
    white_level: float = 1.0
    render_side: int | None = None

    @classmethod
    def of(cls, mix: dict[str, float]) -> MixPreset:
        bundled = _culture_presets()
        presets = {name: bundled[name] for name in mix if name in bundled}
        total = sum(mix.values())
        share = {name: mix[name] / total for name in mix} if total > 0 else {}
        engines = {p.engine for p in presets.values()}
        one_engine = len(engines) == 1 and len(presets) == len(mix)
        weighed = [(share.get(n, 0.0), p) for n, p in presets.items()]
        rest = 1.0 - sum(w for w, _ in weighed)  # names without a style: strength 1, white
        heaviest = max(weighed, key=lambda wp: wp[0], default=(0.0, None))[1]
        shares = tuple(
            FinishShare(p.finish, w, p.palette, p.dyes) for w, p in weighed if p.finish != "none"
        )
        sides = [p.render_side for p in presets.values() if p.render_side]
        return cls(
            engine=next(iter(engines)) if one_engine else "bundled",
            fusion=heaviest.fusion if heaviest is not None else "wct",
            strength=min(1.0, sum(w * p.strength for w, p in weighed) + rest),
            finish=shares or "none",
            white_level=min(1.0, sum(w * p.white_level for w, p in weighed) + rest),
            render_side=min(sides) if sides else None,
        )


@functools.lru_cache(maxsize=1)
def _culture_presets() -> dict[str, StylePreset]:
    """The bundled culture styles' settings, read once (package files; a mix reads them often)."""
    return {
        name: StylePreset.read(folder, read_run_config(folder))
        for name, folder in zoo.culture_styles().items()
    }


@dataclass
class StylePreset:
    """A culture style as a model folder: the engine, a style code and the settings chosen for
    it by measurement. ``config.json`` holds the method ``zoo.CULTURE_STYLE``, ``engine``
    (``bundled``, ``fast`` or a ``train stylenet`` folder), ``code`` (a culture of that engine, or a
    ``.safetensors`` file in the folder), ``fusion``, ``strength``, ``finish``
    (``inference.finish``), optionally the flat finish's ``palette`` (``[[r, g, b], ...]``,
    taken from the culture's corpus) and the wax finish's ``dyes`` (``{"colours": [[r, g, b],
    ...], "shares": [...]}``, the corpus's colourway), ``white_level`` (the grey white
    becomes, default 1) and ``render_side`` (the longest side it renders at, the scale its look
    was chosen at), and a ``card`` like every model folder."""

    folder: Path
    engine: str
    code: str
    fusion: str
    strength: float
    finish: str = "none"
    config: dict = field(default_factory=dict)
    palette: np.ndarray | None = None
    white_level: float = 1.0
    render_side: int | None = None
    dyes: Dyes | None = None

    @classmethod
    def read(cls, folder: str | os.PathLike, config: dict) -> StylePreset:
        folder = Path(folder)
        where = folder / CONFIG_NAME
        engine, code = config.get("engine"), config.get("code")
        fusion, strength = config.get("fusion", "wct"), config.get("strength", 1.0)
        if not isinstance(engine, str) or not engine or not isinstance(code, str) or not code:
            raise ModelFileError(where, "a culture style needs an 'engine' and a 'code'")
        if fusion not in FUSIONS:
            raise ModelFileError(where, f"fusion {fusion!r} is not one of {', '.join(FUSIONS)}")
        if not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
            raise ModelFileError(where, f"strength {strength!r} is not within [0, 1]")
        finish = config.get("finish", "none")
        if finish not in FINISHES:
            raise ModelFileError(where, f"finish {finish!r} is not one of {', '.join(FINISHES)}")
        palette = config.get("palette")
        if palette is not None:
            try:
                palette = check_palette(palette)
            except ValueError as err:
                raise ModelFileError(where, str(err)) from None
        dyes = config.get("dyes")
        if dyes is not None:
            try:
                if not isinstance(dyes, dict):
                    raise ValueError("not an object")
                dyes = Dyes.check(dyes.get("colours"), dyes.get("shares"))
            except ValueError as err:
                raise ModelFileError(where, f"dyes: {err}") from None
        try:
            white_level = check_white_level(config.get("white_level", 1.0))
            render_side = check_render_side(config.get("render_side"))
        except ConfigError as err:
            raise ModelFileError(where, str(err)) from None
        return cls(
            folder,
            engine,
            code,
            fusion,
            float(strength),
            finish,
            config,
            palette,
            white_level,
            render_side,
            dyes,
        )

    def engine_dir(self) -> Path:
        if self.engine in zoo.ENGINES:
            return zoo.engine_dir(self.engine)
        path = Path(self.engine)
        return path if path.is_absolute() else self.folder / path

    def style_code(self, engine: FeatureEngine) -> StyleCode:
        if self.code.endswith(".safetensors"):
            if Path(self.code).name != self.code:
                raise ModelFileError(self.folder / CONFIG_NAME, f"code {self.code!r} not allowed")
            return StyleCode.load(self.folder / self.code, channels=engine.channels)
        cultures = engine.cultures()
        if self.code not in cultures:
            raise ModelFileError(
                self.folder / CONFIG_NAME,
                f"code {self.code!r} is not a culture of the engine ({', '.join(cultures)})",
            )
        return StyleCode.load(cultures[self.code], channels=engine.channels)

    def renderer(self, engine: FeatureEngine) -> StyleRenderer:
        return StyleRenderer(
            engine,
            self.style_code(engine),
            fusion=self.fusion,
            strength=self.strength,
            finish=self.finish,
            palette=self.palette,
            dyes=self.dyes,
            white_level=self.white_level,
            render_side=self.render_side,
            run_dir=self.folder,
            config=self.config,
        )


def check_render_side(side) -> int | None:
    """A style's render side: None, or a whole number of pixels in 64..4096."""
    if side is None:
        return None
    if isinstance(side, bool) or not isinstance(side, int) or not 64 <= side <= 4096:
        raise ConfigError(f"render_side must be a whole number of pixels in 64..4096, got {side!r}")
    return side


def mixed(code: StyleCode | list[tuple[StyleCode, float]]) -> StyleMoments:
    if isinstance(code, StyleCode):
        return code.moments
    try:
        return StyleMoments.mix([(c.moments, w) for c, w in code])
    except ValueError as err:
        raise ConfigError(f"{err} (weights {[w for _, w in code]})") from None


def _fusion_map(
    content: StyleMoments, style: StyleMoments, fusion: str, strength: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, b) with fused = A @ f + b for every feature vector f: AdaIN's per-channel scaling
    (A diagonal) or WCT's whitening and colouring (A full), blended with identity by strength."""
    c = content.mean.shape[0]
    if fusion == "adain":
        a = torch.diag(style.std / content.std)
    else:
        a = style.colouring @ sym_power(content.covariance, -0.5)
    b = style.mean - a @ content.mean
    eye = torch.eye(c, dtype=a.dtype)
    a = eye + strength * (a - eye)
    b = strength * b
    return a.float(), b.float()


def _mask_array(mask, size: tuple[int, int], source: str) -> np.ndarray:
    """A mask (path, PIL image or array) -> float HxW weights in [0, 1] at ``size``."""
    if isinstance(mask, np.ndarray):
        if mask.ndim != 2:
            raise ImageError("<mask>", f"a mask must be one channel, got shape {mask.shape}")
        m = Image.fromarray(
            np.clip(mask.astype(np.float32) * (255 if mask.max() <= 1 else 1), 0, 255).astype(
                np.uint8
            ),
            "L",
        )
    elif isinstance(mask, Image.Image):
        m = mask.convert("L")
    else:
        m = load_image(mask).rgb.convert("L")
    return np.asarray(m.resize(size, Image.Resampling.BILINEAR), np.float32) / 255.0


class _EncoderGraph(nn.Module):
    """The encoder's path to the fusion layer as a module of its own, for ONNX export. With
    detail features, the graph also runs the decoder's detail layer (a 1x1 convolution) at
    stride 4 and packs its output behind the fusion features instead of the detail itself:
    the same sum, and the two graphs pass 4 x 24 channels at stride 8 instead of 4 x 144
    (the fast decoder's; packing and unpacking took 20 ms of its 160 at 512 px)."""

    multiple = 8  # three stride-2 stages: sides multiples of 8 keep every padding fixed

    def __init__(self, encoder: StyleEncoder, decoder: StyleDecoder):
        super().__init__()
        self.encoder = fix_same_padding(copy.deepcopy(encoder))
        self.detail, self.term_packer = None, None
        if encoder.detail_block:
            self.detail = decoder.detail
            self.term_packer = fix_same_padding(DetailPacker(decoder.detail.out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fusion, detail = self.encoder.fusion_and_detail(x)
        if detail is None:
            return fusion
        return self.term_packer.pack(fusion, self.detail(detail))


class _DecoderGraph(nn.Module):
    """The decoder for ONNX export: its input is the fusion features with, behind them, the
    packed output of the decoder's detail layer (``_EncoderGraph``), not an image."""

    multiple = 1

    def __init__(self, decoder: StyleDecoder):
        super().__init__()
        config = decoder.config
        self.decoder, self.in_channels = decoder, config.in_channels
        self.term_channels = 4 * decoder.detail.out_channels if config.detail_channels else 0
        self.in_channels += self.term_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.term_channels:
            return self.decoder(x)
        fusion, packed = x.split([self.in_channels - self.term_channels, self.term_channels], 1)
        return self.decoder.render(fusion, nn.functional.pixel_shuffle(packed, 2))


class _Renderer:
    """encoder -> affine fusion (one style, or two blended by ``weight``) -> decoder. With
    ``content`` the fusion maps are fixed (tiles); without, each pass takes the content's
    moments from the features it has just computed. The encoder and decoder are callables:
    the torch modules or their onnxruntime graphs."""

    def __init__(self, encoder, decoder, styles, fusion: str, strength: float, content, channels):
        self.encoder, self.decoder, self.channels = encoder, decoder, channels
        self.styles, self.fusion, self.strength = styles, fusion, strength
        self.maps = None if content is None else self._maps(content)
        self.weight: torch.Tensor | None = None  # (1, 1, h, w) mask at pixel size, per call

    def _maps(self, content: StyleMoments) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [_fusion_map(content, s, self.fusion, self.strength) for s in self.styles]

    @staticmethod
    @in_float32
    def _fused(features: torch.Tensor, fusion_map) -> torch.Tensor:
        a, b = (t.to(features.device) for t in fusion_map)
        return torch.einsum("oc,nchw->nohw", a, features.float()) + b[None, :, None, None]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        encoded = self.encoder(x)  # fusion features, then packed detail features (if any)
        features = encoded[:, : self.channels]
        maps = self.maps or self._maps(StyleMoments.of(features[0]))
        fused = self._fused(features, maps[0])
        if len(maps) > 1 and self.weight is not None:
            w = torch.nn.functional.interpolate(
                self.weight, size=fused.shape[-2:], mode="bilinear", align_corners=False
            )
            fused = w * fused + (1 - w) * self._fused(features, maps[1])
        packed = encoded.float()  # this call's own tensor (or a float copy): fused in place,
        packed[:, : self.channels] = fused  # the detail behind it without a concatenated copy
        return self.decoder(packed.to(encoded.dtype))


def _render_masked(runner: TileRunner, renderer: _Renderer, pixels, weight, tile) -> np.ndarray:
    """Two styles blended by a mask on the feature grid; rendered whole (the mask must line up
    with the image, so the working size is bounded by ``max_side`` rather than tiled)."""
    h, w = pixels.shape[:2]
    ph, pw = (-h) % 8, (-w) % 8
    padded = np.pad(weight, ((0, ph), (0, pw)), mode="edge")
    renderer.weight = torch.from_numpy(padded)[None, None].to(runner.device)
    try:
        return runner.run(pixels, tile=0)
    finally:
        renderer.weight = None


def check_mix_names(
    mix: dict[str, float], valid: list[str], other_sources: Iterable[str] = ()
) -> None:
    """Names must be bundled cultures (or ``other_sources``: codes, folders, images) and
    weights >= 0, finite and not all zero; the error lists the valid culture names."""
    unknown = sorted(set(mix) - set(valid) - set(other_sources))
    if unknown:
        raise ConfigError(
            f"unknown culture {', '.join(map(repr, unknown))} in the mix; valid: {', '.join(valid)}"
        )
    weights = list(mix.values())
    if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ConfigError(
            f"mix weights must be >= 0 and not all zero (got {mix}); "
            f"valid names: {', '.join(valid)}"
        )


def parse_mix(text: str) -> dict[str, float]:
    """``"chinese_ink=0.6,western_oil=0.4"`` -> dict; a bad part is a one-line error."""
    out: dict[str, float] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value) if sep else float("nan")
        except ValueError:
            out[name.strip()] = float("nan")
        if not sep or not np.isfinite(out[name.strip()]):
            raise ConfigError(f"mix part {part.strip()!r} is not NAME=WEIGHT (e.g. ukiyoe=0.5)")
    if not out:
        raise ConfigError("--mix is empty; give NAME=WEIGHT,NAME=WEIGHT")
    return out


__all__ = [
    "BakedStyle",
    "FeatureEngine",
    "MixPreset",
    "StyleCode",
    "StyleRenderer",
    "check_mix_names",
    "mixed",
    "paper_tone",
    "parse_mix",
    "resolve_mix",
    "resolve_style",
]
