"""``stylebridge demo``: the first command a new user runs; offline, on what ships."""

from __future__ import annotations

import os
from pathlib import Path

import torch
import typer

from .. import api
from .progress import progress_bar, say


def busy_cores_threads() -> int | None:
    """1 when other processes already keep every core busy, else None (torch's default).

    On busy cores every parallel region waits for its descheduled threads, so one thread is
    faster there (docs/benchmarks.md).
    """
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on Windows
        return None
    return 1 if load >= (os.cpu_count() or 1) else None


def demo(
    out: Path = typer.Option(Path("demo_out"), "--out", "-o", help="Folder for the results."),
    threads: int = typer.Option(
        0, min=0, help="CPU threads; 0 = automatic (1 when other work keeps all cores busy)."
    ),
    seconds: float = typer.Option(
        60.0, min=5.0, help="Training time budget when no bundled model is available."
    ),
    domain_a: Path = typer.Option(None, help="Source images for the demo training run."),
    domain_b: Path = typer.Option(None, help="Target-style images for the demo training run."),
) -> None:
    """Stylize sample photos with every culture style; write a contact sheet and a web page.

    The photos ship with scikit-image and scikit-learn, so nothing is downloaded; the command
    prints the paths of the contact sheet PNG and the HTML page. In an install without bundled
    models it first trains a small FastCUT model on the two domain folders for the given
    seconds, to show the whole path: train, save, load, stylize.
    """
    chosen = threads or busy_cores_threads()
    if chosen:
        torch.set_num_threads(chosen)
        if not threads:
            say("the CPU cores are busy with other work: running on 1 thread (--threads to set)")
    with progress_bar("demo photos") as update:
        result = api.demo(
            out, seconds=seconds, domain_a=domain_a, domain_b=domain_b, log=say, progress=update
        )
    say(f"contact sheet: {result.sheet}")
    say(f"page: {result.page}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
