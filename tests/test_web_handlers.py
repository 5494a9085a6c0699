"""The web UI's handlers as plain functions: style sources, limits, garments, analysis, the app."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from stylebridge import api
from stylebridge.errors import ConfigError, ImageError, StylebridgeError
from stylebridge.web.handlers import (
    ENGINE,
    RUN_FOLDER,
    Handlers,
    WebSettings,
    engine_choices,
    mix_cultures,
    style_choices,
)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    pixels[15:45, 20:60] = (30, 160, 60)
    path = tmp_path_factory.mktemp("web") / "photo.png"
    Image.fromarray(pixels).save(path)
    return path


def _px(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), np.int16)


def test_translation_looks_keep_size_and_strength_blends_with_the_photo(photo):
    h = Handlers(WebSettings(work_side=256))
    oil = h.stylize(str(photo), "western_oil_look")
    ink = h.stylize(str(photo), "chinese_ink_look")
    assert oil.size == (80, 60)
    assert np.abs(_px(oil) - _px(ink)).mean() > 3  # two different styles
    untouched = h.stylize(str(photo), "western_oil_look", strength=0.0)
    assert np.array_equal(_px(untouched), _px(Image.open(photo)))


def test_culture_styles_are_offered_and_take_strength_in_feature_space(photo):
    """A culture style in the style box renders as ``load(name)`` does, its strength scaling
    the style's measured one (not a pixel blend with the photo)."""
    h = Handlers(WebSettings(work_side=256))
    choices = style_choices()
    assert choices.index("chinese_ink") < choices.index("chinese_ink_look")
    half = h.stylize(str(photo), "western_oil", strength=0.5)
    expected = api.load("western_oil").stylize(Image.open(photo), max_side=256, strength=0.5)
    assert np.abs(_px(half) - _px(expected)).max() <= 1
    blend = Image.blend(Image.open(photo).convert("RGB"), h.stylize(str(photo), "western_oil"), 0.5)
    assert np.abs(_px(half) - _px(blend)).mean() > 1


def test_culture_styles_render_at_their_measured_scale_as_in_python(tmp_path):
    """The server's work side only caps: a large upload in a culture style is the image that
    ``load(name).stylize`` gives (the engine's 768 px, a style's own ``render_side``)."""
    yy, xx = np.mgrid[0:600, 0:900]
    rgb = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    path = tmp_path / "large.png"
    Image.fromarray(rgb).save(path)
    h = Handlers(WebSettings())
    for name in ("chinese_ink", "ukiyoe"):
        expected = api.load(name).stylize(Image.open(path))
        assert np.abs(_px(h.stylize(str(path), name)) - _px(expected)).max() <= 1
    wider = api.load("chinese_ink").stylize(Image.open(path), max_side=900)
    assert np.abs(_px(h.stylize(str(path), "chinese_ink")) - _px(wider)).mean() > 1


