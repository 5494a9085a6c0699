"""SSIM/PSNR equal scikit-image's with the documented settings; MS-SSIM behaves."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

from stylebridge.metrics import ms_ssim, psnr, ssim

SKIMAGE = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)


def _noisy(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("sigma", [3, 12, 40])
def test_ssim_and_psnr_equal_skimage(sigma):
    image = data.astronaut()[100:300, 150:420]  # non-square on purpose
    noisy = _noisy(image, sigma)
    expected = structural_similarity(image, noisy, channel_axis=2, **SKIMAGE)
    assert ssim(image, noisy) == pytest.approx(expected, abs=1e-10)
    assert psnr(image, noisy) == pytest.approx(
        peak_signal_noise_ratio(image, noisy, data_range=255), abs=1e-10
    )


def test_ssim_grey_and_small_images_equal_skimage():
    grey = data.camera()[:40, :23]
    noisy = _noisy(grey, 20)
    expected = structural_similarity(grey, noisy, **SKIMAGE)
    assert ssim(grey, noisy) == pytest.approx(expected, abs=1e-10)


def test_known_value_from_offline_notes():
    """OFFLINE_MODELS.md measured skimage SSIM 0.5732 and PSNR 27.043 for astronaut + noise 12."""
    image = data.astronaut()
    noisy = _noisy(image, 12)
    assert ssim(image, noisy) == pytest.approx(0.5732, abs=2e-3)
    assert psnr(image, noisy) == pytest.approx(27.04, abs=0.05)


def test_ssim_falls_as_noise_rises():
    image = data.coffee()[100:300, 150:450]
    values = [ssim(image, _noisy(image, s)) for s in (0, 5, 15, 40, 80)]
    assert values[0] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(values[:-1], values[1:], strict=True)), values
    ms = [ms_ssim(image, _noisy(image, s)) for s in (0, 15, 80)]
    assert ms[0] == pytest.approx(1.0) and ms[0] > ms[1] > ms[2]
    assert psnr(image, image) == float("inf")


def test_ms_ssim_close_to_torchmetrics():
    """Same published weights and window; torchmetrics pads differently, so allow 2e-3."""
    image = data.astronaut()[:256, 128:384]
    noisy = _noisy(image, 12)
    as_t = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float()  # noqa: E731
    ref = float(
        multiscale_structural_similarity_index_measure(as_t(noisy), as_t(image), data_range=255.0)
    )
    assert ms_ssim(image, noisy) == pytest.approx(ref, abs=2e-3)


def test_too_small_images_are_refused():
    tiny = np.zeros((9, 30, 3), np.uint8)
    with pytest.raises(ValueError, match="at least 11 px"):
        ssim(tiny, tiny)
    small = np.zeros((150, 300, 3), np.uint8)
    with pytest.raises(ValueError, match="at least 176 px"):
        ms_ssim(small, small)
