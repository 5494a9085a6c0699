"""Training throughput (images/s) and peak memory of CycleGAN/CUT/FastCUT, ours vs the papers'.

Each configuration runs in its own process so peak memory is its own. In the same run it times:
- ``stylebridge``: our models as trained by ``stylebridge train`` (defaults of this machine);
- ``paper-schedule``: the original scripts' per-iteration computation on the same networks
  (bench/paper_schedule.py), always available;
- ``reference``: junyanz/pytorch-CycleGAN-and-pix2pix itself, when STYLEBRIDGE_BENCH_CYCLEGAN_DIR
  points at a checkout (its train.py, timed as the difference of a short and a longer run, run
  by this interpreter, which then needs torchvision and the checkout's other imports).
  STYLEBRIDGE_BENCH_CYCLEGAN_ARGS adds flags (default ``--num_threads 0``: data loading in the
  timed process); checkouts older than August 2025 also need ``--gpu_ids -1 --display_id 0``
  on a CPU. Its memory is always the process's peak RSS.
Architectures are equal (ngf 64, 9 blocks at 256 px / 6 at 128 px, transposed upsampling where
the comparison needs it, PatchGAN 70x70, batch 1).

    python bench/train_throughput.py --sizes 128,256 --methods cyclegan,cut,fastcut [--interleaved]

``--interleaved`` times the runners turn by turn in one process (adding ``stylebridge-fp32``,
our schedule without bf16 autocast), so that on a machine shared with other jobs every runner
sees the same load and the ratios stay meaningful; peak memory still comes from one process per
configuration. ``--runners`` picks other variants of our step (see RUNNERS), for instance on a
GPU: ``--runners stylebridge,stylebridge-fp32,stylebridge-compiled,stylebridge-cudagraphs,
paper-schedule``. A runner that fails (say, no compiler) prints one line and the rest go on.
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


def _current_mb() -> float:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.memory_allocated() / 2**20
    with open("/proc/self/statm") as statm:  # resident pages now (Linux)
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# runner name -> how _build makes its step; every stylebridge runner has the paper's
# transposed upsampling unless it says otherwise, so the architecture is equal
RUNNERS: dict[str, dict] = {
    "stylebridge": {},  # what `stylebridge train` runs by default on this machine
    "stylebridge-fp32": {"precision": "fp32"},  # without autocast (TF32 allowed on GPUs)
    "stylebridge-resize": {"upsample": "resize"},  # our default resize-convolution upsampling
    "stylebridge-compiled": {"compile_mode": "default"},  # the loop's compile=true
    "stylebridge-compiled-fp32": {"compile_mode": "default", "precision": "fp32"},
    "stylebridge-cudagraphs": {"compile_mode": "reduce-overhead"},  # CUDA graphs on a GPU
    "paper-schedule": {"paper": True},  # bench/paper_schedule.py
}


def _build(runner: str, method: str, size: int):
    """One training step of ``runner`` (a RUNNERS key) as a zero-argument callable, its device
    and the trained parameter count."""
    import torch

    sys.path.insert(0, str(HERE))
    from stylebridge.models import MODELS
    from stylebridge.nn import choose_precision, pick_device, prepare_runtime

    options = RUNNERS[runner]
    torch.manual_seed(0)
    device = pick_device("auto")
    if device.type == "cuda":  # autotuned convolutions for every runner, as our loop uses
        torch.backends.cudnn.benchmark = True
    n_blocks = 9 if size >= 256 else 6
    batch = {
        "real_a": torch.rand(1, 3, size, size) * 2 - 1,
        "real_b": torch.rand(1, 3, size, size) * 2 - 1,
    }
    if options.get("paper"):
        from paper_schedule import PaperCUT, PaperCycleGAN

        paper = (
            PaperCycleGAN(n_blocks, device)
            if method == "cyclegan"
            else PaperCUT(n_blocks, device, fast=method == "fastcut")
        )
        a, b = batch["real_a"].to(device), batch["real_b"].to(device)
        nets = [net for net in vars(paper).values() if isinstance(net, torch.nn.Module)]
        step = lambda: paper.step(a, b)  # noqa: E731
    else:
        prepare_runtime(device)  # as the training loop does
        cls = MODELS.get(method)
        config = cls.config_cls(n_blocks=n_blocks, upsample=options.get("upsample", "transpose"))
        amp = choose_precision(options.get("precision", "auto"), device)
        model = cls(config, device, channels_last=True, amp_dtype=amp)
        nets = list(model.networks.values())
        if "compile_mode" in options:  # what compile=true does in the loop
            for net in nets:
                net.compile(mode=options["compile_mode"])
        step = lambda: model.train_step(batch)  # noqa: E731
    return step, device, sum(p.numel() for net in nets for p in net.parameters())


def _timed(run, device) -> float:
    import torch

    start = time.perf_counter()
    run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def worker(runner: str, method: str, size: int, steps: int, warmup: int) -> dict:
    """Median step time and this process's peak memory for one configuration.

    ``floor_mb`` is what any Adam training of these networks holds before its first activation:
    the memory once they are built (on a CPU: Python, torch and its kernels too) plus fp32
    gradients and two Adam moments per parameter. Where a paper-schedule peak is not much
    above it, no schedule can take the peak far below the paper's."""
    run, device, n_params = _build(runner, method, size)
    floor = _current_mb() + 3 * 4 * n_params / 2**20
    for _ in range(warmup):
        run()
    times = sorted(_timed(run, device) for _ in range(steps))
    median = times[len(times) // 2]
    return {
        "s_per_iter": median,
        "images_per_s": 1 / median,
        "peak_mb": _peak_mb(),
        "floor_mb": floor,
        "device": str(device),
    }


def interleaved(runners: list[str], method: str, size: int, steps: int, warmup: int) -> dict:
    """Speed only: the runners take turns step by step in one process, so a machine shared with
    other jobs slows them alike and the ratios stay meaningful."""
    built = {name: _build(name, method, size)[:2] for name in runners}
    for run, _ in built.values():  # torch.compile's first steps compile; warm-up absorbs them
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {name: [] for name in built}
    for i in range(steps):
        for name in runners[i % len(runners) :] + runners[: i % len(runners)]:
            times[name].append(_timed(*built[name]))
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def _spawn(args: list[str]) -> dict | None:
    """A worker process's JSON result, or None (with its last error line) when it failed."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True
    )
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines() or [f"exit status {out.returncode}"]
        print(f"{' '.join(args[:3])}: failed: {lines[-1][:200]}", file=sys.stderr, flush=True)
        return None
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
        cmd += os.environ.get("STYLEBRIDGE_BENCH_CYCLEGAN_ARGS", "--num_threads 0").split()
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
    ap.add_argument("--worker", nargs=5, metavar=("RUNNER", "METHOD", "SIZE", "STEPS", "WARMUP"))
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--methods", default="cyclegan,cut,fastcut")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument(
        "--runners",
        help=f"Comma-separated, from {', '.join(RUNNERS)} (default: stylebridge, "
        "stylebridge-resize and paper-schedule, plus stylebridge-fp32 with --interleaved).",
    )
    ap.add_argument(
        "--interleaved",
        action="store_true",
        help="Time the runners turn by turn in one process (use on a busy machine); memory "
        "still comes from one process per configuration.",
    )
    ap.add_argument(
        "--compile", action="store_true", help="Add stylebridge-compiled (the loop's compile=true)."
    )
    args = ap.parse_args()
    if args.worker:
        runner, method, size, steps, warmup = args.worker
        if runner.startswith("interleaved:"):
            names = runner.removeprefix("interleaved:").split(",")
            print(json.dumps(interleaved(names, method, int(size), int(steps), int(warmup))))
        else:
            print(json.dumps(worker(runner, method, int(size), int(steps), int(warmup))))
        return
    if args.runners:
        runners = args.runners.split(",")
    else:
        runners = ["stylebridge", "stylebridge-resize", "paper-schedule"]
        if args.interleaved:
            runners.insert(1, "stylebridge-fp32")
    if args.compile and "stylebridge-compiled" not in runners:
        runners.insert(1, "stylebridge-compiled")
    unknown = sorted(set(runners) - set(RUNNERS))
    if unknown:
        ap.error(f"unknown runners {', '.join(unknown)}; choose from {', '.join(RUNNERS)}")
    if "paper-schedule" not in runners:
        runners.append("paper-schedule")  # the ratios' reference
    checkout = os.environ.get("STYLEBRIDGE_BENCH_CYCLEGAN_DIR")
    rows = []
    header = (
        f"{'method':9s} {'px':>4s} {'runner':26s} {'s/iter':>7s} {'img/s':>6s} "
        f"{'peak MB':>8s} {'floor MB':>8s}"
    )
    print(header)
    for size in [int(s) for s in args.sizes.split(",")]:
        for method in args.methods.split(","):
            results = {}
            for runner in runners:
                # memory: one process per runner; compiled runners settle after their compile
                steps, warmup = (1, 1) if args.interleaved else (args.steps, args.warmup)
                if "compile_mode" in RUNNERS[runner]:
                    warmup = max(warmup, 3)
                result = _spawn([runner, method, str(size), str(steps), str(warmup)])
                if result:
                    results[runner] = result
            if args.interleaved:  # speed: all runners turn by turn in one process
                timed = [r for r in runners if r in results]
                medians = _spawn(
                    [f"interleaved:{','.join(timed)}", method, str(size)]
                    + [str(args.steps), str(max(args.warmup, 3))]
                )
                for runner in results:  # no median (the run failed): no speed either
                    median = (medians or {}).get(runner, float("nan"))
                    results[runner].update(s_per_iter=median, images_per_s=1 / median)
            if checkout and method == "cyclegan":
                ref = _reference(Path(checkout), size, _dataroot(size))
                if ref:
                    results["reference"] = ref
            base = results.get("reference", results.get("paper-schedule"))
            if base is None:
                continue
            for runner, r in results.items():
                speed = r["images_per_s"] / base["images_per_s"]
                memory = r["peak_mb"] / base["peak_mb"]
                print(
                    f"{method:9s} {size:4d} {runner:26s} {r['s_per_iter']:7.3f} "
                    f"{r['images_per_s']:6.2f} {r['peak_mb']:8.0f} {r.get('floor_mb', 0):8.0f}  "
                    f"x{speed:.2f} speed, x{memory:.2f} memory",
                    flush=True,
                )
                rows.append({"method": method, "size": size, "runner": runner, **r})
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
