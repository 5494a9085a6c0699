"""An animated GIF is translated as its first frame, and the caller is told: a Python warning
from the API, a ``note:`` line from the command."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import stylebridge
from stylebridge.cli import app


def _gif(path, frames=3):
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200)][:frames]
    images = [Image.new("RGB", (40, 32), c) for c in colours]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100)
    return path


def test_api_warns_that_only_the_first_frame_is_used(tmp_path):
    gif = _gif(tmp_path / "anim.gif")
    stylizer = stylebridge.load("ukiyoe", device="cpu")
    with pytest.warns(UserWarning, match=r"anim\.gif: animated with 3 frames: using the first"):
        result = stylizer.stylize(gif)
    assert result.size == (40, 32)


def test_a_still_image_gives_no_warning(tmp_path):
    still = tmp_path / "still.png"
    Image.fromarray(np.full((32, 40, 3), 120, np.uint8)).save(still)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stylebridge.stylize(still, "ukiyoe")


def test_command_prints_a_note_line_and_still_writes(tmp_path):
    gif = _gif(tmp_path / "anim.gif", frames=2)
    out = tmp_path / "out.png"
    result = CliRunner().invoke(app, ["stylize", str(gif), "--style", "ukiyoe", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"note: {gif}: animated with 2 frames: using the first" in result.output
    assert "UserWarning" not in result.output
    assert Image.open(out).size == (40, 32)


def test_batch_results_carry_the_note_instead_of_a_warning(tmp_path):
    gif = _gif(tmp_path / "anim.gif")
    stylizer = stylebridge.load("ukiyoe", device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes as a warning
        (result,) = stylizer.stylize_files([gif], tmp_path / "out.png")
    assert result.notes == ("animated with 3 frames: using the first",)
