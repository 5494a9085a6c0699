"""ONNX export, the onnxruntime backend and colour preservation, on the tiny trained run."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import stylebridge
from stylebridge.errors import ConfigError, ModelFileError
from stylebridge.inference import OnnxGenerator, TileRunner, onnx_for, preserve_color
from stylebridge.models.files import generator_from_config, read_run_config

from .test_cli import _run

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TOLERANCE = 1e-3  # max abs difference to PyTorch on outputs in [-1, 1]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx_cache")


@pytest.fixture(autouse=True)
def _cache_env(monkeypatch, onnx_cache):
    monkeypatch.setenv("STYLEBRIDGE_CACHE_DIR", str(onnx_cache))


@pytest.fixture(scope="module")
def exported_a2b(tiny_run, onnx_cache):
    """The a2b generator exported once (default exporter) into the content-addressed cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STYLEBRIDGE_CACHE_DIR", str(onnx_cache))
        return onnx_for(tiny_run, "a2b")


def _photo(w: int, h: int, seed: int = 0, low: int = 0, high: int = 255) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = np.kron(rng.integers(low, high, (h // 8 + 1, w // 8 + 1, 3)), np.ones((8, 8, 1)))
    return Image.fromarray(base[:h, :w].astype(np.uint8))


def _torch_out(run, direction: str, x: torch.Tensor) -> np.ndarray:
    net, _ = generator_from_config(run, direction)
    with torch.inference_mode():
        return net(x).numpy()


def test_exported_graph_matches_pytorch_on_odd_size(tiny_run, exported_a2b):
    graph = OnnxGenerator(exported_a2b)
    assert graph.metadata["stylebridge.direction"] == "a2b"
    assert graph.multiple == 4
    x = torch.rand(1, 3, 37, 53, generator=torch.Generator().manual_seed(1)) * 2 - 1
    x = F.pad(x, (0, 3, 0, 3), mode="reflect")  # 37x53 padded to 40x56, as the stylizer does
    got = graph(x).numpy()
    assert got.shape == (1, 3, 40, 56)
    assert np.abs(got - _torch_out(tiny_run, "a2b", x)).max() < TOLERANCE
    assert np.abs(got - _torch_out(tiny_run, "b2a", x)).max() > 0.05  # the check can fail


def test_tile_runner_same_pixels_with_both_backends(tiny_run, exported_a2b):
    net, _ = generator_from_config(tiny_run, "a2b")
    graph = OnnxGenerator(exported_a2b)
    pixels = np.asarray(_photo(53, 37))
    cpu = torch.device("cpu")
    ours = TileRunner(net, cpu, 4, None, False).run(pixels, tile=0)
    onnx = TileRunner(graph, cpu, graph.multiple, None, False).run(pixels, tile=0)
    assert ours.shape == onnx.shape == (37, 53, 3)
    assert np.abs(ours.astype(int) - onnx.astype(int)).max() <= 1


def test_stylize_with_onnxruntime_backend(tiny_run, exported_a2b, onnx_cache):
    model = stylebridge.load(tiny_run, backend="onnxruntime")
    big = model.stylize(_photo(203, 141), tile=96)  # tiled, per-tile statistics
    assert big.size == (203, 141) and big.mode == "RGB"
    photo = _photo(61, 45, seed=2)
    whole = np.asarray(model.stylize(photo), dtype=int)
    reference = np.asarray(stylebridge.load(tiny_run, precision="fp32").stylize(photo), dtype=int)
    assert np.abs(whole - reference).max() <= 1
    assert [p.name for p in onnx_cache.rglob("*.onnx")] == [exported_a2b.name]  # cache reused


def test_cli_stylize_onnxruntime_backend(tiny_run, exported_a2b, tmp_path):
    _photo(45, 31).save(tmp_path / "in.png")
    out = tmp_path / "out.png"
    args = ["stylize", str(tiny_run), str(tmp_path / "in.png"), "-o", str(out)]
    result = _run(*args, "--backend", "onnxruntime", "--preserve-color")
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (45, 31)


def test_backend_options_refused():
    with pytest.raises(ConfigError, match="backend"):
        stylebridge.load("ukiyoe", backend="tensorrt")


def test_onnx_shipped_in_model_folder(tiny_run, exported_a2b, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_run, folder)
    stems = {d: name.rsplit(".", 1)[0] for d, name in read_run_config(folder)["directions"].items()}
    shutil.copy(exported_a2b, folder / f"{stems['a2b']}.onnx")
    assert onnx_for(folder, "a2b") == folder / f"{stems['a2b']}.onnx"
    shutil.copy(exported_a2b, folder / f"{stems['b2a']}.onnx")  # exported from a2b's weights
    with pytest.raises(ModelFileError, match="other weights"):
        onnx_for(folder, "b2a")


def test_cli_export_writes_a_loadable_file(tiny_run, tmp_path):
    out = tmp_path / "b2a.onnx"
    args = ["export", str(tiny_run), "--onnx", str(out), "--direction", "b2a"]
    result = _run(*args, "--exporter", "torchscript")  # the fallback path, and fast
    assert result.exit_code == 0, result.output
    assert "max abs diff" in result.output
    x = torch.rand(2, 3, 48, 32) * 2 - 1
    got = OnnxGenerator(out)(x).numpy()
    assert np.abs(got - _torch_out(tiny_run, "b2a", x)).max() < TOLERANCE
    error = _run("export", "no-such-style", "--onnx", str(tmp_path / "x.onnx"))
    assert isinstance(error, ModelFileError) and "bundled" in str(error)


def test_bundled_style_exports_within_tolerance(tmp_path):
    """A shipped style, exported by name as a user would, matches PyTorch on odd shapes and on a
    real photo through the onnxruntime backend."""
    from stylebridge import zoo
    from stylebridge.data.samples import sample_photos

    styles = zoo.looks()
    if not styles:
        pytest.skip("no bundled translation model in this checkout")
    name = "ukiyoe_look" if "ukiyoe_look" in styles else next(iter(styles))
    folder = tmp_path / name
    shutil.copytree(styles[name], folder)
    out = folder / "g_ab.onnx"  # where the onnxruntime backend looks first
    # torchscript: 4x faster to export; the dynamo path is checked on the tiny run above
    result = _run("export", name, "--onnx", str(out), "--exporter", "torchscript")
    assert result.exit_code == 0, result.output
    assert "max abs diff" in result.output
    graph = OnnxGenerator(out)
    assert float(graph.metadata["stylebridge.max_abs_diff"]) < TOLERANCE
    x = torch.rand(2, 3, 68, 92, generator=torch.Generator().manual_seed(4)) * 2 - 1
    got = graph(x).numpy()
    assert np.abs(got - _torch_out(styles[name], "a2b", x)).max() < TOLERANCE
    others = [s for s in styles if s != name]
    if others:  # the comparison can fail: another style's weights give other pixels
        assert np.abs(got - _torch_out(styles[others[0]], "a2b", x)).max() > 0.05
    photo = sample_photos()["chelsea"]  # 451x300, runs whole (no tiles)
    via_onnx = stylebridge.load(folder, backend="onnxruntime").stylize(photo)
    via_torch = stylebridge.load(folder, precision="fp32").stylize(photo)
    diff = np.abs(np.asarray(via_onnx, dtype=int) - np.asarray(via_torch, dtype=int))
    assert via_onnx.size == photo.size and diff.max() <= 1


def test_fallback_exporter_and_tolerance(tmp_path, monkeypatch):
    from stylebridge.inference import export_module
    from stylebridge.inference import onnx as onnx_mod
    from stylebridge.nn import ResnetGenerator, ResnetGeneratorConfig

    net = ResnetGenerator(ResnetGeneratorConfig(ngf=4, n_blocks=1)).eval()
    real = onnx_mod._export_bytes

    def no_dynamo(module, multiple, exporter):
        if exporter == "dynamo":
            raise RuntimeError("dynamo unavailable in this test")
        return real(module, multiple, exporter)

    monkeypatch.setattr(onnx_mod, "_export_bytes", no_dynamo)
    report = export_module(net, tmp_path / "g.onnx")
    assert report.exporter == "torchscript" and "unavailable" in report.fallback_reason
    assert report.max_abs_diff < TOLERANCE and (tmp_path / "g.onnx").is_file()
    with pytest.raises(ModelFileError, match="differs from PyTorch"):
        export_module(net, tmp_path / "strict.onnx", exporter="torchscript", tolerance=0.0)
    assert not (tmp_path / "strict.onnx").exists()


def _ycbcr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("YCbCr"), dtype=float)


def test_preserve_color_takes_luma_of_output_and_chroma_of_input():
    rng = np.random.default_rng(0)
    content = Image.fromarray(rng.integers(100, 157, (32, 48, 3), dtype=np.uint8))
    stylized = Image.fromarray(rng.integers(70, 186, (32, 48, 3), dtype=np.uint8))
    out = _ycbcr(preserve_color(content, stylized))
    assert np.abs(out[..., 1:] - _ycbcr(content)[..., 1:]).max() <= 2
    assert np.abs(out[..., 0] - _ycbcr(stylized)[..., 0]).max() <= 2
    # near white there is no room for colour: luminance wins, the result stays in gamut
    white = preserve_color(
        Image.new("RGB", (4, 4), (250, 20, 20)), Image.new("RGB", (4, 4), (255, 255, 255))
    )
    assert np.asarray(white).min() >= 254


def test_stylize_preserve_color_keeps_input_chroma(tiny_run):
    photo = _photo(64, 48, seed=3, low=90, high=170)  # moderate colours: no gamut limit
    model = stylebridge.load(tiny_run)
    kept = _ycbcr(model.stylize(photo, preserve_color=True))[..., 1:]
    plain = _ycbcr(model.stylize(photo))[..., 1:]
    wanted = _ycbcr(photo)[..., 1:]
    assert np.abs(plain - wanted).mean() > 5  # the model does change colours
    assert np.abs(kept - wanted).max() <= 2


def test_zero_pads_fold_into_convolutions_with_the_same_outputs(tmp_path):
    """A constant zero pad before a convolution (TensorFlow's SAME at stride 2 is asymmetric)
    becomes the convolution's own padding; a reflection pad, and a zero pad that something
    else also reads, stay as they are. The graph still computes what PyTorch does."""
    import onnx

    from stylebridge.inference.onnx import export_module

    class Padded(torch.nn.Module):
        multiple = 4

        def __init__(self):
            super().__init__()
            self.a = torch.nn.Conv2d(3, 4, 3, stride=2)
            self.b = torch.nn.Conv2d(4, 4, 3)
            self.c = torch.nn.Conv2d(4, 3, 3)

        def forward(self, x):
            h = self.a(F.pad(x, [0, 1, 0, 1]))  # folds
            h = self.b(F.pad(h, [1, 1, 1, 1], mode="reflect"))  # reflection: stays
            shared = F.pad(h, [1, 1, 1, 1])  # read twice: stays
            return F.interpolate(self.c(shared) + shared[:, :3, 1:-1, 1:-1], scale_factor=2)

    torch.manual_seed(0)
    out = tmp_path / "padded.onnx"
    result = export_module(Padded(), out, exporter="torchscript")
    assert result.max_abs_diff <= TOLERANCE
    graph = onnx.load(str(out)).graph
    pads = [n for n in graph.node if n.op_type == "Pad"]
    assert len(pads) == 2
    first = next(n for n in graph.node if n.op_type == "Conv")
    assert list(next(a.ints for a in first.attribute if a.name == "pads")) == [0, 0, 1, 1]
