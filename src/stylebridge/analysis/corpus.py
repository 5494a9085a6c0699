"""``analyze``: corpora by culture -> descriptors, statistics, plots and a report folder."""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.files import list_images
from ..engine import Engine
from ..errors import ConfigError, DataError
from . import projection
from . import separability as sep
from .compare import MAP_KINDS, check_maps, run_statistics
from .descriptors import ANALYSIS_SIDE, DESCRIPTOR_NAMES
from .extract import FeatureTable, Progress, cache_root, cache_usage, extract
from .learned import INPUT_SIDE

MIN_IMAGES = 5  # a culture with fewer images is described but not compared
LABEL_COLUMNS = ("label", "culture", "group")  # accepted names of a manifest's label column


@dataclass
class CorpusAnalysis:
    """Everything the report shows, computed once (numbers only, no files)."""

    table: FeatureTable
    cultures: list[str]  # compared cultures, in order
    labels: np.ndarray  # per table row: index into cultures, -1 if not compared
    feature_names: list[str]
    features: np.ndarray  # descriptors + learned style PCs, one row per table row
    warnings: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    fit: sep.Separability | None = None
    centre_distance: np.ndarray | None = None  # per table row; NaN where not compared
    sources: list[str] = field(default_factory=list)  # per table row; empty if unknown


SOURCE_COLUMNS = ("source", "source_repo")  # accepted names of a manifest's source column
MANIFEST_NAMES = ("MANIFEST.csv", "manifest.csv")


@dataclass
class Inputs:
    """What the inputs hold: (file, label) items, the source of each file, notes on skips."""

    items: list[tuple[str, str]]
    sources: dict[str, str]  # file -> source (manifest source column, else the folder)
    notes: list[str] = field(default_factory=list)


def _read_rows(path: Path) -> tuple[list[dict], list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            return list(reader), list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path}: cannot read the manifest ({err})") from None


def read_labelled_manifest(path: str | os.PathLike) -> list[tuple[str, str, str]]:
    """A CSV with a ``file`` column and a ``label`` (or ``culture``/``group``) column, and
    optionally ``source`` (or ``source_repo``); relative files are relative to the manifest.
    Returns (file, label, source); the source defaults to the manifest's own name."""
    path = Path(path)
    rows, fields = _read_rows(path)
    label = next((name for name in LABEL_COLUMNS if name in fields), None)
    if "file" not in fields or label is None:
        raise DataError(f"{path}: a manifest needs a 'file' and a 'label' column")
    source = next((name for name in SOURCE_COLUMNS if name in fields), None)
    default = f"{path.parent.name}/{path.name}"
    out = [
        (str(path.parent / row["file"]), row[label], (row[source] if source else "") or default)
        for row in rows
        if row["file"]
    ]
    if not out:
        raise DataError(f"{path}: manifest has no rows")
    return out


def folder_sources(folder: Path) -> dict[str, str]:
    """Sources named by a manifest in the folder or its parent (its ``source`` or
    ``source_repo`` column), keyed by resolved file path; empty if there is none."""
    for manifest in (folder / n for n in MANIFEST_NAMES):
        if manifest.is_file():
            break
    else:
        manifest = next(
            (folder.parent / n for n in MANIFEST_NAMES if (folder.parent / n).is_file()), None
        )
        if manifest is None:
            return {}
    rows, fields = _read_rows(manifest)
    column = next((name for name in SOURCE_COLUMNS if name in fields), None)
    if "file" not in fields or column is None:
        return {}
    base = manifest.parent
    return {str((base / r["file"]).resolve()): r[column] for r in rows if r["file"] and r[column]}


def collect_inputs(inputs: Sequence[str | os.PathLike]) -> Inputs:
    """Folders (one culture each, named by the folder; several folders may share a culture,
    each its own source) or CSV manifests -> items, sources and notes about inputs that were
    left out (a stray file among the folders)."""
    paths = [Path(p) for p in inputs]
    if not paths:
        raise DataError("give one folder per culture, or a CSV manifest with file,label")
    manifests = [p for p in paths if p.suffix.lower() == ".csv" and p.is_file()]
    folders = [p for p in paths if p.is_dir()]
    if manifests and not folders:
        rows = [row for manifest in manifests for row in read_labelled_manifest(manifest)]
        return Inputs([(f, label) for f, label, _ in rows], {f: src for f, _, src in rows})
    found = Inputs([], {})
    seen: set[Path] = set()
    for path in paths:
        if not path.is_dir():
            reason = "not a folder" if path.exists() else "no such folder"
            found.notes.append(
                f"{path}: ignored ({reason}; give one folder per culture, or CSVs only)"
            )
            continue
        if path.resolve() in seen:
            raise ConfigError(f"{path}: given twice")
        seen.add(path.resolve())
        label = path.resolve().name
        files = list_images(path)
        if not files:
            found.notes.append(f"{path}: no image files, culture {label!r} left out")
        named = folder_sources(path.resolve())
        folder_source = f"{path.resolve().parent.name}/{label}"
        for file in files:
            found.items.append((str(file), label))
            found.sources[str(file)] = named.get(str(file.resolve()), folder_source)
    if not found.items:
        raise DataError("no image files in " + ", ".join(map(str, inputs)))
    return found


def collect_items(
    inputs: Sequence[str | os.PathLike],
) -> tuple[list[tuple[str, str]], list[str]]:
    """Like ``collect_inputs``, without the sources: (file, label) items and notes."""
    found = collect_inputs(inputs)
    return found.items, found.notes


