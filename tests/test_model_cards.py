"""Every bundled model card opens with the YAML front matter model hubs read, and its facts
agree with the model's config.json (the run's own record of data and metrics)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import yaml

from stylebridge import zoo

STYLES = sorted(zoo.looks())  # the translation models; culture styles are checked below
CULTURE_STYLES = sorted(zoo.culture_styles())
SHA256 = re.compile(r"[0-9a-f]{64}")


def _card(name: str) -> tuple[dict, str, dict]:
    folder = zoo.style_path(name)
    text = (folder / "MODEL_CARD.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, f"{name}: MODEL_CARD.md has no front matter"
    config = json.loads((folder / "config.json").read_text())
    return yaml.safe_load(match.group(1)), text[match.end() :], config


def test_there_are_bundled_styles():
    assert len(STYLES) >= 3
    assert set(CULTURE_STYLES) == {n for n in zoo.culture_codes() if n != "photo"}
    assert list(zoo.styles())[: len(CULTURE_STYLES)] == CULTURE_STYLES  # listed first


@pytest.mark.parametrize("name", CULTURE_STYLES)
def test_culture_style_card_states_its_settings_look_and_measures(name):
    folder = zoo.style_path(name)
    text = (folder / "MODEL_CARD.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, f"{name}: MODEL_CARD.md has no front matter"
    meta, body = yaml.safe_load(match.group(1)), text[match.end() :]
    config = json.loads((folder / "config.json").read_text())
    assert config["method"] == "engine_style" and config["engine"] in zoo.ENGINES
    assert meta["base_model"].startswith(
        zoo.ENGINES[config["engine"]].relative_to(zoo.ZOO_DIR).as_posix()
    )
    settings = {k: config[k] for k in ("fusion", "strength", "finish")}
    settings["white_level"] = config.get("white_level", 1.0)
    if "dyes" in config:  # the wax finish's colourway
        settings["dyes"] = config["dyes"]
    assert meta["settings"] == settings
    assert meta["license"] == "apache-2.0" and "owners' terms" in meta["license_note"]
    assert body.lstrip().startswith(f"# {name}:")
    notes = config["card"]["notes"]
    assert any(n.startswith("- Does not:") for n in notes) and all(n in body for n in notes)
    measured = config["card"]["metrics"]  # the held-out numbers, the same in both files
    assert meta["metrics"] == measured
    assert {"overall_movement", "classified_as_target", "edge_ssim"} <= set(measured)
    # the wider held-out check: the same numbers in both files, KID drops that add up
    wider = config["card"]["wider_check"]
    assert meta["wider_check"] == wider and wider["photos"] > 25
    for kid in wider["kid"].values():
        (photos, photos_std), (style, _) = kid["photos"], kid["style"]
        assert kid["drop_in_stds"] == pytest.approx((photos - style) / photos_std, abs=0.051)
        assert f"{style:.3f}" in body
    assert "dev" in wider["kid"]


@pytest.mark.parametrize("name", STYLES)
def test_front_matter_licence_datasets_metrics_and_uses(name):
    meta, body, config = _card(name)
    assert meta["license"] == "apache-2.0" and "owners' terms" in meta["license_note"]
    assert meta["pipeline_tag"] == "image-to-image" and meta["library_name"] == "stylebridge"
    assert body.lstrip().startswith(f"# {name}:")
    # datasets: what the training run recorded, plus the corpus manifest's sources and hash
    recorded = [config["data"]["a"], config["data"]["b"]]
    assert [d["sha256"] for d in meta["datasets"]] == [r["hash"] for r in recorded]
    assert [d["images"] for d in meta["datasets"]] == [r["count"] for r in recorded]
    for dataset in meta["datasets"]:
        assert SHA256.fullmatch(dataset["manifest_sha256"])
        assert dataset["sources"] and all("@" in s for s in dataset["sources"])
        assert dataset["terms"]
    # metrics: the held-out numbers of config.json's card
    measured = config["card"]["metrics"]
    (result,) = meta["model-index"][0]["results"]
    for metric in result["metrics"]:
        which = "untranslated" if "untranslated" in metric["name"] else "translated"
        assert metric["value"] == pytest.approx(measured[which][metric["type"]], abs=1e-4)
    assert {m["type"] for m in result["metrics"]} == {"kid", "fid"}
    assert len(meta["intended_uses"]) >= 2 and len(meta["out_of_scope_uses"]) >= 3
    culture = name.removesuffix(zoo.LOOK_SUFFIX)
    assert all(culture.replace("_", " ") in u for u in meta["intended_uses"][:1])


@pytest.mark.parametrize("name", STYLES)
def test_card_shares_the_manifest_hash_of_the_corpus_it_names(name, cultures):
    meta, _, _ = _card(name)
    digest = hashlib.sha256((cultures / "MANIFEST.csv").read_bytes()).hexdigest()
    assert {d["manifest_sha256"] for d in meta["datasets"]} == {digest}
