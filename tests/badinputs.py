"""The bad-input corpus, made by code at test time (no binary blobs in the repository), and a
fault-injecting writer for full disks and read-only folders."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from stylebridge import fileio


def inject_write_fault(monkeypatch, code: int, only: str = "") -> None:
    """Every file stylebridge writes (whose name holds ``only``) fails with ``OSError(code)``;
    ENOSPC first writes half the bytes, as a disk that fills up mid-file does."""
    real = fileio._write_payload

    def failing(tmp, data):
        if only not in Path(tmp).name:
            return real(tmp, data)
        if code == errno.ENOSPC:
            real(tmp, data)
            with open(tmp, "r+b") as fh:
                fh.truncate(os.path.getsize(tmp) // 2)
        raise OSError(code, os.strerror(code), tmp)

    monkeypatch.setattr(fileio, "_write_payload", failing)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` grey pixels, with (much too
    little) compressed data: the header alone must get it refused before any decoding."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def _rgb(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _float_tiff(value: float) -> bytes:
    arr = np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32)
    arr[5:9, 5:9] = value
    return _encode(Image.fromarray(arr, "F"), "TIFF")


# name -> (file name, bytes maker): each one a way a real corpus goes wrong
BAD_IMAGES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "empty": ("empty.png", lambda: b""),
    "not_an_image": ("notes.jpg", lambda: b"these are words, not pixels\n" * 20),
    "truncated_png": ("truncated.png", lambda: _encode(_rgb(64, 64), "PNG")[:300]),
    "truncated_jpeg": ("truncated.jpg", lambda: _encode(_rgb(64, 64), "JPEG")[:400]),
    "tiny": ("tiny.png", lambda: _encode(_rgb(4, 4), "PNG")),
    "wide_strip": ("wide_strip.png", lambda: _encode(_rgb(10000, 8), "PNG")),
    "tall_strip": ("tall_strip.png", lambda: _encode(_rgb(8, 4000), "PNG")),
    "bomb_header": ("bomb.png", lambda: png_declaring(100_000, 100_000)),
    "aspect_bomb": ("needle.png", lambda: png_declaring(1_000_000, 8)),
    "nan_tiff": ("nan.tif", lambda: _float_tiff(float("nan"))),
    "inf_tiff": ("inf.tif", lambda: _float_tiff(float("inf"))),
}


def good_image(path: Path, seed: int = 0, size: tuple[int, int] = (48, 40)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _rgb(*size, seed=seed).save(path)
    return path


def write_bad_image(folder: Path, kind: str) -> Path:
    name, make = BAD_IMAGES[kind]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(make())
    return path


def digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (links not followed): inputs must come out unchanged."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
