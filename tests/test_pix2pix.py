"""pix2pix: line drawings from paintings, aligned pairs, a learnt sketch -> painting mapping, and
the stylizer and CLI on a pix2pix run folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage
from typer.testing import CliRunner

import stylebridge
from stylebridge.cli import app
from stylebridge.data import ImageSource
from stylebridge.data.pairs import LINE_STYLES, PairedDataset, build_pairs, line_drawing
from stylebridge.errors import ConfigError, DataError, StylebridgeError

PAPER, INK = (235, 235, 235), (200, 30, 30)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny nets run faster on one thread (see test_gan.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def painting(rng: np.random.Generator, size: int = 32) -> Image.Image:
    """Two filled red shapes (discs or squares) on paper: the 'painting' a sketch maps to."""
    img = np.full((size, size, 3), PAPER, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    for _ in range(2):
        cy, cx = rng.integers(8, size - 8, 2)
        r = int(rng.integers(4, 7))
        if rng.random() < 0.5:
            img[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = INK
        else:
            img[(abs(yy - cy) <= r) & (abs(xx - cx) <= r)] = INK
    return Image.fromarray(img)


def _folder(path: Path, count: int, seed: int, size: int = 32) -> Path:
    path.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        painting(rng, size).save(path / f"p{i:03d}.png")
    return path


@pytest.mark.parametrize("style", LINE_STYLES)
def test_line_styles_draw_dark_lines_on_the_edges_only(style):
    img = np.full((96, 96, 3), PAPER, np.uint8)
    yy, xx = np.mgrid[:96, :96]
    disc = (yy - 48) ** 2 + (xx - 48) ** 2 <= 24**2
    img[disc] = INK
    lines = np.asarray(line_drawing(Image.fromarray(img), style).convert("L"), np.float64)
    assert lines.shape == (96, 96)
    edge = disc ^ ndimage.binary_erosion(disc)
    near = ndimage.binary_dilation(edge, iterations=3)
    far = ~ndimage.binary_dilation(edge, iterations=6)
    assert lines[far].min() > 240, "flat areas (paper and the disc's inside) must stay white"
    assert lines[near].min() < 100, "the disc's outline must be drawn"
    assert (lines < 128).mean() > 0.5 * edge.mean(), "the outline must go most of the way round"


def test_build_pairs_writes_aligned_pairs_and_skips_bad_files(tmp_path):
    source = _folder(tmp_path / "paintings", 3, seed=0, size=40)
    (source / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    report = build_pairs(source, tmp_path / "pairs", style="canny", size=32)
    assert report.written == 3
    assert [(p.name, bool(problem)) for p, problem in report.skipped] == [("broken.png", True)]
    names = sorted(p.name for p in (tmp_path / "pairs" / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "pairs" / "b").iterdir())
    a = Image.open(tmp_path / "pairs" / "a" / names[0])
    assert a.size == Image.open(tmp_path / "pairs" / "b" / names[0]).size == (32, 32)
    info = json.loads((tmp_path / "pairs" / "pairs.json").read_text())
    assert (info["style"], info["count"]) == ("canny", 3)
    with pytest.raises(ConfigError, match="unknown line style 'crayon'"):
        build_pairs(source, tmp_path / "x", style="crayon")
    with pytest.raises(DataError, match="not a pairs folder"):
        stylebridge.train("pix2pix", pairs=str(source), out=str(tmp_path / "run"), size=32)


def test_paired_dataset_crops_both_sides_alike(tmp_path):
    source = _folder(tmp_path / "p", 4, seed=1, size=48)
    files = sorted(source.iterdir())
    dataset = PairedDataset(ImageSource(files, 48), ImageSource(files, 48), 32, seed=3)
    crops = [dataset[i] for i in range(8)]
    assert all(torch.equal(c["real_a"], c["real_b"]) for c in crops)
    assert len({c["real_a"].sum().item() for c in crops}) > 1  # crops and flips do vary


def _redness_inside(image: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Mean R - B where the target painting has ink, and where it has paper."""
    ink = np.abs(target.astype(float) - PAPER).max(axis=2) > 60
    diff = image[..., 0].astype(float) - image[..., 2].astype(float)
    return float(diff[ink].mean()), float(diff[~ink].mean())


@pytest.mark.slow
def test_pix2pix_learns_sketch_to_painting_and_stylizes(tmp_path):
    pairs = build_pairs(_folder(tmp_path / "train", 48, seed=0), tmp_path / "pairs", size=32).out
    test = build_pairs(_folder(tmp_path / "test", 8, seed=9), tmp_path / "test_pairs", size=32).out
    run = stylebridge.train(
        "pix2pix",
        pairs=str(pairs),
        out=str(tmp_path / "run"),
        size=32,
        load_size=32,
        steps=300,
        sample_every=300,
        checkpoint_every=300,
        overrides=["model.ngf=16", "model.ndf=16", "model.lr=0.001", "precision=fp32"],
    )
    model = stylebridge.load(run)
    mean_b = np.mean([np.asarray(Image.open(p), float) for p in (pairs / "b").iterdir()], axis=0)
    errors, baseline, inside, outside = [], [], [], []
    for sketch in sorted((test / "a").iterdir()):
        target = np.asarray(Image.open(test / "b" / sketch.name), float)
        out = np.asarray(model.stylize(sketch), float)
        errors.append(np.abs(out - target).mean())
        baseline.append(np.abs(mean_b - target).mean())
        ink, paper = _redness_inside(out, target)
        inside.append(ink)
        outside.append(paper)
    # measured: L1 12 vs 32 for the mean training painting; R - B 170 on the target's ink
    assert np.mean(errors) < 0.6 * np.mean(baseline), (np.mean(errors), np.mean(baseline))
    assert np.mean(inside) > 90 and abs(np.mean(outside)) < 30, (inside, outside)

    # a user's sketch of another size, through the CLI
    sketch = Image.open(sorted((test / "a").iterdir())[0]).resize((45, 37))
    sketch.save(tmp_path / "sketch.png")
    result = CliRunner().invoke(
        app, ["stylize", str(run), str(tmp_path / "sketch.png"), "-o", str(tmp_path / "o.png")]
    )
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "o.png").size == (45, 37)


def test_data_pairs_command(tmp_path):
    source = _folder(tmp_path / "paintings", 2, seed=2, size=40)
    args = ["data", "pairs", "--edges", str(source), "-o", str(tmp_path / "pairs")]
    result = CliRunner().invoke(app, [*args, "--line-style", "pencil", "--size", "32"])
    assert result.exit_code == 0, result.output
    assert "2 pair(s) written" in result.output
    assert len(list((tmp_path / "pairs" / "a").glob("*.png"))) == 2
    try:
        bad = CliRunner().invoke(app, [*args, "--line-style", "crayon"], catch_exceptions=False)
    except StylebridgeError as err:  # main() prints it as one line, exit status 1
        bad = err
    assert "unknown line style 'crayon'" in str(bad)
