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
from ..errors import ConfigError, DataError
from . import separability as sep
from .compare import MAP_KINDS, run_statistics
from .descriptors import ANALYSIS_SIDE, DESCRIPTOR_NAMES
from .extract import FeatureTable, Progress, extract
from .learned import INPUT_SIDE

MIN_IMAGES = 5  # a culture with fewer images is described but not compared
NUM_STYLE_PCS = 10
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


def read_labelled_manifest(path: str | os.PathLike) -> list[tuple[str, str]]:
    """A CSV with a ``file`` column and a ``label`` (or ``culture``/``group``) column; relative
    files are relative to the manifest."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            label = next((name for name in LABEL_COLUMNS if name in fields), None)
            if "file" not in fields or label is None:
                raise DataError(f"{path}: a manifest needs a 'file' and a 'label' column")
            rows = [(str(path.parent / row["file"]), row[label]) for row in reader if row["file"]]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path}: cannot read the manifest ({err})") from None
    if not rows:
        raise DataError(f"{path}: manifest has no rows")
    return rows


def collect_items(
    inputs: Sequence[str | os.PathLike],
) -> tuple[list[tuple[str, str]], list[str]]:
    """Folders (one culture each, named by the folder) or CSV manifests -> (file, label) items
    and notes about inputs that were left out (a stray file among the folders)."""
    paths = [Path(p) for p in inputs]
    if not paths:
        raise DataError("give one folder per culture, or a CSV manifest with file,label")
    manifests = [p for p in paths if p.suffix.lower() == ".csv" and p.is_file()]
    folders = [p for p in paths if p.is_dir()]
    notes: list[str] = []
    items: list[tuple[str, str]] = []
    if manifests and not folders:
        for manifest in manifests:
            items += read_labelled_manifest(manifest)
        return items, notes
    seen: dict[str, Path] = {}
    for path in paths:
        if not path.is_dir():
            reason = "not a folder" if path.exists() else "no such folder"
            notes.append(f"{path}: ignored ({reason}; give one folder per culture, or CSVs only)")
            continue
        label = path.resolve().name
        if label in seen:
            raise ConfigError(f"{path} and {seen[label]} would both be culture {label!r}")
        seen[label] = path
        found = list_images(path)
        if not found:
            notes.append(f"{path}: no image files, culture {label!r} left out")
        items += [(str(file), label) for file in found]
    if not items:
        raise DataError("no image files in " + ", ".join(map(str, inputs)))
    return items, notes


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


def prepare(table: FeatureTable, seed: int = 0) -> CorpusAnalysis:
    """Choose the compared cultures and build the standardised feature matrix."""
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
    summary: dict = {}
    if len(table) >= 3:
        pcs, explained = sep.learned_components(table.learned, NUM_STYLE_PCS, seed)
        names += [f"style_pc{i + 1}" for i in range(pcs.shape[1])]
        descriptors = np.hstack([descriptors, pcs])
        summary["style_pcs_explained_variance"] = [round(float(v), 4) for v in explained]
    return CorpusAnalysis(table, cultures, labels, names, descriptors, warnings, summary)


@dataclass
class CorpusReport:
    """What ``analyze_corpus`` wrote: the folder, its files and the numbers in stats.json."""

    folder: Path
    numbers: dict
    files: dict[str, Path]


def analyze_corpus(
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    cache: str | os.PathLike | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    permutations: int = 999,
    classifier_permutations: int = 20,
    maps: Sequence[str] = MAP_KINDS,
    seed: int = 0,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> CorpusReport:
    """Describe, compare and report; writes index.html, stats.json, features.parquet, PNGs.

    Bad inputs (unreadable files, a culture with < 5 images, a single culture) are reported
    through ``log`` and in the report, and the rest of the analysis goes on.
    """
    from .report import write_report

    progress = progress or (lambda stage, done, total: None)
    log = log or (lambda message: None)
    items, notes = collect_items(inputs)
    for note in notes:
        log(f"warning: {note}")
    table = extract(items, cache=cache, use_cache=use_cache, workers=workers, progress=progress)
    log(
        f"{len(table)} images described ({table.cached} from the cache), "
        f"{len(table.failures)} skipped"
    )
    if len(table) == 0:
        raise DataError("no usable image: " + "; ".join(f"{p}: {r}" for p, r in table.failures[:3]))
    analysis = prepare(table, seed)
    analysis.warnings[:0] = notes
    for message in analysis.warnings[len(notes) :]:
        log(f"warning: {message}")
    numbers = run_statistics(
        analysis,
        permutations=permutations,
        classifier_permutations=classifier_permutations,
        seed=seed,
        progress=progress,
        maps=tuple(maps),
    )
    numbers["warnings"] = analysis.warnings
    numbers["inputs"] = {
        "images": len(items),
        "usable": len(table),
        "cached": table.cached,
        "skipped": [{"file": p, "reason": r} for p, r in table.failures],
    }
    folder, files = write_report(analysis, numbers, Path(out), progress)
    return CorpusReport(folder, numbers, files)


__all__ = ["CorpusAnalysis", "CorpusReport", "analyze_corpus", "collect_items", "prepare"]
