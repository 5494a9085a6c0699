"""The training loop, its configuration, checkpoints and logs."""

from .config import TrainConfig, build_config, config_from_dict, config_to_dict, parse_overrides
from .loop import StepReport, lr_factor, train

__all__ = [
    "StepReport",
    "TrainConfig",
    "build_config",
    "config_from_dict",
    "config_to_dict",
    "lr_factor",
    "parse_overrides",
    "train",
]
