"""Model files: a folder of ``config.json`` plus safetensors, shared by training and inference.

Nothing here unpickles: a pickle or a corrupt file is refused with one line naming it.
Every file is written to a temporary name and renamed into place, so a killed job leaves either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from ..errors import ModelFileError, StylebridgeError
from ..fileio import atomic_write

CONFIG_NAME = "config.json"
FORMAT = "stylebridge.translation/1"
MAX_CONFIG_BYTES = 4 << 20  # real configs are a few kB; a huge one is an attack or an accident
MAX_ARCH_INT = 4096  # no width, depth or count in an architecture section is anywhere near this
MAX_ABS_WEIGHT = 1e4  # trained generators stay far below 10 (the bundled ones below 0.2)
MIN_PEAK_WEIGHT = 1e-4  # a network whose largest weight is below this computes a constant
_STATISTICS = ("running_mean", "running_var")  # batch-norm buffers: data statistics, not weights
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default .pth container


def _looks_like_safetensors(head: bytes, file_size: int) -> bool:
    """A little-endian u64 header length that fits in the file, then the JSON header's ``{``."""
    if len(head) < 9:
        return False
    header_len = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 2 <= header_len <= file_size - 8


def _looks_like_pickle(head: bytes) -> bool:
    """Pickle protocol 2-5 opens with PROTO (0x80) and the protocol number."""
    return head.startswith(_ZIP_MAGIC) or (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05")


def tensor_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors file in memory: written through ``fileio``, so a full disk is an
    ``OutputError`` line rather than safetensors' own ``SafetensorError``."""
    clean = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    return save(clean, metadata=metadata)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, data)


def atomic_save_tensors(
    tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None
) -> None:
    atomic_write(path, tensor_bytes(tensors, metadata))


def read_tensors(
    path: Path, *, header_only: bool = False
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Open a safetensors file; a pickle, a zip (.pth) or garbage gets a one-line refusal.

    ``header_only`` validates the header and returns no tensors (nothing is read into memory).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "file not found")
    with path.open("rb") as fh:
        head = fh.read(9)
    if not _looks_like_safetensors(head, path.stat().st_size) and _looks_like_pickle(head):
        raise ModelFileError(
            path,
            "is a pickle/PyTorch .pth file; stylebridge only loads "
            "safetensors (pickles can run code when opened)",
        )
    try:
        with safe_open(str(path), "pt") as fh:
            metadata = fh.metadata() or {}
        tensors = {} if header_only else load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelFileError(path, f"corrupt or not a safetensors file ({message})") from None
    return tensors, metadata


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=False) + "\n").encode())


