"""The one conversion between pixel values and the models' [-1, 1] range."""

from __future__ import annotations

import torch

from stylebridge.imageio import to_model_range, to_pixel_range


def test_every_byte_value_survives_the_round_trip():
    pixels = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    model = to_model_range(pixels)
    assert model.dtype == torch.float32 and model.min() == -1 and model.max() == 1
    back = to_pixel_range(model)
    assert back.dtype == torch.uint8 and torch.equal(back, pixels)


def test_outputs_are_clamped_and_inputs_left_alone():
    images = torch.tensor([-3.0, -1.0, 0.0, 0.999, 5.0], requires_grad=True)
    kept = images.detach().clone()
    assert to_pixel_range(images).tolist() == [0, 0, 128, 255, 255]
    floats = to_pixel_range(images, quantize=False)
    assert torch.allclose(floats, torch.tensor([0.0, 0.0, 127.5, 254.8725, 255.0]))
    assert torch.equal(images.detach(), kept)
    floats = torch.full((2,), 255.0)
    to_model_range(floats)
    assert floats.tolist() == [255.0, 255.0]  # a float input is not converted in place
