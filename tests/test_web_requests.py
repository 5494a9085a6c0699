"""The web UI's analysis compares the stylized result with the photo, shows progress, and
the server logs one line per request; the recolour control only asks for --cultures when
the server was started without it."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest
from PIL import Image

from stylebridge import api
from stylebridge.web.handlers import Handlers, WebSettings

from .conftest import make_domain

pytest.importorskip("gradio")
pytestmark = pytest.mark.filterwarnings(
    "ignore:'future.no_silent_downcasting'", "ignore:The copy keyword is deprecated"
)


@pytest.fixture(scope="module")
def cultures(tmp_path_factory):
    root = tmp_path_factory.mktemp("cultures")
    make_domain(root / "reds", "red", 6, size=48, seed=1)
    make_domain(root / "blues", "blue", 6, size=48, seed=2)
    return root


@pytest.fixture
def red_photo(tmp_path):
    make_domain(tmp_path / "probe", "red", 1, size=48, seed=9)
    path = tmp_path / "photo.png"
    Image.open(next((tmp_path / "probe").iterdir())).save(path)
    return path


def test_the_result_is_ranked_beside_the_photo(cultures, red_photo):
    blue_result = Image.fromarray(np.full((48, 48, 3), (40, 40, 200), np.uint8))
    seen = []
    table = Handlers(WebSettings(cultures=cultures)).closest(
        str(red_photo), blue_result, progress=lambda f, d: seen.append(d)
    )
    assert "| rank | culture | result | photo | change |" in table
    first = next(line for line in table.splitlines() if line.startswith("| 1 |"))
    assert "| blues |" in first and "| -" in first  # the result moved towards the blues
    photo_ranked = dict(api.closest_cultures(red_photo, cultures))
    assert photo_ranked["reds"] < photo_ranked["blues"]
    assert seen and "culture folders" in seen[0]


def test_without_a_result_the_photo_is_shown_and_the_reason(cultures, red_photo):
    table = Handlers(WebSettings(cultures=cultures)).closest(str(red_photo))
    assert table.startswith("Stylize first") and "| 1 | reds |" in table


def test_a_request_during_the_warm_up_waits_instead_of_computing_again(
    cultures, red_photo, monkeypatch
):
    running, most = [0], [0]

    def slow_closest(image, folder, **options):
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.3)
        running[0] -= 1
        return [("reds", 1.0), ("blues", 2.0)]

    monkeypatch.setattr(api, "closest_cultures", slow_closest)
    h = Handlers(WebSettings(cultures=cultures))
    warm = threading.Thread(target=h.warm_up)
    warm.start()
    time.sleep(0.05)
    h.closest(str(red_photo))
    warm.join()
    assert most[0] == 1


def test_each_request_is_logged_on_one_line(caplog, red_photo):
    import gradio as gr

    from stylebridge.web.app import _friendly

    h = Handlers(WebSettings(work_side=64))
    with caplog.at_level(logging.INFO, logger="stylebridge.web"):
        _friendly(h.stylize)(str(red_photo), "ukiyoe")
        with pytest.raises(gr.Error):
            _friendly(h.stylize)(None, "ukiyoe")
    lines = [r.getMessage() for r in caplog.records if r.name == "stylebridge.web"]
    assert len(lines) == 2
    assert lines[0].startswith("stylize done in")
    assert lines[1].startswith("stylize refused in") and "upload a photo first" in lines[1]


@pytest.mark.parametrize("with_cultures", [True, False])
def test_recolour_control_asks_for_cultures_only_without_them(cultures, with_cultures):
    import gradio as gr

    from stylebridge.web.app import build_app

    app = build_app(WebSettings(cultures=cultures if with_cultures else None))
    (dropdown,) = [b for b in app.blocks.values() if isinstance(b, gr.Dropdown)]
    assert ("--cultures" in dropdown.label) is not with_cultures
    assert dropdown.interactive is with_cultures
    if with_cultures:
        assert {"reds", "blues"} <= {c[0] for c in dropdown.choices}
