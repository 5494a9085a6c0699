"""GAN family: objectives and penalties against their formulas, every method learning a simple
distribution, exact resume, and the generate command."""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

import stylebridge
from stylebridge import api
from stylebridge.cli import app
from stylebridge.errors import ConfigError, StylebridgeError
from stylebridge.inference.generate import ImageGenerator
from stylebridge.losses import (
    discriminator_adv_loss,
    generator_adv_loss,
    gradient_penalty,
    r1_penalty,
)
from stylebridge.metrics import build_extractor, kid
from stylebridge.nn import build_generator
from stylebridge.nn.diffaugment import diff_augment
from stylebridge.training import build_config
from stylebridge.training.checkpoint import STATE_NAME, load_training_state

SIZE = 16
# a tiny DCGAN / StyleGAN2 for 16 px; every test run uses fp32 so results do not depend on bf16
TINY_DCGAN = ["model.ngf=16", "model.ndf=16", "model.z_dim=32", "batch_size=16", "precision=fp32"]
TINY_SG2 = [
    "model.channel_max=32",
    "model.z_dim=32",
    "model.mapping_layers=2",
    "batch_size=16",
    "precision=fp32",
]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Nets this small run faster on one thread: two threads spend more on syncing than on
    arithmetic, and much more when the CPU is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- objectives and penalties ---------------------------------------------------------------
REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


@pytest.mark.parametrize(
    "objective,d_loss,g_loss",
    [
        # D halved as in CycleGAN: 0.5 * (mean (r-1)^2 + mean f^2); G: mean (f-1)^2
        ("lsgan", 0.5 * ((1 + 4) / 2 + (0.25 + 9) / 2), (0.25 + 16) / 2),
        # D: 0.5 * (mean softplus(-r) + mean softplus(f)); G non-saturating: mean softplus(-f)
        (
            "vanilla",
            0.5 * ((_softplus(-2) + _softplus(1)) / 2 + (_softplus(0.5) + _softplus(-3)) / 2),
            (_softplus(-0.5) + _softplus(3)) / 2,
        ),
        # D: mean relu(1 - r) + mean relu(1 + f) = (0 + 2)/2 + (1.5 + 0)/2; G: -mean f
        ("hinge", 1.0 + 0.75, 1.25),
        # D: mean f - mean r (the negated Wasserstein estimate); G: -mean f
        ("wgan", -1.25 - 0.5, 1.25),
    ],
)
def test_objectives_match_their_formulas(objective, d_loss, g_loss):
    assert discriminator_adv_loss(objective, REAL, FAKE).item() == pytest.approx(d_loss)
    assert generator_adv_loss(objective, FAKE).item() == pytest.approx(g_loss)


def test_gradient_penalty_on_a_linear_critic():
    """f(x) = w.x has gradient w everywhere, so GP = (||w|| - 1)^2 = (5 - 1)^2 = 16 and
    d GP / d w = 2 (||w|| - 1) w / ||w|| = 1.6 w."""
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    real, fake = torch.randn(4, 1, 1, 2), torch.randn(4, 1, 1, 2)
    gp = gradient_penalty(lambda x: x.flatten(1) @ w, real, fake)
    assert gp.item() == pytest.approx(16.0)
    gp.backward()  # the penalty must train the critic: it is built with create_graph
    assert torch.allclose(w.grad, torch.tensor([4.8, 6.4]))


def test_gradient_penalty_uses_points_between_real_and_fake():
    """f(x) = ||x||^2 / 2 has gradient x: at 0.5 * (3, 4) + 0.5 * (0, 1) = (1.5, 2.5) the norm is
    sqrt(8.5); at mix 1 the point is the real sample (3, 4), norm 5."""
    real = torch.tensor([[3.0, 4.0], [3.0, 4.0]])
    fake = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    gp = gradient_penalty(lambda x: 0.5 * x.square().sum(1), real, fake, torch.tensor([0.5, 1.0]))
    assert gp.item() == pytest.approx(((math.sqrt(8.5) - 1) ** 2 + 16) / 2)


