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
