"""Hand-made style descriptors of one image: colour, tone, composition, line and texture.

Every descriptor is computed on the image shrunk so its long side is ``ANALYSIS_SIDE`` pixels,
so numbers do not depend on the file's resolution. ``DESCRIPTORS`` says in plain words what
each one measures; docs/analysis.md explains why it matters for style.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

VERSION = "desc-2"
ANALYSIS_SIDE = 256
PALETTE_SIZE = 5
ORIENTATION_BINS = 8
EMPTY_CELL = 8  # px: cells of this size at the analysis size decide "empty space"
EMPTY_STD = 0.025  # luminance/chroma std below which a cell holds no marks
EDGE_THRESHOLD = 0.1  # luminance step (0..1) across a pixel pair that counts as an edge


@dataclass(frozen=True)
class Descriptor:
    """How a descriptor reads in a report: its group, a short label and the words for it."""

    group: str
    label: str
    phrase: str  # "<culture> has more <phrase> than ..."
    ratio: bool = True  # a positive quantity, so "2.3x more" reads correctly


DESCRIPTORS: dict[str, Descriptor] = {
    "saturation": Descriptor("colour", "saturation (mean)", "colour saturation"),
    "saturation_spread": Descriptor("colour", "saturation (std)", "variation in saturation"),
    "value": Descriptor("colour", "value / brightness (HSV V)", "brightness (HSV value)"),
    "colourfulness": Descriptor("colour", "colourfulness (Hasler-Suesstrunk)", "colourfulness"),
    "warm_share": Descriptor("colour", "warm-hue share", "warm (red-yellow) colour"),
    "hue_spread": Descriptor("colour", "hue spread (circular)", "spread of hues"),
    "palette_spread": Descriptor("colour", "palette spread (CIELAB)", "palette contrast"),
    "contrast": Descriptor("tone", "contrast (RMS)", "tonal contrast"),
    "dynamic_range": Descriptor("tone", "dynamic range (p1-p99)", "dynamic range"),
    "key": Descriptor("tone", "key (mean luminance)", "overall lightness"),
    "tone_entropy": Descriptor("tone", "tone histogram entropy", "tonal variety"),
    "negative_space": Descriptor("composition", "negative-space ratio", "empty space"),
    "mass_x": Descriptor("composition", "visual mass centre x", "rightward visual weight", False),
    "mass_y": Descriptor("composition", "visual mass centre y", "downward visual weight", False),
    "mass_offset": Descriptor("composition", "mass offset from centre", "off-centre weight"),
    "symmetry": Descriptor("composition", "left-right symmetry", "left-right symmetry", False),
    "thirds_energy": Descriptor("composition", "rule-of-thirds energy", "weight on thirds lines"),
    "aspect_ratio": Descriptor("composition", "aspect ratio (w/h)", "width relative to height"),
    "edge_density": Descriptor("line", "edge density", "edges"),
    "orientation_entropy": Descriptor("line", "edge orientation entropy", "variety of line angles"),
    "orientation_hv": Descriptor("line", "horizontal+vertical edge share", "straight H/V lines"),
    "stroke_width": Descriptor("line", "dark stroke width (px at 256)", "stroke width"),
    "stroke_width_spread": Descriptor("line", "stroke width std", "variation in stroke width"),
    "stroke_share": Descriptor("line", "dark-stroke area share", "dark stroke area"),
    "texture_fine": Descriptor("texture", "texture energy, fine scale", "fine texture"),
    "texture_mid": Descriptor("texture", "texture energy, middle scale", "middle-scale texture"),
    "texture_coarse": Descriptor("texture", "texture energy, coarse scale", "coarse structure"),
    "lbp_entropy": Descriptor("texture", "LBP pattern entropy", "micro-texture variety"),
    "high_freq_share": Descriptor("texture", "high-frequency power share", "fine detail"),
}
DESCRIPTOR_NAMES = tuple(DESCRIPTORS)
HUE_MEAN = "hue_mean_deg"  # circular, so reported but left out of linear statistics


def shrink(rgb: np.ndarray, side: int = ANALYSIS_SIDE) -> np.ndarray:
    """Uint8 HxWx3 -> float32 in [0, 1] with the long side at most ``side`` (area averaging)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    if max(h, w) > side:
        scale = side / max(h, w)
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))
    return rgb.astype(np.float32) / 255.0


