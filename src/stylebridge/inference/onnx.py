"""ONNX export of a model folder's generator and an onnxruntime stand-in for the torch module.

The exported graph takes ``image``: float32 NCHW in [-1, 1] with dynamic batch, height and width
(sides multiples of the generator's ``multiple``, 4) and returns ``styled`` of the same shape.

Limit: instance-norm statistics cannot be collected over tiles and then frozen inside a fixed
ONNX graph. With the onnxruntime backend, images up to the tile size run whole (identical to
PyTorch); larger images are tiled with per-tile statistics, so tiles may differ slightly in tone
where PyTorch would not. Pass ``tile=0`` to run a large image whole (memory grows with its size).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, ModelFileError, require_extra
from ..fileio import OutputError, atomic_write, check_outputs
from ..models.files import generator_from_config, read_run_config
from ..nn import GlobalStatsInstanceNorm
from ..nn.efficientnet_lite import default_cache_dir
from .onnx_passes import fold_zero_pads
from .tiling import set_norm_mode

ONNX_TOLERANCE = 1e-3  # max abs difference to PyTorch on [-1, 1] accepted at export
INPUT_NAME, OUTPUT_NAME = "image", "styled"
ONNX_FORMAT = "stylebridge.onnx/1"
EXPORTERS = ("auto", "dynamo", "torchscript")
_CHECK_SIDES = (76, 100)  # non-square, unlike the traced square example; batch 2
_TRACE_SIDE = 64


@dataclass
class OnnxExport:
    """What an export wrote and how closely onnxruntime reproduces PyTorch."""

    path: Path
    exporter: str  # "dynamo" or "torchscript"
    max_abs_diff: float  # onnxruntime vs PyTorch on a random input of check_shape
    check_shape: tuple[int, ...]
    tolerance: float  # the largest max_abs_diff the export accepted
    seconds: float
    fallback_reason: str | None = None  # why the dynamo exporter was not used
    notes: tuple[str, ...] = ()  # what the graph leaves out (a culture style's finish)


def _needs(module: str):
    return require_extra(module, "onnx", "ONNX support")


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def cache_dir() -> Path:
    """Where exported graphs are cached: STYLEBRIDGE_CACHE_DIR or ~/.cache/stylebridge, /onnx."""
    return default_cache_dir() / "onnx"


def weights_digest(model_dir: str | os.PathLike, direction: str) -> str:
    """sha256 of the generator architecture plus its weight file's bytes: the cache key."""
    config = read_run_config(Path(model_dir))
    named = {**config.get("directions", {}), **(config.get("exports") or {})}
    weights = Path(model_dir) / named.get(direction, "")
    if not weights.is_file():
        raise ModelFileError(weights, f"no {direction} weights to export")
    digest = hashlib.sha256(ONNX_FORMAT.encode())
    digest.update(json.dumps(config.get("generator", {}), sort_keys=True).encode())
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _quiet_exporter():
    """The exporters warn about torchvision ops and deprecations that do not concern us."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _plain_instance_norms(net: nn.Module) -> nn.Module:
    """A copy with torch's InstanceNorm2d in place of ours: it exports as one
    InstanceNormalization node, where group norm leaves Reshape/Mul/Add around it (slower in
    onnxruntime, docs/benchmarks.md). The check still compares against the original."""
    plain = copy.deepcopy(net)
    for module in list(plain.modules()):
        for name, child in module.named_children():
            if isinstance(child, GlobalStatsInstanceNorm):
                setattr(module, name, nn.InstanceNorm2d(child.num_features, eps=child.eps))
    return plain


def stride_sides(multiple: int, *sides: int) -> list[int]:
    """``sides`` rounded up to multiples of the generator's stride, and at least two strides:
    a 7-level U-Net (pix2pix) has a stride of 128, and 64 or 76 px would shrink to nothing."""
    return [multiple * max(2, math.ceil(side / multiple)) for side in sides]


def check_shape(multiple: int, channels: int = 3) -> tuple[int, int, int, int]:
    """The input the export is checked on: batch 2, non-square, sides the generator accepts."""
    height, width = stride_sides(multiple, *_CHECK_SIDES)
    return (2, channels, height, width + multiple if width == height else width)


def _export_bytes(net: nn.Module, multiple: int, exporter: str) -> bytes:
    seeded = torch.Generator().manual_seed(0)  # leaves the caller's global RNG alone
    (side,) = stride_sides(multiple, _TRACE_SIDE)
    channels = int(getattr(net, "in_channels", 3))  # images, or a decoder's feature maps
    example = torch.rand(1, channels, side, side, generator=seeded) * 2 - 1
    names = dict(input_names=[INPUT_NAME], output_names=[OUTPUT_NAME])
    with _quiet_exporter():
        if exporter == "dynamo":
            batch = torch.export.Dim("batch", min=1, max=1024)
            # min 2: the 3x3 reflection pads at 1/4 resolution need 2 pixels
            height = torch.export.Dim("height", min=2, max=16384)
            width = torch.export.Dim("width", min=2, max=16384)
            shapes = ({0: batch, 2: multiple * height, 3: multiple * width},)
            program = torch.onnx.export(
                net, (example,), dynamo=True, dynamic_shapes=shapes, verbose=False, **names
            )
            return fold_zero_pads(program.model_proto.SerializeToString())
        axes = {0: "batch", 2: "height", 3: "width"}
        buffer = io.BytesIO()
        torch.onnx.export(
            net,
            (example,),
            buffer,
            dynamo=False,
            opset_version=17,
            dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
            **names,
        )
        return fold_zero_pads(buffer.getvalue())


def _export_with_fallback(
    net: nn.Module, multiple: int, exporter: str, out: Path
) -> tuple[bytes, str, str | None]:
    """(graph bytes, exporter used, why dynamo was not used); dynamo first unless told."""
    used = "torchscript" if exporter == "torchscript" else "dynamo"
    try:
        return _export_bytes(net, multiple, used), used, None
    except Exception as err:  # any failure of the new exporter: fall back, report why
        reason = _first_line(err)
        if exporter != "auto":
            raise ModelFileError(out, f"{used} ONNX export failed ({reason})") from None
    try:
        return _export_bytes(net, multiple, "torchscript"), "torchscript", reason
    except Exception as err:  # both exporters failed: one line with both reasons
        detail = f"{reason}; then {_first_line(err)}"
        raise ModelFileError(out, f"ONNX export failed ({detail})") from None


def _with_metadata(data: bytes, metadata: dict[str, str]) -> bytes:
    onnx = _needs("onnx")
    model = onnx.load_model_from_string(data)
    onnx.helper.set_model_props(model, metadata)
    return model.SerializeToString()


def _session(source: bytes | str, threads: int | None = None):
    ort = _needs("onnxruntime")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _max_abs_diff(net: nn.Module, data: bytes, shape: tuple[int, ...]) -> float:
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.inference_mode():
        expected = net(x).numpy()
    try:
        got = _session(data).run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
    except Exception:  # onnxruntime refuses the check input, e.g. a batch the graph fixed
        return float("inf")
    if got.shape != expected.shape:
        return float("inf")
    return float(np.abs(got - expected).max())


def _check_target(out: Path, inputs: list[Path], overwrite: bool) -> None:
    """Before any work: a .onnx name (so a photo or weights file is never the target), not one
    of the model's files, and no existing file unless ``overwrite``."""
    if out.suffix.lower() != ".onnx":
        raise OutputError(out, "an ONNX export is written to a .onnx file")
    check_outputs([out], inputs, overwrite=overwrite)


