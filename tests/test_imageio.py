"""Every odd file a user may hold: one clear line naming the file, or a clean RGB image."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from stylebridge.data import expand_inputs
from stylebridge.errors import DataError, ImageError
from stylebridge.imageio import load_image, probe_image, save_image


def _jpeg_bytes(size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (*size[::-1], 3), np.uint8)).save(
        buf, "JPEG"
    )
    return buf.getvalue()


def _one_line_error(path, match):
    with pytest.raises(ImageError) as info:
        load_image(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert match in message
    return message


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    _one_line_error(path, "empty file")


def test_truncated_jpeg(tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(_jpeg_bytes((256, 256))[:600])
    _one_line_error(path, "truncated")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is text, not a picture")
    _one_line_error(path, "not an image")


def test_missing_file(tmp_path):
    _one_line_error(tmp_path / "nope.png", "not found")


def test_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    Image.new("1", (3000, 3000)).save(path)  # a few KB on disk, 9 MP decoded
    monkeypatch.setenv("STYLEBRIDGE_MAX_PIXELS", "1000000")
    message = _one_line_error(path, "decompression")
    assert "3000x3000" in message
    with pytest.raises(ImageError):
        probe_image(path)


def test_tiny_image(tmp_path):
    path = tmp_path / "dot.png"
    Image.new("RGB", (2, 3)).save(path)
    _one_line_error(path, "too small")


def test_cmyk_becomes_rgb(tmp_path):
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(path)  # pure red in CMYK
    loaded = load_image(path)
    r, g, b = np.asarray(loaded.rgb).reshape(-1, 3).mean(0)
    assert loaded.rgb.mode == "RGB" and r > 200 and g < 60 and b < 60


def test_16bit_png_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    arr = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(arr).save(path)
    loaded = load_image(path)
    grey = np.asarray(loaded.rgb)[..., 0]
    assert grey.min() == 0 and grey.max() == 255 and 100 < grey.mean() < 155


def test_palette_with_transparency_keeps_alpha(tmp_path):
    path = tmp_path / "logo.png"
    im = Image.new("P", (20, 20), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.info["transparency"] = 0
    im.paste(0, (0, 0, 10, 20))
    im.save(path, transparency=0)
    loaded = load_image(path)
    alpha = np.asarray(loaded.alpha)
    assert loaded.rgb.mode == "RGB" and alpha[:, :10].max() == 0 and alpha[:, 10:].min() == 255


def test_animated_gif_uses_first_frame_with_a_note(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    loaded = load_image(path)
    assert any("animated with 2 frames" in n for n in loaded.notes)
    assert np.asarray(loaded.rgb)[..., 0].mean() > 200


def test_exif_orientation_applied(tmp_path):
    path = tmp_path / "phone.jpg"
    im = Image.new("RGB", (60, 30), "white")
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    im.save(path, exif=exif)
    assert load_image(path).size == (30, 60)


def test_empty_folder_is_one_line(tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DataError, match="holds no image files"):
        expand_inputs([tmp_path / "nothing"])


def test_save_is_atomic_and_checks_suffix(tmp_path):
    image = Image.new("RGBA", (8, 8))
    path = save_image(image, tmp_path / "sub" / "x.jpg")
    assert Image.open(path).mode == "RGB"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]
    with pytest.raises(ImageError, match="unsupported output format"):
        save_image(image, tmp_path / "x.xyz")


def test_folders_of_links_are_listed_once_and_hidden_files_skipped(tmp_path):
    """A collection assembled from links to other folders is found; a link loop repeats nothing."""
    from stylebridge.data.files import list_images

    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    for name in ("a.jpg", "sub/b.png", ".hidden.jpg"):
        (real / name).write_bytes(_jpeg_bytes())
    collection = tmp_path / "collection"
    collection.mkdir()
    (collection / "ink").symlink_to(real, target_is_directory=True)
    (real / "sub" / "loop").symlink_to(real, target_is_directory=True)
    (collection / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    found = [p.relative_to(collection).as_posix() for p in list_images(collection)]
    assert found == ["gone.jpg", "ink/a.jpg", "ink/sub/b.png"]
    assert list_images(collection, recursive=False) == [collection / "gone.jpg"]
