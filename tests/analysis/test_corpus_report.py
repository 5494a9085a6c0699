"""The report folder, the feature cache, bad input and the ``analyze`` command."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from stylebridge import api
from stylebridge.analysis import DESCRIPTOR_NAMES
from stylebridge.cli import app

from .conftest import hsv_corpus, write_corpus


@pytest.mark.slow  # the first UMAP map compiles numba code (about a minute)
def test_report_files_cache_and_incremental_run(saturation_corpora, tmp_path):
    """Every promised file is written; a second run with 3 new images describes only those."""
    muted, vivid = saturation_corpora
    first = api.analyze([muted, vivid], tmp_path / "r1", workers=1, permutations=99)
    folder = first.folder
    for name in (
        "index.html",
        "stats.json",
        "features.parquet",
        "coordinates.parquet",
        "map_pca.png",
        "map_umap.png",
        "palettes.png",
        "violins.png",
        "distances.png",
        "confusion.png",
        "typical.png",
    ):
        assert (folder / name).is_file(), name
    frame = pd.read_parquet(folder / "features.parquet")
    assert len(frame) == 48 and set(frame["culture"]) == {"muted", "vivid"}
    assert set(DESCRIPTOR_NAMES) <= set(frame.columns)
    assert {"style_pc1", "subject_pc1", "palette1_L", "source"} <= set(frame.columns)
    coords = pd.read_parquet(folder / "coordinates.parquet")  # per-run values kept apart
    assert {"map_umap_x", "map_pca_y", "distance_to_culture_centre"} <= set(coords.columns)
    page = (folder / "index.html").read_text()
    assert '<canvas id="map">' in page and 'id="map-data"' in page
    assert not re.search(r"""(src|href)=["']https?://""", page)  # self-contained
    interval = json.loads((folder / "stats.json").read_text())["cultures"]["vivid"]
    low, high = interval["descriptors"]["saturation"]["ci95"]
    assert low < interval["descriptors"]["saturation"]["mean"] < high

    grown = tmp_path / "vivid"  # the same culture name, three more images
    for path in vivid.iterdir():
        (grown / path.name).parent.mkdir(exist_ok=True)
        (grown / path.name).write_bytes(path.read_bytes())
    write_corpus(grown, hsv_corpus(9, 3, 0.4, 0.7), prefix="new")
    second = api.analyze([muted, grown], tmp_path / "r2", workers=1, permutations=99, maps=[])
    assert second.numbers["inputs"]["usable"] == 51
    assert second.numbers["inputs"]["cached"] == 48  # only the 3 new images were described


def _bad_inputs(root, saturation_corpora):
    muted, vivid = saturation_corpora
    mixed = root / "mixed"
    write_corpus(mixed, hsv_corpus(11, 6, 0.2, 0.6, size=80))
    Image.fromarray(hsv_corpus(12, 1, 0.3, 0.3, size=120)[0][:, :90]).save(mixed / "wide.png")
    grey = np.asarray(Image.open(mixed / "img_000.png").convert("L"))
    Image.fromarray(grey).save(mixed / "grey.png")
    (mixed / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    tiny = write_corpus(root / "tiny", hsv_corpus(13, 3, 0.2, 0.6))
    return [muted, mixed, tiny, root / "missing", vivid / "img_000.png"]


def test_bad_input_is_reported_and_the_rest_goes_on(saturation_corpora, tmp_path):
    inputs = _bad_inputs(tmp_path, saturation_corpora)
    messages: list[str] = []
    report = api.analyze(inputs, tmp_path / "r", workers=1, permutations=99, maps=[],
                         log=messages.append)  # fmt: skip
    text = "\n".join(messages)
    assert re.search(r"broken\.jpg: skipped \(cannot open image", text)
    assert "culture 'tiny' has 3 usable image(s), fewer than 5" in text
    assert "1 grayscale image(s)" in text
    assert "sizes" in text
    assert "missing: ignored (no such folder" in text
    assert "img_000.png: ignored (not a folder" in text
    numbers = report.numbers
    assert [(p["a"], p["b"]) for p in numbers["pairs"]] == [("mixed", "muted")]
    assert numbers["inputs"]["skipped"][0]["file"].endswith("broken.jpg")
    assert sorted(numbers["cultures"]) == ["mixed", "muted"]
    assert (report.folder / "index.html").read_text().count("fewer than 5") == 1


def test_one_culture_gives_a_descriptive_report(saturation_corpora, tmp_path):
    muted, _ = saturation_corpora
    messages: list[str] = []
    report = api.analyze([muted], tmp_path / "r", workers=1, maps=["pca"], log=messages.append)
    assert any("only one culture" in m for m in messages)
    assert "pairs" not in report.numbers and "muted" in report.numbers["cultures"]
    assert (report.folder / "index.html").is_file() and (report.folder / "map_pca.png").is_file()


def test_cli_short_form_and_errors(saturation_corpora, tmp_path):
    muted, vivid = saturation_corpora
    runner = CliRunner()
    args = [str(muted), str(vivid), "-o", str(tmp_path / "r"), "--workers", "1"]
    result = runner.invoke(app, ["analyze", *args, "--permutations", "99", "--maps", "pca"])
    assert result.exit_code == 0, result.output
    assert "balanced accuracy" in result.output and "muted vs vivid" in result.output
    assert (tmp_path / "r" / "index.html").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["analyze", "corpus", str(empty), "-o", str(tmp_path / "r2")])
    assert result.exit_code == 1
    assert "no image files" in str(result.exception)


@pytest.mark.slow
def test_worker_pool_gives_the_same_features_as_in_process(saturation_corpora):
    """The default path (a spawned pool) and the in-process path agree image by image."""
    from stylebridge.analysis import extract

    muted, vivid = saturation_corpora
    items = [(str(p), "x") for folder in (muted, vivid) for p in sorted(folder.iterdir())[:10]]
    pooled = extract(items, use_cache=False, workers=2)
    serial = extract(items, use_cache=False, workers=1)
    assert pooled.files == serial.files and len(pooled) == 20  # 2 chunks: the pool runs
    np.testing.assert_allclose(pooled.scalars, serial.scalars, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        pooled.learned.astype(np.float32), serial.learned.astype(np.float32), rtol=1e-2, atol=1e-2
    )


def test_rows_stay_with_their_files_when_files_in_between_fail(saturation_corpora, tmp_path):
    """Failed files are dropped in place (the driver keeps one copy of the table): every kept
    row is still the one described from its own file."""
    from stylebridge.analysis import extract

    muted, vivid = saturation_corpora
    good = [str(p) for folder in (muted, vivid) for p in sorted(folder.iterdir())[:4]]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    items = [(f, "x") for f in [good[0], str(broken), *good[1:5], str(broken), *good[5:]]]
    table = extract(items, use_cache=False, workers=1)
    assert table.files == good and [f for f, _ in table.failures] == [str(broken)] * 2
    for i, path in enumerate(good):
        alone = extract([(path, "x")], use_cache=False, workers=1)
        np.testing.assert_array_equal(table.thumbs[i], alone.thumbs[0])
        np.testing.assert_array_equal(table.scalars[i], alone.scalars[0])
