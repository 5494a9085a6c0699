"""Seamless patterns: the seam metric, the texture GAN, saved models, palettes and recolouring."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import rgb2lab
from typer.testing import CliRunner

from stylebridge import api
from stylebridge.cli import app
from stylebridge.design import generate, load_texture_model, palette_of, recolor, seam_score
from stylebridge.errors import ConfigError, ModelFileError
from stylebridge.models.files import atomic_save_tensors, read_run_config, write_json

TINY = ["model.noise_channels=8", "model.widths=32,32,16,8", "model.ndf=16", "model.d_layers=3"]
GROUND, INK = (230, 200, 60), (30, 40, 120)  # yellow ground, dark blue blobs


def _motif(size: int = 96, seed: int = 0) -> Image.Image:
    """Dark blue discs scattered on a yellow ground: a texture with a known palette."""
    rng = np.random.default_rng(seed)
    pixels = np.empty((size, size, 3), np.uint8)
    pixels[:] = GROUND
    yy, xx = np.mgrid[:size, :size]
    for _ in range(size // 4):
        cy, cx, r = rng.integers(0, size), rng.integers(0, size), rng.integers(3, 7)
        pixels[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = INK
    return Image.fromarray(pixels)


def _train(run, motif, steps: int, **options):
    """The texture method through the one training loop, tiny and on the CPU."""
    settings = dict(size=32, load_size=96, batch_size=4, steps=steps, device="cpu")
    settings.update(precision="fp32", sample_every=steps, checkpoint_every=steps, **options)
    return api.train("texture", data=[str(motif)], out=str(run), overrides=TINY, **settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("texture")
    _motif().save(root / "motif.png")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny layers: one thread is faster, and no spin-waiting on busy CPUs
    try:
        untrained = load_texture_model(_train(root / "untrained", root / "motif.png", 1))
        run = _train(root / "run", root / "motif.png", 150)
    finally:
        torch.set_num_threads(threads)
    return untrained, load_texture_model(run), run


def _blurred_noise(size: int, periodic: bool) -> np.ndarray:
    """Smooth random texture: Gaussian-blurred noise, on a torus (FFT) or with reflecting edges."""
    from scipy.ndimage import gaussian_filter

    noise = np.random.default_rng(0).normal(size=(size, size, 3))
    smooth = gaussian_filter(noise, (3, 3, 0), mode="wrap" if periodic else "reflect")
    return np.clip(128 + smooth * 300, 0, 255).astype(np.uint8)


def test_seam_ratio_of_periodic_and_cut_images():
    periodic = _blurred_noise(256, periodic=True)
    assert seam_score(periodic).ratio == pytest.approx(1.0, abs=0.25)
    cut = _blurred_noise(256, periodic=False)
    assert min(seam_score(cut).horizontal, seam_score(cut).vertical) > 5
    x = np.tile(np.linspace(0, 255, 80)[None, :, None], (64, 1, 3)).astype(np.uint8)
    ramp = seam_score(x)  # jumps from 255 back to 0 across the column seam only
    assert ramp.horizontal > 100 and ramp.vertical == 0.0


def test_texture_gan_learns_the_motif_and_its_patterns_tile(trained):
    untrained, g, _ = trained
    motif_mean = np.asarray(_motif(), np.float64).reshape(-1, 3).mean(0)
    before = np.asarray(generate(untrained, 64, 64, seed=1), np.float64).reshape(-1, 3).mean(0)
    pattern = generate(g, 64, 96, seed=1)  # any size that is a multiple of the scale (8)
    assert pattern.size == (96, 64)
    after = np.asarray(pattern, np.float64).reshape(-1, 3).mean(0)
    assert np.abs(after - motif_mean).max() < 0.5 * np.abs(before - motif_mean).max()
    # one seam column is a noisy sample on small sparse-edged patterns: average seeds and axes
    scores = [seam_score(generate(g, 128, 128, seed=seed)) for seed in range(4)]
    mean_ratio = np.mean([[s.horizontal, s.vertical] for s in scores])
    assert 0.6 < mean_ratio < 1.6
    for seed in range(3):  # a cut-out of a larger pattern no longer wraps around
        crop = np.asarray(generate(g, 192, 192, seed=seed))[:100, :120]
        assert seam_score(crop).ratio > 5.0
    assert seam_score(_motif()).ratio > 2.0
    with pytest.raises(ConfigError, match="multiples of 8"):
        generate(g, 60, 64)
    assert generate(g, 60, 44, tileable=False).size == (44, 60)


def test_texture_run_folder_is_a_model_folder_and_old_folders_still_load(trained, tmp_path):
    _, g, run = trained
    config = read_run_config(run)
    assert config["method"] == "texture" and config["exports"] == {"generator": "g.safetensors"}
    assert (
        config["generator"]["architecture"] == "texture"
        and (run / "train_state.safetensors").is_file()
    )
    again = load_texture_model(run)
    a, b = generate(g, 64, 64, seed=5), generate(again, 64, 64, seed=5)
    assert np.array_equal(np.asarray(a), np.asarray(b))
    legacy = tmp_path / "legacy"  # the stylebridge.texture/1 folder of earlier versions
    legacy.mkdir()
    settings = {"noise_channels": 8, "widths": [32, 32, 16, 8], "crop": 32}
    write_json(legacy / "config.json", {"format": "stylebridge.texture/1", "config": settings})
    atomic_save_tensors(g.state_dict(), legacy / "generator.safetensors")
    old = generate(load_texture_model(legacy), 64, 64, seed=5)
    assert np.array_equal(np.asarray(a), np.asarray(old))
    other = tmp_path / "other"
    other.mkdir()
    for name in ("config.json", "g.safetensors"):
        (other / name).write_bytes((run / name).read_bytes())
    text = (other / "config.json").read_text().replace('"method": "texture"', '"method": "dcgan"')
    (other / "config.json").write_text(text)
    with pytest.raises(ModelFileError, match="not a texture model"):
        load_texture_model(other)


def test_texture_training_resumes_exactly(tmp_path, one_thread):
    """The texture method is trained by the one loop, so a stopped run resumes bit for bit."""
    _motif().save(tmp_path / "motif.png")
    straight = _train(tmp_path / "straight", tmp_path / "motif.png", 4, deterministic=True)
    part = _train(tmp_path / "part", tmp_path / "motif.png", 2, deterministic=True)
    api.train(out=str(part), steps=4, resume=True, checkpoint_every=4, sample_every=4)
    for name in ("g.safetensors",):
        assert (straight / name).read_bytes() == (part / name).read_bytes()


def test_palette_finds_known_colours_and_shares():
    colours = np.array([[200, 30, 30], [20, 20, 20], [240, 240, 220]], np.uint8)
    pixels = np.repeat(colours, [50, 30, 20], axis=0)  # 50% / 30% / 20%
    image = Image.fromarray(np.tile(pixels[None], (40, 1, 1)))
    palette = palette_of([image], k=3)
    assert palette.shares.tolist() == pytest.approx([0.5, 0.3, 0.2], abs=0.03)
    expected = rgb2lab(colours[None] / 255.0)[0]
    assert np.abs(palette.lab - expected).max() < 2.0


def test_recolor_moves_colours_onto_the_palette_and_keeps_the_drawing():
    pattern = _motif()
    target = Image.fromarray(
        np.concatenate(
            [np.full((20, 60, 3), c, np.uint8) for c in [(250, 235, 215), (120, 20, 20)]]
        )
    )
    palette = palette_of([target], k=2)
    out = np.asarray(recolor(pattern, palette), np.float64)
    src = np.asarray(pattern, np.float64)
    ink = np.all(src == INK, -1)
    assert np.abs(out[ink].mean(0) - (120, 20, 20)).max() < 12  # dark blue -> dark red
    assert np.abs(out[~ink].mean(0) - (250, 235, 215)).max() < 12  # yellow -> cream
    lightness = rgb2lab(src / 255)[..., 0].ravel(), rgb2lab(out / 255)[..., 0].ravel()
    assert np.corrcoef(*lightness)[0, 1] > 0.95
    unchanged = np.asarray(recolor(pattern, palette, amount=0.0), np.int16)
    assert np.abs(unchanged - src).max() <= 1


def test_cli_pattern_then_reuse_the_model_and_recolor(tmp_path, one_thread):
    motif = tmp_path / "motif.png"
    _motif(128).save(motif)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    _motif(40).save(tmp_path / "small.png")
    runner = CliRunner()
    out = tmp_path / "out"
    bad = [str(tmp_path / "broken.png"), str(tmp_path / "small.png")]
    args = ["design", "pattern", str(motif), *bad, "-o", str(out)]
    done = runner.invoke(app, [*args, "--size", "64", "--seeds", "2", "--steps", "3"])
    assert done.exit_code == 0, done.output
    assert "skipped" in done.output and "broken.png: not an image" in done.output
    assert "small.png: 40x40 px is smaller than the 64 px training crop" in done.output
    assert Image.open(out / "pattern_seed1.png").size == (64, 64)
    assert Image.open(out / "pattern_seed1_tiled2x2.png").size == (128, 128)
    again = tmp_path / "again"
    args = ["design", "pattern", "--model", str(out / "texture_model"), "-o", str(again)]
    done = runner.invoke(app, [*args, "--size", "48", "--seeds", "1"])
    assert done.exit_code == 0, done.output
    assert Image.open(again / "pattern_seed0.png").size == (48, 48)
    args = ["design", "recolor", str(again / "pattern_seed0.png"), "--palette-from", str(motif)]
    done = runner.invoke(app, [*args, "-o", str(tmp_path / "re.png"), "--colors", "2"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "re_palette.png").is_file() and "palette: #" in done.output
