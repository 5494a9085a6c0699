"""Finishes: a classical last stage a culture style may name, for what its print process does
and a decoder trained on feature statistics does not (it paints texture everywhere).

``flat``: woodblock-print colour. A print's colour blocks are cut along the shapes of what it
shows, so the regions come from the photo: Felzenszwalb and Huttenlocher's (2004) graph
segmentation cuts it into regions of similar colour, each region takes the rendering's mean
colour there, and that becomes the nearest colour of a small palette: the style's (a culture
style's: its corpus's colours, ``design.palette.palette_of``), else the rendering's own
(k-means). A photo larger than ``REGION_SIDE`` is cut at that size and its blocks enlarged
with smooth borders: the segmentation's time grows fast with size (32 s at 6 MP) and it was
most of ``--style ukiyoe``'s time at 512 px; cut at 384 instead of 512 the style renders 1.4x
faster end to end, the same on every classifier within one photo in 25.
Without the photo the rendering's own regions are used (mean-shift filtering, Comaniciu and
Meer 2002). The rendering's own regions followed its painted texture and gave a
patchwork of small fields; the photo's follow its objects. On 93 held-out photos
(docs/feature_engine.md, "Regions from the photo") a six-way classifier trained on the second
collections named ukiyo-e 31% -> 87% of the ``ukiyoe`` renderings, the dev-trained one 96% ->
87%, KID (lite0) to the dev prints went from a rise of 2.9 to a drop of 5.7 standard
deviations, and edge SSIM rose 0.37 -> 0.45.

``flat_detail``: the flat colour fields with the rendering's own fine detail (what a 2 px
Gaussian blur removes: lines, hatching, grain) laid back over them at unit gain, as luminance:
the key block's lines and the paper's grain are dark and light, not coloured (the decoder's tints
in them were colour speckle, 2.3x the prints' fine colour detail). Flat colour alone also erases
the key-block lines inside regions; with the detail the six-way classifier's ukiyo-e share rose
from 72% to 96% on the 25 photos the styles were chosen on.

``grey``: the rendering's luminance (``inference.color.LUMA``), colour dropped. For line
drawings: the ornament corpus is pattern drawings photographed in black and white (mean
saturation 0.000 over its images), and a decoder trained on feature statistics leaves faint
tints in the white ground and along the lines, which is what a six-way classifier read as ink
wash rather than drawing in a distilled decoder's renderings (docs/feature_engine.md). Unlike
the flat finishes it is a linear map of the pixels, so an exported graph carries it.

``wax``: batik's wax resist. Each dye bath colours what the wax leaves open, so a cloth is a
few tone levels in its dyes, from the undyed ground to the darkest bath, with the canting's
drawn lines in the darkest dye. The rendering's luminance is cut into the dyes' levels at the
quantiles that give each dye its share of the cloth (a culture style's: its corpus's most common
colourway and shares, ``design.palette.colourway_of``; otherwise the rendering's own three
colours), and pixels darker than their surround, in the rendering (its crackle and lines) or
in the photo (its contours), take the darkest dye. The rendering's crackle is drawn only where
the photo is calm: in busy parts (foliage, fur) it hid the subject, and there the photo's own
contours carry the drawing. Dye bleeds into cotton, so the dyed cloth is softened by
``DYE_BLEED`` px: with hard pixel borders the renderings held far more fine detail than the
photographed cloths of the corpus (high-pass energy at 224 px 31 against 18 grey levels; 18 with
the bleed). The six-way classifier named the engine's batik renderings of 25 / 93 held-out
photos batik 20% / 7% of the time with the flat finish and 100% / 74% with this one, at edge
SSIM 0.31 / 0.28 (docs/feature_engine.md, "Batik's wax resist").

``white_level`` (any finish): the rendering's tones scaled so that white becomes this grey. The
engine paints on pure white, where the paper of ink paintings, as both ink collections
photograph it, sits at a luminance of about 0.80 (90th percentile; the renderings 0.95), and a
white ground is what gave the ink renderings away as not ink (docs/feature_engine.md).
A scale, not a colour: the ground stays neutral grey, not the yellow of aged silk.

A mix of cultures (``FinishShare``): the feature-space mix's rendering moved toward each
culture's finished rendering by that culture's weight, so a culture at weight 1 gets exactly
its finish, and a 0 -> 1 sweep goes from one culture style to the other without a jump.

``finish_to_size`` applies a finish at the resolution the engine rendered at, where the
settings were measured, and brings the result to the output size: flat regions as a label map
enlarged per label (so their borders stay crisp), the detail enlarged smoothly and as
luminance only (enlarged, the decoder's tints in it showed as colour fringes along lines).
Mean-shift's 8 px window and the 2 px detail then mean the same part of the picture at every
output size, and a 6 MP output takes 2 s instead of 7 (``bench/finish_speed.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.segmentation import felzenszwalb

from ..errors import ConfigError
from .color import LUMA

FINISHES = ("none", "flat", "flat_detail", "grey", "wax")
DETAIL_SIGMA = 2.0  # px: finer than this comes from the rendering, coarser from the flat fields
REGION_SCALE = 150.0  # the photo's segmentation: larger gives fewer, larger colour blocks
REGION_SIGMA = 0.8  # px: the photo smoothed before it is cut
REGION_MIN = 100  # px: the smallest colour block
REGION_SIDE = 384  # px: a larger photo is cut at this size (its look and the time it takes)
OWN_DYES = 3  # wax without a style's colourway: the rendering's own three colours
LINE_SURROUND = 2.0  # px: a line is darker than its neighbourhood blurred this much
RENDERING_LINE = 12.0  # grey levels darker than the surround: the rendering's lines and crackle
PHOTO_LINE = 5.0  # the same on the photo, whose contours are softer than painted lines
BUSY_SIGMA = 4.0  # px: the neighbourhood over which the photo's edge strength is averaged
BUSY_EDGES = 14.0  # grey levels of mean gradient from which the photo is busy: no crackle there
DYE_BLEED = 0.85  # px at the rendered size: the dyed cloth's softened borders
LEVEL_SIGMA = 1.0  # px: the luminance the dye levels are cut from, lightly smoothed


def kmeans_colours(
    pixels: np.ndarray, colours: int, seed: int = 0, iterations: int = 8, sample: int = 20_000
) -> np.ndarray:
    """(colours, 3) float32 k-means centres of ``pixels`` (N, 3), fitted on at most ``sample``
    of them (seeded, so the same pixels always give the same palette)."""
    pixels = pixels.reshape(-1, 3).astype(np.float32)
    rng = np.random.default_rng(seed)
    picked = pixels[rng.choice(len(pixels), min(len(pixels), sample), replace=False)]
    centres = _plus_plus_seeds(picked, min(colours, len(picked)), rng)
    for _ in range(iterations):
        nearest = _nearest(picked, centres)
        for k in range(len(centres)):
            members = picked[nearest == k]
            if len(members):
                centres[k] = members.mean(0)
    return centres


def _plus_plus_seeds(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii 2007): each new centre drawn with probability
    proportional to its squared distance from the nearest chosen one, so rare but distinct
    colours (a vermilion seal, an indigo sky) get a centre instead of two landing in one."""
    centres = [points[rng.integers(len(points))]]
    nearest = ((points - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = nearest.sum()
        pick = (
            rng.choice(len(points), p=nearest / total) if total > 0 else rng.integers(len(points))
        )
        centres.append(points[pick])
        nearest = np.minimum(nearest, ((points - points[pick]) ** 2).sum(1))
    return np.array(centres, np.float32)


def palette_labels(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """(H, W) index of each pixel's nearest colour of ``palette``."""
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    palette = np.asarray(palette, np.float32)
    labels = np.concatenate(
        [_nearest(pixels[i : i + 65536], palette) for i in range(0, len(pixels), 65536)]
    )
    return labels.reshape(rgb.shape[:2])


def _as_colours(palette: np.ndarray) -> np.ndarray:
    return np.asarray(palette, np.float32).round().clip(0, 255).astype(np.uint8)


def map_to_palette(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Every pixel of ``rgb`` (H, W, 3) replaced by its nearest colour of ``palette``."""
    return _as_colours(palette)[palette_labels(rgb, palette)]


def palette_quantise(rgb: np.ndarray, colours: int, seed: int = 0, iterations: int = 8):
    """``rgb`` (H, W, 3) uint8 reduced to ``colours`` of its own colours (k-means)."""
    return map_to_palette(rgb, kmeans_colours(rgb, colours, seed, iterations))


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distances = (points**2).sum(1)[:, None] - 2 * points @ centres.T + (centres**2).sum(1)
    return distances.argmin(1)


def photo_regions(photo: np.ndarray) -> np.ndarray:
    """(H, W) int region ids: ``photo`` (H, W, 3) uint8 cut into regions of similar colour."""
    return felzenszwalb(photo, scale=REGION_SCALE, sigma=REGION_SIGMA, min_size=REGION_MIN)


def _region_means(rgb: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """(N, 3) float32 mean colour of ``rgb`` in each of the N regions."""
    ids = regions.ravel()
    count = np.maximum(np.bincount(ids), 1)
    pixels = rgb.reshape(-1, 3).astype(np.float64)
    sums = [np.bincount(ids, weights=pixels[:, c], minlength=len(count)) for c in range(3)]
    return (np.stack(sums, 1) / count[:, None]).astype(np.float32)


def flat_labels(
    rgb: np.ndarray,
    spatial: int = 8,
    colour: int = 24,
    colours: int = 24,
    palette: np.ndarray | None = None,
    photo: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat colour regions, as ((H, W) labels, (K, 3) uint8 colours): the regions of ``photo``
    (the content at the rendering's size) each in the rendering's mean colour, else the
    rendering's own (mean-shift, ``spatial`` px and ``colour`` levels), mapped to ``palette``
    if given, else to ``colours`` of the rendering's own colours (k-means)."""
    if photo is None:
        flattened = cv2.pyrMeanShiftFiltering(np.ascontiguousarray(rgb), spatial, colour)
        if palette is None:
            palette = kmeans_colours(flattened, colours)
        labels = palette_labels(flattened, palette)
    else:
        if palette is None:
            palette = kmeans_colours(rgb, colours)
        height, width = rgb.shape[:2]
        scale = REGION_SIDE / max(height, width)
        if scale < 1.0:  # cut where the blocks were measured, then enlarged with smooth borders
            small = (max(1, round(width * scale)), max(1, round(height * scale)))
            labels, _ = flat_labels(
                cv2.resize(rgb, small, interpolation=cv2.INTER_AREA),
                palette=palette,
                photo=cv2.resize(photo, small, interpolation=cv2.INTER_AREA),
            )
            return enlarge_labels(labels, (width, height)), _as_colours(palette)
        regions = photo_regions(photo)
        labels = palette_labels(_region_means(rgb, regions)[None], palette)[0][regions]
    # at most 256 colours: one byte a pixel
    return labels.astype(np.uint8 if len(palette) <= 256 else np.int32), _as_colours(palette)


def enlarge_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A label map brought to ``size`` (width, height): each label's mask enlarged bilinearly
    and every pixel given the label whose mask is highest there, so region borders come out
    smooth and crisp instead of in blocks. One label at a time: memory stays at a few maps."""
    best = np.full((size[1], size[0]), -1.0, np.float32)
    out = np.zeros((size[1], size[0]), labels.dtype)
    for label in np.unique(labels):
        mask = cv2.resize(
            (labels == label).astype(np.float32), size, interpolation=cv2.INTER_LINEAR
        )
        higher = mask > best
        best[higher] = mask[higher]
        out[higher] = label
    return out


def check_palette(palette) -> np.ndarray:
    """A palette as (N, 3) uint8, N in 2..256; ValueError saying what is wrong otherwise."""
    try:
        array = np.asarray(palette, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("a palette is a list of [r, g, b] colours") from None
    if array.ndim != 2 or array.shape[1] != 3 or not 2 <= len(array) <= 256:
        raise ValueError(f"a palette is 2-256 [r, g, b] colours, got shape {array.shape}")
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 255:
        raise ValueError("palette colours are numbers in 0-255")
    return array.round().astype(np.uint8)


@dataclass(frozen=True)
class Dyes:
    """A batik colourway for the ``wax`` finish: the dyes from the ground (lightest) to the
    darkest bath, and the share of the cloth each covers."""

    colours: np.ndarray  # (N, 3) uint8, light to dark
    shares: np.ndarray  # (N,) float, sums to 1

    @classmethod
    def check(cls, colours, shares) -> Dyes:
        """Dyes from lists; ValueError saying what is wrong otherwise. Ordered by luminance
        here, so a config may list them in any order."""
        colours = check_palette(colours)
        if len(colours) > 8:
            raise ValueError(f"a colourway is 2-8 dyes, got {len(colours)}")
        try:
            shares = np.asarray(shares, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("dye shares are numbers, one per dye") from None
        if shares.shape != (len(colours),) or not np.isfinite(shares).all() or shares.min() <= 0:
            raise ValueError(f"dye shares are {len(colours)} positive numbers, one per dye")
        order = np.argsort(-(colours.astype(np.float32) @ LUMA), kind="stable")
        return cls(colours[order], shares[order] / shares.sum())


@dataclass(frozen=True)
class FinishShare:
    """One culture's finish in a mix of cultures, applied at that culture's weight."""

    finish: str
    amount: float  # the culture's share of the mix, 0..1
    palette: np.ndarray | None = None
    dyes: Dyes | None = None


Finish = str | tuple[FinishShare, ...]  # one finish, or a mix's shares


def check_finish(finish: Finish) -> None:
    """ConfigError naming the valid finishes, for an unknown one (also within a mix)."""
    for name in [finish] if isinstance(finish, str) else [s.finish for s in finish]:
        if name not in FINISHES:
            raise ConfigError(f"unknown finish {name!r}; one of {', '.join(FINISHES)}")
    if not isinstance(finish, str) and any(not 0.0 <= s.amount <= 1.0 for s in finish):
        raise ConfigError(f"finish shares must be within [0, 1], got {[s.amount for s in finish]}")


def describe_finish(finish: Finish) -> str:
    """``flat`` or, for a mix, ``flat_detail at 0.25, wax at 0.75``."""
    if isinstance(finish, str):
        return finish
    return ", ".join(f"{s.finish} at {s.amount:g}" for s in finish) or "none"


def grey_share(finish: Finish) -> float:
    """How much of the ``grey`` finish ``finish`` applies: 1 for ``grey``, its share when
    scaled (a strength below 1), 0 for anything else, a mix of cultures included."""
    if finish == "grey":
        return 1.0
    if not isinstance(finish, str) and len(finish) == 1 and finish[0].finish == "grey":
        return finish[0].amount
    return 0.0


def scaled_finish(
    finish: Finish, amount: float, palette: np.ndarray | None = None, dyes: Dyes | None = None
) -> Finish:
    """``finish`` applied ``amount`` (0..1) of the way from the rendering to its finished self
    (a mix's shares scaled alike): what a call's strength below 1 does to a style's finish."""
    if isinstance(finish, str):
        return "none" if finish == "none" else (FinishShare(finish, amount, palette, dyes),)
    return tuple(FinishShare(s.finish, s.amount * amount, s.palette, s.dyes) for s in finish)


def _blend_to_size(
    rgb: np.ndarray, size: tuple[int, int], shares: tuple[FinishShare, ...], photo
) -> np.ndarray:
    if len(shares) == 1 and shares[0].amount == 1.0:  # one culture: its finish exactly
        one = shares[0]
        return finish_to_size(rgb, size, one.finish, one.palette, dyes=one.dyes, photo=photo)
    base = finish_to_size(rgb, size, "none").astype(np.float32)
    out = base.copy()
    for share in shares:
        if share.amount > 0.0:
            finished = finish_to_size(
                rgb, size, share.finish, share.palette, dyes=share.dyes, photo=photo
            )
            out += share.amount * (finished.astype(np.float32) - base)
    return out.round().clip(0, 255).astype(np.uint8)


def own_dyes(rgb: np.ndarray, count: int = OWN_DYES) -> Dyes:
    """The rendering's own ``count`` colours (k-means) and the share each covers."""
    centres = kmeans_colours(rgb, count)
    counts = np.bincount(palette_labels(rgb, centres).ravel(), minlength=len(centres)) + 1
    return Dyes.check(centres.round().clip(0, 255), counts)


def _darker_than_surround(lum: np.ndarray, by: float) -> np.ndarray:
    return lum < cv2.GaussianBlur(lum, (0, 0), LINE_SURROUND) - by


def _edge_strength(lum: np.ndarray) -> np.ndarray:
    """Mean Sobel gradient magnitude (grey levels per px) over a ``BUSY_SIGMA`` neighbourhood."""
    gx = cv2.Sobel(lum, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(lum, cv2.CV_32F, 0, 1)
    return cv2.GaussianBlur(np.hypot(gx, gy) / 8.0, (0, 0), BUSY_SIGMA)


def bleed(dyed: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """``dyed`` (H, W, 3) uint8 with its dye borders softened by ``DYE_BLEED`` px times
    ``scale`` (the output's size over the rendering's)."""
    soft = cv2.GaussianBlur(dyed.astype(np.float32), (0, 0), DYE_BLEED * scale)
    return soft.round().clip(0, 255).astype(np.uint8)


def wax_labels(
    rgb: np.ndarray, dyes: Dyes | None = None, photo: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``wax`` finish as ((H, W) dye index, (N, 3) uint8 dye colours): the rendering's
    luminance cut into the dyes' levels by their shares, lines in the darkest dye. ``photo``
    ((H, W, 3), the rendering's size) adds its contours to the lines and keeps the rendering's
    crackle out of its busy parts."""
    dyes = dyes or own_dyes(rgb)
    lum = rgb.astype(np.float32) @ LUMA
    levels = cv2.GaussianBlur(lum, (0, 0), LEVEL_SIGMA)
    # the lightest share first: the ground is the brightest part of the rendering
    cuts = np.quantile(levels, 1.0 - np.cumsum(dyes.shares)[:-1])
    labels = np.searchsorted(-cuts, -levels)  # 0 = ground ... N-1 = the darkest dye
    lines = _darker_than_surround(lum, RENDERING_LINE)
    if photo is not None:
        photo_lum = photo.astype(np.float32) @ LUMA
        lines &= _edge_strength(photo_lum) < BUSY_EDGES  # crackle where the photo is calm
        lines |= _darker_than_surround(photo_lum, PHOTO_LINE)
    labels[lines] = len(dyes.colours) - 1
    return labels.astype(np.uint8), dyes.colours


def fine_detail(rgb: np.ndarray, sigma: float = DETAIL_SIGMA) -> np.ndarray:
    """The detail of ``rgb`` (H, W, 3) finer than ``sigma`` px, float32 around zero."""
    source = rgb.astype(np.float32)
    return source - cv2.GaussianBlur(source, (0, 0), sigma)


def check_white_level(level: float) -> float:
    """``level`` as a float in (0, 1]; ConfigError saying what is wrong otherwise."""
    if not isinstance(level, (int, float)) or not 0.0 < level <= 1.0:
        raise ConfigError(f"white level must be within (0, 1], got {level!r}")
    return float(level)


def lower_white(rgb: np.ndarray, level: float) -> np.ndarray:
    """``rgb`` (H, W, 3) uint8 with its tones scaled so that white becomes ``level`` grey."""
    if level >= 1.0:
        return rgb
    return (rgb.astype(np.float32) * level).round().clip(0, 255).astype(np.uint8)


def finish_to_size(
    rgb: np.ndarray,
    size: tuple[int, int],
    finish: Finish,
    palette: np.ndarray | None = None,
    *,
    dyes: Dyes | None = None,
    photo: np.ndarray | None = None,
) -> np.ndarray:
    """``rgb`` (H, W, 3) uint8, the rendering at the size it was rendered at, finished there and
    brought to ``size`` (width, height): flat regions and dye levels through
    ``enlarge_labels``, detail and everything else resized smoothly (bicubic). ``dyes`` and
    ``photo`` (the content at the rendering's size) are the ``wax`` finish's; a mix's
    ``FinishShare``s carry their own palette and dyes."""
    check_finish(finish)
    if not isinstance(finish, str):
        return _blend_to_size(rgb, size, finish, photo)
    same = (rgb.shape[1], rgb.shape[0]) == tuple(size)

    def resized(image: np.ndarray) -> np.ndarray:
        return image if same else cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)

    if finish == "none":
        return resized(rgb)
    if finish == "grey":
        grey = (resized(rgb).astype(np.float32) @ LUMA).round().clip(0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if finish == "wax":
        labels, colours = wax_labels(rgb, dyes, photo)
    else:
        labels, colours = flat_labels(rgb, palette=palette, photo=photo)
    flat = colours[labels if same else enlarge_labels(labels, size)]
    if finish == "wax":
        return bleed(flat, size[0] / rgb.shape[1])
    if finish == "flat":
        return flat
    detail = resized(fine_detail(rgb) @ LUMA)  # lines and grain as light and dark, not tints
    return (flat.astype(np.float32) + detail[..., None]).round().clip(0, 255).astype(np.uint8)


def apply_finish(
    rgb: np.ndarray,
    finish: Finish,
    palette: np.ndarray | None = None,
    *,
    dyes: Dyes | None = None,
    photo: np.ndarray | None = None,
) -> np.ndarray:
    """``finish_to_size`` at the rendering's own size."""
    size = (rgb.shape[1], rgb.shape[0])
    return finish_to_size(rgb, size, finish, palette, dyes=dyes, photo=photo)
