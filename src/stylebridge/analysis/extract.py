"""Streaming feature extraction with a worker pool and a per-image cache.

Each image is read once, described (hand-made descriptors, learned style statistics, a small
thumbnail) and cached under its content hash plus the extractor version, so a re-run costs only
the new or changed files. Results are written into preallocated arrays as they arrive: memory
grows with the feature table only, never with the images.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..data.files import file_digest
from ..engine import Engine, map_chunks
from ..errors import StylebridgeError
from ..fileio import OutputError, atomic_write
from ..imageio import load_image
from ..metrics import cache_dir
from . import descriptors as desc
from . import learned

THUMB_SIDE = 48
CHUNK = 16  # images per worker task: one network batch
PALETTE_SIZE = desc.PALETTE_SIZE
SCALARS = (*desc.DESCRIPTOR_NAMES, desc.HUE_MEAN)
VERSION = hashlib.sha256(
    f"{desc.VERSION}|{learned.VERSION}|{learned.EMBEDDING_VERSION}|thumb{THUMB_SIDE}|"
    f"{','.join(SCALARS)}".encode()
).hexdigest()[:16]

Progress = Callable[[str, int, int], None]


@dataclass
class FeatureTable:
    """One row per usable image; ``failures`` lists (file, reason) for the rest."""

    files: list[str]
    labels: list[str]
    digests: list[str]
    scalars: np.ndarray  # (N, len(SCALARS)) float32
    orientation: np.ndarray  # (N, ORIENTATION_BINS)
    palette_lab: np.ndarray  # (N, PALETTE_SIZE, 3)
    palette_share: np.ndarray  # (N, PALETTE_SIZE)
    learned: np.ndarray  # (N, NUM_LEARNED) float16
    embedding: np.ndarray  # (N, NUM_EMBEDDING) float16
    thumbs: np.ndarray  # (N, THUMB_SIDE, THUMB_SIDE, 3) uint8
    sizes: np.ndarray  # (N, 2) width, height
    grayscale: np.ndarray  # (N,) bool
    failures: list[tuple[str, str]] = field(default_factory=list)
    cached: int = 0

    def __len__(self) -> int:
        return len(self.files)

    def column(self, name: str) -> np.ndarray:
        return self.scalars[:, SCALARS.index(name)]


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    """Central square, shrunk to the thumbnail side."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(rgb[top : top + side, left : left + side])
    return np.asarray(square.resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX))


def _is_grey(rgb: np.ndarray, tolerance: int = 2) -> bool:
    """All three channels equal within ``tolerance`` everywhere (JPEG leaves small tints)."""
    r, g, b = (rgb[..., i].astype(np.int16) for i in range(3))
    return all(int(np.abs(x - y).max()) <= tolerance for x, y in ((r, g), (g, b), (r, b)))