def test_r1_penalty_on_a_linear_critic():
    """R1 = mean ||grad f(real)||^2 = ||w||^2 = 25 for f(x) = w.x; d R1 / d w = 2 w."""
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    real = torch.randn(3, 2, requires_grad=True)
    r1 = r1_penalty(real @ w, real)
    assert r1.item() == pytest.approx(25.0)
    r1.backward()
    assert torch.allclose(w.grad, torch.tensor([6.0, 8.0]))


def test_diffaugment_keeps_shape_and_passes_gradients():
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, ["color", "translation", "cutout"])
    assert y.shape == x.shape and not torch.equal(y, x)
    y.sum().backward()
    assert x.grad.abs().sum() > 0  # G is trained through the augmentation


def _model(method: str, extra: list[str]):
    from stylebridge.models import MODELS

    config = build_config({"method": method, "data": "unused", "size": SIZE}, None, extra)
    return MODELS.get(method)(config.model, torch.device("cpu"), seed=0)


def test_weight_clipping_and_ema_follow_their_rules():
    model = _model("wgan", [*TINY_DCGAN, "model.n_critic=2", "model.ema=0.5"])
    before = {k: v.clone() for k, v in model.g_ema.state_dict().items()}
    losses = model.train_step({"real": torch.rand(32, 3, SIZE, SIZE) * 2 - 1})
    assert {"loss/d/adv", "loss/g/adv", "diag/d_real", "diag/d_fake"} <= set(losses)
    params = [p for name, p in model.d.named_parameters() if "weight" in name or "bias" in name]
    assert max(p.abs().max().item() for p in params) <= 0.01 + 1e-7
    # one generator step: EMA decay min(0.5, (1 + 1) / (10 + 1)); g_ema = b * old + (1 - b) * g
    beta = 2 / 11
    g = model.g.state_dict()
    for key, old in before.items():
        if old.is_floating_point() and "running" not in key:
            expected = beta * old + (1 - beta) * g[key]
            assert torch.allclose(model.g_ema.state_dict()[key], expected, atol=1e-6), key


def test_penalties_are_applied_and_reported():
    gp = _model("wgan-gp", [*TINY_DCGAN, "model.n_critic=1"])
    assert "loss/d/gp" in gp.train_step({"real": torch.rand(8, 3, SIZE, SIZE) * 2 - 1})
    r1 = _model("sngan", [*TINY_DCGAN, "model.r1_gamma=1", "model.r1_every=1"])
    assert r1.train_step({"real": torch.rand(8, 3, SIZE, SIZE) * 2 - 1})["loss/d/r1"] > 0


def test_config_rules():
    with pytest.raises(ConfigError, match="power of two"):
        build_config({"method": "dcgan", "size": 48})
    with pytest.raises(ConfigError, match="power of two"):
        build_config({"method": "stylegan2", "size": 512})
    with pytest.raises(ConfigError, match="batch-norm critic"):
        build_config({"method": "wgan-gp"}, None, ["model.d_norm=batch"])
    with pytest.raises(ConfigError, match="unknown augmentation"):
        build_config({"method": "stylegan2"}, None, ["model.augment=zoom"])
    sngan = build_config({"method": "sngan"}).model
    assert (sngan.objective, sngan.spectral_norm, sngan.lr, sngan.lr_d) == (
        "hinge",
        True,
        1e-4,
        4e-4,
    )
    wgan = build_config({"method": "wgan"}).model
    assert (wgan.objective, wgan.clip, wgan.n_critic, wgan.optimizer) == (
        "wgan",
        0.01,
        5,
        "rmsprop",
    )


