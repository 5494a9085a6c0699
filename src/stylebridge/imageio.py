"""The only code that opens or writes image files.

Every odd file a user may hold (CMYK, 16-bit, palette with transparency, alpha, EXIF-rotated,
animated, truncated, huge) either becomes a clean RGB image or an :class:`ImageError` naming the
file and the problem in one line.
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
DEFAULT_MAX_PIXELS = 150_000_000
MIN_SIDE = 8
# what Pillow's decoders raise on malformed files besides OSError (found by tests/test_fuzz.py:
# a TIFF without width tags raises TypeError from n_frames, for one)
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, EOFError)
_DECODE_ERRORS += (struct.error, ZeroDivisionError)


def max_pixels_limit() -> int:
    """The decompression-bomb guard: 150 MP unless ``STYLEBRIDGE_MAX_PIXELS`` says otherwise."""
    value = os.environ.get("STYLEBRIDGE_MAX_PIXELS")
    return int(value) if value else DEFAULT_MAX_PIXELS


@dataclass
class LoadedImage:
    """An image ready for the models: RGB pixels, the alpha channel if it had one, and notes."""

    rgb: Image.Image
    alpha: Image.Image | None = None
    path: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.size


@dataclass(frozen=True)
class ImageInfo:
    """What the file header says, read without decoding the pixels."""

    width: int
    height: int
    mode: str
    format: str
    frames: int


def _open(path: Path, max_pixels: int) -> Image.Image:
    if not path.exists():
        raise ImageError(path, "file not found")
    if path.is_dir():
        raise ImageError(path, "is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(path, "empty file (0 bytes)")
    old_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # our own limit below speaks instead of PIL's
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except UnidentifiedImageError:
        raise ImageError(path, "not an image file (format not recognised)") from None
    except _DECODE_ERRORS as err:
        raise ImageError(path, f"cannot open image: {err}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit
    width, height = im.size
    if width * height > max_pixels:
        im.close()
        raise ImageError(
            path,
            f"image is {width}x{height} ({width * height / 1e6:.0f} MP), over the "
            f"{max_pixels / 1e6:.0f} MP limit that guards against decompression bombs "
            "(raise it with STYLEBRIDGE_MAX_PIXELS)",
        )
    return im


def probe_image(path: str | os.PathLike, max_pixels: int | None = None) -> ImageInfo:
    """Read size, mode and frame count from the header; cheap, for corpus checks."""
    path = Path(path)
    im = _open(path, max_pixels or max_pixels_limit())
    with im:
        return ImageInfo(im.width, im.height, im.mode, im.format or "", _frame_count(im, path))


def _frame_count(im: Image.Image, path: Path) -> int:
    """Counting frames walks the file: a corrupt later frame fails here, not at open."""
    try:
        return getattr(im, "n_frames", 1)
    except _DECODE_ERRORS as err:
        raise ImageError(path, f"corrupt multi-frame image ({err or type(err).__name__})") from None


_XMP_KEYS = ("xmp", "XML:com.adobe.xmp")


def metadata_summary(path: str | os.PathLike) -> dict[str, object]:
    """Which metadata blocks a file carries (EXIF tag count, GPS, XMP, comments, ICC, other
    text chunks), under the decompression-bomb limit; privacy tools report and verify with it."""
    path = Path(path)
    im = _open(path, max_pixels_limit())
    with im:
        info = dict(im.info)
        try:
            exif = im.getexif()
            gps = len(exif.get_ifd(0x8825)) if 0x8825 in exif else 0
            tags = len(exif)
        except _DECODE_ERRORS:
            tags, gps = (1 if info.get("exif") else 0), 0
        try:
            text = [k for k in getattr(im, "text", {}) if k not in _XMP_KEYS]  # PNG text chunks
        except _DECODE_ERRORS as err:
            raise ImageError(path, f"corrupt or truncated image data ({err})") from None
    found: dict[str, object] = {}
    if tags:
        found["exif_tags"] = tags
    if gps:
        found["gps_tags"] = gps
    if any(info.get(key) for key in _XMP_KEYS):
        found["xmp"] = True
    for key in ("comment", "icc_profile"):
        if info.get(key):
            found[key] = True
    if text:
        found["text"] = sorted(text)
    return found


def _to_8bit(im: Image.Image) -> Image.Image:
    """16/32-bit integer and float grey images to 8 bits, scaling by the real range of the type."""
    arr = np.asarray(im)
    if im.mode == "F":
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
    else:
        arr = arr.astype(np.float64) / (257.0 if arr.max(initial=0) > 255 else 1.0)
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "L")


def _split_modes(im: Image.Image, notes: list[str]) -> tuple[Image.Image, Image.Image | None]:
    """Any PIL mode to (RGB over white, alpha or None)."""
    if im.mode.startswith("I") or im.mode == "F":
        notes.append(f"{im.mode} high-bit-depth image reduced to 8 bits")
        im = _to_8bit(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "CMYK":
        notes.append("CMYK converted to RGB")
        im = im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        alpha = rgba.getchannel("A")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba.convert("RGB"), mask=alpha)
        return white, alpha
    return (im if im.mode == "RGB" else im.convert("RGB")), None


def load_image(
    path: str | os.PathLike,
    *,
    max_pixels: int | None = None,
    min_side: int = MIN_SIDE,
) -> LoadedImage:
    """Decode fully, apply EXIF orientation, return RGB plus alpha; ImageError on any fault."""
    path = Path(path)
    im = _open(path, max_pixels or max_pixels_limit())
    notes: list[str] = []
    try:
        with im:
            frames = _frame_count(im, path)
            if frames > 1:
                notes.append(f"animated with {frames} frames: using the first")
                im.seek(0)
            im.load()
            try:
                oriented = ImageOps.exif_transpose(im)
            except Exception:  # a broken EXIF block must not lose the picture
                notes.append("unreadable EXIF orientation ignored")
                oriented = im.copy()
            if oriented is not im and oriented.size != im.size:
                notes.append("rotated by its EXIF orientation")
            rgb, alpha = _split_modes(oriented, notes)
    except ImageError:
        raise
    except _DECODE_ERRORS as err:
        raise ImageError(path, f"corrupt or truncated image data ({err})") from None
    if min(rgb.size) < min_side:
        raise ImageError(
            path, f"too small ({rgb.width}x{rgb.height} px; at least {min_side} px per side)"
        )
    return LoadedImage(rgb=rgb, alpha=alpha, path=str(path), notes=notes)


def as_loaded(image: object) -> LoadedImage:
    """Accept a path, a PIL image or an HxWx3 uint8 array: the Python API takes all three."""
    if isinstance(image, LoadedImage):
        return image
    if isinstance(image, (str, os.PathLike)):
        return load_image(image)
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise ImageError("<array>", f"expected a uint8 array, got {image.dtype}")
        image = Image.fromarray(image)
    if isinstance(image, Image.Image):
        oriented = ImageOps.exif_transpose(image)
        notes: list[str] = []
        rgb, alpha = _split_modes(oriented, notes)
        return LoadedImage(rgb=rgb, alpha=alpha, path="<image>", notes=notes)
    raise ImageError("<input>", f"cannot use a {type(image).__name__} as an image")


def save_image(image: Image.Image, path: str | os.PathLike, quality: int = 95) -> Path:
    """Write atomically (temporary file, then rename) so a killed job never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ImageError(path, f"unsupported output format {suffix or '(none)'}; use .png or .jpg")
    if suffix in (".jpg", ".jpeg") and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        kwargs = {"quality": quality} if suffix in (".jpg", ".jpeg", ".webp") else {}
        image.save(tmp, **kwargs)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> float tensor (1, 3, H, W) in [-1, 1]."""
    arr = np.asarray(image.convert("RGB"), dtype=np.float32)
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).div_(127.5).sub_(1.0)


def to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """(3, H, W) or (1, 3, H, W) tensor in [-1, 1] -> HxWx3 uint8 array."""
    if tensor.dim() == 4:
        tensor = tensor[0]
    arr = tensor.detach().float().clamp(-1, 1).add(1).mul(127.5).round()
    return arr.permute(1, 2, 0).to(torch.uint8).cpu().numpy()


def to_pil(tensor: torch.Tensor) -> Image.Image:
    return Image.fromarray(to_uint8(tensor), "RGB")
