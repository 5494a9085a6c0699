"""The main job: sample photos from installed packages, every style, a sheet and a page."""

from __future__ import annotations

from PIL import Image
from typer.testing import CliRunner

from stylebridge import api, zoo
from stylebridge.cli import app
from stylebridge.data.samples import sample_photos


def test_demo_writes_sheet_and_page(tmp_path, tiny_run, monkeypatch):
    monkeypatch.setattr(zoo, "styles", lambda: {"tiny": tiny_run})
    calls = []
    result = api.demo(tmp_path / "demo", log=lambda m: None, progress=lambda *a: calls.append(a))
    photos = sample_photos()
    assert calls == [(i, len(photos)) for i in range(1, len(photos) + 1)]
    assert len(result.outputs) == len(photos) >= 4
    for out in result.outputs:
        name = out.stem
        assert Image.open(out).size == photos[name].size
    sheet = Image.open(result.sheet)
    assert sheet.width > 2 * 256
    heights = [256 * p.height / max(p.size) for p in photos.values()]  # rows as tall as photos
    assert sum(heights) < sheet.height < sum(heights) + 8 * (len(photos) + 1) + 2 * 32
    page = result.page.read_text()
    assert page.count("<img") == 2 * len(photos) and "tiny" in page


def test_styles_lists_bundled_models(tiny_run, monkeypatch):
    monkeypatch.setattr(zoo, "styles", lambda: {"tiny": tiny_run})
    monkeypatch.setattr(zoo, "describe", lambda name: {"summary": "a tiny test model"})
    result = CliRunner().invoke(app, ["styles"])
    assert "tiny" in result.output and "a tiny test model" in result.output


def test_demo_uses_one_thread_only_when_cores_are_busy(monkeypatch):
    from stylebridge.cli import demo_cmd

    monkeypatch.setattr(demo_cmd.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(demo_cmd.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    assert demo_cmd.busy_cores_threads() == 1
    monkeypatch.setattr(demo_cmd.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert demo_cmd.busy_cores_threads() is None