def read_run_config(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG_NAME
    if not Path(run_dir).is_dir():
        raise ModelFileError(run_dir, "not a folder (expected a run folder with config.json)")
    if not path.is_file():
        raise ModelFileError(path, "missing: not a stylebridge run or model folder")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ModelFileError(path, f"{path.stat().st_size} bytes is too large for a config file")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(path, f"corrupt JSON ({err})") from None
    except RecursionError:
        raise ModelFileError(path, "corrupt JSON (nested too deeply)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelFileError(path, f"not a stylebridge model config (format is not {FORMAT})")
    return data


def generator_from_config(run_dir: Path, direction: str):
    """Rebuild a generator from ``config.json`` and load its weights (cast to float32).

    ``direction`` is a translation direction (``a2b``) or an exported network (``generator``).
    """
    from ..nn import build_generator

    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    directions = config.get("directions", {})
    if not isinstance(directions, dict):
        raise ModelFileError(run_dir / CONFIG_NAME, "directions section is not a mapping")
    exports = config.get("exports") or {}
    directions = {**directions, **exports} if isinstance(exports, dict) else directions
    if direction not in directions:
        available = ", ".join(sorted(directions)) or "none"
        raise ModelFileError(run_dir, f"has no {direction} generator (available: {available})")
    section = config.get("generator")
    check_architecture(run_dir / CONFIG_NAME, "generator", section)
    try:
        with torch.device("meta"):  # shapes only: an absurd config allocates nothing
            expected = build_generator(section).state_dict()
    except (KeyError, TypeError, ValueError, RuntimeError, StylebridgeError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelFileError(run_dir / CONFIG_NAME, f"bad generator section ({message})") from None
    weights = weights_path(run_dir, directions[direction])
    check_shapes(weights, {k: tuple(v.shape) for k, v in expected.items()})
    net = build_generator(section)
    tensors, _ = read_tensors(weights)
    check_weight_values(weights, tensors)
    net.load_state_dict({k: v.float() for k, v in tensors.items()})
    return net.eval(), config


def check_weight_values(
    path: Path, tensors: dict[str, torch.Tensor], *, magnitudes: bool = True
) -> None:
    """Refuse values no training makes, which would give a black or flat grey image with exit
    status 0: NaN/inf, huge values, or weight matrices all but zero (what F16 data labelled
    BF16 reads as). ``magnitudes=False`` checks finiteness only (training states, whose
    critics may legitimately grow large)."""
    peak, matrices = 0.0, 0
    for key, value in tensors.items():
        if not value.is_floating_point() or value.numel() == 0:
            continue
        value = value.float()
        if not bool(torch.isfinite(value).all()):
            raise ModelFileError(path, f"{key} holds NaN/inf values; the weights are damaged")
        if not magnitudes or key.endswith(_STATISTICS):
            continue
        largest = float(value.abs().max())
        if largest > MAX_ABS_WEIGHT:
            raise ModelFileError(
                path,
                f"{key} holds values up to {largest:.3g}, beyond any trained weight "
                f"(|w| <= {MAX_ABS_WEIGHT:g}); the weights are damaged",
            )
        if value.dim() >= 2:
            peak, matrices = max(peak, largest), matrices + 1
    if matrices and peak < MIN_PEAK_WEIGHT:
        raise ModelFileError(
            path,
            f"every weight matrix is nearly zero (largest |w| {peak:.3g}); the file's dtype "
            "label or data is wrong",
        )


def weights_path(run_dir: Path, name: object) -> Path:
    """A weights file named in config.json must be a plain file name inside the folder."""
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise ModelFileError(run_dir / CONFIG_NAME, f"weights file name {name!r} is not allowed")
    return run_dir / name


def check_architecture(path: Path, name: str, section: object) -> None:
    """Refuse an architecture section with absurd numbers before anything is built from it."""
    if not isinstance(section, dict):
        raise ModelFileError(path, f"{name} section is missing or not a mapping")
    for key, value in section.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)) and not 0 <= value <= MAX_ARCH_INT:
            raise ModelFileError(
                path, f"{name}.{key}={value} is out of range (0..{MAX_ARCH_INT}); refusing to build"
            )
        if not isinstance(value, (int, float, str)) or len(str(value)) > 200:
            raise ModelFileError(path, f"{name}.{key} has an unusable value")


def check_shapes(path: Path, expected: dict[str, tuple[int, ...]]) -> None:
    """Compare the safetensors header with the architecture before reading any tensor data."""
    path = Path(path)
    read_tensors(path, header_only=True)  # the same one-line refusals as a full read
    with safe_open(str(path), "pt") as fh:
        shapes = {key: tuple(fh.get_slice(key).get_shape()) for key in fh.keys()}  # noqa: SIM118
    missing = sorted(set(expected) - set(shapes))
    extra = sorted(set(shapes) - set(expected))
    if missing or extra:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}"
        raise ModelFileError(path, f"weights do not fit the generator in config.json ({detail})")
    for key, shape in shapes.items():
        if shape != expected[key]:
            raise ModelFileError(
                path, f"{key} has shape {shape}, the architecture needs {expected[key]}"
            )
