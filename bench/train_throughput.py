"""Training throughput (images/s) and peak memory of CycleGAN/CUT/FastCUT, ours vs the papers'.

Each configuration runs in its own process so peak memory is its own. In the same run it times:
- ``stylebridge``: our models as trained by ``stylebridge train`` (defaults of this machine);
- ``paper-schedule``: the original scripts' per-iteration computation on the same networks
  (bench/paper_schedule.py), always available;
- ``reference``: junyanz/pytorch-CycleGAN-and-pix2pix itself, when STYLEBRIDGE_BENCH_CYCLEGAN_DIR
  points at a checkout (its train.py, timed as the difference of a short and a longer run).
Architectures are equal (ngf 64, 9 blocks at 256 px / 6 at 128 px, transposed upsampling where
the comparison needs it, PatchGAN 70x70, batch 1).

    python bench/train_throughput.py --sizes 128,256 --methods cyclegan,cut,fastcut [--interleaved]

``--interleaved`` times the runners turn by turn in one process (adding ``stylebridge-fp32``,
our schedule without bf16 autocast), so that on a machine shared with other jobs every runner
sees the same load and the ratios stay meaningful; peak memory still comes from one process per
configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_mb() -> float:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(
    kind: str,
    method: str,
    size: int,
    upsample: str,
    precision: str = "auto",
    compile_: bool = False,
):
    """One training step of ``kind`` (stylebridge | paper) as a zero-argument callable."""
    import torch

    sys.path.insert(0, str(HERE))
    from stylebridge.models import MODELS
    from stylebridge.nn import choose_precision, pick_device, prepare_runtime

    torch.manual_seed(0)
    device = pick_device("auto")
    if device.type == "cuda":  # autotuned convolutions for every runner, as our loop uses
        torch.backends.cudnn.benchmark = True
    n_blocks = 9 if size >= 256 else 6
    batch = {
        "real_a": torch.rand(1, 3, size, size) * 2 - 1,
        "real_b": torch.rand(1, 3, size, size) * 2 - 1,
    }
    if kind == "stylebridge":
        prepare_runtime(device)  # as the training loop does
        cls = MODELS.get(method)
        config = cls.config_cls(n_blocks=n_blocks, upsample=upsample)
        amp = choose_precision(precision, device)
        model = cls(config, device, channels_last=True, amp_dtype=amp)
        if compile_:  # what compile=true does in the loop
            for net in model.networks.values():
                net.compile()
        return lambda: model.train_step(batch), device
    from paper_schedule import PaperCUT, PaperCycleGAN

    model = (
        PaperCycleGAN(n_blocks, device)
        if method == "cyclegan"
        else PaperCUT(n_blocks, device, fast=method == "fastcut")
    )
    a, b = batch["real_a"].to(device), batch["real_b"].to(device)
    return lambda: model.step(a, b), device


def _timed(run, device) -> float:
    import torch

    start = time.perf_counter()
    run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def worker(kind: str, method: str, size: int, steps: int, warmup: int, upsample: str) -> dict:
    """Median step time and this process's peak memory for one configuration."""
    if kind == "stylebridge-compiled":
        run, device = _build("stylebridge", method, size, upsample, compile_=True)
    else:
        run, device = _build(kind, method, size, upsample)
    for _ in range(warmup):
        run()
    times = sorted(_timed(run, device) for _ in range(steps))
    median = times[len(times) // 2]
    return {
        "s_per_iter": median,
        "images_per_s": 1 / median,
        "peak_mb": _peak_mb(),
        "device": str(device),
    }


def interleaved(method: str, size: int, steps: int, warmup: int, compile_: bool = False) -> dict:
    """Speed only: the runners take turns step by step in one process, so a machine shared with
    other jobs slows them alike and the ratios stay meaningful."""
    runners = {
        "stylebridge": _build("stylebridge", method, size, "transpose"),
        "stylebridge-fp32": _build("stylebridge", method, size, "transpose", "fp32"),
        "stylebridge-resize": _build("stylebridge", method, size, "resize"),
        "paper-schedule": _build("paper", method, size, "transpose"),
    }
    if compile_:  # torch.compile's first steps compile; the warm-up below absorbs them
        runners["stylebridge-compiled"] = _build(
            "stylebridge", method, size, "transpose", compile_=True
        )
    for run, _ in runners.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    order = list(runners)
    for i in range(steps):
        for name in order[i % len(order) :] + order[: i % len(order)]:
            times[name].append(_timed(*runners[name]))
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def _spawn(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _reference(checkout: Path, size: int, dataroot: Path) -> dict | None:
    """junyanz's train.py: per-iteration time from two runs of different length; peak RSS."""

    def run(iters: int) -> tuple[float, float]:
        n_blocks = 9 if size >= 256 else 6
        cmd = [
            sys.executable,
            "train.py",
            "--dataroot",
            str(dataroot),
            "--name",
            "bench",
            "--model",
            "cycle_gan",
            "--checkpoints_dir",
            tempfile.mkdtemp(),
            "--load_size",
            str(size),
            "--crop_size",
            str(size),
            "--netG",
            f"resnet_{n_blocks}blocks",
            "--n_epochs",
            "1",
            "--n_epochs_decay",
            "0",
            "--max_dataset_size",
            str(iters),
            "--print_freq",
            "100000",
            "--save_epoch_freq",
            "1000",
            "--no_html",
        ]
        cmd += os.environ.get(
            "STYLEBRIDGE_BENCH_CYCLEGAN_ARGS", "--gpu_ids -1 --display_id 0"
        ).split()
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        if status != 0:
            print(f"reference run failed: {proc.stderr.read().decode()[-400:]}", file=sys.stderr)
            return float("nan"), float("nan")
        return time.perf_counter() - start, usage.ru_maxrss / 1024

    short, _ = run(3)
    long, peak = run(13)
    if short != short or long != long:
        return None
    per_iter = (long - short) / 10
    return {"s_per_iter": per_iter, "images_per_s": 1 / per_iter, "peak_mb": peak}


def _dataroot(size: int) -> Path:
    """trainA/trainB folders of random images for the reference script."""
    import numpy as np
    from PIL import Image

    root = Path(tempfile.mkdtemp()) / "bench"
    rng = np.random.default_rng(0)
    for side in ("trainA", "trainB"):
        (root / side).mkdir(parents=True)
        for i in range(16):
            Image.fromarray(rng.integers(0, 255, (size, size, 3), np.uint8)).save(
                root / side / f"{i}.png"
            )
    return root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--worker", nargs=6, metavar=("KIND", "METHOD", "SIZE", "STEPS", "WARMUP", "UPSAMPLE")
    )
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--methods", default="cyclegan,cut,fastcut")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument(
        "--interleaved",
        action="store_true",
        help="Time the runners turn by turn in one process (use on a busy machine); memory "
        "still comes from one process per configuration.",
    )
    ap.add_argument(
        "--compile",
        action="store_true",
        help="With --interleaved: add stylebridge-compiled (torch.compile, as compile=true).",
    )
    args = ap.parse_args()
    if args.worker:
        kind, method, size, steps, warmup, upsample = args.worker
        if kind in ("interleaved", "interleaved-compiled"):
            compiled = kind == "interleaved-compiled"
            print(json.dumps(interleaved(method, int(size), int(steps), int(warmup), compiled)))
        else:
            print(json.dumps(worker(kind, method, int(size), int(steps), int(warmup), upsample)))
        return
    checkout = os.environ.get("STYLEBRIDGE_BENCH_CYCLEGAN_DIR")
    rows = []
    header = f"{'method':9s} {'px':>4s} {'runner':16s} {'s/iter':>7s} {'img/s':>6s} {'peak MB':>8s}"
    print(header)
    for size in [int(s) for s in args.sizes.split(",")]:
        for method in args.methods.split(","):
            common = [method, str(size), str(args.steps), str(args.warmup)]
            timed = common
            if args.interleaved:  # the separate processes only measure memory
                common = [method, str(size), "1", "1"]
            results = {
                "stylebridge": _spawn(["stylebridge", *common, "transpose"]),
                "stylebridge-resize": _spawn(["stylebridge", *common, "resize"]),
                "paper-schedule": _spawn(["paper", *common, "transpose"]),
            }
            if args.interleaved:
                kind = "interleaved-compiled" if args.compile else "interleaved"
                medians = _spawn([kind, *timed, "transpose"])
                results["stylebridge-fp32"] = {"peak_mb": float("nan")}
                if args.compile:  # compiling needs its warm-up steps before the peak means much
                    results["stylebridge-compiled"] = _spawn(
                        ["stylebridge-compiled", method, str(size), "1", "3", "transpose"]
                    )
                for runner, median in medians.items():
                    results[runner].update(s_per_iter=median, images_per_s=1 / median)
            if checkout and method == "cyclegan":
                ref = _reference(Path(checkout), size, _dataroot(size))
                if ref:
                    results["reference"] = ref
            base = results.get("reference", results["paper-schedule"])
            for runner, r in results.items():
                speed = r["images_per_s"] / base["images_per_s"]
                memory = r["peak_mb"] / base["peak_mb"]
                print(
                    f"{method:9s} {size:4d} {runner:16s} {r['s_per_iter']:7.2f} "
                    f"{r['images_per_s']:6.2f} {r['peak_mb']:8.0f}  "
                    f"x{speed:.2f} speed, x{memory:.2f} memory",
                    flush=True,
                )
                rows.append({"method": method, "size": size, "runner": runner, **r})
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
