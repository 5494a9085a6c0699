"""How separable the cultures are: a cross-validated classifier against a label-permutation
baseline, which descriptors carry it, typical/atypical images, and clustering without labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.inspection import permutation_importance
from sklearn.metrics import adjusted_rand_score, balanced_accuracy_score, confusion_matrix
from sklearn.model_selection import StratifiedKFold, permutation_test_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def classifier():
    """Standardised linear discriminant analysis with Ledoit-Wolf shrinkage: a closed-form fit
    (milliseconds, so the permutation baseline's 100 refits stay cheap), stable with many
    correlated descriptors and few images, and linear, so its errors are readable."""
    return make_pipeline(
        StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    )


def standardize(x: np.ndarray) -> np.ndarray:
    std = x.std(0)
    return (x - x.mean(0)) / np.where(std > 1e-12, std, 1.0)


@dataclass
class Separability:
    balanced_accuracy: float
    baseline_mean: float
    baseline_max: float
    p_value: float
    folds: int
    permutations: int
    confusion: np.ndarray  # rows: true culture, columns: predicted
    predicted: np.ndarray
    importance: dict[str, float] = field(default_factory=dict)
    chance: float = 0.0


def _folds(labels: np.ndarray, wanted: int) -> int:
    smallest = int(np.bincount(labels).min())
    return max(2, min(wanted, smallest))


def separability(
    x: np.ndarray,
    labels: np.ndarray,
    names: list[str],
    *,
    folds: int = 5,
    permutations: int = 20,
    importance_repeats: int = 3,
    seed: int = 0,
) -> Separability:
    """Balanced accuracy from stratified CV, its permutation baseline and feature importance."""
    k = _folds(labels, folds)
    cv = StratifiedKFold(k, shuffle=True, random_state=seed)
    predicted = np.empty_like(labels)
    importance = np.zeros(x.shape[1])
    for train, test in cv.split(x, labels):
        model = classifier().fit(x[train], labels[train])
        predicted[test] = model.predict(x[test])
        result = permutation_importance(
            model,
            x[test],
            labels[test],
            scoring="balanced_accuracy",
            n_repeats=importance_repeats,
            random_state=seed,
        )
        importance += result.importances_mean / k
    score = balanced_accuracy_score(labels, predicted)
    _, scores, p_value = permutation_test_score(
        classifier(),
        x,
        labels,
        cv=cv,
        n_permutations=permutations,
        scoring="balanced_accuracy",
        random_state=seed,
    )
    classes = np.arange(len(np.unique(labels)))
    return Separability(
        balanced_accuracy=float(score),
        baseline_mean=float(scores.mean()),
        baseline_max=float(scores.max()),
        p_value=float(p_value),
        folds=k,
        permutations=permutations,
        confusion=confusion_matrix(labels, predicted, labels=classes),
        predicted=predicted,
        importance=dict(zip(names, importance.tolist(), strict=True)),
        chance=1.0 / len(classes),
    )


def typicality(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Distance of each image from its culture's centre in standardised feature space."""
    distance = np.empty(len(z))
    for culture in np.unique(labels):
        rows = labels == culture
        distance[rows] = np.linalg.norm(z[rows] - z[rows].mean(0), axis=1)
    return distance


def typical_and_atypical(distance: np.ndarray, labels: np.ndarray, culture: int, count: int = 5):
    """Row indices nearest to and farthest from the culture centre."""
    rows = np.flatnonzero(labels == culture)
    order = rows[np.argsort(distance[rows])]
    return order[:count].tolist(), order[::-1][:count].tolist()


def cluster_agreement(z: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Adjusted Rand index between k-means clusters (k = number of cultures) and the labels."""
    k = len(np.unique(labels))
    clusters = KMeans(k, n_init=10, random_state=seed).fit_predict(z)
    return float(adjusted_rand_score(labels, clusters))
