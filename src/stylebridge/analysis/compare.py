"""All numbers of a corpus report: per-culture intervals, pair tests and claims, separability,
typical images, clustering and the 2-D maps. Works on a prepared ``CorpusAnalysis``.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ConfigError
from . import separability as sep
from . import sources as src
from . import stats
from .descriptors import DESCRIPTOR_NAMES
from .extract import Progress

PAIR_CAP = 500  # images per culture in the energy test, whose cost grows with n squared
CLASSIFIER_CAP = 3000  # images (stratified) for the classifier and its permutation baseline
MAP_KINDS = ("pca", "umap")


def check_maps(kinds) -> tuple[str, ...]:
    """The map kinds asked for; an unknown one is refused with the valid list."""
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in MAP_KINDS]
    if unknown:
        raise ConfigError(
            f"unknown map kind {', '.join(map(repr, unknown))}; valid: {', '.join(MAP_KINDS)}"
        )
    return kinds


def culture_intervals(analysis, seed: int, n_boot: int = 1000) -> dict:
    """Mean and bootstrap 95% interval of every feature, per compared culture."""
    out = {}
    for c, name in enumerate(analysis.cultures):
        rows = analysis.features[analysis.labels == c]
        mean, low, high = stats.bootstrap_ci(rows, n_boot=n_boot, seed=seed)
        out[name] = {
            "count": int(len(rows)),
            "descriptors": {
                f: {"mean": round(float(m), 5), "ci95": [round(float(lo), 5), round(float(hi), 5)]}
                for f, m, lo, hi in zip(analysis.feature_names, mean, low, high, strict=True)
            },
        }
    return out


def _subsample(rows: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(rows, cap, replace=False) if len(rows) > cap else rows


def _pair_record(analysis, z: np.ndarray, a: int, b: int, permutations: int, seed: int) -> dict:
    rng = np.random.default_rng(seed + 7919 * a + b)
    rows_a = np.flatnonzero(analysis.labels == a)
    rows_b = np.flatnonzero(analysis.labels == b)
    sub_a, sub_b = _subsample(rows_a, PAIR_CAP, rng), _subsample(rows_b, PAIR_CAP, rng)
    energy, p = stats.energy_test(z[sub_a], z[sub_b], permutations, seed)
    n_desc = len(DESCRIPTOR_NAMES)
    features = analysis.features[:, :n_desc]
    effects = stats.pair_effects(features[rows_a], features[rows_b], list(DESCRIPTOR_NAMES))
    name_a, name_b = analysis.cultures[a], analysis.cultures[b]
    chosen = stats.top_effects(effects)
    by_source = []
    if analysis.sources and _multi_source(analysis, a, b):
        sources = np.asarray(analysis.sources)
        for e in chosen:
            column = features[:, DESCRIPTOR_NAMES.index(e.descriptor)]
            sign = 1.0 if e.mean_a >= e.mean_b else -1.0
            by_source.append(src.claim_by_source(column, rows_a, rows_b, sources, sign))
    return {
        "a": name_a,
        "b": name_b,
        "energy_distance": round(energy, 5),
        "p_value": p,
        "permutations": permutations,
        "claims": [stats.claim(e, name_a, name_b) for e in chosen],
        "claims_by_source": by_source,
        "effects": {
            e.descriptor: {
                "mean_a": round(e.mean_a, 5),
                "mean_b": round(e.mean_b, 5),
                "cohens_d": round(e.cohens_d, 3),
                "cliffs_delta": round(e.cliffs_delta, 3),
                "p_holm": float(f"{e.p_value:.3g}"),
            }
            for e in effects
        },
    }


def _multi_source(analysis, a: int, b: int) -> bool:
    """True when culture a or b comes from two or more sources."""
    sources = np.asarray(analysis.sources)
    return any(len(set(sources[analysis.labels == c])) >= 2 for c in (a, b))


def compare_pairs(analysis, z: np.ndarray, permutations: int, seed: int, progress: Progress):
    """Energy distance + permutation p (Holm-adjusted over pairs) and the claims for each pair."""
    k = len(analysis.cultures)
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    distance, records = np.zeros((k, k)), []
    for done, (a, b) in enumerate(pairs, 1):
        record = _pair_record(analysis, z, a, b, permutations, seed)
        distance[a, b] = distance[b, a] = record["energy_distance"]
        records.append(record)
        progress("compare cultures", done, len(pairs))
    p_holm = np.zeros((k, k))
    for record, adjusted, (a, b) in zip(
        records, stats.holm([r["p_value"] for r in records]), pairs, strict=True
    ):
        record["p_holm"] = adjusted
        p_holm[a, b] = p_holm[b, a] = adjusted
    return distance, p_holm, records


def two_d_maps(z: np.ndarray, seed: int, kinds=MAP_KINDS) -> dict[str, np.ndarray]:
    """PCA (linear, axes readable) and UMAP (neighbourhoods kept) of the standardised features."""
    from sklearn.decomposition import PCA

    maps = {}
    if "pca" in kinds:
        maps["pca"] = PCA(2, random_state=seed).fit_transform(z)
    if "umap" in kinds and len(z) >= 10:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # n_jobs overridden by random_state, numba notes
            import umap

            reducer = umap.UMAP(
                n_neighbors=min(15, len(z) - 1), min_dist=0.1, random_state=seed, n_jobs=1
            )
            maps["umap"] = reducer.fit_transform(z)
    return maps


def _classifier_rows(labels: np.ndarray, seed: int) -> np.ndarray:
    """At most CLASSIFIER_CAP rows, the same share from every culture."""
    if len(labels) <= CLASSIFIER_CAP:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    share = CLASSIFIER_CAP / len(labels)
    keep = [
        rng.choice(rows, max(5, round(share * len(rows))), replace=False)
        for rows in (np.flatnonzero(labels == c) for c in np.unique(labels))
    ]
    return np.sort(np.concatenate(keep))


def separability_numbers(fit: sep.Separability) -> dict:
    return {
        "balanced_accuracy": round(fit.balanced_accuracy, 4),
        "permutation_baseline_mean": round(fit.baseline_mean, 4),
        "permutation_baseline_max": round(fit.baseline_max, 4),
        "p_value": fit.p_value,
        "chance": round(fit.chance, 4),
        "folds": fit.folds,
        "permutations": fit.permutations,
        "images": int(fit.confusion.sum()),
        "confusion": fit.confusion.tolist(),
        "importance": {
            k: round(v, 4) for k, v in sorted(fit.importance.items(), key=lambda kv: -kv[1])
        },
    }


def _typical(analysis, z: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> dict:
    distance = sep.typicality(z, labels)
    analysis.centre_distance = np.full(len(analysis.labels), np.nan)
    analysis.centre_distance[rows] = distance
    out = {}
    for c, name in enumerate(analysis.cultures):
        typical, atypical = sep.typical_and_atypical(distance, labels, c)
        out[name] = {
            "typical": [analysis.table.files[rows[i]] for i in typical],
            "atypical": [analysis.table.files[rows[i]] for i in atypical],
        }
    return out


def run_statistics(
    analysis,
    *,
    permutations: int,
    classifier_permutations: int,
    seed: int,
    progress: Progress,
    maps=MAP_KINDS,
) -> dict:
    """All numbers for stats.json; fills ``analysis.maps``, ``.fit`` and ``.centre_distance``."""
    compared = analysis.labels >= 0
    rows = np.flatnonzero(compared)
    z = sep.standardize(analysis.features)
    result: dict = {"cultures": culture_intervals(analysis, seed)}
    if len(rows) >= 3:
        progress("maps", 0, 1)
        analysis.maps = two_d_maps(sep.standardize(analysis.features[rows]), seed, maps)
        progress("maps", 1, 1)
    if len(analysis.cultures) < 2:
        return result
    distance, p_holm, pairs = compare_pairs(analysis, z, permutations, seed, progress)
    result["pairs"] = pairs
    result["distance_matrix"] = distance.round(5).tolist()
    result["p_holm_matrix"] = p_holm.tolist()
    labels = analysis.labels[rows]
    picked = _classifier_rows(labels, seed)
    progress("classifier", 0, 1)
    analysis.fit = sep.separability(
        z[rows][picked],
        labels[picked],
        analysis.feature_names,
        permutations=classifier_permutations,
        seed=seed,
    )
    progress("classifier", 1, 1)
    result["separability"] = separability_numbers(analysis.fit)
    result["typical"] = _typical(analysis, z[rows], labels, rows)
    result["clustering_ari"] = round(sep.cluster_agreement(z[rows], labels, seed), 4)
    if analysis.sources:
        result["sources"] = source_numbers(analysis, z[rows], rows)
    return result


def source_numbers(analysis, z: np.ndarray, rows: np.ndarray) -> dict:
    """Sources per culture, leave-one-source-out accuracy beside the mixed-source figure, and
    the descriptors that describe collections more than cultures."""
    labels = analysis.labels[rows]
    sources = np.asarray(analysis.sources)[rows]
    counts = src.source_counts(analysis.cultures, labels, sources)
    for name, found in counts.items():
        if len(found) == 1:
            analysis.warnings.append(
                f"culture {name!r} comes from one source ({next(iter(found))}): its "
                "differences may describe that collection rather than the culture"
            )
    out: dict = {"per_culture": counts}
    holdout = src.source_holdout(z, labels, sources, analysis.cultures, sep.classifier)
    if holdout is not None:
        holdout["mixed_source_cv_balanced_accuracy"] = round(analysis.fit.balanced_accuracy, 4)
        out["leave_one_source_out"] = holdout
    n_desc = len(DESCRIPTOR_NAMES)
    out["collection_artefacts"] = src.collection_artefacts(
        analysis.features[rows][:, :n_desc],
        list(DESCRIPTOR_NAMES),
        labels,
        sources,
        len(analysis.cultures),
    )
    return out
