"""Bundled style names work wherever a model folder does, and ``save`` writes what ``load``
reads (the from_pretrained/save_pretrained pair of model hubs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import stylebridge
from stylebridge import zoo
from stylebridge.errors import ConfigError, ModelFileError


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 256, (40, 52, 3), dtype=np.uint8))


def test_top_level_load_stylize_and_model_folder_take_style_names(photo):
    assert stylebridge.model_folder("ukiyoe") == zoo.style_path("ukiyoe")
    stylizer = stylebridge.load("ukiyoe", device="cpu")
    assert stylizer.run_dir == zoo.style_path("ukiyoe")
    one_shot = stylebridge.stylize(photo, "ukiyoe")
    assert one_shot.size == photo.size
    assert np.array_equal(np.asarray(one_shot), np.asarray(stylizer.stylize(photo)))
    assert not np.array_equal(np.asarray(one_shot), np.asarray(photo))


def test_unknown_name_lists_the_bundled_styles(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelFileError, match="nor a bundled style .*ukiyoe"):
        stylebridge.load("ukiyo")


def test_a_folder_of_the_same_name_wins_over_the_bundled_style(tmp_path, monkeypatch, tiny_run):
    stylebridge.save(tiny_run, tmp_path / "ukiyoe")
    monkeypatch.chdir(tmp_path)
    assert stylebridge.load("ukiyoe").run_dir.resolve() == (tmp_path / "ukiyoe").resolve()


def test_save_of_a_loaded_style_loads_back_the_same(tmp_path, photo):
    saved = stylebridge.save(stylebridge.load("chinese_ink"), tmp_path / "ink")
    assert (saved / "MODEL_CARD.md").read_text() == (
        zoo.style_path("chinese_ink") / "MODEL_CARD.md"
    ).read_text()
    again = stylebridge.stylize(photo, saved)
    assert np.array_equal(np.asarray(again), np.asarray(stylebridge.stylize(photo, "chinese_ink")))


def test_save_refuses_to_replace_a_model_unless_asked(tmp_path):
    stylebridge.save("ukiyoe", tmp_path / "m")
    with pytest.raises(ConfigError, match="already holds a model"):
        stylebridge.save("western_oil", tmp_path / "m")
    stylebridge.save("western_oil", tmp_path / "m", overwrite=True)
    assert stylebridge.load(tmp_path / "m").config["card"]["style"] == "western_oil"


def test_save_a_generator_module_then_load_it(tmp_path, photo):
    from stylebridge.models.files import generator_from_config
    from stylebridge.nn import build_generator

    torch.manual_seed(0)
    net = build_generator({"ngf": 8, "n_blocks": 2, "upsample": "transpose"})
    folder = stylebridge.save(net, tmp_path / "mine", method="cyclegan")
    loaded, config = generator_from_config(folder, "a2b")
    assert config["method"] == "cyclegan" and config["generator"]["upsample"] == "transpose"
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert stylebridge.stylize(photo, folder).size == photo.size


def test_save_refuses_a_module_that_is_not_a_generator(tmp_path):
    with pytest.raises(ConfigError, match="not a stylebridge generator"):
        stylebridge.save(torch.nn.Conv2d(3, 3, 1), tmp_path / "x")
    assert not (tmp_path / "x").exists()
