"""Training configuration: typed dataclass defaults, a YAML file, then key=value overrides.

Every key is checked: a misspelt option is an error that lists the valid ones, never ignored.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import yaml

from ..errors import ConfigError
from ..models import MODELS

PRECISIONS = ("auto", "fp32", "bf16")
COMPILE_CHOICES = ("auto", "true", "false")
MAX_YAML_BYTES = 1 << 20  # real config files are a few hundred bytes
MAX_SEED = 2**32 - 1  # numpy's seed range; torch accepts it too
MAX_WORKERS = 256
MAX_MODEL_INT = 1_000_000  # no count or width of any method comes near this
# model options that are widths or counts: 0 or less builds no network at all
_POSITIVE_MODEL_INTS = {"ngf", "ndf", "z_dim", "netf_dim", "channel_max", "num_patches"}
_POSITIVE_MODEL_INTS |= {"n_critic", "r1_every"}


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few lines of nested aliases (billion laughs)
    otherwise expand to gigabytes once turned into a string."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(f"aliases (*name) are not allowed in config files ({mark})")
        return super().compose_node(parent, index)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader: builds plain data only


@dataclass
class TrainConfig:
    """Everything a run needs; saved resolved as config.yaml and inside config.json."""

    method: str = "cyclegan"  # cyclegan | cut | fastcut | pix2pix | dcgan | lsgan | wgan | ...
    domain_a: str = ""  # folder of source images
    domain_b: str = ""  # folder of target images
    # folder of images (GANs: dcgan ... stylegan2), or a list of files and folders (texture)
    data: str | list[str] = ""
    pairs: str = ""  # pairs folder from 'stylebridge data pairs' (pix2pix)
    out: str = "runs/run"
    size: int = 256  # training crop side in pixels
    load_size: int | None = None  # shorter side before cropping; None = size * 286/256 (GANs: size)
    batch_size: int | None = None  # None = the method's default (1; 32 for the GANs)
    steps: int = 20000
    seed: int = 0
    device: str = "auto"  # auto (cuda > mps > cpu) | cpu | cuda | cuda:1 | mps
    precision: str = "auto"  # auto | fp32 | bf16 (auto: bf16 where the hardware has it)
    channels_last: bool = True
    # torch.compile (minutes to start, then faster CPU steps: docs/benchmarks.md): auto | true |
    # false; auto = on for cyclegan/cut/fastcut runs of >= 1000 steps on a CPU with a C++ compiler
    compile: str = "auto"
    deterministic: bool = False  # deterministic kernels (tests, exact resume checks)
    num_workers: int | None = None  # data loader processes; None = 0 on CPU, up to 8 on GPU
    log_every: int = 25
    sample_every: int = 500
    checkpoint_every: int = 1000
    eval_every: int = 0  # 0 = never; else KID (lite0) of a2b outputs vs eval_real
    eval_real: str = ""
    time_limit_s: float = 0.0  # 0 = none; else stop (with a checkpoint) after this long
    nonfinite_patience: int = 3  # bad (NaN/inf) steps in a row before a rollback; 0 = stop
    nonfinite_lr_factor: float = 0.5  # learning-rate multiplier at each rollback
    nonfinite_max_rollbacks: int = 3  # rollbacks before the run stops with an error
    # a run or model folder of the same method to start from (fine-tuning, e.g. one more
    # culture): its networks that fit are loaded, optimisers start fresh; "" = from scratch
    init_from: str = ""
    # a folder with one subfolder per culture: its `content_group` subfolder is domain_a (unless
    # domain_a is given) and the other subfolders are domain_b's style groups
    cultures: str = ""
    content_group: str = "photo"
    manifest: str = ""  # provenance CSV (data manifest); "" = a manifest.csv in a data folder
    model: Any = None  # the method's config dataclass (models.*Config)


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Turn YAML/CLI values into the annotated type; strings from the CLI arrive as YAML."""
    if isinstance(value, str) and str in typing.get_args(annotation):
        return value  # ``str | list[str]``: a text stays text
    if isinstance(value, str) and annotation is not str:
        try:
            value = _yaml(value) if value != "" else None
        except yaml.YAMLError as err:
            raise ConfigError(f"{key}: cannot read {value[:60]!r} ({_first_line(err)})") from None
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        lists = [a for a in args if typing.get_origin(a) is list]
        if isinstance(value, (list, tuple)) and lists:
            item = typing.get_args(lists[0])[0]
            return [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
        annotation = args[0]
    if annotation is Any:
        return value
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation is float and isinstance(value, str):  # YAML 1.1 reads "2e-4" as text
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{key}: expected float, got {value!r}") from None
    if annotation is str and not isinstance(value, str):
        if not isinstance(value, (int, float, bool, PurePath)) and value is not None:
            raise ConfigError(f"{key}: expected a text value, got a {type(value).__name__}")
        return str(value)
    if not isinstance(value, annotation) or (annotation is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: expected {annotation.__name__}, got {value!r}")
    return value


def _apply(obj: Any, values: dict[str, Any], prefix: str = "") -> None:
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in values.items():
        if key not in names:
            valid = ", ".join(sorted(n for n in names if n != "model"))
            raise ConfigError(f"unknown option '{prefix}{key}'; valid options: {valid}")
        if key == "model":
            continue
        setattr(obj, key, _coerce(value, hints[key], prefix + key))


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["steps=100", "model.lambda_a=5"]`` -> nested dict."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value")
        key, value = item.split("=", 1)
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return " ".join(line.strip() for line in lines[:3]) if lines else type(err).__name__


def read_yaml_file(path: Path) -> Any:
    """A config file, bounded in size, UTF-8, without aliases; every fault is one line."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ConfigError(f"{path}: {size} bytes is too large for a config file")
        text = path.read_bytes().decode("utf-8")
        return _yaml(text) or {}
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: cannot read config ({_first_line(err)})") from None
    except RecursionError:
        raise ConfigError(f"{path}: cannot read config (nested too deeply)") from None


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def build_config(
    values: dict[str, Any] | None = None,
    yaml_file: str | Path | None = None,
    overrides: list[str] | None = None,
) -> TrainConfig:
    """Defaults <- YAML file <- values (CLI flags) <- key=value overrides; then resolve."""
    data: dict[str, Any] = {}
    if yaml_file:
        loaded = read_yaml_file(Path(yaml_file))
        path = Path(yaml_file)
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: a config file must hold a mapping of options")
        data = _merge(data, loaded)
    data = _merge(data, {k: v for k, v in (values or {}).items() if v is not None})
    data = _merge(data, parse_overrides(overrides or []))
    try:
        return _resolved(data)
    except ConfigError as err:
        if yaml_file and _file_fails_alike(loaded, data, str(err)):
            raise ConfigError(f"{path}: {err}") from None  # the bad value is in the file
        raise


def _resolved(data: dict[str, Any]) -> TrainConfig:
    config = TrainConfig()
    _apply(config, data)
    model_cls = MODELS.get(config.method)
    config.model = model_cls.config_cls()
    model_values = data.get("model") or {}
    if not isinstance(model_values, dict):
        raise ConfigError("model: expected a mapping of method options")
    _apply(config.model, model_values, prefix="model.")
    return resolve(config)


def _file_fails_alike(loaded: dict[str, Any], data: dict[str, Any], message: str) -> bool:
    """Whether the config file alone (with the method finally chosen) gives the same error:
    then the error names the file, else the value came from a flag or an override."""
    try:
        _resolved({**loaded, "method": data.get("method", TrainConfig.method)})
    except ConfigError as err:
        return str(err) == message
    return False


def resolve(config: TrainConfig) -> TrainConfig:
    """Fill size-dependent defaults and check ranges up front, before any work starts."""
    if config.precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}")
    config.compile = str(config.compile).lower()  # YAML/CLI booleans and older runs' bools
    if config.compile not in COMPILE_CHOICES:
        raise ConfigError(f"compile must be one of {', '.join(COMPILE_CHOICES)}")
    if config.size < 16 or config.size % 4:
        raise ConfigError(f"size must be a multiple of 4 and at least 16, got {config.size}")
    model_cls = MODELS.get(config.method)
    if config.load_size is None:
        config.load_size = int(round(config.size * model_cls.load_scale))
    if config.batch_size is None:
        config.batch_size = model_cls.default_batch_size
    if config.load_size < config.size:
        raise ConfigError(f"load_size ({config.load_size}) must be >= size ({config.size})")
    for key in ("steps", "batch_size", "log_every", "sample_every", "checkpoint_every"):
        if getattr(config, key) < 1:
            raise ConfigError(f"{key} must be at least 1")
    if config.nonfinite_patience < 0 or config.nonfinite_max_rollbacks < 0:
        raise ConfigError("nonfinite_patience and nonfinite_max_rollbacks must be >= 0")
    if not 0.0 < config.nonfinite_lr_factor <= 1.0:
        raise ConfigError("nonfinite_lr_factor must be within (0, 1]")
    resolve_model = getattr(config.model, "resolve", None)
    if resolve_model is not None:  # method-specific checks and size-dependent defaults
        resolve_model(config.size)
    elif config.model.n_blocks is None:
        config.model.n_blocks = 9 if config.size >= 256 else 6
    if not 0.0 <= config.model.decay_fraction <= 1.0:
        raise ConfigError("model.decay_fraction must be within [0, 1]")
    _check_numbers(config)
    return config


def _check_numbers(config: TrainConfig) -> None:
    """Ranges that no method's own checks cover: every number finite, none negative, widths
    and counts at least 1, learning rates above 0, seeds within what the RNGs take."""
    if not 0 <= config.seed <= MAX_SEED:
        raise ConfigError(f"seed must be within 0..{MAX_SEED}, got {config.seed}")
    if config.num_workers is not None and not 0 <= config.num_workers <= MAX_WORKERS:
        raise ConfigError(f"num_workers must be within 0..{MAX_WORKERS}, got {config.num_workers}")
    for key in ("eval_every", "time_limit_s"):
        value = getattr(config, key)
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{key} must be a number >= 0, got {value}")
    for field in dataclasses.fields(config.model):
        value = getattr(config.model, field.name)
        key = f"model.{field.name}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{key} must be a finite number >= 0, got {value}")
        if field.name.startswith("lr") and value <= 0:
            raise ConfigError(f"{key} must be above 0, got {value}")
        if isinstance(value, int) and value > MAX_MODEL_INT:
            raise ConfigError(f"{key}={value} is out of range (at most {MAX_MODEL_INT})")
        if field.name in _POSITIVE_MODEL_INTS and value < 1:
            raise ConfigError(f"{key} must be at least 1, got {value}")


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def saved_settings(run_config: dict[str, Any], path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(options, model options) saved in a run's ``config.json`` under ``train``, for resume;
    a file without them, or with something else there, is one ``ConfigError`` line."""
    saved = run_config.get("train")
    if not isinstance(saved, dict):
        found = "no 'train' section" if saved is None else "a 'train' that is not a mapping"
        raise ConfigError(f"{path}: cannot resume: {found}")
    saved = dict(saved)
    model = saved.pop("model", None) or {}
    if not isinstance(model, dict):
        raise ConfigError(f"{path}: cannot resume: 'train.model' is not a mapping")
    if not isinstance(saved.get("method"), str):
        raise ConfigError(f"{path}: cannot resume: 'train.method' is missing")
    return saved, model


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Rebuild a saved config (resume); unknown keys from newer versions are errors."""
    data = dict(data)
    model = data.pop("model", {}) or {}
    return build_config({**data, "model": model})