def _input_warnings(table: FeatureTable, counts: Counter) -> list[str]:
    notes = [f"{path}: skipped ({reason})" for path, reason in table.failures]
    for name, count in sorted(counts.items()):
        if count < MIN_IMAGES:
            notes.append(
                f"culture {name!r} has {count} usable image(s), fewer than {MIN_IMAGES}: "
                "described but left out of comparisons"
            )
    if table.grayscale.any():
        notes.append(
            f"{int(table.grayscale.sum())} grayscale image(s): their saturation, hue and "
            "colourfulness are 0 by definition"
        )
    sizes = {tuple(s) for s in table.sizes.tolist()}
    if len(sizes) > 1:
        notes.append(
            f"images come in {len(sizes)} sizes: descriptors are computed at {ANALYSIS_SIDE} px "
            f"on the long side (aspect kept), the learned statistics at {INPUT_SIDE}x{INPUT_SIDE}"
        )
    return notes


def prepare(
    table: FeatureTable, seed: int = 0, sources: Sequence[str] | None = None
) -> CorpusAnalysis:
    """Choose the compared cultures and build the feature matrix: the descriptors and the
    learned statistics in the shipped style and subject spaces (the same columns in every
    run)."""
    counts = Counter(table.labels)
    cultures = sorted(name for name, n in counts.items() if n >= MIN_IMAGES)
    warnings = _input_warnings(table, counts)
    if len(cultures) < 2:
        warnings.append(
            "only one culture with enough images: descriptors, intervals and maps only, "
            "no comparisons"
            if cultures
            else "no culture has enough images to compare"
        )
    index = {name: i for i, name in enumerate(cultures)}
    labels = np.array([index.get(label, -1) for label in table.labels], int)
    descriptors = np.stack([table.column(n) for n in DESCRIPTOR_NAMES], 1).astype(np.float64)
    names = list(DESCRIPTOR_NAMES)
    summary = {}
    columns = [descriptors]
    for kind, shipped in projection.SPACES.items():
        space = projection.load(space=kind)
        names += space.names
        columns.append(space(getattr(table, shipped.column)))
        summary[f"{kind}_space"] = space.info
    descriptors = np.hstack(columns)
    analysis = CorpusAnalysis(table, cultures, labels, names, descriptors, warnings, summary)
    analysis.sources = list(sources) if sources is not None else []
    return analysis


@dataclass
class CorpusReport:
    """What ``analyze_corpus`` wrote: the folder, its files and the numbers in stats.json."""

    folder: Path
    numbers: dict
    files: dict[str, Path]


def _describe(inputs, out: Path, engine: Engine, cache, use_cache: bool, progress, log):
    """Collect the inputs and describe every image; says where the feature cache is."""
    found = collect_inputs(inputs)
    for note in found.notes:
        log(f"warning: {note}")
    if engine.kind == "ray" and cache is None:
        cache = out / "feature_cache"  # the output folder is what a cluster's nodes share
    if use_cache:
        files, size = cache_usage(cache)
        log(f"feature cache: {cache_root(cache)} ({files} entries, {size / 1e6:.1f} MB)")
    else:
        log("feature cache: off (--no-cache)")
    log(f"describing {len(found.items)} images on the {engine.kind} engine")
    table = extract(found.items, cache=cache, use_cache=use_cache, engine=engine, progress=progress)
    log(
        f"{len(table)} images described ({table.cached} from the cache), "
        f"{len(table.failures)} skipped"
    )
    if len(table) == 0:
        raise DataError("no usable image: " + "; ".join(f"{p}: {r}" for p, r in table.failures[:3]))
    return found, table


def analyze_corpus(
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    cache: str | os.PathLike | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    reference: str | os.PathLike | None = None,
    permutations: int = 999,
    classifier_permutations: int = 20,
    maps: Sequence[str] = MAP_KINDS,
    seed: int = 0,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> CorpusReport:
    """Describe, compare and report; writes index.html, stats.json, features.parquet
    (per-image values), coordinates.parquet (this run's maps) and PNGs.

    ``engine`` ``ray`` describes the images on a Ray cluster (``address``); ``reference``, an
    earlier report folder, places this corpus in that run's space and scores its classifier
    here. Bad inputs (unreadable files, a culture with < 5 images, a single culture) are
    reported through ``log`` and in the report, and the rest of the analysis goes on.
    """
    from .reference import place_in_reference, read_reference
    from .report import write_report

    maps = check_maps(maps)
    where = Engine(engine, workers, address)
    ref = read_reference(reference) if reference is not None else None
    progress = progress or (lambda stage, done, total: None)
    log = log or (lambda message: None)
    found, table = _describe(inputs, Path(out), where, cache, use_cache, progress, log)
    log("statistics")
    analysis = prepare(table, seed, [found.sources[f] for f in table.files])
    analysis.warnings[:0] = found.notes
    numbers = run_statistics(
        analysis,
        permutations=permutations,
        classifier_permutations=classifier_permutations,
        seed=seed,
        progress=progress,
        maps=maps,
    )
    if ref is not None:
        numbers["reference"] = place_in_reference(analysis, ref)
    for message in analysis.warnings[len(found.notes) :]:
        log(f"warning: {message}")
    numbers["warnings"] = analysis.warnings
    numbers["inputs"] = {
        "images": len(found.items),
        "usable": len(table),
        "cached": table.cached,
        "engine": where.kind,
        "skipped": [{"file": p, "reason": r} for p, r in table.failures],
    }
    log("writing the report")
    folder, files = write_report(analysis, numbers, Path(out), progress)
    return CorpusReport(folder, numbers, files)


__all__ = [
    "CorpusAnalysis",
    "CorpusReport",
    "Inputs",
    "analyze_corpus",
    "collect_inputs",
    "collect_items",
    "prepare",
]
