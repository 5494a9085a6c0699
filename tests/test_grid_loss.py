"""The period-4 grid loss: it sees a fixed repeating pattern, not the content under it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylebridge.errors import ConfigError
from stylebridge.losses import phase_grid_loss

pytestmark = pytest.mark.usefixtures("one_thread")


def _smooth(seed: int = 0) -> torch.Tensor:
    coarse = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return torch.nn.functional.interpolate(coarse, size=(64, 96), mode="bicubic").clamp(-1, 1)


def _grid(amplitude: float = 0.04) -> torch.Tensor:
    cell = torch.zeros(4, 4)
    cell[0, 0], cell[2, 1], cell[1, 3] = amplitude, -amplitude, amplitude / 2
    return cell.repeat(16, 24)  # 64 x 96


def test_a_grid_costs_and_smooth_content_does_not():
    smooth = _smooth()
    gridded = smooth + _grid()
    assert float(phase_grid_loss(smooth)) < 1e-6
    assert float(phase_grid_loss(gridded)) > 100 * float(phase_grid_loss(smooth))
    # the same pattern at another phase costs the same: nothing depends on where it starts
    shifted = smooth + torch.roll(_grid(), shifts=(1, 2), dims=(0, 1))
    assert float(phase_grid_loss(shifted)) == pytest.approx(float(phase_grid_loss(gridded)), 0.1)
    with pytest.raises(ValueError, match="at least 8 px"):
        phase_grid_loss(torch.zeros(1, 3, 6, 64))


def test_descending_the_loss_removes_the_grid_and_keeps_the_picture():
    """Gradient descent on the loss alone takes away exactly the grid (less its mean, a flat
    offset it does not see): the picture under it is left as it was."""
    smooth, grid = _smooth(1), _grid()
    image = (smooth + grid).clone().requires_grad_(True)
    optimizer = torch.optim.SGD([image], lr=1000.0)
    for _ in range(100):
        optimizer.zero_grad()
        phase_grid_loss(image).backward()
        optimizer.step()
    left = image.detach() - smooth - grid.mean()
    assert float(left.abs().mean()) < 0.1 * float(grid.abs().mean())
    assert float(phase_grid_loss(image.detach())) < 1e-3 * float(phase_grid_loss(smooth + grid))


def test_stylenet_trains_with_the_grid_loss_and_checks_its_weight(tmp_path):
    from stylebridge.api import train

    rng = np.random.default_rng(0)
    for folder in ("content", "styles/ink"):
        (tmp_path / folder).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / folder / f"{i}.png")
    common = dict(domain_a=tmp_path / "content", domain_b=tmp_path / "styles", size=32)
    small = ["model.decoder_widths=8,8,8", "model.decoder_kind=shuffle", "compile=false"]
    run = train(
        "stylenet", steps=2, batch_size=4, out=tmp_path / "run",
        overrides=[*small, "model.lambda_grid=100", "log_every=1"], **common,
    )  # fmt: skip
    logged = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert any("loss/grid" in row for row in logged)
    with pytest.raises(ConfigError, match="model.lambda_grid must be >= 0"):
        train(
            "stylenet", steps=1, batch_size=4, out=tmp_path / "bad",
            overrides=[*small, "model.lambda_grid=-1"], **common,
        )  # fmt: skip
