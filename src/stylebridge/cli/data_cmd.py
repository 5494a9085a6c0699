"""``stylebridge data check``: what a corpus holds before anyone trains on it."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import progress_bar, say

data_app = typer.Typer(help="Inspect image corpora.", no_args_is_help=True)


@data_app.command("check")
def check(
    folders: list[Path] = typer.Argument(..., help="Folders of images (searched recursively)."),
    show: int = typer.Option(10, help="List at most this many files per problem kind."),
) -> None:
    """Counts, sizes and aspect ratios, unreadable files with the reason, exact and near
    duplicates. Exits with status 1 when a folder has no usable image."""
    empty = []
    for folder in folders:
        with progress_bar(f"checking {folder}") as update:
            report = api.check_data([folder], progress=lambda d, t: update(d, t))[0]
        total = len(report.usable) + len(report.unreadable)
        say(f"{folder}: {len(report.usable)} usable of {total} image files")
        stats = report.size_stats()
        if stats:
            say(
                f"  width  {stats['width_min']:.0f} / {stats['width_median']:.0f} / "
                f"{stats['width_max']:.0f} px (min / median / max)"
            )
            say(
                f"  height {stats['height_min']:.0f} / {stats['height_median']:.0f} / "
                f"{stats['height_max']:.0f} px"
            )
            say(
                f"  aspect {stats['aspect_min']:.2f} / {stats['aspect_median']:.2f} / "
                f"{stats['aspect_max']:.2f} (width / height)"
            )
        for path, problem in report.unreadable[:show]:
            say(f"  unreadable {path}: {problem}")
        for path, note in report.notes[:show]:
            say(f"  note {path}: {note}")
        for group in report.exact_duplicates[:show]:
            say(f"  exact duplicates: {', '.join(str(p) for p in group)}")
        for a, b, bits in report.near_duplicates[:show]:
            say(f"  near duplicates ({bits} of 64 hash bits differ): {a}, {b}")
        say(
            f"  {len(report.unreadable)} unreadable, {len(report.exact_duplicates)} "
            f"exact-duplicate groups, {len(report.near_duplicates)} near-duplicate pairs"
        )
        if not report.usable:
            empty.append(str(folder))
    if empty:
        say(f"error: no usable image in {', '.join(empty)}")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
