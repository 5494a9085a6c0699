"""Translation effect: a known change is measured as such, no change as none."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.colors import hsv_to_rgb, rgb_to_hsv
from PIL import Image
from typer.testing import CliRunner

from stylebridge.analysis import analyze_translation
from stylebridge.analysis.translation import edge_ssim, movements, overall_movement
from stylebridge.cli import app


class _Recolour:
    """A stand-in stylizer: adds ``boost`` to the HSV saturation, keeps hue and value."""

    def __init__(self, boost: float):
        self.boost = boost

    def stylize(self, rgb, **options):
        hsv = rgb_to_hsv(np.asarray(rgb, np.float32) / 255.0)
        hsv[..., 1] = np.clip(hsv[..., 1] + self.boost, 0.0, 1.0)
        return Image.fromarray((hsv_to_rgb(hsv) * 255).round().astype(np.uint8))


def test_movement_formula():
    rng = np.random.default_rng(0)
    src = rng.normal(0.0, 1.0, (50, 3))
    tgt = src + [2.0, 0.0, -4.0]
    out = src + [1.0, 0.0, -4.0]
    rows = movements(src, tgt, out, ["a", "b", "c"])
    assert rows[0].movement == pytest.approx(0.5)
    assert rows[1].movement is None  # no gap between source and target: not measurable
    assert rows[2].movement == pytest.approx(1.0)
    moved, low, high = overall_movement(src, tgt, out)
    assert low <= moved <= high
    # projection of the mean shift on the source->target direction, in pooled-std units
    var = np.vstack([src, tgt]).var(0)
    direction, shift = np.array([2.0, 0.0, -4.0]), np.array([1.0, 0.0, -4.0])
    expected = (shift * direction / var).sum() / (direction**2 / var).sum()
    assert moved == pytest.approx(expected, abs=1e-6)


def test_edge_ssim_keeps_contours_and_sees_unrelated_images(saturation_corpora):
    muted, _ = saturation_corpora
    a, b = (np.asarray(Image.open(p)) for p in sorted(muted.iterdir())[:2])
    assert edge_ssim(a, a) == pytest.approx(1.0)
    assert edge_ssim(a, b) < 0.5


@pytest.mark.parametrize("boost", [0.0, 0.25])
def test_known_recolouring_is_measured(saturation_corpora, tmp_path, boost):
    """Identity: nothing moves, all contours kept, outputs still look like the source.
    Saturation +0.25 (the gap between the corpora): saturation reaches the target mean and
    the classifier takes the outputs for the target culture."""
    muted, vivid = saturation_corpora
    report = analyze_translation(_Recolour(boost), muted, vivid, tmp_path, max_images=16,
                                 workers=1)  # fmt: skip
    n = report.numbers
    saturation = n["descriptors"]["saturation"]["movement"]
    if boost == 0.0:
        assert abs(saturation) < 0.05 and abs(n["overall_movement"]) < 0.1
        assert n["edge_ssim"] > 0.97
        assert n["classified_as_target"] < 0.3
    else:
        assert 0.7 < saturation < 1.3
        assert n["edge_ssim"] > 0.7 > n["edge_ssim_unrelated_pairs"]
        assert n["classified_as_target"] > 0.7
    assert n["images"]["translated"] == 16
    assert json.loads((tmp_path / "translation.json").read_text())["edge_ssim"] == n["edge_ssim"]
    for name in ("index.html", "movement.png", "examples.png"):
        assert (tmp_path / name).is_file()


def test_cli_with_a_bundled_style(saturation_corpora, tmp_path):
    muted, vivid = saturation_corpora
    args = ["analyze", "translation", "ukiyoe", "--source", str(muted), "--target", str(vivid)]
    args += ["-o", str(tmp_path / "t"), "--max-images", "6", "--workers", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "movement toward the target" in result.output and "edge SSIM" in result.output
    assert len(list((tmp_path / "t" / "translated").glob("*.png"))) == 6


def _scene(rng: np.random.Generator, outlined: bool) -> Image.Image:
    """Soft colour blobs on a gradient (a photo), or the same kind of scene as flat regions
    with dark outlines on warm paper (a print)."""
    from PIL import ImageDraw, ImageFilter

    base = rng.uniform(60, 200, 3)
    ramp = np.linspace(-30, 30, 96)[:, None, None]
    pixels = np.clip(base + ramp + np.zeros((96, 96, 3)), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y, r = rng.integers(10, 86), rng.integers(10, 86), rng.integers(8, 22)
        colour = tuple(int(c) for c in rng.integers(30, 230, 3))
        outline = (20, 15, 10) if outlined else None
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=outline, width=3)
    if not outlined:
        return image.filter(ImageFilter.GaussianBlur(2.5))
    return _Tint().stylize(image)


class _Tint:
    """A colour filter: warm and flattened contrast, nothing else."""

    def stylize(self, rgb, **options):
        pixels = np.asarray(rgb, np.float32)
        warm = pixels * [1.0, 0.9, 0.7] + [40, 25, 0]
        return Image.fromarray(np.clip(warm, 0, 255).round().astype(np.uint8))


class _Print:
    """Flat colour regions (colour quantised), dark outlines where colour changes, the tint."""

    def stylize(self, rgb, **options):
        from PIL import ImageFilter

        image = Image.fromarray(np.asarray(rgb)).filter(ImageFilter.MedianFilter(5))
        flat = image.quantize(6, dither=Image.Dither.NONE).convert("RGB")
        index = np.asarray(image.quantize(6, dither=Image.Dither.NONE))
        edge = (np.diff(index, axis=0, prepend=index[:1]) != 0) | (
            np.diff(index, axis=1, prepend=index[:, :1]) != 0
        )
        edge = np.asarray(Image.fromarray(edge).filter(ImageFilter.MaxFilter(3)))
        pixels = np.asarray(flat).copy()
        pixels[edge] = (20, 15, 10)
        return _Tint().stylize(pixels)


def test_a_colour_filter_is_called_a_palette_shift_not_a_style(tmp_path):
    """Photos -> prints that differ in palette and in outlines/flat regions: a tint that
    matches the palette moves the palette and not the structure, so the verdict says filter;
    a translation that draws outlines and flattens regions moves the structure as well."""
    rng = np.random.default_rng(0)
    for name, outlined in (("photos", False), ("prints", True)):
        (tmp_path / name).mkdir()
        for i in range(16):
            _scene(rng, outlined).save(tmp_path / name / f"{i:02d}.png")
    reports = {
        label: analyze_translation(
            stylizer, tmp_path / "photos", tmp_path / "prints", tmp_path / label, workers=1
        ).numbers
        for label, stylizer in (("tint", _Tint()), ("print", _Print()))
    }
    tint, printed = reports["tint"], reports["print"]
    assert tint["palette_movement"] > 0.5
    assert tint["structure_movement"] < 0.25
    assert tint["verdict"] == "palette shift", tint["verdict_reason"]
    assert printed["structure_movement"] > tint["structure_movement"] + 0.3
    assert printed["verdict"] in ("style", "partial style"), printed["verdict_reason"]
    assert "Verdict: <b>palette shift</b>" in (tmp_path / "tint" / "index.html").read_text()
