"""Restoration: shapes and sizes, training that learns a known degradation, the scratch
detector on synthetic cracks, and the bad inputs of issue 16."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from stylebridge import api, restore
from stylebridge.cli import app
from stylebridge.data.degrade import MASK_KINDS, damage_masks, degrade_for_sr, upscale
from stylebridge.errors import ConfigError, ImageError
from stylebridge.nn.restoration import Denoiser, DenoiserConfig, SRNet, SRNetConfig

runner = CliRunner()


def cli(*args) -> tuple[int, str]:
    """Exit status and text as a user sees them: ``main()`` prints a StylebridgeError as one
    ``error:`` line with status 1."""
    from stylebridge.errors import StylebridgeError

    try:
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    except StylebridgeError as err:
        return 1, f"error: {err}"
    if isinstance(result.exception, StylebridgeError):
        return 1, f"error: {result.exception}"
    return result.exit_code, result.output


SMALL_SR = ["model.channels=16", "model.blocks=2", "model.scale=2"]


def smooth_image(seed: int, size: int = 96) -> np.ndarray:
    """Soft colour gradients with a few shapes: content an upscaler can learn quickly."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    img = np.stack(
        [np.sin(xx * rng.uniform(2, 6) + c) * 0.5 + 0.5 for c in rng.uniform(0, 6, 3)], -1
    )
    img = (img * 200 + 30).astype(np.uint8)
    for _ in range(size // 12):  # hard edges: where a bicubic upscale blurs and a model need not
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        x, y = (int(v) for v in rng.integers(0, size - 8, 2))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), int(rng.integers(3, 10)), c, -1)
        else:
            cv2.rectangle(img, (x, y), (x + int(rng.integers(3, 16)), y + 8), c, -1)
    return img


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("restore_photos")
    for i in range(12):
        Image.fromarray(smooth_image(i)).save(folder / f"p{i:02d}.png")
    return folder


