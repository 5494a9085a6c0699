"""Validity checks that can fail: a known difference is found, no difference is not invented,
and on the real corpus the cultures separate and the claims match what a person sees."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from scipy.stats import binomtest, kstest

from stylebridge import api
from stylebridge.analysis import DESCRIPTOR_NAMES, describe_image, stats
from stylebridge.analysis.separability import standardize

from .conftest import hsv_corpus


def _describe(images) -> np.ndarray:
    return np.array([[describe_image(im)[n] for n in DESCRIPTOR_NAMES] for im in images])


def test_saturation_only_difference_is_found(saturation_corpora, tmp_path):
    """Two corpora that differ only in saturation: saturation is the top descriptor, the
    pair differs at p < 0.01, and the report says it in words."""
    muted, vivid = saturation_corpora
    report = api.analyze([muted, vivid], tmp_path / "r", workers=1, permutations=199, maps=["pca"])
    pair = report.numbers["pairs"][0]
    assert pair["p_value"] < 0.01
    effects = pair["effects"]
    top = max(effects, key=lambda n: (abs(effects[n]["cliffs_delta"]), abs(effects[n]["cohens_d"])))
    assert top == "saturation"
    assert effects["saturation"]["p_holm"] < 0.01
    assert effects["saturation"]["mean_b"] > effects["saturation"]["mean_a"]  # vivid > muted
    assert pair["claims"][0].startswith("vivid images show")
    assert "colour saturation than muted" in pair["claims"][0]
    # separable, and well above the shuffled-label baseline
    sep = report.numbers["separability"]
    assert sep["balanced_accuracy"] > 0.8 > sep["permutation_baseline_max"]


@pytest.mark.slow
def test_random_halves_of_one_corpus_are_not_called_different():
    """Split one corpus into random halves many times: the energy test's p-values are
    calibrated (uniform), the false-alarm rate at alpha 0.05 is at most 5% within sampling
    error, and the descriptor claims stay silent in at least 95% of splits."""
    features = standardize(_describe(hsv_corpus(5, 60, 0.15, 0.7, size=48)))
    rng = np.random.default_rng(0)
    splits, p_values, with_claims = 300, [], 0
    for i in range(splits):
        order = rng.permutation(len(features))
        a, b = features[order[:30]], features[order[30:]]
        p_values.append(stats.energy_test(a, b, permutations=99, seed=i)[1])
        effects = stats.pair_effects(a, b, list(DESCRIPTOR_NAMES))
        with_claims += bool(stats.top_effects(effects))
    p_values = np.array(p_values)
    false_alarms = int((p_values < 0.05).sum())
    # at most 5% expected; a rate clearly above it (one-sided binomial test) fails
    assert binomtest(false_alarms, splits, 0.05, alternative="greater").pvalue > 0.05
    assert (p_values >= 0.05).mean() >= 0.93
    assert kstest(p_values, "uniform").pvalue > 0.01  # neither liberal nor too conservative
    assert with_claims / splits <= 0.05


def test_energy_test_detects_a_shift_and_is_symmetric():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 5)), rng.normal(size=(40, 5)) + [1.2, 0, 0, 0, 0]
    energy, p = stats.energy_test(x, y, permutations=199)
    energy_swapped, _ = stats.energy_test(y, x, permutations=199)
    assert p < 0.01
    assert energy == pytest.approx(energy_swapped)
    # reference: E = 2 E|X-Y| - E|X-X'| - E|Y-Y'| with V-statistics
    d = lambda a, b: np.linalg.norm(a[:, None] - b[None], axis=2).mean()  # noqa: E731
    assert energy == pytest.approx(2 * d(x, y) - d(x, x) - d(y, y))


def _manifest(path, rows):
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label"])
        writer.writerows(rows)
    return path


@pytest.mark.slow
def test_real_cultures_separate_and_ink_vs_oil_claims_hold(culture_dir, tmp_path):
    """40 ink paintings, 40 Western oils, 30 photos (a CSV manifest): the classifier beats
    its shuffled-label baseline by far, and the ink-vs-oil claims are what a person sees:
    ink leaves more empty space and is less saturated and less colourful."""
    rng = np.random.default_rng(0)
    rows = []
    for culture, count in (("chinese_ink", 40), ("western_oil", 40), ("photo", 30)):
        files = sorted((culture_dir / culture).glob("*.jpg"))
        rows += [(str(files[i]), culture) for i in sorted(rng.choice(len(files), count, False))]
    manifest = _manifest(tmp_path / "subset.csv", rows)
    report = api.analyze([manifest], tmp_path / "r", workers=1, permutations=199, maps=["pca"])
    sep = report.numbers["separability"]
    assert sep["balanced_accuracy"] > sep["permutation_baseline_max"] + 0.3
    wanted = {"chinese_ink", "western_oil"}
    pair = next(p for p in report.numbers["pairs"] if {p["a"], p["b"]} == wanted)
    assert (pair["a"], pair["b"]) == ("chinese_ink", "western_oil")
    effects = pair["effects"]
    empty, colourful = effects["negative_space"], effects["colourfulness"]
    assert empty["mean_a"] > 1.5 * empty["mean_b"] and empty["p_holm"] < 0.01
    assert colourful["mean_a"] < colourful["mean_b"] and colourful["p_holm"] < 0.01
    assert effects["saturation"]["mean_a"] < effects["saturation"]["mean_b"]
    claims = pair["claims"]
    assert any(c.startswith("chinese ink images show") and "empty space" in c for c in claims)
    saved = json.loads((report.folder / "stats.json").read_text())
    assert saved["pairs"][0]["claims"] == report.numbers["pairs"][0]["claims"]
