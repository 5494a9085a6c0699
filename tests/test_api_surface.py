"""The stable API lists what it offers: every public function of ``stylebridge.api`` is in
its ``__all__``, and every name there exists."""

from __future__ import annotations

import inspect

import stylebridge
from stylebridge import api


def test_every_public_api_function_is_exported():
    defined = {
        name
        for name, value in vars(api).items()
        if inspect.isfunction(value) and value.__module__ == api.__name__ and name[0] != "_"
    }
    assert defined - set(api.__all__) == set()
    assert all(hasattr(api, name) for name in api.__all__)


def test_top_level_names_reach_the_api():
    for name in stylebridge.API_NAMES:
        assert getattr(stylebridge, name) is getattr(api, name)
