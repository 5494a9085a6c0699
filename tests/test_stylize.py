"""Stylizing real-world inputs: odd sizes, EXIF, grey, alpha, huge images in tiles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import stylebridge
from stylebridge.errors import ConfigError, ModelFileError
from stylebridge.inference import TileRunner
from stylebridge.nn import ResnetGenerator, ResnetGeneratorConfig


def _photo(w: int, h: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = np.kron(rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3)), np.ones((8, 8, 1)))
    return Image.fromarray(base[:h, :w].astype(np.uint8)).convert(mode)


def test_odd_size_kept(tiny_run):
    out = stylebridge.load(tiny_run).stylize(_photo(333, 517))
    assert out.size == (333, 517) and out.mode == "RGB"


@pytest.mark.parametrize("size", [(8, 30), (30, 8), (8, 8), (4, 9)])
def test_a_side_of_one_stride_is_rendered_not_a_padding_error(tiny_run, size):
    """An 8 px side leaves the engine a 1 px feature map (stride 8), which reflection padding
    cannot pad: the runner pads such sides to two strides and crops back."""
    photo = _photo(*size)
    if min(size) >= 8:  # the engine refuses smaller in one line; a translation model takes 4 px
        assert stylebridge.stylize(photo, style_from="ukiyoe").size == size
    assert stylebridge.load(tiny_run).stylize(photo).size == size


def test_both_directions_and_bad_direction(tiny_run):
    model = stylebridge.load(tiny_run)
    assert model.directions == ["a2b", "b2a"]
    assert model.stylize(_photo(40, 40), direction="b2a").size == (40, 40)
    with pytest.raises(ConfigError, match="direction"):
        model.stylize(_photo(40, 40), direction="sideways")


@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_exif_rotated_file_is_translated_upright(tiny_run, tmp_path, orientation):
    """The file stores the picture turned; the EXIF tag says how to turn it back. The output
    must be the upright picture's translation: a turn the wrong way gives other pixels."""
    upright = _photo(80, 40, seed=7)
    stored_turn = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
    stored = upright.transpose(stored_turn.get(orientation, Image.Transpose.ROTATE_180))
    exif = stored.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.png"  # lossless, so the pixels can be compared exactly
    stored.save(path, exif=exif)
    model = stylebridge.load(tiny_run)
    assert np.array_equal(np.asarray(model.stylize(path, strength=0.0)), np.asarray(upright))
    assert np.array_equal(np.asarray(model.stylize(path)), np.asarray(model.stylize(upright)))


def test_grey_and_rgba_inputs(tiny_run):
    model = stylebridge.load(tiny_run)
    assert model.stylize(_photo(50, 30, "L")).mode == "RGB"
    rgba = _photo(50, 30, "RGBA")
    alpha = np.zeros((30, 50), np.uint8)
    alpha[:, 25:] = 255
    rgba.putalpha(Image.fromarray(alpha))
    out = model.stylize(rgba)
    assert out.mode == "RGBA" and np.array_equal(np.asarray(out)[..., 3], alpha)


def test_strength_zero_returns_input(tiny_run):
    photo = _photo(64, 48)
    out = stylebridge.load(tiny_run).stylize(photo, strength=0.0)
    assert np.array_equal(np.asarray(out), np.asarray(photo))


def test_max_side_translates_smaller_but_returns_input_size(tiny_run, monkeypatch):
    model = stylebridge.load(tiny_run)
    runner = model.runner("a2b")
    seen = []
    real_run = runner.run
    monkeypatch.setattr(
        runner, "run", lambda pixels, **kw: seen.append(pixels.shape) or real_run(pixels, **kw)
    )
    out = model.stylize(_photo(300, 200), max_side=64)
    assert out.size == (300, 200)
    assert seen == [(43, 64, 3)]  # the network saw the 64 px version, not the 300 px one
    model.stylize(_photo(300, 200))
    assert seen[-1] == (200, 300, 3)