def test_a_cloth_upload_dyes_the_result_in_its_colourway(photo, tmp_path):
    """The cloth upload is ``--dyes-from``: a culture style's result in the cloth's three
    colours; a translation look refuses it in one line, a broken upload is named."""
    stripe = (np.arange(48) // 6) % 3
    colours = np.array([(30, 40, 110), (200, 190, 170), (90, 30, 20)], np.uint8)
    Image.fromarray(colours[np.broadcast_to(stripe, (48, 48))]).save(tmp_path / "cloth.png")
    h = Handlers(WebSettings(work_side=256))
    dyed = h.stylize(str(photo), "ukiyoe", cloth=str(tmp_path / "cloth.png"))
    expected = api.load("ukiyoe").stylize(
        Image.open(photo), max_side=256, finish="wax", dyes=api.design_dyes(tmp_path / "cloth.png")
    )
    assert np.array_equal(_px(dyed), _px(expected))
    assert not np.array_equal(_px(dyed), _px(h.stylize(str(photo), "ukiyoe")))
    with pytest.raises(ConfigError, match="wax finish of the feature engine"):
        h.stylize(str(photo), "ukiyoe_look", cloth=str(tmp_path / "cloth.png"))
    (tmp_path / "torn.png").write_bytes(b"no image")
    with pytest.raises(ImageError, match="torn.png"):
        h.stylize(str(photo), "indonesian_batik", cloth=str(tmp_path / "torn.png"))
    mask = np.zeros((60, 80), np.uint8)
    mask[15:45, 20:60] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    dress, _ = h.garment(  # the garment tab's cloth upload: the same colourway, the garment only
        str(photo), "indonesian_batik", None, str(tmp_path / "mask.png"), False,
        cloth=str(tmp_path / "cloth.png"),
    )  # fmt: skip
    expected = api.design_garment(
        Image.open(photo), "indonesian_batik", mask=str(tmp_path / "mask.png"), max_side=256,
        dyes=api.design_dyes(tmp_path / "cloth.png"),
    ).image  # fmt: skip
    assert np.array_equal(_px(dress), _px(expected))
    with pytest.raises(ConfigError, match="translation model"):
        h.garment(str(photo), "ukiyoe_look", None, str(tmp_path / "mask.png"), False,
                  cloth=str(tmp_path / "cloth.png"))  # fmt: skip


def test_engine_mixes_cultures_in_feature_space_and_takes_an_uploaded_painting(photo, tmp_path):
    """The sliders' weights go to the engine's feature-space mix (a pure culture at weight 1,
    zero sliders ignored, weights normalised); an uploaded painting replaces the sliders."""
    h = Handlers(WebSettings(work_side=256))
    assert {"chinese_ink", "ukiyoe", "western_oil"} <= set(mix_cultures())
    assert "photo" not in mix_cultures()
    zeros = dict.fromkeys(mix_cultures(), 0.0)
    ukiyoe = h.stylize(str(photo), ENGINE, mix=zeros | {"ukiyoe": 1.0})
    assert ukiyoe.size == (80, 60)
    direct = api.stylize(Image.open(photo), "ukiyoe", max_side=256)  # the culture style
    assert np.abs(_px(ukiyoe) - _px(direct)).max() <= 1
    oil = h.stylize(str(photo), ENGINE, mix=zeros | {"western_oil": 1.0})
    half = h.stylize(str(photo), ENGINE, mix=zeros | {"ukiyoe": 0.3, "western_oil": 0.3})
    expected = api.stylize(Image.open(photo), mix={"ukiyoe": 0.5, "western_oil": 0.5}, max_side=256)
    assert np.abs(_px(half) - _px(expected)).max() <= 1
    assert np.abs(_px(half) - _px(ukiyoe)).mean() > 1 and np.abs(_px(half) - _px(oil)).mean() > 1
    with pytest.raises(ConfigError, match="slider above 0.*cultures: .*ukiyoe"):
        h.stylize(str(photo), ENGINE, mix=zeros)
    painting = tmp_path / "painting.png"
    stripes = np.zeros((96, 96, 3), np.uint8)
    stripes[:, ::8] = (200, 30, 30)
    Image.fromarray(stripes).save(painting)
    by_painting = h.stylize(str(photo), ENGINE, painting=str(painting), mix=zeros)
    assert np.abs(_px(by_painting) - _px(ukiyoe)).mean() > 3
    grey = tmp_path / "grey.png"
    Image.new("RGB", (96, 96), (128, 128, 128)).save(grey)
    with pytest.raises(StylebridgeError, match="grey.png"):
        h.stylize(str(photo), ENGINE, painting=str(grey))
    with pytest.raises(ConfigError, match="unknown fusion"):
        h.stylize(str(photo), ENGINE, mix={"ukiyoe": 1.0}, fusion="blur")
    ornament = {"islamic_ornament": 1.0}  # auto: the style's own AdaIN; a choice replaces it
    auto = h.stylize(str(photo), ENGINE, mix=ornament)
    assert np.array_equal(_px(auto), _px(api.stylize(Image.open(photo), "islamic_ornament")))
    wct = h.stylize(str(photo), ENGINE, mix=ornament, fusion="wct")
    assert np.abs(_px(auto) - _px(wct)).mean() > 1


def test_engine_choice_renders_paintings_and_mixes_and_names_no_server_path(photo, tmp_path):
    """The engine radio: ``fast`` renders the mix as ``stylize(..., engine="fast")`` does, not
    as the bundled decoder; anything but a bundled engine's name is refused, paths included."""
    h = Handlers(WebSettings(work_side=256))
    assert engine_choices() == ["auto", "bundled", "fast"]
    oil = {"western_oil": 1.0}
    fast = h.stylize(str(photo), ENGINE, mix=oil, engine="fast")
    expected = api.stylize(Image.open(photo), mix=oil, engine="fast", max_side=256)
    assert np.abs(_px(fast) - _px(expected)).max() <= 1
    bundled = h.stylize(str(photo), ENGINE, mix=oil, engine="bundled")
    assert np.abs(_px(fast) - _px(bundled)).mean() > 1
    auto = h.stylize(str(photo), ENGINE, mix=oil)  # oil's style renders on the fast engine
    assert np.array_equal(_px(auto), _px(fast))
    for bad in ("slow", str(tmp_path), "../feature_engine"):
        with pytest.raises(ConfigError, match="unknown engine.*one of auto, bundled, fast"):
            h.stylize(str(photo), ENGINE, mix=oil, engine=bad)
    mask = np.zeros((60, 80), np.uint8)
    mask[15:45, 20:60] = 255
    mask_path = tmp_path / "mask.png"
    Image.fromarray(mask).save(mask_path)
    result, _ = h.garment(str(photo), ENGINE, None, str(mask_path), False, mix=oil, engine="fast")
    direct = api.design_garment(
        Image.open(photo), mix=oil, engine="fast", mask=str(mask_path), max_side=256
    )
    assert np.abs(_px(result) - _px(direct.image)).max() <= 1


def test_run_folder_choice(photo):
    folder = api.model_folder("ukiyoe")  # any model folder on disk works like a run folder
    h = Handlers(WebSettings(models_dir=folder.parent))
    by_name = h.stylize(str(photo), RUN_FOLDER, run_dir=f" {folder.name} ")
    assert np.array_equal(_px(by_name), _px(h.stylize(str(photo), "ukiyoe")))
    with pytest.raises(ConfigError, match="name of a run folder"):
        h.stylize(str(photo), RUN_FOLDER, run_dir="  ")


@pytest.mark.parametrize("typed", ["/etc", "../../..", "no_such_run", "{abs}", "ukiyoe/.."])
def test_run_folders_stay_under_models_dir_and_errors_tell_nothing(photo, tmp_path, typed):
    models = tmp_path / "models"
    (models / "empty_run").mkdir(parents=True)
    h = Handlers(WebSettings(models_dir=models))
    typed = typed.format(abs=api.model_folder("ukiyoe"))
    with pytest.raises(ConfigError) as err:
        h.stylize(str(photo), RUN_FOLDER, run_dir=typed)
    assert str(err.value) == f"no run folder named {typed!r} on this server"
    with pytest.raises(ConfigError, match="bundled styles only"):
        Handlers().stylize(str(photo), RUN_FOLDER, run_dir="empty_run")
    with pytest.raises(ConfigError, match="unknown style"):
        h.stylize(str(photo), str(api.model_folder("ukiyoe")))


def test_errors_shown_in_the_browser_name_run_folders_relative_to_models_dir(tmp_path):
    from stylebridge.errors import ModelFileError

    h = Handlers(WebSettings(models_dir=tmp_path))
    err = ModelFileError(tmp_path.resolve() / "run" / "config.json", "corrupt JSON")
    assert h.public_message(err) == "run/config.json: corrupt JSON"


def test_uploads_over_the_limits_and_missing_uploads_get_clear_messages(photo, tmp_path):
    h = Handlers(WebSettings(max_megapixels=0.004))  # 4,000 px; the photo has 4,800
    with pytest.raises(ImageError, match=r"photo.png: 80x60 px \(0.0 MP\) is over the 0.0 MP"):
        h.stylize(str(photo), "ukiyoe")
    with pytest.raises(ConfigError, match="upload a photo first"):
        Handlers().stylize(None, "ukiyoe")
    big = tmp_path / "big.png"
    big.write_bytes(photo.read_bytes() + b"\0" * 1_100_000)
    with pytest.raises(ImageError, match="big.png: 1.1 MB is over the 1 MB upload limit"):
        Handlers(WebSettings(max_file_mb=1)).stylize(str(big), "ukiyoe")


def test_garment_needs_a_mask_and_keeps_the_rest(photo, tmp_path):
    h = Handlers()
    with pytest.raises(ConfigError, match="upload a garment mask"):
        h.garment(str(photo), "ukiyoe", None, None, False)
    mask = np.zeros((60, 80), np.uint8)
    mask[15:45, 20:60] = 255
    mask_path = tmp_path / "mask.png"
    Image.fromarray(mask).save(mask_path)
    result, overlay = h.garment(str(photo), "ukiyoe", None, str(mask_path), False)
    change = np.abs(_px(result) - _px(Image.open(photo))).max(-1)
    assert change[mask == 0].max() == 0 and change[mask > 0].mean() > 5
    assert overlay.size == (80, 60)
    batik = {"indonesian_batik": 1.0}  # any style source: here the engine's culture
    engine_result, _ = h.garment(str(photo), ENGINE, None, str(mask_path), False, mix=batik)
    change = np.abs(_px(engine_result) - _px(Image.open(photo))).max(-1)
    assert change[mask == 0].max() == 0 and change[mask > 0].mean() > 5
    assert np.abs(_px(engine_result) - _px(result))[mask > 0].mean() > 3


def test_closest_cultures_ranks_the_matching_folder_first(tmp_path):
    from tests.conftest import make_domain

    cultures = tmp_path / "cultures"
    make_domain(cultures / "reds", "red", 6, size=48, seed=1)
    make_domain(cultures / "blues", "blue", 6, size=48, seed=2)
    probe = tmp_path / "probe.png"
    make_domain(tmp_path / "probe", "red", 1, size=48, seed=9)
    Image.open(next((tmp_path / "probe").iterdir())).save(probe)
    ranked = api.closest_cultures(probe, cultures, per_culture=6)
    assert [name for name, _ in ranked] == ["reds", "blues"]
    table = Handlers(WebSettings(cultures=cultures)).closest(str(probe))
    assert table.index("| 1 | reds |") < table.index("| 2 | blues |")
    assert "--cultures" in Handlers().closest(str(probe))  # no corpus configured


def test_app_builds_with_a_queue_and_analytics_off():
    import os

    from stylebridge.web.app import build_app

    app = build_app(WebSettings(concurrency=2, queue_size=5))
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert app.analytics_enabled is False
    assert app._queue.max_size == 5
    assert app._queue.default_concurrency_limit == 2


def test_pattern_mode_returns_patterns_tiling_and_recolours(tmp_path, one_thread):
    from tests.conftest import make_domain

    make_domain(tmp_path / "cultures" / "blues", "blue", 3, size=48, seed=2)
    motif = tmp_path / "motif.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(100, 255, (96, 96, 3), dtype=np.uint8)).save(motif)
    h = Handlers(WebSettings(cultures=tmp_path / "cultures"))
    seen = []
    images, tiled, note = h.pattern(
        [str(motif)], size=64, seeds=2, steps=1, progress=lambda f, d: seen.append(f)
    )
    assert [im.size for im in images] == [(64, 64), (64, 64)] and tiled.size == (128, 128)
    assert note.startswith("Seam ratio") and "seed 1:" in note and seen == [1.0]
    blue, _, _ = h.pattern([str(motif)], size=64, seeds=1, steps=1, culture="blues")
    mean = np.asarray(blue[0], np.float64).reshape(-1, 3).mean(0)
    assert mean[2] > mean[0] + 20  # recoloured into the blue folder's palette
    with pytest.raises(ConfigError, match="upload one or more motif"):
        h.pattern([], size=64)


def test_uploads_are_files_decoded_only_by_the_guarded_loader(tmp_path):
    """A 900 MP bomb and a non-image sent as the photo or the mask reach the handlers as files
    and get the project's one line, naming the upload and not the server's folders."""
    import gradio as gr
    from gradio.data_classes import FileData

    from stylebridge.web.app import build_app

    from .badinputs import png_declaring

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(30_000, 30_000))
    words = tmp_path / "words.jpg"
    words.write_bytes(b"not pixels at all\n" * 50)
    app = build_app(WebSettings())
    uploads = {b.elem_id: b for b in app.blocks.values() if getattr(b, "elem_id", None)}
    for elem_id in ("photo", "garment-photo", "garment-mask"):
        box = uploads[elem_id]
        assert isinstance(box, gr.File), f"{elem_id} must not be decoded by Gradio"
        assert box.preprocess(FileData(path=str(bomb), orig_name="bomb.png")) == str(bomb)
    h = Handlers()
    with pytest.raises(ImageError) as err:
        h.preview(str(bomb))
    assert str(err.value).startswith("bomb.png: image is 30000x30000 (900 MP)")
    with pytest.raises(ImageError, match=r"^words.jpg: not an image file"):
        h.preview(str(words))
    with pytest.raises(ImageError, match=r"^bomb.png: "):
        h.stylize(str(bomb), "ukiyoe")
    assert h.preview(None) is None
