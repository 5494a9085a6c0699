"""The command behaves like other Unix tools: data on stdout, ``--version``, help in the usual
form whether or not it goes to a terminal, examples that match the README."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer.main
from PIL import Image
from typer.testing import CliRunner

import stylebridge
from stylebridge.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
runner = CliRunner()


def _command_paths(command=None, prefix=()):
    """Every command and group of the CLI as an argument path, e.g. ("design", "pattern")."""
    command = command or typer.main.get_command(app)
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*prefix, name))


ALL_COMMANDS = list(_command_paths())


def test_version_flag():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"stylebridge {stylebridge.__version__}"


def test_styles_list_goes_to_stdout_one_per_line(monkeypatch, tmp_path):
    from stylebridge import zoo

    monkeypatch.setattr(zoo, "styles", lambda: {"ink": tmp_path, "oil": tmp_path})
    monkeypatch.setattr(zoo, "describe", lambda name: {"summary": f"photo -> {name}"})
    result = runner.invoke(app, ["styles"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["ink\tphoto -> ink", "oil\tphoto -> oil"]
    assert result.stderr == ""


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "stylebridge")
def test_help_names_no_python_types_and_draws_no_boxes(path):
    result = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(f"Usage: stylebridge {' '.join(path)}".rstrip())
    # typer's own placeholders: {photo}, <list[Path]>, <str>, <bool>, <int range>
    assert not re.search(r"\{\w+\}|<[a-z][\w\[\] ]*>", text), text
    assert not set(text) & set("╭╮╰╯│─"), text


def test_stylize_usage_line_and_examples_keep_their_lines():
    text = runner.invoke(app, ["stylize", "--help"]).stdout
    assert "Usage: stylebridge stylize [OPTIONS] [RUN_DIR] INPUT...\n" in text
    assert "--max-side INTEGER" in text
    example = "stylebridge stylize photo.jpg --style ukiyoe_look --preserve-color -o o.png"
    assert any(line.strip() == example for line in text.splitlines())


def test_demo_help_summary_is_one_reflowed_paragraph():
    text = runner.invoke(app, ["demo", "--help"], terminal_width=200).stdout
    first_paragraph = text.split("\n\n")[1]
    assert first_paragraph.count("\n") == 0, first_paragraph
    assert "every culture style" in first_paragraph


@pytest.mark.parametrize("command", ["web", "analyze corpus"])
def test_help_examples_are_in_the_readme(command):
    text = runner.invoke(app, [*command.split(), "--help"], terminal_width=200).stdout
    example = re.search(r"Example: (stylebridge .*)", text).group(1).strip()
    assert example in README.read_text(), example


def test_help_in_a_pipe_is_plain_text_within_80_columns():
    """Not on a terminal (a log, `| less`): no colour codes, no boxes, nothing cut off."""
    proc = subprocess.run(
        [sys.executable, "-m", "stylebridge", "stylize", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    assert "--preserve-color / --no-preserve-color" in proc.stdout


def test_stages_are_logged_one_line_each_when_not_on_a_terminal(tmp_path):
    for name, base in (("muted", 90), ("vivid", 200)):
        folder = tmp_path / name
        folder.mkdir()
        rng = np.random.default_rng(base)
        for i in range(6):
            pixels = rng.integers(0, 60, (32, 32, 3)) + np.array([base, 100, 255 - base])
            Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    args = ["analyze", str(tmp_path / "muted"), str(tmp_path / "vivid"), "-o", str(tmp_path / "r")]
    args += ["--permutations", "9", "--classifier-permutations", "1", "--maps", "pca"]
    result = runner.invoke(app, [*args, "--workers", "1", "--no-cache"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for stage in ("describe images (12)...", "compare cultures", "write report"):
        assert sum(line.startswith(stage) for line in lines) == 1, (stage, lines)
