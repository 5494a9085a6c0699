"""``stylebridge import cyclegan``: weights of the reference CycleGAN code (junyanz/pytorch-
CycleGAN-and-pix2pix) become a model folder whose generator computes what the reference's does.

The reference network is written out here as its ``ResnetGenerator`` builds it (one Sequential
called ``model``), so the state dicts carry the reference's own layer names."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from typer.testing import CliRunner

import stylebridge
from stylebridge.cli import app
from stylebridge.errors import ModelFileError
from stylebridge.models.files import generator_from_config

runner = CliRunner()


class ReferenceResnetBlock(nn.Module):
    def __init__(self, dim, norm, use_dropout, use_bias):
        super().__init__()
        block = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=use_bias)]
        block += [norm(dim), nn.ReLU(True)]
        if use_dropout:
            block += [nn.Dropout(0.5)]
        block += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=use_bias)]
        block += [norm(dim)]
        self.conv_block = nn.Sequential(*block)

    def forward(self, x):
        return x + self.conv_block(x)


class ReferenceResnetGenerator(nn.Module):
    """The reference's ResnetGenerator (padding_type reflect, 2 downsamplings)."""

    def __init__(self, ngf=8, n_blocks=3, norm="instance", use_dropout=False):
        super().__init__()
        if norm == "instance":
            norm_layer = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)  # noqa: E731
        else:
            norm_layer = nn.BatchNorm2d
        use_bias = norm == "instance"
        model = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, padding=0, bias=use_bias)]
        model += [norm_layer(ngf), nn.ReLU(True)]
        for i in range(2):
            mult = 2**i
            model += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=use_bias),
                norm_layer(ngf * mult * 2),
                nn.ReLU(True),
            ]
        for _ in range(n_blocks):
            model += [ReferenceResnetBlock(ngf * 4, norm_layer, use_dropout, use_bias)]
        for i in range(2):
            mult = 2 ** (2 - i)
            model += [
                nn.ConvTranspose2d(
                    ngf * mult, ngf * mult // 2, 3, 2, padding=1, output_padding=1, bias=use_bias
                ),
                norm_layer(ngf * mult // 2),
                nn.ReLU(True),
            ]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x)


def _reference(seed: int, **options) -> ReferenceResnetGenerator:
    torch.manual_seed(seed)
    net = ReferenceResnetGenerator(**options)
    with torch.no_grad():  # non-zero biases and batch-norm statistics, so the mapping shows
        for name, value in net.state_dict().items():
            if name.endswith(("bias", "running_mean")):
                value.uniform_(-0.2, 0.2)
            elif name.endswith("running_var"):
                value.uniform_(0.5, 1.5)
    return net.eval()


def _same_outputs(ours: nn.Module, reference: nn.Module) -> float:
    x = torch.rand(2, 3, 48, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        return float((ours(x) - reference(x)).abs().max())


@pytest.mark.parametrize(
    "options",
    [
        {"ngf": 8, "n_blocks": 3},
        {"ngf": 4, "n_blocks": 2, "norm": "batch", "use_dropout": True},
    ],
    ids=["instance", "batch-dropout"],
)
def test_reference_file_imports_with_the_same_outputs(tmp_path, options):
    reference = _reference(0, **options)
    pth = tmp_path / "latest_net_G.pth"
    torch.save(reference.state_dict(), pth)
    result = runner.invoke(app, ["import", "cyclegan", str(pth), "-o", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    assert "a2b" in result.output
    ours, config = generator_from_config(tmp_path / "model", "a2b")
    assert config["generator"]["n_blocks"] == options["n_blocks"]
    assert config["imported_from"]["files"]["a2b"]["name"] == "latest_net_G.pth"
    assert _same_outputs(ours, reference) < 1e-5
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert (
        card.startswith("---\nlicense: other")
        and config["imported_from"]["files"]["a2b"]["sha256"] in card
    )
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 256, (50, 70, 3), np.uint8))
    assert stylebridge.stylize(photo, tmp_path / "model").size == photo.size


def test_reference_run_folder_gives_both_directions_and_picks_the_epoch(tmp_path):
    run = tmp_path / "checkpoints" / "horse2zebra"
    run.mkdir(parents=True)
    g_a, g_b, old = _reference(1), _reference(2), _reference(3)
    torch.save(g_a.state_dict(), run / "latest_net_G_A.pth")
    torch.save(g_b.state_dict(), run / "latest_net_G_B.pth")
    torch.save(old.state_dict(), run / "5_net_G_A.pth")
    torch.save(_reference(4).state_dict(), run / "latest_net_D_A.pth")  # ignored
    folder = stylebridge.api.import_cyclegan(run, tmp_path / "h2z")
    assert stylebridge.load(folder).directions == ["a2b", "b2a"]
    assert _same_outputs(generator_from_config(folder, "a2b")[0], g_a) < 1e-5
    assert _same_outputs(generator_from_config(folder, "b2a")[0], g_b) < 1e-5
    older = stylebridge.api.import_cyclegan(run, tmp_path / "epoch5", epoch="5")
    assert stylebridge.load(older).directions == ["a2b"]
    assert _same_outputs(generator_from_config(older, "a2b")[0], old) < 1e-5


def test_imported_folder_exports_to_onnx(tmp_path):
    pytest.importorskip("onnxruntime")
    torch.save(_reference(5, ngf=4, n_blocks=2).state_dict(), tmp_path / "latest_net_G.pth")
    folder = stylebridge.api.import_cyclegan(tmp_path / "latest_net_G.pth", tmp_path / "m")
    report = stylebridge.export(folder, onnx=tmp_path / "m.onnx", exporter="torchscript")
    assert report.path.is_file() and report.max_abs_diff <= report.tolerance


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_with_code_is_refused_unrun(tmp_path):
    marker = tmp_path / "ran"
    pth = tmp_path / "latest_net_G.pth"
    with pth.open("wb") as fh:
        pickle.dump({"model.1.weight": torch.zeros(1), "payload": _RunsCode(marker)}, fh, 2)
    with pytest.raises(ModelFileError, match="weights_only"):
        stylebridge.api.import_cyclegan(pth, tmp_path / "m")
    assert not marker.exists() and not (tmp_path / "m").exists()


def test_wrong_networks_and_shapes_get_one_line(tmp_path):
    unet = {"model.model.0.weight": torch.zeros(8, 3, 4, 4)}
    torch.save(unet, tmp_path / "unet.pth")
    with pytest.raises(ModelFileError, match="U-Net generator"):
        stylebridge.api.import_cyclegan(tmp_path / "unet.pth", tmp_path / "m")
    state = _reference(6).state_dict()
    state["model.4.weight"] = torch.zeros(16, 9, 3, 3)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(ModelFileError, match=r"layers\.4\.weight has shape \(16, 9, 3, 3\)"):
        stylebridge.api.import_cyclegan(tmp_path / "bad.pth", tmp_path / "m")
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(ModelFileError, match="latest_net_G.pth or latest_net_G_A.pth"):
        stylebridge.api.import_cyclegan(tmp_path / "empty_run", tmp_path / "m")
    assert not (tmp_path / "m").exists()
