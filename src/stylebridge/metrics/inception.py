"""The FID Inception-v3 network (TF graph of 2015-12-05), used only with a local weights file.

Its weights cannot be installed from a package registry, so the user points at the file
``pt_inception-2015-12-05-6726825d.pth`` (the PyTorch port the FID packages download) with
``--inception-weights`` or ``STYLEBRIDGE_INCEPTION_WEIGHTS``. Only then are results labelled
plain "FID"/"KID"/"IS". The FID variant differs from torchvision's Inception-v3: average pools
ignore padding, and the last block max-pools, as the TensorFlow graph did.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelFileError
from .features import FEATURES, FeatureExtractor

WEIGHTS_ENV = "STYLEBRIDGE_INCEPTION_WEIGHTS"
WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_SHA256_PREFIX = "6726825d"
WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILE
)


class Conv(nn.Module):
    """Convolution without bias, BatchNorm (eps 1e-3), ReLU: Inception's basic unit."""

    def __init__(self, c_in: int, c_out: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg3(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)


class BlockA(nn.Module):
    """35x35 block: 1x1, 5x5, double 3x3 and pooled branches."""

    def __init__(self, c_in: int, pool_features: int):
        super().__init__()
        self.branch1x1 = Conv(c_in, 64, 1)
        self.branch5x5_1 = Conv(c_in, 48, 1)
        self.branch5x5_2 = Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = Conv(c_in, 64, 1)
        self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, padding=1)
        self.branch_pool = Conv(c_in, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg3(x))], 1)


class BlockB(nn.Module):
    """Grid reduction 35 -> 17."""

    def __init__(self, c_in: int):
        super().__init__()
        self.branch3x3 = Conv(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = Conv(c_in, 64, 1)
        self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, 2)], 1)


class BlockC(nn.Module):
    """17x17 block with factorised 7x7 convolutions."""

    def __init__(self, c_in: int, c7: int):
        super().__init__()
        self.branch1x1 = Conv(c_in, 192, 1)
        self.branch7x7_1 = Conv(c_in, c7, 1)
        self.branch7x7_2 = Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = Conv(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = Conv(c_in, c7, 1)
        self.branch7x7dbl_2 = Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = Conv(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = Conv(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for i in range(1, 6):
            d = getattr(self, f"branch7x7dbl_{i}")(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg3(x))], 1)


class BlockD(nn.Module):
    """Grid reduction 17 -> 8."""

    def __init__(self, c_in: int):
        super().__init__()
        self.branch3x3_1 = Conv(c_in, 192, 1)
        self.branch3x3_2 = Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = Conv(c_in, 192, 1)
        self.branch7x7x3_2 = Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = Conv(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, 2)], 1)


class BlockE(nn.Module):
    """8x8 block with split 1x3/3x1 branches; the last one max-pools (``max_pool=True``)."""

    def __init__(self, c_in: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = Conv(c_in, 320, 1)
        self.branch3x3_1 = Conv(c_in, 384, 1)
        self.branch3x3_2a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = Conv(c_in, 448, 1)
        self.branch3x3dbl_2 = Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = Conv(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(h), self.branch3x3_2b(h)], 1)
        h = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(h), self.branch3x3dbl_3b(h)], 1)
        pooled = F.max_pool2d(x, 3, 1, 1) if self.max_pool else _avg3(x)
        return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(pooled)], 1)


class FidInceptionV3(nn.Module):
    """Input normalised as the TF graph did, ``(x - 128) / 128`` at 299 px; returns (2048, 1008)."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = Conv(80, 192, 3)
        self.Mixed_5b = BlockA(192, 32)
        self.Mixed_5c = BlockA(256, 64)
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b = BlockE(1280, max_pool=False)
        self.Mixed_7c = BlockE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, 2)))
        x = F.max_pool2d(x, 3, 2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        pooled = x.mean(dim=(2, 3))
        return pooled, pooled @ self.fc.weight.T  # IS uses the logits without bias, as in TF


def weights_path(weights: str | os.PathLike | None) -> Path:
    """The argument, else the env var, else a one-line error saying how to get the file."""
    chosen = weights or os.environ.get(WEIGHTS_ENV)
    if not chosen:
        raise ModelFileError(
            WEIGHTS_FILE,
            f"standard FID Inception weights are not bundled (no offline source); download "
            f"{WEIGHTS_URL} elsewhere, then pass --inception-weights FILE or set {WEIGHTS_ENV}",
        )
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise ModelFileError(path, "Inception weights file not found")
    return path


def load_state(path: Path) -> tuple[dict[str, torch.Tensor], str, bool]:
    """(state dict, sha256, verified). A .pth must be the published file (its checksum is
    known); a .safetensors conversion cannot be checked and counts as unverified."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path), digest, False
    if not digest.startswith(WEIGHTS_SHA256_PREFIX):
        raise ModelFileError(path, f"not the published {WEIGHTS_FILE} (sha256 {digest[:8]}...)")
    return torch.load(path, map_location="cpu", weights_only=True), digest, True


class InceptionExtractor(FeatureExtractor):
    """Standard FID network: 2048-d pool3 features, 1008 logits, 299 px input.

    Only the checksum-verified published .pth earns ``standard`` (plain "FID" labels).
    """

    name = "inception"
    version = f"1:{WEIGHTS_FILE}:bicubic299"
    input_size = 299
    num_features = 2048
    num_classes = 1008
    standard = True

    def __init__(self, cache: Path | None = None, weights: str | os.PathLike | None = None):
        super().__init__()
        path = weights_path(weights)
        self.net = FidInceptionV3()
        state, digest, verified = load_state(path)
        if not verified:  # honest labels, and a cache key of its own
            self.standard = False
            self.label = "inception, unverified weights"
            self.version = f"1:sha256-{digest[:16]}:bicubic299"
        try:
            missing, unexpected = self.net.load_state_dict(state, strict=False)
        except RuntimeError as err:  # a tensor of the wrong shape
            raise ModelFileError(
                path,
                f"weights do not fit the FID Inception network: "
                f"{str(err).splitlines()[-1].strip()}",
            ) from None
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise ModelFileError(
                path,
                f"weights do not fit the FID Inception network (missing "
                f"{missing[:3]}, unexpected {unexpected[:3]})",
            )
        self.net.eval().requires_grad_(False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (self.resize(x).clamp(0, 255) - 128.0) / 128.0
        features, logits = self.net(x.contiguous(memory_format=torch.channels_last))
        return features.float(), logits.float()


FEATURES.register("inception")(lambda cache, weights=None: InceptionExtractor(cache, weights))
