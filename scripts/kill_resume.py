"""Kill -9 a training run at random moments and resume it each time.

Checks after every kill: the training state, config.json and the generator weights all load
(no checkpoint is half-written), and the saved step never goes backwards; at the end one more
resume runs to completion and leaves no temporary files. ``tests/test_faults.py`` runs a short
version; the full one:

    python scripts/kill_resume.py --kills 10 --out /tmp/kill_run
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from stylebridge.models.files import generator_from_config, read_run_config
from stylebridge.training.checkpoint import STATE_NAME, load_training_state

TINY = ["model.ngf=4", "model.n_blocks=1", "model.ndf=8", "load_size=36", "precision=fp32"]


@dataclass
class KillReport:
    steps: list[int] = field(default_factory=list)  # saved step after each kill
    interrupted_writes: int = 0  # kills that left a temporary file behind (a write cut short)
    final_step: int = 0


def make_images(folder: Path, count: int, seed: int) -> Path:
    """Small random-blob images: training needs pixels, not meaning."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        pixels = rng.integers(0, 255, (40, 40, 3), np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    return folder


def _command(data: tuple[Path, Path], out: Path, steps: int, resume: bool) -> list[str]:
    cmd = [sys.executable, "-m", "stylebridge", "train"]
    if not resume:
        cmd += ["cyclegan", "--domain-a", str(data[0]), "--domain-b", str(data[1])]
    cmd += ["--out", str(out), "--steps", str(steps), "--checkpoint-every", "1"]
    cmd += ["--sample-every", "1000000", "--log-every", "1"]
    cmd += ["compile=false"]  # kills must land in steps and checkpoint writes, not compiling
    if resume:
        return cmd + ["--resume"]
    return cmd + ["--size", "32", *TINY]


def _state_mtime(out: Path) -> int:
    try:
        return (out / STATE_NAME).stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _check_run(out: Path) -> int:
    """Every file a user or --resume reads must load; returns the saved step."""
    step = int(load_training_state(out / STATE_NAME)["step"])
    read_run_config(out)
    generator_from_config(out, "a2b")
    return step


def _launch_and_kill(cmd: list[str], out: Path, rng: random.Random, wait_s: float) -> None:
    """Start, wait until it has written a checkpoint of its own, then SIGKILL at a random moment."""
    before = _state_mtime(out)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + wait_s
    while _state_mtime(out) == before:
        if proc.poll() is not None:
            raise RuntimeError(f"training exited early: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"no checkpoint within {wait_s:.0f} s")
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.6))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def kill_and_resume(
    out: Path, data: tuple[Path, Path], kills: int, seed: int = 0, wait_s: float = 120.0
) -> KillReport:
    rng = random.Random(seed)
    report = KillReport()
    last = -1
    for i in range(kills):
        _launch_and_kill(_command(data, out, 1_000_000, resume=i > 0), out, rng, wait_s)
        report.interrupted_writes += any(p.name.startswith(".") for p in out.iterdir())
        step = _check_run(out)
        if step < last:
            raise AssertionError(f"kill {i + 1}: step went back from {last} to {step}")
        report.steps.append(step)
        last = step
    final = subprocess.run(
        _command(data, out, last + 2, resume=True), capture_output=True, text=True, timeout=wait_s
    )
    if final.returncode != 0:
        raise AssertionError(f"final resume failed: {final.stderr[-2000:]}")
    report.final_step = _check_run(out)
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    if report.final_step != last + 2 or leftovers:
        raise AssertionError(f"final step {report.final_step}, leftover files {leftovers}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="run folder (default: a temp dir)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kill_resume_"))
    data = (make_images(root / "a", 8, 1), make_images(root / "b", 8, 2))
    out = args.out or root / "run"
    started = time.perf_counter()
    report = kill_and_resume(out, data, args.kills, seed=args.seed)
    print(
        f"{args.kills} kills: saved steps {report.steps}, {report.interrupted_writes} kill(s) "
        f"cut a write short, final step {report.final_step}; every resume succeeded "
        f"({time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