def describe_file(path: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One file -> (cache record without the network's vectors, the network's input)."""
    rgb = np.asarray(load_image(path).rgb)
    values = desc.describe_image(rgb)
    record = {
        "scalars": np.array([values[name] for name in SCALARS], np.float32),
        "orientation": values["orientation_hist"],
        "palette_lab": values["palette_lab"],
        "palette_share": values["palette_share"],
        "thumb": _thumbnail(rgb),
        "size": np.array([rgb.shape[1], rgb.shape[0]], np.int32),
        "grayscale": np.array(_is_grey(rgb)),
    }
    return record, learned.StyleStatistics.prepare(rgb)


class Describer:
    """One worker's network, built once; called on chunks of files."""

    def __init__(self, weights_cache: str | None):
        self.net = learned.StyleStatistics(weights_cache)

    def __call__(self, paths: Sequence[str]) -> list[tuple[str, dict | None, str | None]]:
        return describe_chunk(paths, self.net)


def describe_chunk(
    paths: Sequence[str], net: learned.StyleStatistics
) -> list[tuple[str, dict | None, str | None]]:
    """Describe a batch of files: (path, record or None, error or None) each."""
    out: list[tuple[str, dict | None, str | None]] = []
    inputs = []
    for path in paths:
        try:
            record, net_input = describe_file(path)
        except StylebridgeError as err:
            out.append((path, None, err.problem if hasattr(err, "problem") else str(err)))
            continue
        except Exception as err:  # a file that breaks a descriptor must not stop the run
            out.append((path, None, f"cannot describe: {type(err).__name__}: {err}"))
            continue
        out.append((path, record, None))
        inputs.append(net_input)
    if inputs:
        styles, subjects = net(np.stack(inputs))
        vectors, embeddings = iter(styles), iter(subjects)
        for _, record, _ in out:
            if record is not None:
                record["learned"] = next(vectors).astype(np.float16)
                record["embedding"] = next(embeddings).astype(np.float16)
    return out


def cache_root(root: str | os.PathLike | None = None) -> Path:
    """Where analysis features are cached (every extractor version below it)."""
    return cache_dir(root) / "analysis"


def cache_usage(root: str | os.PathLike | None = None) -> tuple[int, int]:
    """(entries, bytes) of the feature cache, over every extractor version."""
    files = [p for p in cache_root(root).rglob("*.npz") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def clear_cache(root: str | os.PathLike | None = None) -> tuple[int, int]:
    """Delete every cached analysis feature; returns the (entries, bytes) removed. Only
    ``*.npz`` entries and the folders they leave empty go, so a mistyped root loses nothing."""
    entries, size = cache_usage(root)
    folder = cache_root(root)
    for path in folder.rglob("*.npz"):
        path.unlink(missing_ok=True)
    for path in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return entries, size


class FeatureCache:
    """One small .npz per image under ``<cache>/analysis/<VERSION>/<hash[:2]>/<hash>.npz``."""

    def __init__(self, root: str | os.PathLike | None):
        self.root = cache_root(root) / VERSION

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.npz"

    def get(self, digest: str) -> dict[str, np.ndarray] | None:
        path = self._path(digest)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                record = {key: data[key] for key in data.files}
        except Exception:  # a damaged entry is recomputed
            record = None
        if record is not None and _valid_record(record):
            return record
        path.unlink(missing_ok=True)  # damaged or poisoned (NaN): dropped, then recomputed
        return None

    def put(self, digest: str, record: dict[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **record)
        with contextlib.suppress(OutputError):  # an unwritable cache only slows the next run
            atomic_write(self._path(digest), buffer.getvalue())


def _empty_table(items: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    n = len(items)
    return {
        "scalars": np.zeros((n, len(SCALARS)), np.float32),
        "orientation": np.zeros((n, desc.ORIENTATION_BINS), np.float32),
        "palette_lab": np.zeros((n, PALETTE_SIZE, 3), np.float32),
        "palette_share": np.zeros((n, PALETTE_SIZE), np.float32),
        "learned": np.zeros((n, learned.NUM_LEARNED), np.float16),
        "embedding": np.zeros((n, learned.NUM_EMBEDDING), np.float16),
        "thumb": np.zeros((n, THUMB_SIDE, THUMB_SIDE, 3), np.uint8),
        "size": np.zeros((n, 2), np.int32),
        "grayscale": np.zeros(n, bool),
    }


def extract(
    items: Sequence[tuple[str, str]],
    *,
    cache: str | os.PathLike | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
) -> FeatureTable:
    """Describe ``(file, label)`` items; unreadable files land in ``failures`` with the reason.

    ``engine`` says where the new files are described (default: the local pool with
    ``workers`` processes); the cache is read and written here, by the caller, either way.
    """
    progress = progress or (lambda stage, done, total: None)
    store = FeatureCache(cache)
    columns = _empty_table(items)
    ok = np.zeros(len(items), bool)
    digests: list[str] = [""] * len(items)
    failures: list[tuple[str, str]] = []
    todo: list[int] = []
    for i, (path, _) in enumerate(items):
        try:
            digests[i] = file_digest(Path(path))
        except OSError as err:
            failures.append((path, f"cannot read: {err.strerror or err}"))
            continue
        record = store.get(digests[i]) if use_cache else None
        if record is None:
            todo.append(i)
        else:
            _store(columns, i, record)
            ok[i] = True
        progress("hash + cache", i + 1, len(items))
    cached = int(ok.sum())
    engine = engine or Engine("local", workers)
    if engine.kind == "local" and len(todo) <= CHUNK:  # a pool would cost more than the files
        engine = Engine("local", 1)
    weights = None if cache is None or engine.kind == "ray" else str(cache)  # ray: node's own
    setup = functools.partial(Describer, weights)
    done = 0
    index_chunks = [todo[s : s + CHUNK] for s in range(0, len(todo), CHUNK)]
    chunks = [[items[i][0] for i in chunk] for chunk in index_chunks]
    for indices, results in zip(index_chunks, map_chunks(setup, chunks, engine), strict=False):
        for i, (path, record, error) in zip(indices, results, strict=True):
            if record is None:
                failures.append((path, error or "unknown error"))
            else:
                store.put(digests[i], record)
                _store(columns, i, record)
                ok[i] = True
        done += len(results)
        progress("describe images", done, len(todo))
    keep = np.flatnonzero(ok)
    columns = {key: _compacted(array, keep) for key, array in columns.items()}
    return FeatureTable(
        files=[items[i][0] for i in keep],
        labels=[items[i][1] for i in keep],
        digests=[digests[i] for i in keep],
        scalars=columns["scalars"],
        orientation=columns["orientation"],
        palette_lab=columns["palette_lab"],
        palette_share=columns["palette_share"],
        learned=columns["learned"],
        embedding=columns["embedding"],
        thumbs=columns["thumb"],
        sizes=columns["size"],
        grayscale=columns["grayscale"],
        failures=failures,
        cached=cached,
    )


def _compacted(array: np.ndarray, keep: np.ndarray, block: int = 4096) -> np.ndarray:
    """The rows ``keep`` (ascending) moved to the front in place, a view of them returned: the
    driver holds the table once, not twice (a fancy-indexed copy would double its peak)."""
    if len(keep) == len(array):
        return array
    for start in range(0, len(keep), block):
        rows = keep[start : start + block]  # rows[j] >= start + j: a forward move is safe
        array[start : start + len(rows)] = array[rows]
    return array[: len(keep)]


def _valid_record(record: dict[str, np.ndarray]) -> bool:
    """Every column present with one row's shape and kind, and every number finite."""
    template = _empty_table([("", "")])
    for key, column in template.items():
        value = record.get(key)
        if (
            value is None
            or value.shape != column.shape[1:]
            or value.dtype.kind != column.dtype.kind
        ):
            return False
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return False
    return True


def _store(columns: dict[str, np.ndarray], i: int, record: dict[str, np.ndarray]) -> None:
    for key, array in columns.items():
        array[i] = record[key]
