"""The command line as a new user types it: in-process, one-line errors, real exit codes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stylebridge.cli import app

from .conftest import TINY

runner = CliRunner()


def _run(*args: str):
    from stylebridge.errors import StylebridgeError

    try:
        return runner.invoke(app, list(args), catch_exceptions=False)
    except StylebridgeError as err:  # main() turns these into one line and exit 1
        return err


def test_data_check_reports_problems_and_duplicates(tmp_path, domains):
    folder = tmp_path / "corpus"
    folder.mkdir()
    files = sorted(domains[0].iterdir())[:4]
    for p in files:
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "copy.png").write_bytes(files[0].read_bytes())
    Image.open(files[1]).save(folder / "recompressed.jpg", quality=90)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    result = _run("data", "check", str(folder))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "6 usable of 7 image files" in out
    assert "broken.jpg" in out and "unreadable" in out
    assert "exact duplicates" in out and "copy.png" in out
    assert "near duplicates" in out and "recompressed.jpg" in out
    assert "aspect" in out


def test_data_check_fails_on_a_folder_without_images(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.png").write_text("not an image")
    result = _run("data", "check", str(tmp_path / "bad"))
    assert result.exit_code == 1
    assert "no usable image" in result.output


def test_train_dry_run_prints_resolved_config(tmp_path, domains):
    result = _run(
        "train",
        "cut",
        "--domain-a",
        str(domains[0]),
        "--domain-b",
        str(domains[1]),
        "--size",
        "64",
        "--out",
        str(tmp_path / "r"),
        "--dry-run",
        "model.lambda_nce=3",
    )
    assert result.exit_code == 0, result.output
    assert "lambda_nce: 3.0" in result.output and "n_blocks: 6" in result.output
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_train_then_resume_then_stylize(tmp_path, domains):
    run = tmp_path / "run"
    base = [
        "--domain-a",
        str(domains[0]),
        "--domain-b",
        str(domains[1]),
        "--size",
        "32",
        "--out",
        str(run),
        "--sample-every",
        "2",
        *TINY,
    ]
    assert _run("train", "cyclegan", "--steps", "2", *base).exit_code == 0
    result = _run("train", "--resume", "--out", str(run), "steps=3")
    assert result.exit_code == 0, result.output
    assert '"step": 3' in (run / "config.json").read_text()
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (45, 71, 3), np.uint8)).save(photo)
    out = tmp_path / "out"
    result = _run(
        "stylize", str(run), str(photo), str(domains[0]), "-o", str(out), "--strength", "0.8"
    )
    assert result.exit_code == 0, result.output
    assert Image.open(out / "photo.png").size == (71, 45)
    assert len(list(out.iterdir())) == 1 + len(list(domains[0].iterdir()))


def test_stylize_bad_file_is_skipped_with_one_line(tmp_path, tiny_run):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.new("RGB", (20, 20), "red").save(folder / "good.png")
    (folder / "bad.jpg").write_bytes(b"")
    result = _run("stylize", str(tiny_run), str(folder), "-o", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "skipped" in result.output and "bad.jpg: empty file" in result.output
    assert (tmp_path / "o" / "good.png").is_file()


def test_unknown_method_is_one_line():
    err = _run("train", "pix3pix", "--domain-a", "a", "--domain-b", "b")
    assert "unknown method 'pix3pix'" in str(err) and "cyclegan" in str(err)


@pytest.mark.slow
def test_culture_corpus_end_to_end(tmp_path, cultures):
    """A real, tiny run on the shared corpus: train, sample grid, stylize a real photo."""
    run = tmp_path / "photo2ukiyoe"
    result = _run(
        "train",
        "fastcut",
        "--domain-a",
        str(cultures / "photo"),
        "--domain-b",
        str(cultures / "ukiyoe"),
        "--size",
        "64",
        "--steps",
        "3",
        "--out",
        str(run),
        "--sample-every",
        "3",
        "--eval-every",
        "3",
        "--eval-real",
        str(cultures / "ukiyoe"),
        "model.ngf=8",
        "model.n_blocks=2",
        "model.nce_layers=0,4,8,12",
    )
    assert result.exit_code == 0, result.output
    assert (run / "samples" / "step_0000003.png").is_file()
    assert '"metric/kid_lite0"' in (run / "log.jsonl").read_text()  # periodic KID (lite0)
    photo = sorted((cultures / "photo").iterdir())[0]
    result = _run("stylize", str(run), str(photo), "-o", str(tmp_path / "x.png"))
    assert result.exit_code == 0
    assert Image.open(tmp_path / "x.png").size == Image.open(photo).size


@pytest.mark.parametrize("args", [["stylize", "nowhere", "x.jpg", "-o", "o"]])
def test_missing_model_folder(args):
    err = _run(*args)
    assert "nowhere" in str(err) and "\n" not in str(err)
