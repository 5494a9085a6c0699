"""Portraits: faces found offline, styled lighter through feathered masks, the rest untouched."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata
from typer.testing import CliRunner

from stylebridge import api
from stylebridge.cli import app
from stylebridge.design.portrait import PortraitStylizer, face_mask, find_faces
from stylebridge.errors import ConfigError
from stylebridge.metrics.ssim import ssim

pytestmark = pytest.mark.usefixtures("one_thread")

ASTRONAUT_FACE = (177, 67, 93, 93)  # as the frontal cascade finds it in scikit-image's sample


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return Image.fromarray(skdata.astronaut()).resize((384, 384), Image.Resampling.LANCZOS)


def test_faces_are_found_at_any_size_and_the_mask_is_feathered():
    photo = Image.fromarray(skdata.astronaut())
    assert find_faces(photo) == [ASTRONAUT_FACE]
    big = photo.resize((2048, 2048))  # detection runs on a copy of at most 1024 px
    (x, y, w, h), *_ = find_faces(big)
    assert abs(x - 4 * 177) < 24 and abs(w - 4 * 93) < 32
    mask = face_mask(photo.size, [ASTRONAUT_FACE])
    assert mask[67 + 50, 177 + 46] == pytest.approx(1.0)  # the face's centre
    assert mask[5, 5] == 0.0 and mask[400, 400] == 0.0
    column = mask[67 + 50, 177 + 46 :]
    soft = (column > 0.05) & (column < 0.95)
    assert soft.sum() >= 6  # a ramp of several pixels, not a hard edge
    assert not find_faces(Image.fromarray(skdata.coffee()))


def test_portrait_keeps_the_face_closer_to_the_sitter_and_the_rest_as_styled(astronaut):
    plain = api.stylize(astronaut, style_from="ukiyoe", max_side=384)
    portrait = api.stylize(astronaut, style_from="ukiyoe", max_side=384, portrait=True)
    (x, y, w, h), *_ = find_faces(astronaut)
    face = (slice(y, y + h), slice(x, x + w))

    def face_ssim(image: Image.Image) -> float:
        return ssim(np.asarray(astronaut)[face], np.asarray(image)[face])

    # measured: 0.44 -> 0.55 for the bundled engine's ukiyo-e at face_strength 0.35
    assert face_ssim(portrait) > face_ssim(plain) + 0.05
    weight = face_mask(astronaut.size, find_faces(astronaut))
    far = weight == 0
    assert np.array_equal(np.asarray(portrait)[far], np.asarray(plain)[far])
    face_colour = np.asarray(portrait)[face].astype(float).mean((0, 1))
    photo_colour = np.asarray(astronaut)[face].astype(float).mean((0, 1))
    assert np.abs(face_colour - photo_colour).max() > 3  # the face is styled too, lighter
    with pytest.raises(ConfigError, match="face_strength"):
        api.stylize(astronaut, style_from="ukiyoe", portrait=True, face_strength=1.5)


@pytest.mark.parametrize("style", ["ukiyoe", "indonesian_batik"])
def test_a_culture_styles_finish_is_lighter_on_the_face_too(astronaut, style):
    """ukiyo-e's flat blocks and batik's wax flatten a face whatever the feature strength, so
    ``--portrait`` applies the style's finish at the face strength as well (measured on the
    full-size astronaut: face SSIM 0.46 -> 0.71 and 0.51 -> 0.76, with the finish at full
    0.52 and 0.57); outside the faces the plain rendering, bit for bit."""
    plain = api.stylize(astronaut, style)
    portrait = api.stylize(astronaut, style, portrait=True)
    (x, y, w, h), *_ = find_faces(astronaut)
    face = (slice(y, y + h), slice(x, x + w))

    def face_ssim(image: Image.Image) -> float:
        return ssim(np.asarray(astronaut)[face], np.asarray(image)[face])

    assert face_ssim(portrait) > face_ssim(plain) + 0.12
    far = face_mask(astronaut.size, find_faces(astronaut)) == 0
    assert np.array_equal(np.asarray(portrait)[far], np.asarray(plain)[far])


def test_stylize_portrait_from_the_cli_with_the_engine_and_a_model(astronaut, tmp_path):
    photo, faceless = tmp_path / "in" / "astronaut.png", tmp_path / "in" / "coffee.png"
    photo.parent.mkdir()
    astronaut.save(photo)
    Image.fromarray(skdata.coffee()).resize((160, 120)).save(faceless)
    runner = CliRunner()
    engine = runner.invoke(
        app,
        ["stylize", str(photo.parent), "--style-from", "chinese_ink", "--portrait",
         "--max-side", "256", "-o", str(tmp_path / "engine")],
    )  # fmt: skip
    assert engine.exit_code == 0, engine.output
    plain = api.stylize(faceless, style_from="chinese_ink", max_side=256)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "engine" / "coffee.png")), plain)
    model = runner.invoke(
        app,
        ["stylize", str(photo), "--style", "ukiyoe_look", "--portrait", "--face-strength", "0",
         "-o", str(tmp_path / "model.png")],
    )  # fmt: skip
    assert model.exit_code == 0, model.output
    out = np.asarray(Image.open(tmp_path / "model.png"))
    (x, y, w, h), *_ = find_faces(astronaut)
    centre = (slice(y + h // 3, y + 2 * h // 3), slice(x + w // 3, x + 2 * w // 3))
    # face strength 0 keeps the photo at the face's centre (PNG round trip only)
    assert np.abs(out[centre].astype(int) - np.asarray(astronaut)[centre]).max() <= 1
    assert PortraitStylizer(api.load("ukiyoe")).face_strength == 0.35
