"""Writing model folders outside training: the same ``config.json`` + safetensors layout a
training run writes, so ``load``, ``stylize`` and ``export`` accept what is saved here."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from torch import nn

from .. import zoo
from ..errors import ConfigError, ModelFileError
from .files import (
    CONFIG_NAME,
    FORMAT,
    atomic_save_tensors,
    atomic_write_bytes,
    read_run_config,
    read_tensors,
    write_json,
)

CARD_NAME = "MODEL_CARD.md"


def generator_section(net: nn.Module) -> dict[str, Any]:
    """The ``generator`` section that rebuilds ``net`` (any network ``build_generator`` makes)."""
    config = getattr(net, "config", None)
    if config is None or not dataclasses.is_dataclass(config):
        raise ConfigError(
            f"{type(net).__name__} is not a stylebridge generator (no architecture config); "
            "build it with stylebridge.nn.build_generator"
        )
    return dataclasses.asdict(config)


def _refuse_existing(folder: Path, overwrite: bool) -> None:
    if (folder / CONFIG_NAME).exists() and not overwrite:
        raise ConfigError(
            f"{folder} already holds a model ({CONFIG_NAME}); choose another folder or pass "
            "overwrite=True (--overwrite)"
        )


def save_generators(
    folder: str | os.PathLike,
    generators: dict[str, nn.Module],
    *,
    method: str,
    extra: dict[str, Any] | None = None,
    card_text: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write one safetensors file per direction (``{"a2b": net}``) and ``config.json`` last,
    so a folder interrupted half-way is never taken for a model."""
    folder = Path(folder)
    _refuse_existing(folder, overwrite)
    if not generators:
        raise ConfigError("nothing to save: no generator given")
    sections = {direction: generator_section(net) for direction, net in generators.items()}
    section = next(iter(sections.values()))
    if any(other != section for other in sections.values()):
        raise ConfigError("the generators of one model folder must share one architecture")
    files = {}
    for direction, net in generators.items():
        files[direction] = f"g_{direction}.safetensors"
        atomic_save_tensors(net.state_dict(), folder / files[direction])
    if card_text is not None:
        atomic_write_bytes(folder / CARD_NAME, card_text.encode())
    config = {"format": FORMAT, "method": method, "generator": section, "directions": files}
    write_json(folder / CONFIG_NAME, {**config, **(extra or {})})
    return folder


def copy_model_folder(
    source: str | os.PathLike, folder: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """A self-contained copy of a model folder for inference: ``config.json``, the weights of
    every direction (checked while copied) and the model card; no training state, so the copy
    loads and exports but does not resume."""
    source, folder = Path(source), Path(folder)
    config = read_run_config(source)
    if folder.resolve() == source.resolve():
        raise ConfigError(f"{folder} is the folder being saved; choose another one")
    _refuse_existing(folder, overwrite)
    names = {**config.get("directions", {}), **(config.get("exports") or {})}
    if config.get("method") == zoo.CULTURE_STYLE:  # a culture style: the engine stays put
        engine = str(config.get("engine", ""))
        if engine not in ("", *zoo.ENGINES) and not Path(engine).is_absolute():
            config["engine"] = str((source / engine).resolve())
        if str(config.get("code", "")).endswith(".safetensors"):
            names["code"] = config["code"]
    for name in names.values():
        if not isinstance(name, str) or Path(name).name != name:
            raise ModelFileError(source / CONFIG_NAME, f"weights file name {name!r} is not allowed")
        tensors, metadata = read_tensors(source / name)
        atomic_save_tensors(tensors, folder / name, metadata or None)
    if (source / CARD_NAME).is_file():
        atomic_write_bytes(folder / CARD_NAME, (source / CARD_NAME).read_bytes())
    write_json(folder / CONFIG_NAME, config)
    return folder