def _losses(run: Path, key: str) -> list[float]:
    return [json.loads(line)[key] for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def sr_run(tmp_path_factory, photos) -> Path:
    torch.manual_seed(0)
    return api.train(
        "srresnet", data=str(photos), out=str(tmp_path_factory.mktemp("sr") / "run"),
        size=48, steps=150, batch_size=8, log_every=10, sample_every=150, checkpoint_every=150,
        precision="fp32", overrides=[*SMALL_SR, "model.lr=0.003"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def denoise_run(tmp_path_factory, photos) -> Path:
    torch.manual_seed(0)
    return api.train(
        "denoise", data=str(photos), out=str(tmp_path_factory.mktemp("dn") / "run"),
        size=32, steps=60, batch_size=8, log_every=10, sample_every=60, checkpoint_every=60,
        precision="fp32",
        overrides=["model.channels=8", "model.depth=1", "model.lr=0.003", "model.noise=gaussian"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def inpaint_run(tmp_path_factory, photos) -> Path:
    torch.manual_seed(0)
    return api.train(
        "inpaint", data=str(photos), out=str(tmp_path_factory.mktemp("ip") / "run"),
        size=32, steps=4, batch_size=4, log_every=2, sample_every=4, checkpoint_every=4,
        precision="fp32", overrides=["model.channels=4", "model.ndf=4"],
    )  # fmt: skip


# --- networks and degradations ---------------------------------------------------------------
@pytest.mark.parametrize("scale", [2, 4])
def test_srnet_output_is_scale_times_larger_and_starts_as_bicubic(scale):
    net = SRNet(SRNetConfig(scale, 8, 2))
    x = torch.rand(1, 3, 13, 17) * 2 - 1
    y = net(x)
    assert y.shape == (1, 3, 13 * scale, 17 * scale)
    # zero-initialised residual output: the untrained net is its bicubic skip, no noise
    assert torch.allclose(y, upscale(x, scale))


def test_denoiser_keeps_size_and_uses_the_noise_level():
    net = Denoiser(DenoiserConfig(8, 1))
    x = torch.rand(2, 3, 24, 20) * 2 - 1
    assert torch.equal(net(x, 10.0), x)  # the zero-initialised last layer: identity at first
    torch.nn.init.normal_(net.out.weight, std=0.1)
    assert not torch.allclose(net(x, 0.0), net(x, 50.0))


def test_bicubic_degradation_is_antialiased_downscale():
    hr = torch.rand(2, 3, 32, 32) * 2 - 1
    lr = degrade_for_sr(hr, 4, "bicubic", torch.Generator())
    assert lr.shape == (2, 3, 8, 8)
    assert torch.allclose(lr.mean((2, 3)), hr.mean((2, 3)), atol=0.05)


def test_realistic_degradation_is_seeded_and_differs_from_bicubic():
    hr = torch.rand(2, 3, 32, 32) * 2 - 1
    a = degrade_for_sr(hr, 4, "realistic", torch.Generator().manual_seed(1))
    b = degrade_for_sr(hr, 4, "realistic", torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (2, 3, 8, 8)
    assert not torch.allclose(a, degrade_for_sr(hr, 4, "bicubic", torch.Generator()), atol=1e-3)


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_damage_masks_mark_part_of_the_image(kind):
    masks = damage_masks(6, 64, torch.Generator().manual_seed(3), kinds=(kind,))
    fractions = masks.flatten(1).mean(1)
    assert masks.shape == (6, 1, 64, 64)
    assert (fractions > 0).all() and (fractions <= 0.45).all()


# --- training learns the known degradation ---------------------------------------------------
def test_srresnet_training_reduces_the_loss_and_beats_its_bicubic_start(sr_run):
    losses = _losses(sr_run, "loss/l1")
    assert losses[-1] < 0.9 * losses[0]
    image = smooth_image(99)
    lr = Image.fromarray(image).resize((48, 48), Image.BICUBIC)
    out = np.asarray(api.upscale(lr, scale=2, model=sr_run))
    x = torch.from_numpy(np.asarray(lr)).permute(2, 0, 1)[None].float() / 127.5 - 1
    start = ((upscale(x, 2).clamp(-1, 1)[0].permute(1, 2, 0) + 1) * 127.5).round().numpy()
    assert out.shape == (96, 96, 3)
    assert np.abs(out.astype(float) - image).mean() < 0.95 * np.abs(start - image).mean()


def test_denoise_training_reduces_the_loss_and_removes_noise(denoise_run):
    losses = _losses(denoise_run, "loss/l1")  # noisy per step: the level is drawn each time
    assert min(losses[-2:]) < max(losses[:2])
    clean = smooth_image(98)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25, clean.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    out = np.asarray(api.denoise(noisy, model=denoise_run))
    assert np.abs(out.astype(float) - clean).mean() < np.abs(noisy.astype(float) - clean).mean()


def test_srgan_starts_from_a_srresnet_run(tmp_path, sr_run, photos):
    run = api.train(
        "srgan", data=str(photos), out=str(tmp_path / "gan"), size=32, steps=2, batch_size=2,
        precision="fp32", overrides=[*SMALL_SR, f"model.init_from={sr_run}"],
    )  # fmt: skip
    assert json.loads((run / "config.json").read_text())["task"] == "super-resolution"
    jittered = api.train(
        "srgan", data=str(photos), out=str(tmp_path / "jitter"), size=32, steps=2, batch_size=2,
        precision="fp32", log_every=1, overrides=[*SMALL_SR, "model.perceptual_jitter=8"],
    )  # fmt: skip
    logged = [json.loads(line) for line in (jittered / "log.jsonl").read_text().splitlines()]
    perceptual = [row["loss/perceptual"] for row in logged if "loss/perceptual" in row]
    assert len(perceptual) == 2 and np.isfinite(perceptual).all() and min(perceptual) > 0
    with pytest.raises(ConfigError, match="perceptual_jitter must be 0..16 px"):
        api.train(
            "srgan", data=str(photos), out=str(tmp_path / "far"), size=32, steps=1,
            overrides=[*SMALL_SR, "model.perceptual_jitter=17"],
        )  # fmt: skip
    with pytest.raises(ConfigError, match="same scale, channels and blocks"):
        api.train(
            "srgan", data=str(photos), out=str(tmp_path / "bad"), size=32, steps=1,
            overrides=["model.channels=16", f"model.init_from={sr_run}"],
        )  # fmt: skip


# --- tiling and sizes ------------------------------------------------------------------------
def test_tiled_upscale_matches_the_whole_image(sr_run):
    image = np.concatenate([smooth_image(5, 96), smooth_image(6, 96)], 1)[:, :150]
    model = restore.Restorer("super-resolution", sr_run)
    whole = model.run(image, tile=0)
    tiled = model.run(image, tile=64)
    assert whole.shape == tiled.shape == (192, 300, 3)
    assert np.abs(whole.astype(int) - tiled).mean() < 1.0


def test_upscale_keeps_alpha_and_converts_16_bit(tmp_path, sr_run):
    rgba = Image.fromarray(smooth_image(7, 40)).convert("RGBA")
    rgba.putalpha(Image.fromarray(np.tile(np.arange(40, dtype=np.uint8) * 6, (40, 1))))
    rgba.save(tmp_path / "alpha.png")
    grey16 = (np.tile(np.arange(40), (40, 1)) * 1600).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "deep.png")
    out = tmp_path / "out"
    results = list(api.restore_files("upscale", [tmp_path], out, scale=2, model=sr_run))
    assert all(r.error is None for r in results)
    up = Image.open(out / "alpha_x2.png")
    assert up.mode == "RGBA" and up.size == (80, 80)
    assert np.asarray(up)[..., 3][:, -1].mean() > np.asarray(up)[..., 3][:, 0].mean()
    assert Image.open(out / "deep_x2.png").size == (80, 80)


# --- scratch detection ----------------------------------------------------------------------
def crack(shape, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = np.zeros(shape, np.uint8)
    points = [(int(rng.integers(10, shape[1] - 10)), 0)]
    for _ in range(8):
        x, y = points[-1]
        points.append((int(np.clip(x + rng.integers(-20, 21), 0, shape[1] - 1)), y + 25))
    cv2.polylines(truth, [np.array(points, np.int32)], False, 1, 2)
    return truth > 0


@pytest.mark.parametrize("value", [235, 20])
def test_scratch_detector_finds_a_synthetic_crack(value):
    image = cv2.GaussianBlur(smooth_image(3, 200), (5, 5), 0)
    truth = crack(image.shape[:2], 4)
    damaged = image.copy()
    damaged[truth] = value
    found = restore.detect_scratches(damaged)
    visible = truth & (np.abs(image.astype(int) - value).mean(-1) > 40)
    assert (found & visible).sum() / visible.sum() > 0.8
    outside = ~cv2.dilate(truth.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert found[outside].mean() < 0.01
    assert restore.detect_scratches(image).mean() < 0.01


def test_inpaint_auto_mask_repairs_scratches_with_classical_fill(tmp_path):
    image = cv2.GaussianBlur(smooth_image(3, 200), (5, 5), 0)
    truth = crack(image.shape[:2], 4)
    damaged = image.copy()
    damaged[truth] = 235
    Image.fromarray(damaged).save(tmp_path / "old.png")
    out = tmp_path / "fixed.png"
    result = runner.invoke(
        app, ["restore", "inpaint", str(tmp_path / "old.png"), "--auto-mask", "scratches",
              "--method", "telea", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    fixed = np.asarray(Image.open(out)).astype(int)
    assert (
        np.abs(fixed - image)[truth].mean()
        < 0.4 * np.abs(damaged.astype(int) - image)[truth].mean()
    )


def test_noise_estimate_reads_the_gaussian_level():
    clean = cv2.GaussianBlur(smooth_image(1, 256), (3, 3), 0).astype(float)
    for sigma in (10, 25, 50):
        noisy = clean + np.random.default_rng(sigma).normal(0, sigma, clean.shape)
        estimate = restore.estimate_noise(np.clip(noisy, 0, 255).astype(np.uint8))
        assert abs(estimate - sigma) < 0.15 * sigma


# --- inpainting ------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["telea", "biharmonic", "model"])
def test_inpaint_changes_only_the_holes(method, inpaint_run):
    image = smooth_image(8, 64)
    holes = np.zeros((64, 64), bool)
    holes[20:30, 10:50] = True
    out = np.asarray(api.inpaint(image, holes, method=method, model=inpaint_run))
    assert np.array_equal(out[~holes], image[~holes])
    assert out.shape == image.shape


def test_mask_checks(tmp_path):
    image = Image.fromarray(smooth_image(2, 64))
    small = tmp_path / "small.png"
    Image.new("L", (32, 32), 255).save(small)
    with pytest.raises(ImageError, match="small.png.*32x32.*64x64"):
        api.inpaint(image, small, method="telea")
    Image.new("L", (64, 64), 0).save(tmp_path / "empty.png")
    with pytest.raises(ImageError, match="empty.png.*empty"):
        api.inpaint(image, tmp_path / "empty.png", method="telea")
    Image.new("L", (64, 64), 255).save(tmp_path / "white.png")
    with pytest.raises(ImageError, match="white.png.*all white"):
        api.inpaint(image, tmp_path / "white.png", method="telea")


# --- bad input through the CLI ---------------------------------------------------------------
def test_scale_must_be_2_or_4(tmp_path, photos):
    status, output = cli("restore", "upscale", photos / "p00.png", "--scale", 3, "-o", tmp_path)
    assert status == 1 and "scale must be 2 or 4" in output


def test_output_too_large_is_refused_and_the_batch_goes_on(tmp_path, sr_run, monkeypatch):
    Image.fromarray(smooth_image(1, 96)).save(tmp_path / "big.png")
    Image.fromarray(smooth_image(2, 16)).save(tmp_path / "small.png")
    monkeypatch.setenv("STYLEBRIDGE_MAX_PIXELS", "20000")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "restore",
            "upscale",
            str(tmp_path),
            "--scale",
            "2",
            "--model",
            str(sr_run),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert "big.png" in result.output and "output limit" in result.output
    assert (out / "small_x2.png").is_file() and not (out / "big_x2.png").exists()


def test_output_never_replaces_the_input(tmp_path, sr_run):
    photo = tmp_path / "p.png"
    Image.fromarray(smooth_image(1, 32)).save(photo)
    before = photo.read_bytes()
    status, output = cli("restore", "upscale", photo, "--scale", 2, "--model", sr_run, "-o", photo)
    assert status == 1 and "is one of the inputs" in output
    assert photo.read_bytes() == before


def test_a_translation_model_is_not_a_restoration_model(tiny_run):
    with pytest.raises(ConfigError, match="not a super-resolution model"):
        restore.Restorer("super-resolution", tiny_run)


def test_old_photo_writes_every_stage(tmp_path, sr_run, denoise_run, inpaint_run, monkeypatch):
    image = cv2.GaussianBlur(smooth_image(3, 200), (5, 5), 0)
    damaged = image.copy()
    damaged[crack(image.shape[:2], 4)] = 235
    Image.fromarray(damaged).save(tmp_path / "old.png")
    folders = {"super-resolution": sr_run, "denoising": denoise_run, "inpainting": inpaint_run}
    monkeypatch.setattr(
        "stylebridge.restore.runner.restoration_dir",
        lambda task, scale=None, gan=False: folders[task],
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["restore", "old-photo", str(tmp_path / "old.png"), "--scale", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "old_1_scratches.png", "old_2_inpainted.png", "old_3_denoised.png", "old_4_upscaled.png"
    ]  # fmt: skip
    assert Image.open(out / "old_4_upscaled.png").size == (400, 400)


@pytest.mark.slow
def test_a_super_resolution_run_exports_to_onnx(tmp_path, sr_run):
    import onnxruntime

    result = api.export(sr_run, onnx=tmp_path / "sr.onnx", direction="generator")
    assert result.max_abs_diff < 1e-3
    session = onnxruntime.InferenceSession(str(tmp_path / "sr.onnx"))
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 20, 28)).astype(np.float32)
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    assert y.shape == (1, 3, 40, 56)


# --- the bundled models ----------------------------------------------------------------------
def test_bundled_upscaler_beats_bicubic_on_a_real_photo(tmp_path):
    """The shipped x4 model, through the CLI, on an image it never saw."""
    from skimage import data as samples

    photo = samples.astronaut()[100:292, 140:332]  # 192 px of a portrait from scikit-image
    small = Image.fromarray(photo).resize((48, 48), Image.BICUBIC)
    small.save(tmp_path / "small.png")
    status, output = cli("restore", "upscale", tmp_path / "small.png", "-o", tmp_path / "out")
    assert status == 0, output
    out = np.asarray(Image.open(tmp_path / "out" / "small_x4.png")).astype(float)
    bicubic = np.asarray(small.resize((192, 192), Image.BICUBIC)).astype(float)
    assert out.shape == photo.shape
    assert np.square(out - photo).mean() < 0.9 * np.square(bicubic - photo).mean()


def test_bundled_x4_model_also_upscales_x2():
    from skimage import data as samples

    photo = samples.astronaut()[100:292, 140:332]
    small = Image.fromarray(photo).resize((96, 96), Image.BICUBIC)
    out = np.asarray(api.upscale(small, scale=2)).astype(float)
    bicubic = np.asarray(small.resize((192, 192), Image.BICUBIC)).astype(float)
    assert out.shape == photo.shape
    assert np.square(out - photo).mean() < np.square(bicubic - photo).mean()


def test_bundled_gan_upscaler_draws_sharper_detail_than_the_psnr_model():
    """``gan=True``: the srgan model, sharper (more Laplacian energy, nearer the photo's) than
    the PSNR model while still nearer the photo than bicubic."""
    from skimage import data as samples

    photo = samples.astronaut()[100:292, 140:332]
    small = Image.fromarray(photo).resize((48, 48), Image.BICUBIC)
    psnr_out = np.asarray(api.upscale(small, scale=4)).astype(float)
    gan_out = np.asarray(api.upscale(small, scale=4, gan=True)).astype(float)
    bicubic = np.asarray(small.resize((192, 192), Image.BICUBIC)).astype(float)
    assert gan_out.shape == photo.shape

    def detail(x):
        return cv2.Laplacian(x.mean(2), cv2.CV_64F).var()

    assert detail(psnr_out) * 1.5 < detail(gan_out) < detail(photo.astype(float))
    assert np.square(gan_out - photo).mean() < 0.85 * np.square(bicubic - photo).mean()
    with pytest.raises(ConfigError, match="a model folder or the bundled GAN model"):
        restore.Restorer("super-resolution", "some_run", gan=True)
    with pytest.raises(ConfigError, match="gan applies to upscale, not denoise"):
        list(api.restore_files("denoise", [], "out", gan=True))


def test_bundled_denoiser_removes_gaussian_noise():
    from skimage import data as samples

    clean = samples.astronaut()[::2, ::2].astype(float)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25, clean.shape), 0, 255)
    out = np.asarray(api.denoise(noisy.astype(np.uint8))).astype(float)
    # at least 4 dB better than the noisy input, blind (the level is estimated)
    assert np.square(out - clean).mean() < 0.4 * np.square(noisy - clean).mean()


def test_self_ensemble_is_rotation_equivariant_and_no_worse_than_one_pass():
    from skimage import data as samples

    from stylebridge.restore import Restorer

    clean = samples.astronaut()[:96, 120:200].astype(float)  # not square: turns change the shape
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 25, clean.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    model = Restorer("denoising")
    once = model.run(noisy, sigma=25.0).astype(float)
    both = model.run(noisy, sigma=25.0, ensemble=True)
    turned = model.run(np.ascontiguousarray(np.rot90(noisy)), sigma=25.0, ensemble=True)
    assert both.shape == noisy.shape
    assert np.abs(np.rot90(both).astype(int) - turned.astype(int)).max() <= 1  # turned back right
    assert np.square(both - clean).mean() <= np.square(once - clean).mean() * 1.01
    with pytest.raises(ConfigError, match="upscale and denoise, not inpaint"):
        list(api.restore_files("inpaint", [], "out", auto_mask="scratches", ensemble=True))
