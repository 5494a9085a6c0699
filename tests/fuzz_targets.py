"""Fuzz targets shared by ``tests/test_fuzz.py`` and ``scripts/fuzz.py`` (longer budgets).

Each target takes raw bytes, writes them where the loader expects a file and calls the loader.
Only the project's own error types may escape; anything else is a crash to keep as a fixture.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylebridge.errors import StylebridgeError
from stylebridge.imageio import load_image, metadata_summary, probe_image
from stylebridge.models.files import generator_from_config, read_tensors
from stylebridge.training.checkpoint import load_training_state

IMAGE_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif"}
IMAGE_FORMATS["WEBP"] = ".webp"


def image_seeds() -> dict[str, bytes]:
    """Small valid files of every format the loader accepts: mutations start from real syntax."""
    rng = np.random.default_rng(0)
    pixels = Image.fromarray(rng.integers(0, 255, (24, 20, 3), np.uint8))
    seeds = {}
    for fmt, suffix in IMAGE_FORMATS.items():
        buf = io.BytesIO()
        image = pixels.convert("P") if fmt == "GIF" else pixels
        image.save(buf, fmt)
        seeds[suffix] = buf.getvalue()
    buf = io.BytesIO()
    pixels.convert("RGBA").save(buf, "PNG")
    seeds[".rgba.png"] = buf.getvalue()
    return seeds


def safetensors_seed() -> bytes:
    """A small valid safetensors file with metadata, built by hand (header + raw bytes)."""
    body = torch.arange(6, dtype=torch.float32).numpy().tobytes()
    header = {
        "__metadata__": {"format": "stylebridge.translation/1"},
        "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, len(body)]},
    }
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def mutate(seed: bytes, edits: list[tuple[int, int, int]], cut: int | None) -> bytes:
    """Apply (kind, position, value) edits: 0 overwrite a byte, 1 insert, 2 delete; then cut."""
    data = bytearray(seed)
    for kind, pos, value in edits:
        if not data:
            data.append(value)
            continue
        pos %= len(data)
        if kind == 0:
            data[pos] = value
        elif kind == 1:
            data[pos:pos] = bytes([value]) * (1 + value % 8)
        else:
            del data[pos : pos + 1 + value % 16]
    if cut is not None and data:
        data = data[: cut % (len(data) + 1)]
    return bytes(data)


def load_image_bytes(data: bytes, folder: Path, suffix: str) -> None:
    path = folder / ("input." + suffix.rsplit(".", 1)[-1])
    path.write_bytes(data)
    for loader in (probe_image, metadata_summary, load_image):
        with contextlib.suppress(StylebridgeError):
            loader(path)


def load_tensor_bytes(data: bytes, folder: Path) -> None:
    path = folder / "weights.safetensors"
    path.write_bytes(data)
    for loader in (read_tensors, load_training_state):
        with contextlib.suppress(StylebridgeError):
            loader(path)


def load_model_folder(config: bytes, weights: bytes, folder: Path) -> None:
    (folder / "config.json").write_bytes(config)
    (folder / "g_ab.safetensors").write_bytes(weights)
    with contextlib.suppress(StylebridgeError):
        generator_from_config(folder, "a2b")


def model_folder_seed() -> tuple[dict, bytes]:
    """config.json contents and weights of a tiny valid generator."""
    from safetensors.torch import save

    from stylebridge.models.files import FORMAT
    from stylebridge.nn import ResnetGenerator, ResnetGeneratorConfig

    config = ResnetGeneratorConfig(ngf=4, n_blocks=1)
    net = ResnetGenerator(config)
    weights = save({k: v.contiguous() for k, v in net.state_dict().items()})
    data = {"format": FORMAT, "generator": vars(config), "directions": {"a2b": "g_ab.safetensors"}}
    return data, weights
