"""ONNX export across model families: a pix2pix U-Net (stride 128) exports and matches
PyTorch; a GAN run, which has no image input, is refused with the reason."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import stylebridge
from stylebridge.errors import ConfigError
from stylebridge.inference.onnx import OnnxGenerator, check_shape
from stylebridge.models.files import FORMAT, atomic_save_tensors
from stylebridge.nn import build_generator

pytest.importorskip("onnxruntime")


def test_check_shape_fits_every_stride():
    assert check_shape(4) == (2, 3, 76, 100)  # ResNet generators: as before
    for multiple in (8, 32, 128, 256):
        _, _, height, width = check_shape(multiple)
        assert height % multiple == width % multiple == 0
        assert height != width and min(height, width) >= 2 * multiple


def test_pix2pix_unet_exports_and_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    net = build_generator({"architecture": "unet", "ngf": 4, "num_downs": 7})
    assert net.multiple == 128
    folder = stylebridge.save(net, tmp_path / "p2p", method="pix2pix")
    report = stylebridge.export(folder, onnx=tmp_path / "p2p.onnx", exporter="torchscript")
    assert report.max_abs_diff <= report.tolerance
    graph = OnnxGenerator(report.path)
    assert graph.multiple == 128
    x = torch.rand(1, 3, 256, 384, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.inference_mode():
        expected = net.eval()(x).numpy()
    assert np.abs(graph(x).numpy() - expected).max() <= report.tolerance


def test_gan_run_export_explains_instead_of_missing_a2b(tmp_path):
    folder = tmp_path / "dcgan_run"
    net = build_generator({"architecture": "dcgan", "size": 16, "z_dim": 8, "ngf": 4})
    atomic_save_tensors(net.state_dict(), folder / "g.safetensors")
    config = {
        "format": FORMAT,
        "method": "dcgan",
        "generator": {"architecture": "dcgan", "size": 16, "z_dim": 8, "ngf": 4},
        "directions": {},
        "exports": {"generator": "g.safetensors"},
    }
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError) as err:
        stylebridge.export(folder, onnx=tmp_path / "g.onnx")
    message = str(err.value)
    assert "dcgan GAN" in message and "random noise" in message
    assert "stylebridge generate" in message
    assert "has no a2b generator" not in message
    assert not (tmp_path / "g.onnx").exists()
