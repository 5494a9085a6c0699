"""Garment masks, feathering and masked stylization: outside the mask nothing changes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stylebridge import api
from stylebridge.cli import app
from stylebridge.design import auto_mask, feather, load_mask
from stylebridge.errors import ConfigError, ImageError
from stylebridge.sheets import LABEL_PX

from ..colours import in_dyes


def _photo(width: int = 120, height: int = 96) -> Image.Image:
    rng = np.random.default_rng(3)
    pixels = np.full((height, width, 3), 90, np.uint8)
    pixels[20:80, 30:90] = (40, 60, 200)  # the "garment"
    pixels += rng.integers(0, 20, pixels.shape, dtype=np.uint8)
    return Image.fromarray(pixels)


def _rect_mask(width: int = 120, height: int = 96) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    mask[20:80, 30:90] = 1.0
    return mask


def test_feather_is_zero_outside_and_ramps_inside():
    weights = feather(_rect_mask(), radius=6)
    assert weights[_rect_mask() == 0].max() == 0.0
    assert weights[50, 60] == pytest.approx(1.0)  # deep inside
    row = weights[50, 30:40]  # from the left edge inwards
    assert row[0] < 0.1 and np.all(np.diff(row) >= 0) and row[-1] == pytest.approx(1.0)


def test_garment_restyles_inside_and_leaves_outside_untouched(tmp_path):
    photo = _photo()
    photo_path = tmp_path / "look.png"
    photo.save(photo_path)
    mask_path = tmp_path / "mask.png"
    Image.fromarray((_rect_mask() * 255).astype(np.uint8)).save(mask_path)
    result = api.design_garment(photo_path, "ukiyoe", tmp_path / "out", mask=mask_path, feather=8)
    before = np.asarray(photo, np.int16)
    after = np.asarray(result.image.convert("RGB"), np.int16)
    change = np.abs(after - before).max(-1)
    outside = _rect_mask() == 0
    assert change[outside].max() < 1  # bit-for-bit: weights are exactly 0 outside
    assert change[30:70, 40:80].mean() > 10  # the garment is restyled
    edge, core = change[20, 40:80].mean(), change[30:70, 40:80].mean()
    assert edge < 0.2 * core  # the first row inside the mask has weight 0.01
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "look_ukiyoe.png",
        "look_ukiyoe_mask.png",
        "look_ukiyoe_mask_overlay.png",
    }
    second = api.design_garment(photo_path, "western_oil", tmp_path / "out", mask=mask_path)
    assert second.image.size == photo.size  # a second style into the same folder adds files
    assert len(list((tmp_path / "out").iterdir())) == 6


def test_half_strength_halves_the_change():
    full = api.design_garment(_photo(), "ukiyoe", mask=_rect_mask(), feather=0)
    half = api.design_garment(_photo(), "ukiyoe", mask=_rect_mask(), feather=0, strength=0.5)
    base = np.asarray(_photo(), np.float32)
    d_full = np.asarray(full.image, np.float32)[30:70, 40:80] - base[30:70, 40:80]
    d_half = np.asarray(half.image, np.float32)[30:70, 40:80] - base[30:70, 40:80]
    assert np.abs(d_half - 0.5 * d_full).max() <= 1.0  # rounding only


def test_mask_files_with_problems_get_one_line(tmp_path):
    empty = tmp_path / "empty.png"
    Image.new("L", (120, 96), 0).save(empty)
    with pytest.raises(ImageError, match="empty.png: mask is empty"):
        load_mask(empty, (120, 96))
    wrong = tmp_path / "wrong.png"
    Image.new("L", (50, 50), 255).save(wrong)
    with pytest.raises(ImageError, match="wrong.png: mask is 50x50 px but the photo is 120x96"):
        load_mask(wrong, (120, 96))
    half = tmp_path / "half.png"
    Image.fromarray((_rect_mask()[::2, ::2] * 255).astype(np.uint8)).save(half)
    assert load_mask(half, (120, 96)).shape == (96, 120)  # same aspect ratio: resized
    with pytest.raises(ConfigError, match="either a mask"):
        api.design_garment(_photo(), "ukiyoe")


def test_auto_mask_finds_the_astronauts_suit_not_her_face():
    from stylebridge.data.samples import sample_photos

    photos = sample_photos()
    found = auto_mask(photos["astronaut"])
    x, y, w, h = found.face
    assert 150 < x + w / 2 < 280 and 60 < y + h / 2 < 180  # her face
    mask = found.mask >= 0.5
    assert mask[y + h // 2, x + w // 2] == 0  # face kept
    assert mask[400, 100] and mask[300, 250]  # suit: left arm and chest
    assert mask[:60].sum() == 0 and not mask[250, 450]  # above her head; the shuttle model
    with pytest.raises(ImageError, match="no frontal face.*--mask"):
        auto_mask(photos["coffee"])


def test_cli_garment_and_variants(tmp_path):
    photo = tmp_path / "look.png"
    _photo().save(photo)
    mask = tmp_path / "mask.png"
    Image.fromarray((_rect_mask() * 255).astype(np.uint8)).save(mask)
    runner = CliRunner()
    out = tmp_path / "variants"
    styles = "ukiyoe,chinese_ink,western_oil"
    args = ["design", "variants", str(photo), "--styles", styles, "--mask", str(mask)]
    done = runner.invoke(app, [*args, "-o", str(out)])
    assert done.exit_code == 0, done.output
    sheet = Image.open(out / "variants.png")
    label_w = sheet.width - 4 * (256 + 8) - 8  # input + 3 styles, 256 px columns
    thumb_h = round(_photo().height * min(1.0, 256 / max(_photo().size)))
    assert 0 < label_w < 200 and sheet.height == LABEL_PX + 16 + thumb_h + 8 + 8
    assert len(list(out.glob("look_*.png"))) == 3
    bad = runner.invoke(app, ["design", "garment", str(photo), "-s", "ukiyoe", "-o", str(out)])
    assert bad.exit_code == 1 and "--auto-mask" in str(bad.exception)


def test_cli_garment_takes_any_style_source(tmp_path):
    """A culture code, a painting or a mix (the feature engine) restyles the garment only;
    two style sources at once are refused before any work."""
    photo = tmp_path / "look.png"
    _photo().save(photo)
    mask = tmp_path / "mask.png"
    Image.fromarray((_rect_mask() * 255).astype(np.uint8)).save(mask)
    painting = tmp_path / "kimono.png"
    stripes = np.zeros((96, 96, 3), np.uint8)
    stripes[::6] = (230, 200, 40)
    Image.fromarray(stripes).save(painting)
    runner = CliRunner()
    base = ["design", "garment", str(photo), "--mask", str(mask)]
    original = np.asarray(_photo(), np.int16)
    outside = _rect_mask() == 0
    for source, label in (
        (["--style-from", "indonesian_batik"], "indonesian_batik"),
        (["--style-image", str(painting)], "kimono"),
        (["--mix", "ukiyoe=0.5,western_oil=0.5"], "mix"),
    ):
        out = tmp_path / label
        done = runner.invoke(app, [*base, *source, "-o", str(out)])
        assert done.exit_code == 0, done.output
        result = np.asarray(Image.open(out / f"look_{label}.png").convert("RGB"), np.int16)
        change = np.abs(result - original).max(-1)
        assert change[outside].max() == 0 and change[~outside].mean() > 5, label
    both = runner.invoke(app, [*base, "-s", "ukiyoe", "--style-from", "ukiyoe", "-o", str(out)])
    assert both.exit_code == 1 and "give one style" in str(both.exception)


def test_a_garment_takes_a_cloths_colourway(tmp_path):
    """``--dyes-from cloth.jpg``: the garment in batik's wax finish, dyed in the cloth's three
    colours, the rest of the photo untouched; a translation model refuses it in one line and
    nothing is written."""
    stripe = (np.arange(60) // 6) % 3
    colours = np.array([(30, 40, 110), (200, 190, 170), (90, 30, 20)], np.uint8)
    cloth = tmp_path / "cloth.png"
    Image.fromarray(colours[np.broadcast_to(stripe, (60, 60))]).save(cloth)
    photo = tmp_path / "look.png"
    _photo().save(photo)
    mask = tmp_path / "mask.png"
    Image.fromarray((_rect_mask() * 255).astype(np.uint8)).save(mask)
    runner = CliRunner()
    base = ["design", "garment", str(photo), "--mask", str(mask), "--dyes-from", str(cloth)]
    out = tmp_path / "dyed"
    done = runner.invoke(app, [*base, "-s", "indonesian_batik", "-o", str(out)])
    assert done.exit_code == 0, done.output
    result = np.asarray(Image.open(out / "look_indonesian_batik.png").convert("RGB"))
    outside = _rect_mask() == 0
    assert np.array_equal(result[outside], np.asarray(_photo())[outside])
    garment = result[24:76, 34:86]  # inside the feathered edge: the cloth's dyes, bled
    assert in_dyes(garment, colours) and not in_dyes(np.asarray(_photo())[24:76, 34:86], colours)
    plain = api.design_garment(_photo(), "indonesian_batik", mask=_rect_mask()).image
    assert np.abs(np.asarray(plain, np.int16)[24:76, 34:86] - result[24:76, 34:86]).mean() > 5
    refused = tmp_path / "refused"
    bad = runner.invoke(app, [*base, "-s", "ukiyoe_look", "-o", str(refused)])
    assert bad.exit_code == 1 and "translation model" in str(bad.exception)
    assert not refused.exists()