def export_module(
    net: nn.Module,
    out: str | os.PathLike,
    *,
    exporter: str = "auto",
    tolerance: float = ONNX_TOLERANCE,
    metadata: dict[str, str] | None = None,
    overwrite: bool = False,
) -> OnnxExport:
    """Export a generator module to ``out`` (atomic) after checking it against PyTorch.

    Args:
        exporter: ``dynamo`` (torch.export), ``torchscript`` (legacy tracer), or ``auto``:
            dynamo first, the tracer when dynamo is missing or fails.
        tolerance: largest accepted max abs difference on [-1, 1]; above it nothing is written.
        metadata: extra ``metadata_props`` stored in the file.
        overwrite: replace an existing ``out``; without it an existing file is refused.
    """
    if exporter not in EXPORTERS:
        raise ConfigError(f"unknown exporter {exporter!r}; choose one of: {', '.join(EXPORTERS)}")
    out = Path(out)
    _check_target(out, [], overwrite)
    _needs("onnx")
    multiple = int(getattr(net, "multiple", 4))
    net = copy.deepcopy(net).to("cpu", torch.float32, memory_format=torch.contiguous_format)
    net.eval()
    set_norm_mode(net, "instance")
    graph_net = _plain_instance_norms(net)
    start = time.perf_counter()
    data, used, fallback_reason = _export_with_fallback(graph_net, multiple, exporter, out)
    shape = check_shape(multiple, int(getattr(net, "in_channels", 3)))
    diff = _max_abs_diff(net, data, shape)
    if not diff <= tolerance and exporter == "auto" and used == "dynamo":
        # a dynamo graph can specialise a dynamic size (e.g. the batch) without failing
        fallback_reason = f"its graph failed the check on a {shape} input (max abs diff {diff:.3g})"
        data, used = _export_bytes(graph_net, multiple, "torchscript"), "torchscript"
        diff = _max_abs_diff(net, data, shape)
    if not diff <= tolerance:
        raise ModelFileError(
            out,
            f"exported graph differs from PyTorch by {diff:.3g} "
            f"(tolerance {tolerance:g}); nothing written",
        )
    props = {
        "stylebridge.format": ONNX_FORMAT,
        "stylebridge.multiple": str(multiple),
        "stylebridge.exporter": used,
        "stylebridge.max_abs_diff": f"{diff:.3g}",
        **(metadata or {}),
    }
    atomic_write(out, _with_metadata(data, props), replace=overwrite)
    seconds = time.perf_counter() - start
    return OnnxExport(out, used, diff, shape, tolerance, seconds, fallback_reason)


