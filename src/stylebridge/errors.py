"""Errors that end in one clear line for the user: what failed, and where."""

from __future__ import annotations


class StylebridgeError(Exception):
    """Base class; the CLI prints ``str(err)`` on one line and exits with status 1."""


class ImageError(StylebridgeError):
    """An image file that cannot be used (missing, corrupt, unsupported, too large or too small)."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelFileError(StylebridgeError):
    """A model or checkpoint file that is missing, corrupt, of the wrong kind or unsafe to load."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(StylebridgeError):
    """A configuration value or option that is unknown or out of range."""


class DataError(StylebridgeError):
    """A dataset that cannot be used as a whole (an empty folder, no readable image)."""


def require_extra(module: str, extra: str, feature: str):
    """Import an optional dependency, or end in one line naming the extra that installs it,
    so every missing extra reads the same whatever command needed it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] != module.split(".")[0]:
            raise  # the package is there but broken: its own error says more
        raise ConfigError(
            f"{feature} needs {module}; install it with: pip install 'stylebridge[{extra}]'"
        ) from None