def _runner(norm: str) -> TileRunner:
    torch.manual_seed(0)
    net = ResnetGenerator(ResnetGeneratorConfig(ngf=8, n_blocks=2, norm=norm)).eval()
    with torch.no_grad():  # a non-trivial function: larger weights than the init
        for p in net.parameters():
            p.mul_(8)
    return TileRunner(net, torch.device("cpu"), net.multiple)


def _seam_ratio(image: np.ndarray, seams: list[int]) -> float:
    """Mean absolute step across the given columns vs across all columns."""
    steps = np.abs(np.diff(image.astype(np.float64), axis=1)).mean(axis=(0, 2))
    return float(steps[seams].mean() / steps.mean())


@pytest.mark.parametrize("norm", ["instance", "none"])
def test_tiles_agree_with_whole_image(norm):
    runner = _runner(norm)
    pixels = np.asarray(_photo(400, 260, seed=3))
    whole = runner.run(pixels, tile=0).astype(np.float64)
    tiled = runner.run(pixels, tile=128, overlap=32).astype(np.float64)
    naive_gap = None
    if norm == "instance":  # per-tile statistics are what makes naive tiling show seams
        naive = _naive_tiles(runner, pixels, 128, 32).astype(np.float64)
        naive_gap = np.abs(naive - whole).mean()
    gap = np.abs(tiled - whole).mean()
    assert gap < 8.0, gap
    if naive_gap is not None:
        assert gap < 0.3 * naive_gap, (gap, naive_gap)
    seams = [96 * k + 48 for k in range(1, 4)]  # inside the blended overlaps
    assert _seam_ratio(tiled.astype(np.uint8), seams) < 1.5


def _naive_tiles(runner, pixels, tile, overlap):
    from stylebridge.inference.tiling import set_norm_mode

    set_norm_mode(runner.net, "instance")
    h, w = pixels.shape[:2]
    out = np.zeros((h, w, 3))
    step = tile - overlap
    for y in range(0, h, step):
        for x in range(0, w, step):
            patch = pixels[y : y + tile, x : x + tile]
            out[y : y + patch.shape[0], x : x + patch.shape[1]] = runner._forward(patch)
    return out


HUGE_RUN = """
import json, resource
import numpy as np, torch
from stylebridge.inference import TileRunner
from stylebridge.nn import ResnetGenerator, ResnetGeneratorConfig
net = ResnetGenerator(ResnetGeneratorConfig(ngf=8, n_blocks=2, norm="instance")).eval()
runner = TileRunner(net, torch.device("cpu"), net.multiple)
runner.run(np.zeros((128, 128, 3), np.uint8), tile=0)  # kernels and allocator warmed up
pixels = np.zeros((4000, 6000, 3), np.uint8)
pixels[::50] = 255
sides, forward = [], runner._forward
runner._forward = lambda patch: sides.append(max(patch.shape[:2])) or forward(patch)
calls = []
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = runner.run(pixels, tile=512, overlap=32, progress=lambda d, t: calls.append((d, t)))
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps(dict(shape=out.shape, side=max(sides), tiles=len(sides), last=calls[-1],
                 grown=grown * 1024)))
"""


@pytest.mark.slow  # a 6000x4000 photo through the tiler: about 3 min on 2 busy cores
def test_huge_photo_in_bounded_tiles():
    """6000x4000 (24 MP) goes through 512 px tiles in a fresh process, whose peak memory grows
    by the image buffers and one tile's activations: 250 MB measured, where one whole-image
    activation of this 8-channel network alone is 768 MB."""
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", HUGE_RUN], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    assert run["shape"] == [4000, 6000, 3] and run["last"][0] == run["last"][1]
    assert run["side"] <= 512 and run["tiles"] > 100
    assert run["grown"] < 600 * 2**20, f"peak memory grew by {run['grown'] / 2**20:.0f} MB"