def export_onnx(
    model_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    direction: str = "a2b",
    exporter: str = "auto",
    tolerance: float = ONNX_TOLERANCE,
    overwrite: bool = False,
) -> OnnxExport:
    """Export a model folder's ``direction`` generator to ``out`` (see ``export_module``)."""
    refuse_noise_models(Path(model_dir), "ONNX export", allow_tasks=("super-resolution",))
    model_files = [p for p in Path(model_dir).glob("*") if p.is_file()]
    _check_target(Path(out), model_files, overwrite)
    net, _ = generator_from_config(Path(model_dir), direction)
    metadata = {
        "stylebridge.direction": direction,
        "stylebridge.weights_sha256": weights_digest(model_dir, direction),
    }
    return export_module(
        net, out, exporter=exporter, tolerance=tolerance, metadata=metadata, overwrite=overwrite
    )


def refuse_noise_models(model_dir: Path, what: str, allow_tasks: tuple[str, ...] = ()) -> None:
    """A GAN run (dcgan ... stylegan2) turns noise into images and a restoration run restores
    them; say so rather than "has no a2b generator" where a translation model is needed."""
    config = read_run_config(model_dir)
    task = config.get("task")
    if task in allow_tasks:
        return
    if task:
        raise ConfigError(
            f"{model_dir} holds a {task} model ({config.get('method')}); {what} takes "
            "translation models. Use stylebridge restore for it"
        )
    if not config.get("directions") and config.get("exports"):
        raise ConfigError(
            f"{model_dir} holds a {config.get('method')} GAN, which makes images from random "
            f"noise, not from an input image; {what} takes translation models (cyclegan, cut, "
            "fastcut, pix2pix). Use stylebridge generate for its images"
        )


def _folder_onnx(model_dir: Path, direction: str) -> Path | None:
    """An exported graph shipped in the model folder: ``<weights stem>.onnx`` or ``a2b.onnx``."""
    weights = read_run_config(model_dir).get("directions", {}).get(direction)
    names = ([Path(weights).with_suffix(".onnx").name] if weights else []) + [f"{direction}.onnx"]
    return next((model_dir / n for n in names if (model_dir / n).is_file()), None)


def onnx_for(model_dir: str | os.PathLike, direction: str = "a2b") -> Path:
    """The ONNX file for a folder's generator: shipped beside the weights, else exported once
    into the cache under the weights' content hash (so retrained weights never hit a stale one)."""
    model_dir = Path(model_dir)
    digest = weights_digest(model_dir, direction)
    shipped = _folder_onnx(model_dir, direction)
    if shipped is not None:
        stored = OnnxGenerator(shipped).metadata.get("stylebridge.weights_sha256", digest)
        if stored != digest:
            raise ModelFileError(
                shipped,
                "was exported from other weights than this folder's; re-run stylebridge export",
            )
        return shipped
    target = cache_dir() / f"{digest[:40]}.onnx"
    if not target.is_file():
        export_onnx(model_dir, target, direction=direction, overwrite=True)
    return target


class OnnxGenerator:
    """An exported generator behind onnxruntime (CPU) that TileRunner can call like the module.

    Instance norm runs per call inside the graph, so tiles get per-tile statistics (see the
    module docstring); ``multiple`` comes from the file's metadata.
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelFileError(self.path, "file not found")
        try:
            self.session = _session(str(self.path), threads)
        except ConfigError:
            raise
        except Exception as err:  # onnxruntime raises its own untyped errors for bad files
            problem = f"not a loadable ONNX model ({_first_line(err)})"
            raise ModelFileError(self.path, problem) from None
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self.multiple = int(self.metadata.get("stylebridge.multiple", 4))
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        array = x.detach().to("cpu", torch.float32).contiguous().numpy()
        return torch.from_numpy(self.session.run(None, {self.input_name: array})[0])