def _hsv(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in radians, saturation (max-min)/max and value max(R,G,B) (the HSV cone)."""
    hsv = cv2.cvtColor(np.ascontiguousarray(img, np.float32), cv2.COLOR_RGB2HSV)
    return np.radians(hsv[..., 0]), hsv[..., 1], hsv[..., 2]


def colour_descriptors(img: np.ndarray) -> dict[str, float]:
    hue, sat, val = _hsv(img)
    weight = sat * val  # grey pixels carry no hue
    total = float(weight.sum())
    if total > 1e-6:
        cx = float((weight * np.cos(hue)).sum()) / total
        cy = float((weight * np.sin(hue)).sum()) / total
        hue_mean = float(np.degrees(np.arctan2(cy, cx)) % 360)
        hue_spread = 1.0 - float(np.hypot(cx, cy))
        warm_hues = (hue < np.radians(90)) | (hue > np.radians(330))
        warm = float(weight[warm_hues].sum()) / total
    else:
        hue_mean, hue_spread, warm = 0.0, 0.0, 0.0
    px = img * 255.0
    rg = px[..., 0] - px[..., 1]
    yb = 0.5 * (px[..., 0] + px[..., 1]) - px[..., 2]
    colourfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    return {
        HUE_MEAN: hue_mean,
        "hue_spread": hue_spread,
        "warm_share": warm,
        "saturation": float(sat.mean()),
        "saturation_spread": float(sat.std()),
        "value": float(val.mean()),
        "colourfulness": colourfulness,
    }


def palette(img: np.ndarray, k: int = PALETTE_SIZE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dominant colours by k-means in CIELAB on a pixel sample: (k, 3) Lab centres, k shares."""
    pixels = img.reshape(-1, 3)
    rng = np.random.default_rng(seed)
    sample = pixels[rng.choice(len(pixels), min(len(pixels), 1024), replace=False)]
    lab = cv2.cvtColor(sample[None].astype(np.float32), cv2.COLOR_RGB2Lab)[0].astype(np.float64)
    order = np.argsort(lab[:, 0])
    centres = lab[order[np.linspace(0, len(lab) - 1, k).astype(int)]].copy()  # spread by lightness
    for _ in range(8):
        dist = (lab * lab).sum(1)[:, None] - 2.0 * lab @ centres.T + (centres * centres).sum(1)
        assign = dist.argmin(1)
        counts = np.bincount(assign, minlength=k)
        for axis in range(3):
            sums = np.bincount(assign, weights=lab[:, axis], minlength=k)
            centres[:, axis] = np.where(counts > 0, sums / np.maximum(counts, 1), centres[:, axis])
    shares = counts / len(lab)
    order = np.argsort(-shares)
    return centres[order].astype(np.float32), shares[order].astype(np.float32)


def luminance(img: np.ndarray) -> np.ndarray:
    return img @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def tone_descriptors(lum: np.ndarray) -> dict[str, float]:
    hist = np.bincount(np.clip((lum * 64).astype(int), 0, 63).ravel(), minlength=64)
    p = hist[hist > 0] / lum.size
    lo, hi = np.percentile(lum, [1, 99])
    return {
        "contrast": float(lum.std()),
        "dynamic_range": float(hi - lo),
        "key": float(lum.mean()),
        "tone_entropy": float(-(p * np.log2(p)).sum()),
    }


def _cells_std(channel: np.ndarray, cell: int) -> np.ndarray:
    h, w = (channel.shape[0] // cell) * cell, (channel.shape[1] // cell) * cell
    blocks = channel[:h, :w].reshape(h // cell, cell, w // cell, cell)
    return blocks.std(axis=(1, 3))


def composition_descriptors(
    img: np.ndarray, lum: np.ndarray, grad: np.ndarray, aspect: float
) -> dict[str, float]:
    cell = EMPTY_CELL if min(lum.shape) >= 4 * EMPTY_CELL else 2
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    empty = (_cells_std(lum, cell) < EMPTY_STD) & (_cells_std(chroma, cell) < EMPTY_STD)
    weight = grad + np.abs(lum - np.median(lum))  # detail and departure from the ground
    total = float(weight.sum()) or 1.0
    h, w = lum.shape
    ys, xs = (np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w
    mass_x = float((weight.sum(0) * xs).sum()) / total
    mass_y = float((weight.sum(1) * ys).sum()) / total
    near_x = (np.abs(xs - 1 / 3) < 1 / 12) | (np.abs(xs - 2 / 3) < 1 / 12)
    near_y = (np.abs(ys - 1 / 3) < 1 / 12) | (np.abs(ys - 2 / 3) < 1 / 12)
    band = near_y[:, None] | near_x[None, :]
    thirds = float(weight[band].mean() / max(weight.mean(), 1e-9)) if band.any() else 1.0
    flipped = lum[:, ::-1]
    a, b = lum - lum.mean(), flipped - flipped.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return {
        "negative_space": float(empty.mean()),
        "mass_x": mass_x,
        "mass_y": mass_y,
        "mass_offset": float(np.hypot(mass_x - 0.5, mass_y - 0.5)),
        "symmetry": float((a * b).sum() / denom) if denom > 1e-9 else 1.0,
        "thirds_energy": thirds,
        "aspect_ratio": float(aspect),
    }


def _stroke_widths(lum: np.ndarray) -> tuple[float, float, float]:
    """Dark marks (darker than their surround) -> mean/std width along their ridges, area."""
    local = cv2.blur(lum, (15, 15), borderType=cv2.BORDER_REFLECT)
    strokes = lum < local - 0.08
    share = float(strokes.mean())
    if share < 1e-4:
        return 0.0, 0.0, share
    dist = cv2.distanceTransform(strokes.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ridge = strokes & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    widths = 2.0 * dist[ridge] - 1.0
    return float(widths.mean()), float(widths.std()), share


def _pyramid_band_energy(lum: np.ndarray, levels: int) -> list[float]:
    """Std of each Laplacian-pyramid band: texture energy from fine (first) to coarse."""
    bands, level = [], lum
    for _ in range(levels):
        blurred = cv2.GaussianBlur(level, (9, 9), 1.0, borderType=cv2.BORDER_REFLECT)
        bands.append(float((level - blurred).std()))
        if min(blurred.shape) < 8:
            break
        level = blurred[::2, ::2]
    return bands + [0.0] * (levels - len(bands))


def _uniform_lbp_histogram(lum: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform LBP (8 neighbours, radius 1): shares of its 10 codes."""
    centre = lum[1:-1, 1:-1]
    h, w = centre.shape
    shifts = ((0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0))
    bits = np.stack([lum[dy : dy + h, dx : dx + w] >= centre for dy, dx in shifts])
    ones = bits.sum(0)
    transitions = (bits != np.roll(bits, 1, axis=0)).sum(0)
    codes = np.where(transitions <= 2, ones, 9)
    return np.bincount(codes.ravel(), minlength=10) / codes.size


def line_texture_descriptors(lum: np.ndarray) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Line and texture numbers, the gradient magnitude, and the orientation histogram."""
    gx = cv2.Sobel(lum, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT) / 8.0
    gy = cv2.Sobel(lum, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT) / 8.0
    grad = cv2.magnitude(gx, gy)
    edges = grad > EDGE_THRESHOLD / 2.0  # Sobel/8 turns a step of s into s/2 at its pixels
    angle = np.arctan2(gy, gx)[edges] % np.pi
    hist = np.bincount(
        (angle / np.pi * ORIENTATION_BINS).astype(int) % ORIENTATION_BINS,
        weights=grad[edges],
        minlength=ORIENTATION_BINS,
    )
    hist = hist / hist.sum() if hist.sum() > 0 else np.full(ORIENTATION_BINS, 1 / ORIENTATION_BINS)
    nz = hist[hist > 0]
    bands = _pyramid_band_energy(lum, levels=4)
    lbp_p = _uniform_lbp_histogram(lum)
    lbp_p = lbp_p[lbp_p > 0]
    power = np.abs(np.fft.rfft2(lum - lum.mean())) ** 2
    fy = np.fft.fftfreq(lum.shape[0])[:, None]
    fx = np.fft.rfftfreq(lum.shape[1])[None, :]
    radius = np.hypot(fy, fx)
    total = float(power.sum())
    width, width_std, stroke_share = _stroke_widths(lum)
    values = {
        "edge_density": float(edges.mean()),
        "orientation_entropy": float(-(nz * np.log2(nz)).sum()),
        "orientation_hv": float(hist[0] + hist[ORIENTATION_BINS // 2]),
        "stroke_width": width,
        "stroke_width_spread": width_std,
        "stroke_share": stroke_share,
        "texture_fine": bands[0],
        "texture_mid": bands[1] + bands[2],
        "texture_coarse": bands[3],
        "lbp_entropy": float(-(lbp_p * np.log2(lbp_p)).sum()),
        "high_freq_share": float(power[radius > 0.25].sum() / total) if total > 0 else 0.0,
    }
    return values, grad, hist


def describe_image(rgb: np.ndarray, aspect: float | None = None) -> dict[str, object]:
    """All descriptors of one uint8 RGB image: scalars, orientation histogram and palette."""
    img = shrink(rgb)
    lum = luminance(img)
    if aspect is None:
        aspect = rgb.shape[1] / rgb.shape[0]
    lines, grad, hist = line_texture_descriptors(lum)
    values: dict[str, object] = {}
    values.update(colour_descriptors(img))
    values.update(tone_descriptors(lum))
    values.update(composition_descriptors(img, lum, grad, aspect))
    values.update(lines)
    centres, shares = palette(img)
    values["palette_spread"] = float(np.sqrt(((centres - centres.mean(0)) ** 2).sum(1)).mean())
    values["orientation_hist"] = hist.astype(np.float32)
    values["palette_lab"] = centres
    values["palette_share"] = shares
    return values