# --- learning a simple distribution ---------------------------------------------------------
def blob_image(rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """A red disc in the top-left and a blue disc in the bottom-right quarter, on mid grey
    (what an untrained generator draws everywhere), each moved by up to one pixel."""
    img = np.full((size, size, 3), 128, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    c = size // 4
    for cy, cx, colour in [(c, c, (230, 30, 30)), (3 * c, 3 * c, (30, 30, 230))]:
        cy, cx = cy + rng.integers(-1, 2), cx + rng.integers(-1, 2)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= (size // 5) ** 2] = colour
    return img


@pytest.fixture(scope="module")
def blobs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("blobs")
    rng = np.random.default_rng(0)
    for i in range(64):
        Image.fromarray(blob_image(rng)).save(folder / f"blob_{i:03d}.png")
    return folder


def _to_pixels(images: torch.Tensor) -> torch.Tensor:
    return images.clamp(-1, 1).add(1).mul(127.5).round()


def _kid_to_blobs(images: torch.Tensor) -> float:
    """KID (pixel features: the image at 8x8) between images in [-1, 1] and fresh blobs."""
    extractor = build_extractor("pixel", device="cpu")
    rng = np.random.default_rng(5)
    real = np.stack([blob_image(rng) for _ in range(200)])
    real = torch.from_numpy(real).permute(0, 3, 1, 2).float()
    return kid(extractor(real)[0], extractor(_to_pixels(images))[0], num_subsets=50)[0]


def _layout(images: torch.Tensor) -> float:
    """Mean R - B over the rows through the red disc minus the same over the rows through the
    blue one: about 160 for the blobs, 0 without the layout. Rows, not quarters, because
    training flips images left-right."""
    red_minus_blue = _to_pixels(images)[:, 0] - _to_pixels(images)[:, 2]
    c = SIZE // 4
    top = red_minus_blue[:, c - 1 : c + 2].mean(dim=(1, 2))
    bottom = red_minus_blue[:, 3 * c - 1 : 3 * c + 2].mean(dim=(1, 2))
    return float((top - bottom).mean())


@pytest.mark.slow
@pytest.mark.parametrize(
    "method,steps,extra",
    [
        ("dcgan", 150, TINY_DCGAN),
        ("lsgan", 150, TINY_DCGAN),
        ("wgan", 100, [*TINY_DCGAN, "model.lr=0.0002"]),
        ("wgan-gp", 80, [*TINY_DCGAN, "model.lr=0.0005"]),
        ("sngan", 250, TINY_DCGAN),
        ("stylegan2", 120, TINY_SG2),
    ],
)
def test_each_method_learns_the_blobs(tmp_path, blobs, method, steps, extra):
    run = stylebridge.train(
        method,
        data=str(blobs),
        out=str(tmp_path / "run"),
        size=SIZE,
        steps=steps,
        sample_every=steps,
        checkpoint_every=steps,
        overrides=extra,
    )
    generator = ImageGenerator(run, device="cpu")
    z = generator.latents(200, seed=0)
    trained = generator.images(z)
    torch.manual_seed(0)
    untrained_net = build_generator(generator.config["generator"]).eval()
    with torch.no_grad():
        untrained = untrained_net(z)
    # measured: layout 70-140 trained, 0 (DCGAN) or -43 (StyleGAN2) untrained; KID (pixel)
    # 0.06-0.08 trained, 0.1 (DCGAN) and 0.4 (StyleGAN2) untrained
    layouts = _layout(trained), _layout(untrained)
    assert layouts[0] > 40 and layouts[1] < 40, f"{method}: red/blue layout {layouts}"
    kids = _kid_to_blobs(trained), _kid_to_blobs(untrained)
    assert kids[0] < 0.85 * kids[1], f"{method}: KID (pixel) trained, untrained {kids}"
    assert (run / "samples" / f"step_{steps:07d}.png").is_file()


# --- resume and generate --------------------------------------------------------------------
def _state(run: Path) -> dict[str, torch.Tensor]:
    state = load_training_state(run / STATE_NAME)
    return {f"{n}.{k}": v for n, sd in state["networks"].items() for k, v in sd.items()}


@pytest.fixture(scope="module")
def sg2_runs(tmp_path_factory, blobs) -> tuple[Path, Path]:
    """A StyleGAN2 run of 6 steps straight, and one stopped at step 3 and resumed."""
    root = tmp_path_factory.mktemp("sg2")
    common = dict(
        data=str(blobs),
        size=SIZE,
        steps=6,
        sample_every=100,
        checkpoint_every=100,
        seed=4,
        overrides=[*TINY_SG2, "batch_size=4", "deterministic=true", "model.r1_every=2"],
    )
    straight = stylebridge.train("stylegan2", out=str(root / "straight"), **common)

    def stop_at_3(report):
        if report.step == 3 and not report.message:
            os.kill(os.getpid(), signal.SIGTERM)

    halves = root / "halves"
    stylebridge.train("stylegan2", out=str(halves), progress=stop_at_3, **common)
    assert load_training_state(halves / STATE_NAME)["step"] == 3
    stylebridge.train(out=str(halves), resume=True)
    return straight, halves


def test_resume_continues_at_the_same_step(sg2_runs):
    straight, halves = sg2_runs
    assert load_training_state(halves / STATE_NAME)["step"] == 6
    a, b = _state(straight), _state(halves)
    assert a.keys() == b.keys() and "g_ema.mapping.w_avg" in a
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst < 1e-5, worst


def _cli(*args: str):
    try:
        return CliRunner().invoke(app, list(args), catch_exceptions=False)
    except StylebridgeError as err:  # main() prints these as one line with exit status 1
        return err


def test_generate_writes_images_gif_and_style_mixing(tmp_path, sg2_runs):
    run = sg2_runs[0]
    out = tmp_path / "gen"
    result = _cli(
        "generate",
        str(run),
        "-n",
        "5",
        "--seed",
        "3",
        "--truncation",
        "0.7",
        "-o",
        str(out),
        "--interpolation",
        "8",
        "--style-mixing",
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("seed3_*.png"))
    assert [f.name for f in files] == [f"seed3_{i:04d}.png" for i in range(5)]
    assert Image.open(files[0]).size == (SIZE, SIZE)
    grid = Image.open(out / "grid.png")
    assert grid.size == (3 * (SIZE + 2) + 2, 2 * (SIZE + 2) + 2)  # 5 images: 3 columns, 2 rows
    gif = Image.open(out / "interpolation.gif")
    assert gif.n_frames == 8
    mixing = Image.open(out / "style_mixing.png")
    assert mixing.size == (5 * (SIZE + 2) + 2, 5 * (SIZE + 2) + 2)  # 4x4 cells plus sources
    # image i of a seed does not depend on how many are asked for
    again = api.generate(run, tmp_path / "two", num=2, seed=3, truncation=0.7)
    for a, b in zip(again.files, files, strict=False):
        assert np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))


def test_truncation_pulls_samples_together(sg2_runs):
    generator = ImageGenerator(sg2_runs[0], device="cpu")
    z = generator.latents(16, seed=1)
    spread = [generator.images(z, truncation=t).std(0).mean().item() for t in (1.0, 0.5, 0.0)]
    assert spread[0] > spread[1] > spread[2]
    assert spread[2] < 1e-5  # truncation 0: every latent becomes the mean style


def test_generate_errors_are_one_line(tmp_path, tiny_run, sg2_runs):
    err = _cli("generate", str(tiny_run), "-o", str(tmp_path / "x"))
    assert isinstance(err, StylebridgeError) and "not a GAN" in str(err)
    err = _cli("stylize", str(sg2_runs[0]), str(tiny_run / "config.json"), "-o", str(tmp_path))
    assert isinstance(err, StylebridgeError) and "use stylebridge generate" in str(err)
    with pytest.raises(ConfigError, match="truncation"):
        ImageGenerator(sg2_runs[0], device="cpu").images(torch.zeros(1, 32), truncation=1.5)


def test_generate_refuses_existing_outputs_before_any_work(tmp_path, sg2_runs):
    out = tmp_path / "gen"
    args = ["generate", str(sg2_runs[0]), "-n", "2", "-o", str(out)]
    assert _cli(*args).exit_code == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    err = _cli(*args, "--seed", "0")
    assert isinstance(err, StylebridgeError)
    assert f"{out / 'seed0_0000.png'}: already exists (and 2 more" in str(err)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert _cli(*args, "--overwrite").exit_code == 0
