"""Progress bars for long commands; silent when output is not a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager

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


@contextmanager
def progress_bar(description: str, total: int | None = None):
    """Yields ``update(done, total=None, info="")``; draws nothing unless stderr is a terminal."""
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    ]
    with Progress(
        *columns, console=console, disable=not sys.stderr.isatty(), transient=False
    ) as bar:
        task = bar.add_task(description, total=total, info="")

        def update(done: int, new_total: int | None = None, info: str = "") -> None:
            bar.update(task, completed=done, total=new_total or total, info=info)

        yield update


def say(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)
