"""SSIM, MS-SSIM and PSNR in torch, following scikit-image's conventions exactly.

SSIM matches ``skimage.metrics.structural_similarity(a, b, channel_axis=2,
gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)``: an 11-tap
Gaussian window (sigma 1.5, truncated at 3.5 sigma), symmetric ("reflect") padding, the
5-pixel border cropped before averaging, channels averaged. MS-SSIM (Wang et al. 2003) applies
the same map at five scales with 2x2 average pooling between them and the published weights;
negative contrast-structure terms are clamped to 0 so fractional powers stay defined.
PSNR matches ``skimage.metrics.peak_signal_noise_ratio(a, b, data_range=255)``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

SIGMA = 1.5
TRUNCATE = 3.5
K1, K2 = 0.01, 0.03
RADIUS = int(TRUNCATE * SIGMA + 0.5)  # 5, so the window is 11 px
WINDOW = 2 * RADIUS + 1
MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_MIN_SIDE = WINDOW * 2 ** (len(MS_WEIGHTS) - 1)  # 176: the window must fit the 5th scale


def _as_tensor(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """HxWxC (or HxW) pixels -> (1, C, H, W) float64."""
    t = torch.as_tensor(np.asarray(image)).to(torch.float64)
    if t.dim() == 2:
        t = t[..., None]
    return t.permute(2, 0, 1)[None]


def _kernel() -> torch.Tensor:
    x = torch.arange(-RADIUS, RADIUS + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * x.square() / SIGMA**2)
    return w / w.sum()


def _pad_symmetric(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mirror including the edge pixel (scipy's "reflect", numpy's "symmetric")."""
    x = torch.cat([x[..., :r].flip(-1), x, x[..., -r:].flip(-1)], dim=-1)
    return torch.cat([x[..., :r, :].flip(-2), x, x[..., -r:, :].flip(-2)], dim=-2)


def _blur(x: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter per channel, same size out. In-place shifted sums: float64
    convolutions have no fast CPU kernel, and this is 4x quicker than one."""
    k = _kernel().tolist()
    x = _pad_symmetric(x, RADIUS)
    h, w = x.shape[-2] - 2 * RADIUS, x.shape[-1] - 2 * RADIUS
    rows = x.new_zeros(*x.shape[:-1], w)
    for i, weight in enumerate(k):
        rows.add_(x[..., :, i : i + w], alpha=weight)
    out = x.new_zeros(*x.shape[:-2], h, w)
    for i, weight in enumerate(k):
        out.add_(rows[..., i : i + h, :], alpha=weight)
    return out


def _ssim_and_cs(x: torch.Tensor, y: torch.Tensor, data_range: float) -> tuple[float, float]:
    """Mean SSIM and mean contrast-structure term over the cropped maps and the channels."""
    if min(x.shape[-2:]) < WINDOW:
        raise ValueError(
            f"SSIM needs images at least {WINDOW} px per side, got {x.shape[-1]}x{x.shape[-2]}"
        )
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y, xx, yy, xy = _blur(torch.cat([x, y, x * x, y * y, x * y])).unbind(0)
    var_x = xx - mu_x.square()
    var_y = yy - mu_y.square()
    cov = xy - mu_x * mu_y
    cs = (2 * cov + c2) / (var_x + var_y + c2)
    lum = (2 * mu_x * mu_y + c1) / (mu_x.square() + mu_y.square() + c1)
    crop = (slice(None), slice(RADIUS, -RADIUS), slice(RADIUS, -RADIUS))
    return float((lum * cs)[crop].mean()), float(cs[crop].mean())


def ssim(a, b, data_range: float = 255.0) -> float:
    """Structural similarity of two same-sized HxWxC images (skimage settings above)."""
    return _ssim_and_cs(_as_tensor(a), _as_tensor(b), data_range)[0]


def ms_ssim(a, b, data_range: float = 255.0) -> float:
    """Multi-scale SSIM over five scales; images need at least 176 px per side."""
    x, y = _as_tensor(a), _as_tensor(b)
    if min(x.shape[-2:]) < MS_MIN_SIDE:
        raise ValueError(
            f"MS-SSIM needs images at least {MS_MIN_SIDE} px per side, got "
            f"{x.shape[-1]}x{x.shape[-2]}"
        )
    value = 1.0
    for scale, weight in enumerate(MS_WEIGHTS):
        full, cs = _ssim_and_cs(x, y, data_range)
        term = full if scale == len(MS_WEIGHTS) - 1 else cs
        value *= max(term, 0.0) ** weight
        x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return value


def psnr(a, b, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB over all pixels and channels; inf for equal images."""
    mse = float((_as_tensor(a) - _as_tensor(b)).square().mean())
    return float("inf") if mse == 0 else 10.0 * float(np.log10(data_range**2 / mse))
