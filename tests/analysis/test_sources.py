"""Sources, the fixed style space, --reference, the feature cache and the map-kind check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stylebridge.analysis import projection
from stylebridge.analysis import sources as src
from stylebridge.analysis.corpus import collect_inputs
from stylebridge.cli import app
from stylebridge.errors import ConfigError, ModelFileError

from .conftest import hsv_corpus, write_corpus


def _two_sources(root, saturation_corpora):
    """muted and vivid, each split over two collections (a/ and b/)."""
    folders = []
    for corpus in saturation_corpora:
        files = sorted(corpus.iterdir())
        for half, part in (("a", files[:12]), ("b", files[12:])):
            target = root / half / corpus.name
            target.mkdir(parents=True)
            for path in part:
                shutil.copy(path, target / path.name)
            folders.append(target)
    return folders


def test_folders_sharing_a_culture_are_sources(saturation_corpora, tmp_path):
    folders = _two_sources(tmp_path, saturation_corpora)
    found = collect_inputs(folders)
    assert {label for _, label in found.items} == {"muted", "vivid"}
    assert set(found.sources.values()) == {"a/muted", "b/muted", "a/vivid", "b/vivid"}
    manifest = tmp_path / "a" / "MANIFEST.csv"  # a manifest beside the folders names sources
    rows = [
        f"muted/{p.name},muted,museum_{i % 2}" for i, p in enumerate(sorted(folders[0].iterdir()))
    ]
    manifest.write_text("file,group,source_repo\n" + "\n".join(rows) + "\n")
    named = collect_inputs(folders)
    assert {named.sources[str(p)] for p in folders[0].iterdir()} == {"museum_0", "museum_1"}
    with pytest.raises(ConfigError, match="given twice"):
        collect_inputs([folders[0], folders[0]])


def test_claims_are_retested_per_source_and_artefacts_flagged():
    rng = np.random.default_rng(0)
    n = 40
    labels = np.repeat([0, 1], 2 * n)
    sources = np.array((["s1"] * n + ["s2"] * n) * 2)
    culture = labels + 0.1 * rng.normal(size=len(labels))  # differs by culture everywhere
    only_s1 = np.where((labels == 0) & (sources == "s1"), 1.0, 0.0) + 0.1 * rng.normal(
        size=len(labels)
    )  # culture 0 is higher only in source s1
    scanner = (sources == "s2") * 1.0 + 0.1 * rng.normal(size=len(labels))  # a collection trait
    rows_a, rows_b = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
    holds = src.claim_by_source(culture, rows_b, rows_a, sources, 1.0)
    assert holds["verdict"] == "holds in every source"
    partial = src.claim_by_source(only_s1, rows_a, rows_b, sources, 1.0)
    assert partial["verdict"] == "only in source s1", partial
    flagged = src.collection_artefacts(
        np.stack([culture, scanner], 1), ["culture", "scanner"], labels, sources, 2
    )
    assert [f["descriptor"] for f in flagged] == ["scanner"]


def test_the_shipped_projection_is_fixed_and_checked(tmp_path):
    space = projection.load()
    assert space.components.shape[0] == len(space.names) >= 8
    rng = np.random.default_rng(1)
    raw = rng.normal(size=(30, space.mean.shape[0]))
    np.testing.assert_array_equal(space(raw), space(raw))  # no per-run fitting
    stale = projection.Projection(space.mean, space.scale, space.components, {"extractor": "x"})
    projection.save(stale, tmp_path / "stale.safetensors")
    with pytest.raises(ModelFileError, match="refit"):
        projection.load(tmp_path / "stale.safetensors")
    subject = projection.load(space="subject")  # the pooled embedding's space, checked alike
    assert subject.names[0] == "subject_pc1" and subject.mean.shape == (1280,)
    with pytest.raises(ModelFileError, match="refit"):
        projection.load(tmp_path / "stale.safetensors", space="subject")


def test_unknown_map_kind_is_refused(saturation_corpora, tmp_path):
    result = CliRunner().invoke(
        app, ["analyze", *map(str, saturation_corpora), "-o", str(tmp_path), "--maps", "tsne"]
    )
    assert result.exit_code == 1
    assert "unknown map kind 'tsne'; valid: pca, umap" in str(result.exception)


def test_cache_info_and_clear(tmp_path):
    entry = tmp_path / "analysis" / "v1" / "ab" / "abcd.npz"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"x" * 2000)
    keep = tmp_path / "weights" / "lite0.safetensors"
    keep.parent.mkdir(parents=True)
    keep.write_bytes(b"w")
    runner = CliRunner()
    result = runner.invoke(app, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0 and "1 entries" in result.output, result.output
    result = runner.invoke(app, ["cache", "clear", "--cache-dir", str(tmp_path)])
    assert "removed 1 cached feature entries" in result.output
    assert not entry.exists() and keep.exists()


def test_sources_reference_and_stage_logs(saturation_corpora, tmp_path):
    """Two sources per culture: leave-one-source-out, per-source claims, per-run columns apart
    from per-image ones, a second corpus placed in the first run's space, stage logs."""
    folders = _two_sources(tmp_path / "in", saturation_corpora)
    runner = CliRunner()  # not a terminal: the stages are logged as lines
    args = ["--workers", "1", "--permutations", "99", "--maps", "pca", "--no-cache"]
    result = runner.invoke(app, ["analyze", *map(str, folders), "-o", str(tmp_path / "r"), *args])
    assert result.exit_code == 0, result.output
    out = result.output
    stages = ["feature cache: off", "describing 48 images on the local engine", "statistics"]
    positions = [out.index(s) for s in [*stages, "writing the report", "report:"]]
    assert positions == sorted(positions)
    assert "leave-one-source-out balanced accuracy" in out
    numbers = json.loads((tmp_path / "r" / "stats.json").read_text())
    found = numbers["sources"]
    assert found["per_culture"]["muted"] == {"a/muted": 12, "b/muted": 12}
    assert found["leave_one_source_out"]["balanced_accuracy"] > 0.8
    verdicts = [v["verdict"] for p in numbers["pairs"] for v in p["claims_by_source"]]
    assert verdicts and all(v == "holds in every source" for v in verdicts[:1])
    features = pd.read_parquet(tmp_path / "r" / "features.parquet")
    coords = pd.read_parquet(tmp_path / "r" / "coordinates.parquet")
    assert "source" in features and not any(c.startswith("map_") for c in features)
    assert {"map_pca_x", "distance_to_culture_centre"} <= set(coords.columns)
    assert {"style_pc1", "saturation"} <= set(features.columns)

    new = write_corpus(tmp_path / "new" / "vivid", hsv_corpus(21, 8, 0.4, 0.7))
    more = write_corpus(tmp_path / "new" / "muted", hsv_corpus(22, 8, 0.15, 0.45))
    result = runner.invoke(
        app,
        ["analyze", str(new), str(more), "-o", str(tmp_path / "r2"), *args,
         "--reference", str(tmp_path / "r")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ref = json.loads((tmp_path / "r2" / "stats.json").read_text())["reference"]
    assert ref["shared_cultures"] == ["muted", "vivid"] and ref["balanced_accuracy"] >= 0.8
    assert "reference_predicted" in pd.read_parquet(tmp_path / "r2" / "coordinates.parquet")
    one = json.loads((tmp_path / "r2" / "stats.json").read_text())["warnings"]
    assert any("comes from one source" in w for w in one)


def test_reference_also_scores_a_choice_among_the_shared_cultures():
    """A reference with three cultures, a new corpus with two of them: the six-way-style score
    may lose images to the third culture; the refit among the shared two may not."""
    from types import SimpleNamespace

    from stylebridge.analysis.reference import Reference, place_in_reference

    rng = np.random.default_rng(3)
    centres = {"a": (0.0, 0.0), "b": (4.0, 0.0), "c": (2.0, 0.5)}  # c sits between a and b
    rows = [(name, *(np.array(c) + rng.normal(0, 1, 2))) for name, c in centres.items()
            for _ in range(60)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["culture", "x", "y"])
    cultures = ["a", "b", "c"]
    ref = Reference(Path("ref"), cultures, np.array([cultures.index(c) for c in frame.culture]),
                    frame)  # fmt: skip
    new_labels = ["a"] * 40 + ["b"] * 40
    new = np.vstack([rng.normal(centres[c], 1, 2) for c in new_labels])
    analysis = SimpleNamespace(
        feature_names=["x", "y"], features=new, table=SimpleNamespace(labels=new_labels)
    )
    out = place_in_reference(analysis, ref)
    assert out["shared_cultures"] == ["a", "b"]
    among = out["among_shared"]
    assert among["balanced_accuracy"] > out["balanced_accuracy"]
    assert among["balanced_accuracy"] > 0.9 and set(among["recall"]) == {"a", "b"}
