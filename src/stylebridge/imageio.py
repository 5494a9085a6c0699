"""The only code that opens or writes image files.

Every odd file a user may hold (CMYK, 16-bit, palette with transparency, alpha, EXIF-rotated,
animated, truncated, huge) either becomes a clean RGB image or an :class:`ImageError` naming the
file and the problem in one line.
"""

from __future__ import annotations

import os
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError
from .fileio import atomic_write

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
DEFAULT_MAX_PIXELS = 150_000_000
MIN_SIDE = 8
# A 1,000,000 x 8 strip is a few kB of PNG yet becomes gigabytes once resized to a training or
# working size: no photograph or scroll is longer than this many times its width.
MAX_ASPECT = 100
MAX_DECODED_BYTES = 1 << 30  # 150 MP of RGBA at 8 bits fits; 150 MP of 32-bit float does not
# bytes per pixel once decoded, by PIL mode (anything else: 4)
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "I;16": 2, "I;16B": 2, "I;16L": 2}
_MODE_BYTES |= {"RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3}
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
    # the oriented size at full resolution when ``rgb`` was decoded smaller (``draft_side``)
    full_size: tuple[int, int] | None = None

    @property
    def size(self) -> tuple[int, int]:
        """The image's own size (not that of a reduced decode)."""
        return self.full_size or self.rgb.size


@dataclass(frozen=True)
class ImageInfo:
    """What the file header says, read without decoding the pixels."""

    width: int
    height: int
    mode: str
    format: str
    frames: int


def _open(path: Path, max_pixels: int) -> Image.Image:
    if not _utf8_name(path):  # it could not be named in a UTF-8 report, manifest or page
        raise ImageError(printable(path), "file name is not valid UTF-8; rename the file")
    if not path.exists():
        if path.is_symlink():
            raise ImageError(path, "dangling symbolic link (its target is missing)")
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
    try:
        _check_cost(im, path, max_pixels)
    except ImageError:
        im.close()
        raise
    return im


def _check_cost(im: Image.Image, path: Path, max_pixels: int) -> None:
    """Refuse from the header what would cost too much once decoded or resized: pixels,
    decoded bytes and the aspect ratio (the resized size grows with it)."""
    width, height = im.size
    if width * height > max_pixels:
        raise ImageError(
            path,
            f"image is {width}x{height} ({width * height / 1e6:.0f} MP), over the "
            f"{max_pixels / 1e6:.0f} MP limit that guards against decompression bombs "
            "(raise it with STYLEBRIDGE_MAX_PIXELS)",
        )
    if min(width, height) > 0 and max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError(
            path,
            f"image is {width}x{height}: an aspect ratio over {MAX_ASPECT}:1 "
            "(resized to a working size it would take far more memory than its pixels)",
        )
    decoded = width * height * _MODE_BYTES.get(im.mode, 4)
    limit = max(MAX_DECODED_BYTES, max_pixels * 3)  # a raised pixel limit raises this for RGB
    if decoded > limit:
        raise ImageError(
            path,
            f"image is {width}x{height} {im.mode}: {decoded / 2**30:.1f} GiB once decoded, over "
            f"the {limit / 2**30:.1f} GiB limit",
        )


def _utf8_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes of the name arrive as lone surrogates
        return False
    return True


def printable(path: str | os.PathLike) -> str:
    """A path that can be printed and written as UTF-8: undecodable bytes become ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


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
    """16/32-bit integer and float grey images to 8 bits, scaling by the real range of the type.
    One float32 working copy, changed in place: a float64 one was 8 bytes per pixel."""
    arr = np.array(im, dtype=np.float32)
    if im.mode == "F":
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            raise _NonFinitePixels(bad, arr.size)
        lo, hi = float(arr.min()), float(arr.max())
        if hi > lo:
            arr -= lo
            arr *= 255.0 / (hi - lo)
        else:
            arr[:] = 0
    elif arr.max(initial=0) > 255:
        arr /= 257.0
    arr += 0.5
    np.clip(arr, 0, 255, out=arr)
    return Image.fromarray(arr.astype(np.uint8), "L")


class _NonFinitePixels(ValueError):
    """A float image with NaN/inf pixels: no brightness can be given to them."""

    def __init__(self, bad: int, total: int):
        super().__init__(f"float image holds NaN/inf in {bad} of {total} pixels; fix them first")


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


def _orient(im: Image.Image, notes: list[str]) -> Image.Image:
    """Apply the EXIF orientation; an image without one is returned as is (Pillow's
    ``exif_transpose`` would copy it: a second full-size image)."""
    try:
        if im.getexif().get(_ORIENTATION, 1) in (None, 1):
            return im
        oriented = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block must not lose the picture
        notes.append("unreadable EXIF orientation ignored")
        return im
    if oriented.size != im.size:
        notes.append("rotated by its EXIF orientation")
    return oriented


_ORIENTATION = 0x0112


def _draft(im: Image.Image, side: int) -> None:
    """Let a JPEG decode at 1/2, 1/4 or 1/8 scale, keeping the long side at least ``side``."""
    scale = side / max(im.size)
    if scale < 1:
        im.draft(None, (max(1, int(im.width * scale + 1)), max(1, int(im.height * scale + 1))))


def _reduced(image: Image.Image | None, side: int) -> Image.Image | None:
    """A box-filtered copy whose long side stays at least ``side`` (the full one is dropped)."""
    factor = max(image.size) // side if image is not None else 0
    return image.reduce(factor) if factor >= 2 else image


def load_image(
    path: str | os.PathLike,
    *,
    max_pixels: int | None = None,
    min_side: int = MIN_SIDE,
    draft_side: int | None = None,
) -> LoadedImage:
    """Decode, apply EXIF orientation, return RGB plus alpha; ImageError on any fault.

    ``draft_side``: the caller needs the long side only this large (a hash, a preview, a
    ``--max-side`` working copy): a JPEG decodes at a reduced scale and any other image is
    reduced right after decoding, so no full-size copy outlives the load; ``size`` stays the
    image's own.
    """
    path = Path(path)
    im = _open(path, max_pixels or max_pixels_limit())
    notes: list[str] = []
    rgb = alpha = None
    try:
        frames = _frame_count(im, path)
        if frames > 1:
            notes.append(f"animated with {frames} frames: using the first")
            im.seek(0)
        full = im.size
        if draft_side and im.format == "JPEG":
            _draft(im, draft_side)
        im.load()
        oriented = _orient(im, notes)
        if oriented.size != im.size:
            full = full[::-1]
        rgb, alpha = _split_modes(oriented, notes)
        del oriented
        if draft_side:
            rgb, alpha = _reduced(rgb, draft_side), _reduced(alpha, draft_side)
        if rgb is im and frames > 1:  # a multi-frame file keeps its file open: detach frame 0
            rgb = im.copy()
    except ImageError:
        raise
    except _NonFinitePixels as err:
        raise ImageError(path, str(err)) from None
    except _DECODE_ERRORS as err:
        raise ImageError(path, f"corrupt or truncated image data ({err})") from None
    finally:
        if rgb is not im:  # closing frees the pixels; an image returned as decoded stays open
            im.close()
    if min(full) < min_side:
        raise ImageError(
            path, f"too small ({full[0]}x{full[1]} px; at least {min_side} px per side)"
        )
    full_size = full if full != rgb.size else None
    return LoadedImage(rgb=rgb, alpha=alpha, path=str(path), notes=notes, full_size=full_size)


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
        notes: list[str] = []
        oriented = _orient(image, notes)
        try:
            rgb, alpha = _split_modes(oriented, notes)
        except _NonFinitePixels as err:
            raise ImageError("<image>", str(err)) from None
        return LoadedImage(rgb=rgb, alpha=alpha, path="<image>", notes=notes)
    raise ImageError("<input>", f"cannot use a {type(image).__name__} as an image")


def save_image(
    image: Image.Image, path: str | os.PathLike, quality: int = 95, *, replace: bool = True
) -> Path:
    """Write atomically (temporary file, then rename) so a killed job never leaves half a file;
    ``replace=False`` refuses to clobber a file that appeared meanwhile (see ``fileio``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ImageError(path, f"unsupported output format {suffix or '(none)'}; use .png or .jpg")
    if suffix in (".jpg", ".jpeg") and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    kwargs = {"quality": quality} if suffix in (".jpg", ".jpeg", ".webp") else {}
    return atomic_write(path, lambda tmp: image.save(tmp, **kwargs), replace=replace)


def to_model_range(pixels: torch.Tensor) -> torch.Tensor:
    """Pixel values 0..255 (any dtype) -> the [-1, 1] floats every model takes; a new tensor.
    The one place this conversion is written, so data, inference and metrics agree."""
    return pixels.float().div(127.5).sub_(1.0)


def to_pixel_range(images: torch.Tensor, *, quantize: bool = True) -> torch.Tensor:
    """A model's [-1, 1] images -> 0..255, clamped: rounded to uint8 (``quantize``, as saved
    files hold them) or floats for blending. A new tensor; the input is left as it was."""
    values = images.detach().float().clamp(-1, 1).add_(1).mul_(127.5)
    return values.round_().byte() if quantize else values


def to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> float tensor (1, 3, H, W) in [-1, 1]."""
    arr = np.asarray(image.convert("RGB"), dtype=np.float32)
    return to_model_range(torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0))


def to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """(3, H, W) or (1, 3, H, W) tensor in [-1, 1] -> HxWx3 uint8 array."""
    if tensor.dim() == 4:
        tensor = tensor[0]
    return to_pixel_range(tensor).permute(1, 2, 0).cpu().numpy()


def to_pil(tensor: torch.Tensor) -> Image.Image:
    return Image.fromarray(to_uint8(tensor), "RGB")
