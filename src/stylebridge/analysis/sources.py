"""Cross-source validity: is a difference about the culture, or about the collection?

A corpus drawn from one collection per culture lets a classifier (and a claim) learn the
collection's scanner, crop, lighting or the yellowing of old silk. Where a culture comes from
two or more sources, these checks hold each source out in turn, re-test every claim within
each source, and flag descriptors that separate sources of one culture more than cultures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from . import stats
from .stats import MIN_CLAIM_DELTA

MIN_SOURCE_IMAGES = 5  # a smaller source is counted but not tested on its own


def source_counts(cultures: list[str], labels: np.ndarray, sources: Sequence[str]) -> dict:
    """{culture: {source: images}} for the compared cultures."""
    out: dict[str, dict[str, int]] = {}
    for c, name in enumerate(cultures):
        counter = Counter(s for s, lab in zip(sources, labels, strict=True) if lab == c)
        out[name] = dict(sorted(counter.items(), key=lambda kv: -kv[1]))
    return out


def held_out(
    x: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    make_classifier: Callable,
    testable: np.ndarray,
) -> tuple[np.ndarray, dict]:
    """Predict the rows of each group (where ``testable``) with a classifier fitted on every
    other group; returns the predictions (-1 where not tested) and accuracy per group."""
    predicted = np.full(len(labels), -1)
    per_group = {}
    for group in np.unique(groups[testable]):
        test = (groups == group) & testable
        train = groups != group
        if len(np.unique(labels[train])) < 2:
            continue
        model = make_classifier().fit(x[train], labels[train])
        predicted[test] = model.predict(x[test])
        per_group[str(group)] = round(float((predicted[test] == labels[test]).mean()), 4)
    return predicted, per_group


def source_holdout(x, labels, sources, cultures, make_classifier) -> dict | None:
    """Leave-one-source-out: each culture's source predicted by a classifier that never saw
    that source; only cultures with two or more sources are tested. None if there are none."""
    sources = np.asarray(sources)
    groups = np.array([f"{cultures[c]} / {s}" for c, s in zip(labels, sources, strict=True)])
    counts = source_counts(cultures, labels, sources)
    multi = [c for c, name in enumerate(cultures) if len(counts[name]) >= 2]
    if not multi:
        return None
    testable = np.isin(labels, multi)
    predicted, per_group = held_out(x, labels, groups, make_classifier, testable)
    tested = predicted >= 0
    return {
        "balanced_accuracy": round(
            float(balanced_accuracy_score(labels[tested], predicted[tested])), 4
        ),
        "cultures": [cultures[c] for c in multi],
        "images": int(tested.sum()),
        "accuracy_per_source": per_group,
    }


def _holds(a: np.ndarray, b: np.ndarray, sign: float) -> tuple[bool, float]:
    """Rank effect of 1-D ``a`` over ``b``, and whether it points ``sign``'s way strongly."""
    delta = float(stats.cliffs_delta(a[:, None], b[:, None])[0])
    return sign * delta >= MIN_CLAIM_DELTA, delta


def claim_by_source(
    column: np.ndarray, rows_a: np.ndarray, rows_b: np.ndarray, sources: np.ndarray, sign: float
) -> dict:
    """Re-test one claim (culture a's descriptor higher if ``sign`` > 0) in each source of
    either culture against the other culture; a source holds it if its rank effect points the
    same way and is at least the claim threshold."""
    results = {}
    for own, other in ((rows_a, rows_b), (rows_b, rows_a)):
        flip = 1.0 if own is rows_a else -1.0
        for source in sorted(set(sources[own])):
            rows = own[sources[own] == source]
            if len(rows) < MIN_SOURCE_IMAGES:
                continue
            ok, delta = _holds(column[rows], column[other], sign * flip)
            results.setdefault(source, []).append((ok, round(flip * delta, 3)))
    held = sorted(s for s, tests in results.items() if all(ok for ok, _ in tests))
    failed = sorted(s for s in results if s not in held)
    if not failed:
        verdict = "holds in every source"
    elif held:
        verdict = "only in source " + ", ".join(held)
    else:
        verdict = "in no single source"
    return {"verdict": verdict, "held": held, "failed": failed}


def collection_artefacts(
    features: np.ndarray, names: list[str], labels: np.ndarray, sources: np.ndarray, k: int
) -> list[dict]:
    """Descriptors whose largest rank effect between two sources of one culture exceeds their
    mean rank effect between cultures: they describe collections more than cultures."""
    between = np.zeros(len(names))
    pairs = 0
    for a in range(k):
        for b in range(a + 1, k):
            delta = stats.cliffs_delta(features[labels == a], features[labels == b])
            between += np.abs(delta)
            pairs += 1
    between /= max(pairs, 1)
    within = np.zeros(len(names))
    where = [""] * len(names)
    for c in range(k):
        rows = np.flatnonzero(labels == c)
        kinds = [s for s, n in Counter(sources[rows]).items() if n >= MIN_SOURCE_IMAGES]
        for i, s in enumerate(kinds):
            for t in kinds[i + 1 :]:
                rs, rt = rows[sources[rows] == s], rows[sources[rows] == t]
                delta = np.abs(stats.cliffs_delta(features[rs], features[rt]))
                for j in np.flatnonzero(delta > within):
                    within[j] = delta[j]
                    where[j] = f"{s} vs {t}"
    return [
        {
            "descriptor": names[j],
            "between_sources": round(float(within[j]), 3),
            "between_cultures": round(float(between[j]), 3),
            "sources": where[j],
        }
        for j in np.argsort(-(within - between))
        if within[j] > between[j]
    ]


__all__ = ["claim_by_source", "collection_artefacts", "held_out", "source_counts"]
