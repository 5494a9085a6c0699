"""``stylebridge evaluate``: table by default, JSON with --json, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from stylebridge.cli import evaluate_cmd

from .conftest import blobs, write_images


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app holding only the evaluate command."""

    evaluate_cmd.register(app)
    return app


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    images = blobs(rng, 12, 40, hue=0)
    real = write_images(root / "real", images)
    noisy = [np.clip(im + rng.normal(0, 8, im.shape), 0, 255).astype(np.uint8) for im in images]
    fake = write_images(root / "fake", noisy)
    return real, fake


def test_table_output(app, folders):
    real, fake = folders
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--real",
            str(real),
            "--fake",
            str(fake),
            "--metrics",
            "fid,kid,prdc,psnr",
            "--features",
            "pixel",
        ],
    )
    assert result.exit_code == 0, result.output
    for text in (
        "FID (pixel)",
        "KID (pixel)",
        "95% interval",
        "Precision (pixel, k=5)",
        "PSNR dB",
        "12 matched by name",
    ):
        assert text in result.output


def test_json_output(app, folders):
    real, fake = folders
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--real",
            str(real),
            "--fake",
            str(fake),
            "--metrics",
            "kid,ssim",
            "--features",
            "pixel",
            "--json",
            "--kid-subsets",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["labels"]["kid"] == "KID (pixel)" and data["settings"]["kid_subsets"] == 10
    assert 0.5 < data["ssim"] < 1 and data["num_pairs"] == 12


def test_identical_images_give_inf_psnr_as_string(app, folders):
    real, _ = folders
    result = CliRunner().invoke(
        app, ["evaluate", "--real", str(real), "--fake", str(real), "--metrics", "psnr", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["psnr"] == "inf"


def test_errors_are_stylebridge_errors(app, folders):
    real, fake = folders
    result = CliRunner().invoke(
        app, ["evaluate", "--real", str(real), "--fake", str(fake), "--metrics", "fid,lpips"]
    )
    assert result.exit_code != 0
    assert "unknown metric" in str(result.exception)
