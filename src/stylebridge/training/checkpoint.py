"""The training state for ``--resume``: every network, optimiser, pool and RNG state.

Nothing is pickled. Optimiser and RNG states are flattened into safetensors tensors plus a JSON
skeleton in the file's metadata, so a run folder from a stranger is safe to open.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelFileError
from ..models.files import FORMAT, atomic_save_tensors, read_tensors

STATE_NAME = "train_state.safetensors"


def flatten_state(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Nested dicts/lists of tensors and plain values -> JSON skeleton + named tensors."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {
            "__dict__": [
                [
                    flatten_state(k, f"{prefix}/k{i}", tensors),
                    flatten_state(v, f"{prefix}/{i}", tensors),
                ]
                for i, (k, v) in enumerate(obj.items())
            ]
        }
    if isinstance(obj, (list, tuple)):
        return {"__list__": [flatten_state(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a training state")


def unflatten_state(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__dict__" in skeleton:
            return {
                unflatten_state(k, tensors): unflatten_state(v, tensors)
                for k, v in skeleton["__dict__"]
            }
        if "__list__" in skeleton:
            return [unflatten_state(v, tensors) for v in skeleton["__list__"]]
    return skeleton


def save_training_state(path: Path, state: dict[str, Any]) -> None:
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten_state(state, "s", tensors)
    atomic_save_tensors(tensors, path, metadata={"format": FORMAT, "state": json.dumps(skeleton)})


def load_training_state(path: Path) -> dict[str, Any]:
    tensors, metadata = read_tensors(path)
    if metadata.get("format") != FORMAT or "state" not in metadata:
        raise ModelFileError(path, "not a stylebridge training state (no state metadata)")
    return unflatten_state(json.loads(metadata["state"]), tensors)
