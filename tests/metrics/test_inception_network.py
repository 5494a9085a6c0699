"""The FID Inception network: clear errors without weights, correct shapes and labels with them.

Its structure was checked once against torch-fidelity's implementation with shared random
weights (max feature difference 6e-8); the published weights cannot be had offline.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from stylebridge.errors import ModelFileError
from stylebridge.metrics import (
    KEY_FID,
    KEY_LABELS,
    SetOptions,
    build_extractor,
    evaluate,
    inception,
)
from stylebridge.metrics.inception import WEIGHTS_ENV, FidInceptionV3

from .conftest import blobs, write_images


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("inception") / "random_inception.safetensors"
    save_file({k: v.contiguous() for k, v in FidInceptionV3().state_dict().items()}, path)
    return path


def test_missing_weights_say_how_to_get_them(monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    with pytest.raises(ModelFileError, match=f"--inception-weights FILE or set {WEIGHTS_ENV}"):
        build_extractor("inception", device="cpu")
    with pytest.raises(ModelFileError, match="not found"):
        build_extractor("inception", device="cpu", weights="/nonexistent/pt_inception.pth")


def test_wrong_pth_is_refused_by_checksum(tmp_path):
    bad = tmp_path / "pt_inception.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, bad)
    with pytest.raises(ModelFileError, match="not the published"):
        build_extractor("inception", device="cpu", weights=bad)


def _tiny_sets(tmp_path):
    rng = np.random.default_rng(0)
    real = write_images(tmp_path / "real", blobs(rng, 2, 32, hue=0))
    fake = write_images(tmp_path / "fake", blobs(rng, 2, 32, hue=2))
    return real, fake


@pytest.mark.slow
def test_unverified_weights_are_labelled_as_such(tmp_path, monkeypatch, random_weights):
    monkeypatch.setenv(WEIGHTS_ENV, str(random_weights))
    extractor = build_extractor("inception", device="cpu")
    with torch.inference_mode():
        features, logits = extractor(torch.rand(1, 3, 64, 80) * 255)
    assert features.shape == (1, 2048) and logits.shape == (1, 1008)
    assert not extractor.standard and "sha256-" in extractor.version
    result = evaluate(
        *_tiny_sets(tmp_path),
        metrics="fid",
        features="inception",
        cache=False,
        options=SetOptions(fid_bootstrap=0),
    )
    assert result[KEY_LABELS][KEY_FID] == "FID (inception, unverified weights)"


@pytest.mark.slow
def test_published_checksum_earns_the_plain_label(tmp_path, monkeypatch):
    """Stand-in for the real file: random weights whose checksum we declare published."""
    torch.manual_seed(1)
    pth = tmp_path / "pt_inception.pth"
    torch.save(FidInceptionV3().state_dict(), pth)
    digest = hashlib.sha256(pth.read_bytes()).hexdigest()
    monkeypatch.setattr(inception, "WEIGHTS_SHA256_PREFIX", digest[:8])
    result = evaluate(
        *_tiny_sets(tmp_path),
        metrics="fid",
        features="inception",
        cache=False,
        inception_weights=pth,
        options=SetOptions(fid_bootstrap=0),
    )
    assert result[KEY_LABELS][KEY_FID] == "FID"
    assert result["extractor"]["standard"] is True
