"""Finding image files in folders, file lists and CSV manifests."""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import DataError
from ..imageio import IMAGE_SUFFIXES


def list_images(path: str | os.PathLike, *, recursive: bool = True) -> list[Path]:
    """Image files under a folder (sorted, hidden files skipped) or the file itself.

    Linked folders are followed (a collection assembled from links to other folders is common),
    each real folder once, so a link loop cannot repeat files. A link whose target is gone is
    listed too, so that loading it reports it as skipped like any other unreadable file instead
    of it vanishing from the counts.
    """
    path = Path(path)
    if path.is_file() or path.is_symlink() and not path.exists():
        return [path]
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(path, followlinks=True):
        stat = os.stat(folder)
        if (stat.st_dev, stat.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        for name in files:
            candidate = Path(folder, name)
            if (
                not name.startswith(".")
                and candidate.suffix.lower() in IMAGE_SUFFIXES
                and (candidate.is_file() or candidate.is_symlink() and not candidate.exists())
            ):
                found.append(candidate)
    return sorted(found)


def expand_inputs(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files and folders given on a command line -> image files; an empty folder is an error."""
    files: list[Path] = []
    for item in paths:
        found = list_images(item)
        if not found:
            raise DataError(
                f"{item}: folder holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        files.extend(found)
    return files


def read_manifest(path: str | os.PathLike) -> list[tuple[Path, str]]:
    """A CSV with ``file,label`` columns; relative files are relative to the manifest."""
    path = Path(path)
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"file", "label"} <= set(reader.fieldnames):
            raise DataError(f"{path}: a manifest needs 'file' and 'label' columns")
        rows = [(path.parent / row["file"], row["label"]) for row in reader]
    if not rows:
        raise DataError(f"{path}: manifest has no rows")
    return rows


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of the bytes: the key for duplicate detection and caches."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def readable_digest(path: Path) -> str:
    """``file_digest``, or a hash of the name for a file that cannot be read (a dangling link,
    no permission): hashing a set never stops on one bad file, which its loader then reports."""
    try:
        return file_digest(path)
    except OSError:
        return hashlib.sha256(b"unreadable:" + os.fsencode(path)).hexdigest()


def set_digest(paths: Iterable[Path]) -> str:
    """One hash for a whole image set, independent of order and of folder names."""
    return hashlib.sha256("".join(sorted(readable_digest(p) for p in paths)).encode()).hexdigest()
