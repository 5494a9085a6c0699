"""Checkpoints: the training state for ``--resume`` plus the run folder's model files.

Nothing is pickled. Optimiser and RNG states are flattened into safetensors tensors plus a JSON
skeleton in the file's metadata, so a run folder from a stranger is safe to open.

A checkpoint is written in two phases: every file is first written and fsynced under a hidden
temporary name, then all are renamed into place, the training state last. A full disk or a
read-only folder fails in the first phase and leaves the previous checkpoint untouched; a kill
at any moment leaves whole files, and resume reads only ``train_state.safetensors``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
import yaml

from ..errors import ModelFileError, StylebridgeError
from ..fileio import OutputError, discard, publish, stage, staged_target
from ..models import ENGINE_METHODS, TranslationModel
from ..models.files import (
    CONFIG_NAME,
    FORMAT,
    check_weight_values,
    read_run_config,
    read_tensors,
    tensor_bytes,
    weights_path,
)
from .config import TrainConfig, config_to_dict

STATE_NAME = "train_state.safetensors"


class CheckpointWriteError(StylebridgeError):
    """The file system refused a checkpoint (disk full, read-only, no permission)."""

    def __init__(self, run_dir: Path, step: int, reason: str):
        super().__init__(
            f"{run_dir}: cannot write the step {step} checkpoint ({reason}); "
            "the previous checkpoint is intact, free space or fix permissions and --resume"
        )


class NonFiniteWeightsError(StylebridgeError):
    """A network holds NaN/inf values: such weights are never written."""


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


# what a damaged or foreign state raises while it is decoded and loaded into the networks
_STATE_ERRORS = (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError)
_STATE_ERRORS += (RecursionError,)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def load_training_state(path: Path) -> dict[str, Any]:
    tensors, metadata = read_tensors(path)
    if metadata.get("format") != FORMAT or "state" not in metadata:
        raise ModelFileError(path, "not a stylebridge training state (no state metadata)")
    try:
        state = unflatten_state(json.loads(metadata["state"]), tensors)
    except RecursionError:
        raise ModelFileError(path, "damaged training state (skeleton nested too deeply)") from None
    except _STATE_ERRORS as err:
        problem = f"damaged training state ({type(err).__name__}: {_first_line(err)})"
        raise ModelFileError(path, problem) from None
    if not isinstance(state, dict):
        raise ModelFileError(path, "damaged training state (not a mapping)")
    return state


def nonfinite_weights(model: TranslationModel) -> list[str]:
    """Names of network tensors holding NaN or inf (empty when the model is healthy)."""
    bad = []
    for net_name, net in model.networks.items():
        for key, value in net.state_dict().items():
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                bad.append(f"{net_name}.{key}")
    return bad


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def save_checkpoint(
    run_dir: Path,
    model: TranslationModel,
    config: TrainConfig,
    step: int,
    data: dict,
    faults: dict[str, float] | None = None,
) -> None:
    """Generator weights, config.json/config.yaml and the training state, all or nothing."""
    run_dir = Path(run_dir)
    bad = nonfinite_weights(model)
    if bad:
        raise NonFiniteWeightsError(
            f"{run_dir}: not saving step {step}: non-finite values in {', '.join(bad[:3])}"
        )
    staged: list[tuple[Path, Path]] = []

    def stage_file(target: Path, data: bytes) -> None:
        staged.append((stage(target, data), target))

    try:
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(run_dir, err.strerror or type(err).__name__) from None
        files = {}
        for key, net_name in {**model.directions, **model.exports}.items():
            target = run_dir / f"{net_name}.safetensors"
            stage_file(target, tensor_bytes(model.networks[net_name].state_dict()))
            files[key] = target.name
        settings = config_to_dict(config)
        summary = {
            "format": FORMAT,
            "method": config.method,
            **model.architecture(),
            "directions": {key: files[key] for key in model.directions},
            **({"exports": {key: files[key] for key in model.exports}} if model.exports else {}),
            "size": config.size,
            "step": step,
            "data": data,
            "train": settings,
        }
        for name, payload in (
            (CONFIG_NAME, json.dumps(summary, indent=2) + "\n"),
            ("config.yaml", yaml.safe_dump(settings, sort_keys=False)),
        ):
            stage_file(run_dir / name, payload.encode())
        state = {
            "step": step,
            "networks": {name: net.state_dict() for name, net in model.networks.items()},
            "optimizers": {name: opt.state_dict() for name, opt in model.optimizers.items()},
            "extra": model.extra_state(),
            "rng": rng_state(model.device),
            "faults": dict(faults or {}),
        }
        tensors: dict[str, torch.Tensor] = {}
        skeleton = flatten_state(state, "s", tensors)
        metadata = {"format": FORMAT, "state": json.dumps(skeleton)}
        stage_file(run_dir / STATE_NAME, tensor_bytes(tensors, metadata))
    except OutputError as err:
        discard(tmp for tmp, _ in staged)
        raise CheckpointWriteError(run_dir, step, _reason(err)) from None
    except BaseException:
        discard(tmp for tmp, _ in staged)
        raise
    for tmp, target in staged:  # the training state is last: resume never sees a newer half
        publish(tmp, target)


def _reason(err: OutputError) -> str:
    """'No space left on device' out of 'cannot write (No space left on device)'."""
    problem = err.problem
    return problem[len("cannot write (") : -1] if problem.startswith("cannot write (") else problem


def restore_checkpoint(model: TranslationModel, run_dir: Path) -> tuple[int, dict[str, float]]:
    """Load networks, optimisers, extra state and RNG; returns (step, fault counters).

    A state from another architecture or method, or a damaged one, is one ``ModelFileError``
    line; the networks are checked like exported weights (finite, plausible) before loading.
    """
    path = Path(run_dir) / STATE_NAME
    state = load_training_state(path)
    step = state.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ModelFileError(path, f"damaged training state (step is {step!r}, not a count)")
    try:
        for name, net in model.networks.items():
            weights = state["networks"][name]
            check_weight_values(
                path, {f"{name}.{k}": v for k, v in weights.items()}, magnitudes=False
            )
            net.load_state_dict(weights)
        for name, opt in model.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
            _match_param_layout(opt)
        model.load_extra_state(state["extra"])
        set_rng_state(state["rng"], model.device)
        faults = state.get("faults") or {}
        counters = {k: v for k, v in faults.items() if isinstance(v, (int, float))}
    except _STATE_ERRORS as err:
        missing = f"no {err}" if isinstance(err, KeyError) else _first_line(err)
        problem = f"does not fit this run's {model.__class__.__name__} networks ({missing})"
        raise ModelFileError(path, problem) from None
    return step, counters


def init_networks(model: TranslationModel, method: str, folder: Path) -> list[str]:
    """Fine-tuning: load into ``model`` the networks a run or model folder of the same method
    holds (all of them from a run's training state, else the exported ones); networks it does
    not have start fresh, and so do the layers a network lists in ``optional_prefixes`` (added
    to a trained design, starting as a no-op). A network of another shape is one
    ``ModelFileError`` line."""
    folder = Path(folder)
    saved = read_run_config(folder)
    same_family = {saved.get("method"), method} <= set(ENGINE_METHODS)
    if saved.get("method") != method and not same_family:
        raise ModelFileError(
            folder / CONFIG_NAME, f"is a {saved.get('method')} model; this run trains {method}"
        )
    if (folder / STATE_NAME).is_file():
        path, networks = folder / STATE_NAME, load_training_state(folder / STATE_NAME)["networks"]
    else:
        path, networks = folder / CONFIG_NAME, {}
        files = {**saved.get("directions", {}), **saved.get("exports", {})}
        for key, net_name in {**model.directions, **model.exports}.items():
            if key in files:
                networks[net_name] = read_tensors(weights_path(folder, files[key]))[0]
    loaded = []
    for name, net in model.networks.items():
        if name not in networks:
            continue
        weights = networks[name]
        added = tuple(getattr(net, "optional_prefixes", ()))  # startswith(()) is False
        own = {k: v for k, v in net.state_dict().items() if k in weights or not k.startswith(added)}
        unfit = sorted(k for k in own if k not in weights or weights[k].shape != own[k].shape)
        if unfit or len(weights) != len(own):
            detail = f"{unfit[0]} differs" if unfit else "other layers"
            raise ModelFileError(path, f"network {name} does not fit this run's ({detail})")
        check_weight_values(path, {f"{name}.{k}": v for k, v in weights.items()}, magnitudes=False)
        net.load_state_dict(weights, strict=not added)
        loaded.append(name)
    if not loaded:
        raise ModelFileError(
            path, f"holds none of this run's networks ({', '.join(model.networks)})"
        )
    return loaded


def _match_param_layout(opt: torch.optim.Optimizer) -> None:
    """Give each optimiser moment its parameter's memory layout. Saved moments come back
    contiguous while channels_last weights are not, and the fused Adam kernel pairs elements by
    memory position: without this a resumed run silently scrambles its Adam moments."""
    for group in opt.param_groups:
        for param in group["params"]:
            for key, value in opt.state.get(param, {}).items():
                mismatched = torch.is_tensor(value) and value.shape == param.shape
                if mismatched and value.stride() != param.stride():
                    opt.state[param][key] = torch.empty_like(param).copy_(value)


def remove_stale_temps(run_dir: Path) -> list[Path]:
    """Temporary files a killed writer left behind, in the run folder and its samples: the
    atomic writer's own (``.NAME.xxxxxxxx.ext``: checkpoints, log, config, sample grids) and
    safetensors' (``.tmpXXXXXX``, which ``save_file`` writes and renames)."""
    removed = []
    run_dir = Path(run_dir)
    for folder in (run_dir, run_dir / "samples"):
        if not folder.is_dir():
            continue
        for path in folder.glob(".*"):
            rust_temp = re.fullmatch(r"\.tmp[A-Za-z0-9]{6}", path.name) is not None
            if path.is_file() and (rust_temp or staged_target(path) is not None):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed
