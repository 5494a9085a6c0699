"""``analyze``: corpora by culture -> descriptors, statistics, plots and a report folder."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.files import list_images, read_manifest
from ..errors import ConfigError, DataError
from . import separability as sep
from . import stats
from .descriptors import DESCRIPTOR_NAMES, DESCRIPTORS
from .extract import FeatureTable, Progress, extract

MIN_IMAGES = 5  # a culture with fewer images is described but not compared
TSNE_MAX_IMAGES = 5000  # t-SNE above this costs minutes; the PCA map still shows all images
NUM_STYLE_PCS = 10


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


def collect_items(inputs: Sequence[str | os.PathLike]) -> list[tuple[str, str]]:
    """Folders (one culture each, named by the folder) or one CSV manifest with file,label."""
    if len(inputs) == 1 and str(inputs[0]).lower().endswith(".csv"):
        return [(str(path), label) for path, label in read_manifest(inputs[0])]
    items: list[tuple[str, str]] = []
    seen: dict[str, Path] = {}
    for folder in map(Path, inputs):
        if not folder.is_dir():
            raise DataError(f"{folder}: not a folder (give one folder per culture or a .csv)")
        label = folder.resolve().name
        if label in seen:
            raise ConfigError(f"{folder} and {seen[label]} would both be culture {label!r}")
        seen[label] = folder
        items += [(str(path), label) for path in list_images(folder)]
    if not items:
        raise DataError("no image files in " + ", ".join(map(str, inputs)))
    return items


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
            f"images come in {len(sizes)} sizes: descriptors are computed at 256 px on the "
            "long side (aspect kept), the learned statistics at 160x160"
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


def _culture_intervals(analysis: CorpusAnalysis, seed: int) -> dict:
    out = {}
    for c, name in enumerate(analysis.cultures):
        rows = analysis.features[analysis.labels == c]
        mean, low, high = stats.bootstrap_ci(rows, seed=seed)
        out[name] = {
            "count": int(len(rows)),
            "descriptors": {
                f: {"mean": round(float(m), 5), "ci95": [round(float(lo), 5), round(float(hi), 5)]}
                for f, m, lo, hi in zip(analysis.feature_names, mean, low, high, strict=True)
            },
        }
    return out


def _pair_rows(analysis: CorpusAnalysis, z: np.ndarray, a: int, b: int, perms: int, seed: int):
    rng = np.random.default_rng(seed + 7919 * a + b)
    rows_a, rows_b = np.flatnonzero(analysis.labels == a), np.flatnonzero(analysis.labels == b)
    cap = 500  # the permutation test's cost grows with the square of the sample
    if len(rows_a) > cap:
        rows_a = rng.choice(rows_a, cap, replace=False)
    if len(rows_b) > cap:
        rows_b = rng.choice(rows_b, cap, replace=False)
    energy, p = stats.energy_test(z[rows_a], z[rows_b], perms, seed)
    n_desc = len(DESCRIPTOR_NAMES)
    full_a = analysis.features[analysis.labels == a][:, :n_desc]
    full_b = analysis.features[analysis.labels == b][:, :n_desc]
    effects = stats.pair_effects(full_a, full_b, list(DESCRIPTOR_NAMES))
    return energy, p, effects


def compare_pairs(analysis: CorpusAnalysis, z: np.ndarray, permutations: int, seed: int, progress):
    """Energy distance + permutation p (Holm-adjusted) and the top claims for every pair."""
    k = len(analysis.cultures)
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    distance, p_raw, records = np.zeros((k, k)), np.ones((k, k)), []
    for done, (a, b) in enumerate(pairs, 1):
        energy, p, effects = _pair_rows(analysis, z, a, b, permutations, seed)
        distance[a, b] = distance[b, a] = energy
        p_raw[a, b] = p_raw[b, a] = p
        name_a, name_b = analysis.cultures[a], analysis.cultures[b]
        top = stats.top_effects(effects, 3)
        records.append(
            {
                "a": name_a,
                "b": name_b,
                "energy_distance": round(energy, 5),
                "p_value": p,
                "claims": [stats.claim(e, name_a, name_b) for e in top],
                "effects": {
                    e.descriptor: {
                        "mean_a": round(e.mean_a, 5),
                        "mean_b": round(e.mean_b, 5),
                        "cohens_d": round(e.cohens_d, 3),
                        "cliffs_delta": round(e.cliffs_delta, 3),
                    }
                    for e in effects
                },
            }
        )
        progress("compare cultures", done, len(pairs))
    adjusted = stats.holm([r["p_value"] for r in records]) if records else []
    p_holm = np.ones((k, k))
    for record, p_adj, (a, b) in zip(records, adjusted, pairs, strict=True):
        record["p_holm"] = p_adj
        p_holm[a, b] = p_holm[b, a] = p_adj
    return distance, p_holm, records


def two_d_maps(z: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """PCA always; t-SNE (our offline stand-in for UMAP) up to TSNE_MAX_IMAGES images."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    maps = {"pca": PCA(2, random_state=seed).fit_transform(z)}
    if 10 <= len(z) <= TSNE_MAX_IMAGES:
        perplexity = float(min(30, (len(z) - 1) / 3))
        tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
        maps["tsne"] = tsne.fit_transform(z)
    return maps


def run_statistics(
    analysis: CorpusAnalysis,
    *,
    permutations: int,
    classifier_permutations: int,
    seed: int,
    progress: Progress,
) -> dict:
    """All numbers for stats.json."""
    compared = analysis.labels >= 0
    z = sep.standardize(analysis.features)
    result: dict = {"cultures": _culture_intervals(analysis, seed)}
    if compared.sum() >= 3:
        analysis.maps = two_d_maps(z[compared], seed)
    if len(analysis.cultures) < 2:
        return result
    distance, p_holm, pairs = compare_pairs(analysis, z, permutations, seed, progress)
    result["pairs"] = pairs
    result["distance_matrix"] = distance.round(5).tolist()
    result["p_holm_matrix"] = p_holm.tolist()
    progress("classifier", 0, 1)
    labels = analysis.labels[compared]
    fit = sep.separability(
        z[compared],
        labels,
        analysis.feature_names,
        permutations=classifier_permutations,
        seed=seed,
    )
    progress("classifier", 1, 1)
    result["separability"] = {
        "balanced_accuracy": round(fit.balanced_accuracy, 4),
        "permutation_baseline_mean": round(fit.baseline_mean, 4),
        "permutation_baseline_max": round(fit.baseline_max, 4),
        "p_value": fit.p_value,
        "chance": round(fit.chance, 4),
        "folds": fit.folds,
        "permutations": fit.permutations,
        "confusion": fit.confusion.tolist(),
        "importance": {
            k: round(v, 4) for k, v in sorted(fit.importance.items(), key=lambda kv: -kv[1])
        },
    }
    distance_to_centre = sep.typicality(z[compared], labels)
    rows = np.flatnonzero(compared)
    result["typical"] = {}
    for c, name in enumerate(analysis.cultures):
        typical, atypical = sep.typical_and_atypical(distance_to_centre, labels, c)
        result["typical"][name] = {
            "typical": [analysis.table.files[rows[i]] for i in typical],
            "atypical": [analysis.table.files[rows[i]] for i in atypical],
        }
    result["clustering_ari"] = round(sep.cluster_agreement(z[compared], labels, seed), 4)
    analysis.centre_distance = np.full(len(analysis.labels), np.nan)
    analysis.centre_distance[rows] = distance_to_centre
    analysis.fit = fit
    return result


def analyze_corpus(
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    cache: str | os.PathLike | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    permutations: int = 999,
    classifier_permutations: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Describe, compare and report; returns the report folder (index.html, stats.json, ...)."""
    from .report import write_report

    progress = progress or (lambda stage, done, total: None)
    log = log or (lambda message: None)
    items = collect_items(inputs)
    table = extract(items, cache=cache, use_cache=use_cache, workers=workers, progress=progress)
    log(
        f"{len(table)} images described ({table.cached} from the cache), "
        f"{len(table.failures)} skipped"
    )
    if len(table) == 0:
        raise DataError("no usable image: " + "; ".join(f"{p}: {r}" for p, r in table.failures[:3]))
    analysis = prepare(table, seed)
    for message in analysis.warnings:
        log(f"warning: {message}")
    numbers = run_statistics(
        analysis,
        permutations=permutations,
        classifier_permutations=classifier_permutations,
        seed=seed,
        progress=progress,
    )
    numbers["warnings"] = analysis.warnings
    numbers["inputs"] = {
        "images": len(items),
        "usable": len(table),
        "cached": table.cached,
        "skipped": [{"file": p, "reason": r} for p, r in table.failures],
    }
    return write_report(analysis, numbers, Path(out), progress)


__all__ = ["DESCRIPTORS", "CorpusAnalysis", "analyze_corpus", "collect_items", "prepare"]
