"""``stylebridge data``: check a corpus, anonymise it, and write its provenance manifest."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import api
from .progress import progress_bar, say

data_app = typer.Typer(
    help="Inspect, anonymise and document image corpora; build paired data.", no_args_is_help=True
)


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


@data_app.command("pairs")
def pairs(
    edges: Path = typer.Option(
        ..., "--edges", help="Folder of paintings to derive line drawings from."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Pairs folder to write (a/, b/)."),
    line_style: str = typer.Option(
        "xdog",
        help="xdog (soft ink/felt-pen strokes) | canny (thin uniform lines) | pencil "
        "(graphite outlines and shading).",
    ),
    size: int = typer.Option(286, min=32, max=4096, help="Shorter side of the written pairs."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing files in the pairs folder."
    ),
) -> None:
    """Build pix2pix training pairs: a/NAME.png line drawing -> b/NAME.png painting.

    Example: stylebridge data pairs --edges ../cultures/chinese_ink -o ink_pairs --line-style xdog
    """
    with progress_bar(f"pairs from {edges}") as update:
        report = api.make_pairs(
            edges,
            out,
            line_style=line_style,
            size=size,
            progress=lambda d, t: update(d, t),
            overwrite=overwrite,
        )
    for path, problem in report.skipped:
        say(f"skipped {path}: {problem}")
    say(f"{report.written} pair(s) written to {report.out} ({len(report.skipped)} skipped)")


@data_app.command("anonymize")
def anonymize(
    inputs: list[Path] = typer.Argument(..., help="Image files or folders (searched recursively)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the anonymised copies."),
    method: str = typer.Option("blur", help="blur | pixelate"),
    min_face: int = typer.Option(24, min=8, help="Smallest face side to look for, in px."),
) -> None:
    """Blur or pixelate faces (OpenCV's offline Haar cascades) and strip EXIF/GPS/XMP metadata;
    writes OUT/anonymize_log.jsonl with the face boxes and removed metadata per file.

    Example: stylebridge data anonymize street_photos/ -o street_anon/ --method pixelate
    """
    with progress_bar("anonymising") as update:
        records = api.anonymize(
            [str(p) for p in inputs],
            out,
            method=method,
            min_face=min_face,
            progress=lambda d, t: update(d, t),
        )
    for record in records:
        if record.error:
            say(f"  unreadable {record.error}")
    done = [r for r in records if not r.error]
    faces = sum(len(r.faces) for r in done)
    with_faces = sum(1 for r in done if r.faces)
    stripped = sum(1 for r in done if r.metadata_removed)
    say(
        f"{len(done)} image(s) written to {out}: {faces} face(s) found in {with_faces} image(s) "
        f"and obscured ({method}), metadata removed from {stripped}; "
        f"log: {api.anonymize_log_path(out)}"
    )
    leaked = [r.output for r in done if r.metadata_left]
    if leaked:
        say(f"error: metadata survived in {', '.join(leaked[:5])}")
        raise typer.Exit(1)
    if not done:
        raise typer.Exit(1)


@data_app.command("manifest")
def manifest(
    folder: Path = typer.Argument(..., help="Corpus folder (searched recursively)."),
    out: Path = typer.Option(
        None, "--out", "-o", help="CSV to write [default: FOLDER/manifest.csv]."
    ),
    source: str = typer.Option("", help="Source for images without a sidecar or SOURCE file."),
    licence: str = typer.Option("", "--licence", "--license", help="Licence, likewise."),
) -> None:
    """Write a provenance CSV: file, sha256, size, width, height, source, licence.

    Source and licence come from a sidecar NAME.json ({"source": ..., "licence": ...}), else
    the nearest folder-level SOURCE file ("source: ..." / "licence: ..." lines), else the flags.
    Training records the manifest's hash in the run's config.json.

    Example: stylebridge data manifest corpus/ukiyoe --licence "public domain"
    """
    out = out or api.default_manifest_path(folder)
    with progress_bar(f"hashing {folder}") as update:
        result = api.write_manifest(
            folder,
            out,
            source=source,
            licence=licence,
            progress=lambda d, t: update(d, t),
        )
    for path, problem in result.skipped:
        say(f"  unreadable {path}: {problem}")
    say(
        f"{out}: {len(result.rows)} image(s), {len(result.skipped)} unreadable skipped, "
        f"{result.missing_provenance} without source or licence"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
