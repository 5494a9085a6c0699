"""Progress bars for long commands, log lines when output is not a terminal; silent on every
torchrun process but rank 0 (one bar and one set of messages per job)."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def _secondary_rank() -> bool:
    return os.environ.get("RANK", "0") not in ("", "0")


LOG_EVERY_S = 30.0  # without a terminal: one progress line at most this often


@contextmanager
def progress_bar(description: str, total: int | None = None):
    """Yields ``update(done, total=None, info="")``: a bar on a terminal, else a log line at
    the first update, then at most every ``LOG_EVERY_S`` seconds, and at the end."""
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    ]
    with Progress(
        *columns,
        console=console,
        disable=not sys.stderr.isatty() or _secondary_rank(),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total, info="")
        hidden = not sys.stderr.isatty()
        started = time.monotonic()
        last = -float("inf")

        def update(done: int, new_total: int | None = None, info: str = "") -> None:
            nonlocal last
            bar.update(task, completed=done, total=new_total or total, info=info)
            now, end = time.monotonic(), new_total or total
            if hidden and (now - last >= LOG_EVERY_S or (end and done >= end)):
                last = now
                say(_progress_line(description, done, end, now - started, info))

        yield update


def _progress_line(description: str, done: int, total: int | None, elapsed: float, info: str):
    parts = [f"{description}: {done}" + (f"/{total} ({100 * done / total:.0f}%)" if total else "")]
    parts.append(f"{elapsed:.0f} s")
    if total and 0 < done < total:
        parts.append(f"about {elapsed / done * (total - done):.0f} s left")
    return ", ".join(parts) + (f"  {info}" if info else "")


@contextmanager
def stage_bars():
    """Yields ``progress(stage, done, total)`` for the API's multi-stage jobs (extract
    features, then fit, ...): one bar per stage on a terminal, else one log line per stage
    as it starts, so a log shows where a long job is."""
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    hidden = not sys.stderr.isatty() or _secondary_rank()
    with Progress(*columns, console=console, disable=hidden) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
                if hidden:
                    say(f"{stage} ({total})..." if total > 1 else f"{stage}...")
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def say(message: str) -> None:
    if _secondary_rank():
        return
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def report_files(results, total: int, out, verb: str = "processing") -> None:
    """Show per-file results of a batch (a bar, a line per output for small batches, every
    skipped file and note) and exit with status 1 if any file failed."""
    import typer

    done = failures = 0
    with progress_bar(verb, total) as update:
        for result in results:
            done += 1
            update(done)
            if result.error:
                failures += 1
                say(f"skipped {result.error}")
            elif total <= 20:
                say(f"{result.source} -> {result.output}")
            for note in result.notes:
                say(f"note: {result.source}: {note}")
    say(f"{done - failures} of {total} image(s) written to {out}")
    if failures:
        raise typer.Exit(1)
