"""The stable API lists what it offers: every public function or class of every module of the
``stylebridge.api`` package is re-exported by ``stylebridge.api`` and named in its ``__all__``,
and every name there exists."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import stylebridge
from stylebridge import api


def _api_modules():
    return [
        importlib.import_module(f"{api.__name__}.{m.name}")
        for m in pkgutil.iter_modules(api.__path__)
    ]


def test_every_public_api_function_is_exported():
    modules = _api_modules()
    assert {m.__name__.rsplit(".", 1)[1] for m in modules} >= {"models", "rendering", "training"}
    for module in modules:
        defined = {
            name
            for name, value in vars(module).items()
            if (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == module.__name__
            and name[0] != "_"
        }
        assert defined - set(api.__all__) == set(), module.__name__
        assert set(module.__all__) - set(api.__all__) == set(), module.__name__
        for name in defined:
            assert getattr(api, name) is getattr(module, name), name
    assert len(api.__all__) == len(set(api.__all__))
    assert all(hasattr(api, name) for name in api.__all__)


def test_no_api_module_is_shadowed_by_a_function():
    """``stylebridge.api.<module>`` stays the module: no public name repeats a module name."""
    for module in _api_modules():
        assert getattr(api, module.__name__.rsplit(".", 1)[1]) is module


def test_top_level_names_reach_the_api():
    for name in stylebridge.API_NAMES:
        assert getattr(stylebridge, name) is getattr(api, name)
