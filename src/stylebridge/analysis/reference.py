"""``analyze --reference run_a/ corpus_b/``: place a new corpus in an earlier run's space.

Every column of ``features.parquet`` is a per-image value in a fixed space (descriptors and
the shipped style projection), so the earlier run's classifier and map are refitted from its
parquet exactly as they were and applied to the new images. Where the two runs share cultures,
the classifier's balanced accuracy on the new corpus is the cross-collection figure: trained
on one collection, tested on another.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import balanced_accuracy_score

from ..errors import DataError
from . import separability as sep


@dataclass
class Reference:
    folder: Path
    cultures: list[str]
    labels: np.ndarray  # per row of ``frame``: index into cultures
    frame: object  # features.parquet rows of the compared cultures (a pandas DataFrame)


def read_reference(folder: str | os.PathLike) -> Reference:
    """An earlier report folder: its features.parquet and the cultures stats.json compared."""
    import pandas as pd

    folder = Path(folder)
    parquet, numbers = folder / "features.parquet", folder / "stats.json"
    if not parquet.is_file() or not numbers.is_file():
        raise DataError(f"{folder}: not an analyze report (needs features.parquet and stats.json)")
    try:
        frame = pd.read_parquet(parquet)
        cultures = sorted(json.loads(numbers.read_text())["cultures"])
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"{folder}: cannot read the report ({err})") from None
    if len(cultures) < 2:
        raise DataError(f"{folder}: the reference run compared fewer than 2 cultures")
    frame = frame[frame["culture"].isin(cultures)]
    labels = np.array([cultures.index(c) for c in frame["culture"]])
    return Reference(folder, cultures, labels, frame)


def place_in_reference(analysis, ref: Reference) -> dict:
    """The reference run's classifier and PCA map applied to this run's images."""
    frame = ref.frame
    missing = [n for n in analysis.feature_names if n not in frame.columns]
    if missing:
        raise DataError(
            f"{ref.folder}: features.parquet lacks {', '.join(missing[:3])}: the reference was "
            "made by another version; re-run analyze on it"
        )
    x_ref = frame[analysis.feature_names].to_numpy(np.float64)
    model = sep.classifier().fit(x_ref, ref.labels)
    scaler = model[0]
    axes = PCA(2, random_state=0).fit(scaler.transform(x_ref))
    predicted = model.predict(analysis.features)
    analysis.reference_coords = axes.transform(scaler.transform(analysis.features))
    analysis.reference_predicted = [ref.cultures[p] for p in predicted]
    out: dict = {
        "folder": str(ref.folder),
        "cultures": ref.cultures,
        "images": len(ref.labels),
        "predicted_shares": {},
    }
    labels = np.array(analysis.table.labels)
    for name in sorted(set(labels)):
        counts = Counter(np.array(analysis.reference_predicted)[labels == name].tolist())
        total = sum(counts.values())
        out["predicted_shares"][name] = {k: round(v / total, 4) for k, v in counts.most_common()}
    shared = [c for c in ref.cultures if c in set(labels)]
    if shared:
        rows = np.isin(labels, shared)
        truth = np.array([ref.cultures.index(c) for c in labels[rows]])
        out["shared_cultures"] = shared
        out.update(_scores(ref.cultures, shared, truth, predicted[rows]))
    if 2 <= len(shared) < len(ref.cultures):
        # the same classifier refitted on the shared cultures only: a choice among the
        # cultures both collections have, the like-for-like cross-collection figure
        keep = np.isin(np.array(ref.cultures)[ref.labels], shared)
        among = sep.classifier().fit(x_ref[keep], ref.labels[keep])
        guess = among.predict(analysis.features[rows])
        out["among_shared"] = _scores(ref.cultures, shared, truth, guess)
    return out


def _scores(cultures: list[str], shared: list[str], truth, predicted) -> dict:
    """Balanced accuracy and per-culture recall of ``predicted`` (indices into cultures)."""
    return {
        "balanced_accuracy": round(float(balanced_accuracy_score(truth, predicted)), 4),
        "recall": {
            c: round(float((predicted[truth == i] == i).mean()), 4)
            for i, c in enumerate(cultures)
            if c in shared
        },
    }


__all__ = ["Reference", "place_in_reference", "read_reference"]
