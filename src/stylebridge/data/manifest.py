"""Provenance manifests: one CSV row per image with its hash, size, source and licence.

Research corpora need to say where each image came from. ``build_manifest`` fills ``source`` and
``licence`` from, most specific first: a sidecar ``NAME.json`` next to the image (``photo.jpg`` ->
``photo.jpg.json`` or ``photo.json``), the nearest folder-level ``SOURCE`` file between the image
and the corpus root, then defaults given as flags. Training records the manifest's hash in the
run's ``config.json``, so a model can be traced to the exact corpus it saw.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, ImageError
from ..fileio import OutputError
from ..imageio import probe_image
from .files import file_digest, list_images

MANIFEST_NAME = "manifest.csv"
COLUMNS = ("file", "sha256", "size", "width", "height", "source", "licence")
MAX_SIDECAR_BYTES = 1 << 20


@dataclass
class ManifestResult:
    rows: list[dict[str, str]]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    missing_provenance: int = 0  # rows with no source or no licence


def _read_sidecar(path: Path) -> dict[str, str]:
    """``{"source": ..., "licence"|"license": ...}``; a broken sidecar is a DataError."""
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise DataError(f"{path}: sidecar over {MAX_SIDECAR_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: sidecar is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: sidecar must hold a JSON object")
    return _provenance(data)


def _provenance(values: dict) -> dict[str, str]:
    out = {}
    for key, column in (("source", "source"), ("licence", "licence"), ("license", "licence")):
        value = values.get(key)
        if value not in (None, ""):
            out.setdefault(column, " ".join(str(value).split()))
    return out


def _read_source_file(path: Path) -> dict[str, str]:
    """A folder-level ``SOURCE`` file: ``source: ...``/``licence: ...`` lines, or plain text
    (all of it is the source)."""
    text = path.read_text(encoding="utf-8", errors="replace")[:MAX_SIDECAR_BYTES]
    pairs = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("source", "licence", "license"):
            pairs[key.strip().lower()] = value.strip()
    return _provenance(pairs) if pairs else _provenance({"source": text.strip()})


def _folder_defaults(image: Path, root: Path, cache: dict[Path, dict[str, str]]) -> dict[str, str]:
    """Merged SOURCE files from the corpus root down to the image's folder (nearest wins)."""
    folder = image.parent
    if folder in cache:
        return cache[folder]
    inherited = (
        _folder_defaults(folder, root, cache) if folder != root and root in folder.parents else {}
    )
    merged = dict(inherited)
    source_file = folder / "SOURCE"
    if source_file.is_file():
        merged.update(_read_source_file(source_file))
    cache[folder] = merged
    return merged


def _sidecar_for(image: Path) -> Path | None:
    for candidate in (image.with_name(image.name + ".json"), image.with_suffix(".json")):
        if candidate.is_file():
            return candidate
    return None


def build_manifest(
    root: str | os.PathLike,
    *,
    relative_to: str | os.PathLike | None = None,
    source: str = "",
    licence: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> ManifestResult:
    """One row per readable image under ``root``; unreadable files are listed in ``skipped``.

    ``relative_to`` is the folder the ``file`` column is relative to (the manifest's folder).
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    base = Path(relative_to).resolve() if relative_to else root
    files = list_images(root)
    result = ManifestResult(rows=[])
    cache: dict[Path, dict[str, str]] = {}
    flags = _provenance({"source": source, "licence": licence})
    for done, path in enumerate(files, 1):
        try:
            info = probe_image(path)
        except ImageError as err:
            result.skipped.append((path, err.problem))
            continue
        sidecar = _sidecar_for(path)
        fields = {**flags, **_folder_defaults(path, root, cache)}
        if sidecar is not None:
            fields.update(_read_sidecar(sidecar))
        row = {
            "file": Path(os.path.relpath(path, base)).as_posix(),
            "sha256": file_digest(path),
            "size": str(path.stat().st_size),
            "width": str(info.width),
            "height": str(info.height),
            "source": fields.get("source", ""),
            "licence": fields.get("licence", ""),
        }
        result.missing_provenance += not (row["source"] and row["licence"])
        result.rows.append(row)
        if progress is not None:
            progress(done, len(files))
    return result


def check_manifest_target(path: Path) -> None:
    """A manifest goes to a .csv name, and replaces only an earlier manifest: never an image
    or someone's other CSV."""
    if path.suffix.lower() != ".csv":
        raise OutputError(path, "a manifest is written to a .csv file")
    if path.exists():
        try:
            with path.open("rb") as fh:
                first = fh.readline(4096).strip().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            first = ""
        if first != ",".join(COLUMNS):
            raise OutputError(path, "exists and is not a manifest; choose another output file")


def manifest_bytes(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def manifest_record(path: str | os.PathLike) -> dict[str, object]:
    """What a run's config.json says about a manifest: its path, SHA-256 and row count."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read manifest ({err.strerror})") from None
    try:
        rows = sum(1 for _ in csv.DictReader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path}: not a readable CSV manifest ({err})") from None
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "rows": rows}


def find_manifests(folders: list[str], explicit: str = "") -> list[dict[str, object]]:
    """The manifest given by a flag, else every ``manifest.csv`` at the top of a data folder."""
    if explicit:
        if not Path(explicit).is_file():
            raise DataError(f"{explicit}: manifest file not found")
        return [manifest_record(explicit)]
    found = []
    for folder in folders:
        candidate = Path(folder) / MANIFEST_NAME
        if folder and candidate.is_file():
            found.append(manifest_record(candidate))
    return found