FILE_RUN = """
import json, resource, sys, tempfile
from pathlib import Path
import numpy as np, torch
from stylebridge.inference import Stylizer, TileRunner
from stylebridge.models.pretrained import save_generators
from stylebridge.nn import ResnetGenerator, ResnetGeneratorConfig
class Identity(torch.nn.Module):  # the network's own memory is another test's: only buffers here
    def forward(self, x):
        return x
folder = Path(tempfile.mkdtemp())
save_generators(folder, {"a2b": ResnetGenerator(ResnetGeneratorConfig(ngf=4, n_blocks=1))},
                method="cyclegan")
model = Stylizer(folder, device="cpu", precision="fp32")
model._runners["a2b"] = TileRunner(Identity(), torch.device("cpu"), 4, None, channels_last=False)
model.stylize(np.zeros((600, 600, 3), np.uint8), tile=512)  # tiles and blending warmed up
options = json.loads(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = model.stylize(sys.argv[1], **options)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps(dict(size=out.size, grown=grown * 1024)))
"""


@pytest.mark.parametrize(
    ("name", "options", "images"),
    [("photo.png", {"tile": 512}, 3.2), ("photo.jpg", {"max_side": 1024}, 1.6)],
    ids=["tiled", "max_side"],
)
def test_stylizing_a_file_holds_the_input_and_output_images_only(tmp_path, name, options, images):
    """Peak memory (RSS of a fresh process) of stylizing a 24 MP file, beside the network: the
    decoded input and the output image (PIL keeps 4 bytes a pixel: 96 MB each) and one row of
    tiles' blending buffers (49 MB); tiles are cropped from one image and pasted into the
    other, no full-size array (measured 2.7 images; about one image more before). With
    ``max_side`` a JPEG decodes at 1/4 scale and only the full-size output is large (measured
    1.2 images)."""
    import json
    import subprocess
    import sys

    w, h = 6000, 4000
    small = np.random.default_rng(0).integers(0, 256, (h // 50, w // 50, 3), dtype=np.uint8)
    Image.fromarray(small).resize((w, h), Image.Resampling.NEAREST).save(tmp_path / name)
    command = [sys.executable, "-c", FILE_RUN, str(tmp_path / name), json.dumps(options)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    image_bytes = w * h * 4
    assert run["size"] == [w, h]
    assert run["grown"] < images * image_bytes, f"{run['grown'] / image_bytes:.1f} images"


def test_pickle_weights_refused(tiny_run, tmp_path):
    import shutil

    bad = tmp_path / "bad_run"
    shutil.copytree(tiny_run, bad)
    torch.save({"x": torch.zeros(1)}, bad / "g_ab.safetensors")
    with pytest.raises(ModelFileError, match="pickle") as info:
        stylebridge.load(bad).stylize(_photo(32, 32))
    assert "\n" not in str(info.value)


def test_safetensors_whose_header_length_starts_like_a_pickle_loads(tmp_path):
    """A header of 0x0?80 bytes begins with 0x80, pickle's PROTO opcode: still safetensors."""
    from safetensors.torch import save_file

    from stylebridge.models.files import read_tensors

    path = tmp_path / "w.safetensors"
    for name_len in range(1, 400):
        save_file({"w" * name_len: torch.ones(2)}, str(path))
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    tensors, _ = read_tensors(path)
    assert torch.equal(next(iter(tensors.values())), torch.ones(2))
    torch.save({"x": torch.zeros(1)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(ModelFileError, match="pickle"):
        read_tensors(path)


def test_corrupt_and_mismatched_weights_refused(tiny_run, tmp_path):
    import json
    import shutil

    bad = tmp_path / "bad_run"
    shutil.copytree(tiny_run, bad)
    data = (bad / "g_ab.safetensors").read_bytes()
    (bad / "g_ab.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt"):
        stylebridge.load(bad).stylize(_photo(32, 32))
    config = json.loads((bad / "config.json").read_text())
    config["generator"]["ngf"] = 16
    (bad / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="shape"):
        stylebridge.load(bad).stylize(_photo(32, 32), direction="b2a")


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelFileError, match="config.json"):
        stylebridge.load(tmp_path)
