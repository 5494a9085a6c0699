"""Model files: a folder of ``config.json`` plus safetensors, shared by training and inference.

Nothing here unpickles: a pickle or a corrupt file is refused with one line naming it.
Every file is written to a temporary name and renamed into place, so a killed job leaves either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..errors import ModelFileError

CONFIG_NAME = "config.json"
FORMAT = "stylebridge.translation/1"
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


def _temp_beside(path: Path) -> tuple[int, str]:
    """A temporary file next to ``path`` with the usual permissions (mkstemp makes it 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.chmod(tmp, _default_mode())
    return fd, tmp


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_save_tensors(
    tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None
) -> None:
    fd, tmp = _temp_beside(path)
    os.close(fd)
    try:
        clean = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
        save_file(clean, tmp, metadata=metadata)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Open a safetensors file; a pickle, a zip (.pth) or garbage gets a one-line refusal."""
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
        tensors = load_file(str(path))
        with safe_open(str(path), "pt") as fh:
            metadata = fh.metadata() or {}
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
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(path, f"corrupt JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelFileError(path, f"not a stylebridge model config (format is not {FORMAT})")
    return data


def generator_from_config(run_dir: Path, direction: str):
    """Rebuild a generator from ``config.json`` and load its weights (cast to float32)."""
    from ..nn import ResnetGenerator, ResnetGeneratorConfig

    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    directions = config.get("directions", {})
    if direction not in directions:
        available = ", ".join(sorted(directions)) or "none"
        raise ModelFileError(run_dir, f"has no {direction} generator (available: {available})")
    try:
        net = ResnetGenerator(ResnetGeneratorConfig(**config["generator"]))
    except (KeyError, TypeError) as err:
        raise ModelFileError(run_dir / CONFIG_NAME, f"bad generator section ({err})") from None
    weights_path = run_dir / directions[direction]
    tensors, _ = read_tensors(weights_path)
    expected = net.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}"
        raise ModelFileError(
            weights_path, f"weights do not fit the generator in config.json ({detail})"
        )
    for key, value in tensors.items():
        if value.shape != expected[key].shape:
            raise ModelFileError(
                weights_path,
                f"{key} has shape {tuple(value.shape)}, the "
                f"architecture needs {tuple(expected[key].shape)}",
            )
    net.load_state_dict({k: v.float() for k, v in tensors.items()})
    return net.eval(), config
