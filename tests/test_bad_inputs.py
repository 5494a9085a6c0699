"""Every command that reads a folder of images, against every bad input of the generated corpus
(``badinputs.py``): no traceback, one line naming the bad file and its problem, the good files
still processed, and no input file modified."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import stylebridge
from stylebridge.errors import ConfigError, ImageError, StylebridgeError

from .badinputs import BAD_IMAGES, digests, good_image, write_bad_image
from .test_cli import _run

pytestmark = pytest.mark.usefixtures("one_thread")

NON_UTF8_NAME = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes, as an old archive extracts them
EXTRA_KINDS = ("dangling_link", "non_utf8_name")


def _make_bad(folder: Path, kind: str) -> str:
    """Put one bad input of ``kind`` into ``folder``; returns a part of its name to look for."""
    if kind == "dangling_link":
        (folder / "gone.png").symlink_to(folder.parent / "deleted.png")
        return "gone.png"
    if kind == "non_utf8_name":
        good_image(folder / NON_UTF8_NAME, seed=9)
        return "caf"
    return write_bad_image(folder, kind).name


def _corpus(tmp_path: Path, kind: str) -> tuple[Path, str]:
    folder = tmp_path / "in"
    good_image(folder / "good_1.png", 1)
    good_image(folder / "good_2.jpg", 2)
    return folder, _make_bad(folder, kind)


def _text(result) -> str:
    if isinstance(result, StylebridgeError):
        return f"error: {result}"
    return result.output


def _line_naming(text: str, name: str) -> str:
    lines = [line for line in text.splitlines() if name in line]
    assert lines, f"no line names {name!r} in:\n{text}"
    return lines[0]


def _evaluate_args(run: Path, src: Path, out: Path) -> list[str]:
    """Score the folder (as the fake set) against three good images with pixel features."""
    for i in range(3):
        good_image(out / "real" / f"real_{i}.png", 20 + i)
    args = ["evaluate", "--real", str(out / "real"), "--fake", str(src), "--metrics", "kid"]
    return [*args, "--features", "pixel", "--no-cache", "--kid-subset-size", "2"]


def _recolor_args(run: Path, src: Path, out: Path) -> list[str]:
    """Recolour a good pattern into the palette of the folder."""
    pattern = good_image(out / "pattern.png", 30)
    return ["design", "recolor", str(pattern), "--palette-from", str(src), "-o", str(out / "r.png")]


COMMANDS = {
    "evaluate": _evaluate_args,
    "design_recolor": _recolor_args,
    "stylize": lambda run, src, out: ["stylize", str(run), str(src), "-o", str(out)],
    "data_check": lambda run, src, out: ["data", "check", str(src)],
    "data_manifest": lambda run, src, out: ["data", "manifest", str(src), "-o", str(out / "m.csv")],
    "data_anonymize": lambda run, src, out: ["data", "anonymize", str(src), "-o", str(out)],
    "data_pairs": lambda run, src, out: (
        ["data", "pairs", "--edges", str(src), "-o", str(out)] + ["--size", "32"]
    ),
}
# the manifest reads headers only: a file whose header is sound is a row, not a problem
HEADER_SOUND = {"truncated_png", "tiny", "nan_tiff", "inf_tiff"}


@pytest.mark.parametrize("kind", [*sorted(BAD_IMAGES), *EXTRA_KINDS])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_survives_every_bad_input(tiny_run, tmp_path, monkeypatch, command, kind):
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps long lines at the terminal's width
    folder, bad_name = _corpus(tmp_path, kind)
    out = tmp_path / "out"
    before = digests(folder)
    result = _run(*COMMANDS[command](tiny_run, folder, out))  # anything else would raise here
    text = _text(result)
    assert "Traceback" not in text
    assert digests(folder) == before, "an input was modified"
    if command == "data_manifest" and kind in HEADER_SOUND:
        assert bad_name in (out / "m.csv").read_text()
    else:
        line = _line_naming(text, bad_name)
        assert line.count(":") >= 1 and len(line) < 400, f"no reason given: {line}"
    if command == "stylize":
        assert result.exit_code == 1
        assert {p.name for p in out.iterdir()} == {"good_1.png", "good_2.png"}
    elif command == "data_anonymize":
        assert {"good_1.png", "good_2.jpg"} <= {p.name for p in out.iterdir()}
    elif command == "data_manifest":
        rows = (out / "m.csv").read_text()
        assert "good_1.png" in rows and "good_2.jpg" in rows
    elif command == "evaluate":
        assert result.exit_code == 0 and "3 real, 2 fake" in text
    elif command == "design_recolor":
        assert result.exit_code == 0 and (out / "r.png").is_file()
    elif command == "data_pairs":
        assert result.exit_code == 0 and "2 pair(s) written" in text
        assert {p.name.rsplit("_", 1)[0] for p in (out / "b").iterdir()} == {"good_1", "good_2"}
    else:
        assert "2 usable of 3 image files" in text


PHOTO_COMMANDS = {
    "design_garment": lambda run, photo, out: (
        ["design", "garment", str(photo), "-s", str(run)]
        + ["--mask", str(good_image(out.parent / "mask.png", 5)), "-o", str(out)]
    ),
    "design_variants": lambda run, photo, out: (
        ["design", "variants", str(photo)] + ["--styles", str(run), "-o", str(out)]
    ),
}


@pytest.mark.parametrize("kind", [*sorted(BAD_IMAGES), *EXTRA_KINDS])
@pytest.mark.parametrize("command", sorted(PHOTO_COMMANDS))
def test_one_photo_commands_refuse_every_bad_photo_in_one_line(tiny_run, tmp_path, command, kind):
    """Commands that take one photo: the bad photo is one line naming it, nothing is written."""
    folder = tmp_path / "in"
    folder.mkdir()
    bad_name = _make_bad(folder, kind)
    [photo] = [p for p in folder.iterdir() if bad_name in os.fsdecode(p.name)]
    out = tmp_path / "out"
    before = digests(folder)
    result = _run(*PHOTO_COMMANDS[command](tiny_run, photo, out))
    assert isinstance(result, StylebridgeError), result.output
    message = str(result)
    assert bad_name in message and "\n" not in message and "Traceback" not in message
    assert digests(folder) == before and not out.exists()


def test_max_side_that_would_collapse_a_side_skips_that_file_only(tiny_run, tmp_path):
    folder = tmp_path / "in"
    good_image(folder / "a_good.png", 1)
    good_image(folder / "b_strip.png", 2, size=(800, 8))  # 100:1, the most the loader allows
    good_image(folder / "c_strip.png", 3, size=(8, 400))
    good_image(folder / "d_good.png", 4)
    out = tmp_path / "out"
    result = _run("stylize", str(tiny_run), str(folder), "-o", str(out), "--max-side", "64")
    assert result.exit_code == 1
    for name in ("b_strip.png", "c_strip.png"):
        assert "short side must stay at least 8 px" in _line_naming(result.output, name)
    assert {p.name for p in out.iterdir()} == {"a_good.png", "d_good.png"}
    # without --max-side the same strips translate at their own size
    result = _run("stylize", str(tiny_run), str(folder), "-o", str(tmp_path / "o2"))
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "o2" / "b_strip.png").size == (800, 8)


@pytest.mark.parametrize("tile", ["1", "4", "63"])
def test_tiny_tiles_are_one_line_before_any_work(tiny_run, tmp_path, tile):
    photo = good_image(tmp_path / "a.png")
    error = _run("stylize", str(tiny_run), str(photo), "-o", str(tmp_path / "o"), "--tile", tile)
    assert isinstance(error, ConfigError) and "tile must be 0 (no tiling) or at least 64" in str(
        error
    )
    assert not (tmp_path / "o").exists()


def test_smallest_allowed_tile_works_on_a_tiled_image(tiny_run, tmp_path):
    photo = good_image(tmp_path / "a.png", size=(150, 70))
    result = _run(
        "stylize", str(tiny_run), str(photo), "-o", str(tmp_path / "o.png"), "--tile", "64"
    )
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "o.png").size == (150, 70)


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_nonfinite_float_tiff_is_refused_by_name(tmp_path, value):
    path = write_bad_image(tmp_path, f"{value}_tiff")
    with pytest.raises(ImageError, match="NaN/inf in 16 of 1024 pixels") as err:
        stylebridge.imageio.load_image(path)
    assert str(path) in str(err.value)
    array = np.array(Image.open(path), np.float32)
    array[~np.isfinite(array)] = 0  # once fixed, it loads
    Image.fromarray(array, "F").save(tmp_path / "fixed.tif")
    assert stylebridge.imageio.load_image(tmp_path / "fixed.tif").size == (32, 32)


def test_header_limits_refuse_before_decoding(tmp_path):
    needle = write_bad_image(tmp_path, "aspect_bomb")
    with pytest.raises(ImageError, match="aspect ratio over 100:1"):
        stylebridge.imageio.probe_image(needle)
    bomb = write_bad_image(tmp_path, "bomb_header")
    with pytest.raises(ImageError, match="decompression bombs"):
        stylebridge.imageio.probe_image(bomb)


def test_decoded_bytes_are_bounded_not_only_pixels(tmp_path, monkeypatch):
    """A float image costs 4 bytes a pixel decoded: limited by bytes, under the pixel limit."""
    from stylebridge import imageio

    monkeypatch.setattr(imageio, "MAX_DECODED_BYTES", 100_000)
    monkeypatch.setenv("STYLEBRIDGE_MAX_PIXELS", "30000")
    Image.fromarray(np.zeros((160, 160), np.float32), "F").save(tmp_path / "f.tif")  # 102 kB
    Image.fromarray(np.zeros((160, 160, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ImageError, match="once decoded"):
        imageio.probe_image(tmp_path / "f.tif")
    assert imageio.probe_image(tmp_path / "rgb.png").width == 160  # 77 kB decoded


def test_training_counts_unreadable_files_not_draws(tmp_path, domains):
    from .conftest import TINY

    folder = tmp_path / "a"
    folder.mkdir()
    for path in sorted(domains[0].iterdir())[:4]:
        (folder / path.name).write_bytes(path.read_bytes())
    for kind in ("truncated_png", "truncated_jpeg"):  # sound headers, corrupt data
        write_bad_image(folder, kind)
    (folder / "gone.png").symlink_to(tmp_path / "deleted.png")
    messages: list[str] = []
    stylebridge.train(
        "cyclegan",
        domain_a=str(folder),
        domain_b=str(domains[1]),
        out=str(tmp_path / "run"),
        size=32,
        steps=30,
        sample_every=1000,
        checkpoint_every=1000,
        overrides=[*TINY, "precision=fp32"],
        progress=lambda report: report.message and messages.append(report.message),
    )
    assert "3 unreadable image(s) were skipped" in messages
    assert any("gone.png" in m and "dangling" in m for m in messages)


def test_poisoned_analysis_cache_entry_is_dropped_and_recomputed(tmp_path):
    extract_module = importlib.import_module("stylebridge.analysis.extract")

    items = [(str(good_image(tmp_path / f"{i}.png", i, (64, 64))), "x") for i in range(3)]
    first = extract_module.extract(items, cache=tmp_path / "cache", workers=1)
    store = extract_module.FeatureCache(tmp_path / "cache")
    entry = store._path(first_digest := stylebridge.data.files.file_digest(Path(items[0][0])))
    with np.load(entry) as data:
        record = {key: data[key] for key in data.files}
    record["scalars"] = np.full_like(record["scalars"], np.nan)
    np.savez(entry, **record)
    second = extract_module.extract(items, cache=tmp_path / "cache", workers=1)
    assert np.isfinite(second.scalars).all()
    np.testing.assert_allclose(second.scalars, first.scalars, rtol=1e-5)
    assert store.get(first_digest) is not None, "the entry was recomputed and stored again"


def test_poisoned_metrics_cache_entry_is_dropped(tmp_path):
    from stylebridge.metrics.stats import FeatureSet, load_cached, save_cached

    features = torch.randn(5, 3)
    good = FeatureSet(features, None, features.mean(0), torch.eye(3), {"name": "t"})
    path = tmp_path / "features" / "t.safetensors"
    save_cached(path, good)
    assert load_cached(path) is not None
    bad = FeatureSet(features, None, torch.full((3,), float("nan")), torch.eye(3), {"name": "t"})
    save_cached(path, bad)
    assert load_cached(path) is None and not path.exists()


def test_non_utf8_name_in_analysis_is_a_skipped_file(tmp_path):
    extract_module = importlib.import_module("stylebridge.analysis.extract")

    good = [good_image(tmp_path / f"{i}.png", i, (64, 64)) for i in range(2)]
    odd = good_image(tmp_path / NON_UTF8_NAME, 5, (64, 64))
    table = extract_module.extract(
        [(str(p), "x") for p in [*good, odd]], use_cache=False, workers=1
    )
    assert len(table) == 2
    [(path, reason)] = table.failures
    assert path == str(odd) and "not valid UTF-8" in reason


def test_tiled_stylize_memory_is_one_row_of_tiles_not_the_image():
    """Blending accumulators cover one row of tiles: the peak beside the input stays near the
    uint8 output (2.3x the input's bytes, measured), where whole-image float accumulators
    took 13.4x."""
    import tracemalloc

    from stylebridge.inference.tiling import TileRunner

    class Identity(torch.nn.Module):
        def forward(self, x):
            return x

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    runner = TileRunner(Identity(), torch.device("cpu"), 4, None, channels_last=False)
    tracemalloc.start()
    try:
        out = runner.run(pixels, tile=512, overlap=64)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.abs(out.astype(int) - pixels).max() <= 1  # blending an identity changes nothing
    assert peak < 2.6 * pixels.nbytes, f"peak {peak / 2**20:.0f} MiB for a 36 MiB image"


def test_analyze_corpus_lists_every_bad_input_and_describes_the_rest(tmp_path):
    """The whole bad corpus in one culture folder (analysis runs are slow, so one run): every
    bad file gets a line naming it, the good ones are described, the report is written."""
    first, second = tmp_path / "first", tmp_path / "second"
    names = [_make_bad(first, kind) for kind in [*sorted(BAD_IMAGES), *EXTRA_KINDS]]
    for i in range(3):
        good_image(first / f"good_{i}.png", i, (64, 64))
        good_image(second / f"other_{i}.png", 10 + i, (64, 64))
    before = digests(tmp_path)
    args = ["analyze", "corpus", str(first), str(second), "-o", str(tmp_path / "report")]
    result = _run(*args, "--workers", "1")
    text = _text(result)
    assert result.exit_code == 0, text
    for name in names:
        assert "skipped" in _line_naming(text, name)
    summary = _line_naming(text, "images described")
    assert summary.startswith("6 images described") and summary.endswith(f"{len(names)} skipped")
    assert (tmp_path / "report" / "index.html").is_file()
    assert {k: v for k, v in digests(tmp_path).items() if not k.startswith("report")} == before


def test_evaluate_recomputes_a_nan_poisoned_feature_cache(tmp_path, monkeypatch):
    """A cached feature set whose numbers were replaced by NaN (same shapes, valid file) is
    dropped and recomputed: the score is the first run's, not NaN and not a traceback."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from stylebridge.metrics import KEY_KID, KEY_TIMING, SetOptions, evaluate

    real = tmp_path / "real"
    fake = tmp_path / "fake"
    for i in range(12):
        good_image(real / f"{i}.png", i, (40, 40))
        good_image(fake / f"{i}.png", 100 + i, (40, 40))
    monkeypatch.setenv("STYLEBRIDGE_CACHE_DIR", str(tmp_path / "cache"))
    options = SetOptions(fid_bootstrap=0)
    first = evaluate(real, fake, metrics="kid", features="pixel", options=options)
    for path in (tmp_path / "cache" / "features").iterdir():
        with safe_open(str(path), "pt") as fh:
            metadata = fh.metadata()
            tensors = {k: torch.full_like(fh.get_tensor(k), float("nan")) for k in fh.keys()}  # noqa: SIM118
        save_file(tensors, str(path), metadata=metadata)
    again = evaluate(real, fake, metrics="kid", features="pixel", options=options)
    assert again[KEY_KID] == first[KEY_KID]
    assert not any(again[KEY_TIMING]["cached"].values())


def test_training_over_the_whole_bad_corpus_names_the_bad_files_and_trains(tmp_path, domains):
    """Every bad input in one domain folder: those refused from the header are named before
    the first step, the run finishes and checkpoints, and no input changes."""
    from .conftest import TINY

    folder = tmp_path / "a"
    folder.mkdir()
    for path in sorted(domains[0].iterdir())[:4]:
        (folder / path.name).write_bytes(path.read_bytes())
    names = {kind: _make_bad(folder, kind) for kind in [*sorted(BAD_IMAGES), *EXTRA_KINDS]}
    before = digests(folder)
    messages: list[str] = []
    run = stylebridge.train(
        "cyclegan",
        domain_a=str(folder),
        domain_b=str(domains[1]),
        out=str(tmp_path / "run"),
        size=32,
        steps=4,
        sample_every=1000,
        checkpoint_every=1000,
        overrides=[*TINY, "precision=fp32"],
        progress=lambda report: report.message and messages.append(report.message),
    )
    decoded_later = {"truncated_png", "nan_tiff", "inf_tiff"}  # sound headers: found when drawn
    for kind, name in names.items():
        if kind not in decoded_later:
            assert any(name in m and m.startswith("skipping") for m in messages), name
    assert (run / "train_state.safetensors").is_file()
    assert digests(folder) == before
