"""evaluate(): keys, labels, pairing by name, warnings, cache, batch-size independence."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import stylebridge
from stylebridge.errors import ConfigError, DataError
from stylebridge.metrics import (
    KEY_EXTRACTOR,
    KEY_FID,
    KEY_FID_CI_HIGH,
    KEY_FID_CI_LOW,
    KEY_KID,
    KEY_KID_STD,
    KEY_LABELS,
    KEY_MISSING_PAIRS,
    KEY_NUM_PAIRS,
    KEY_PSNR,
    KEY_SSIM,
    KEY_TIMING,
    KEY_WARNINGS,
    SetOptions,
    evaluate,
)

from .conftest import blobs, write_images

QUIET = SetOptions(fid_bootstrap=0)


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    rng = np.random.default_rng(0)
    real = write_images(root / "real", blobs(rng, 30, 40, hue=0))
    fake = write_images(root / "fake", blobs(rng, 30, 40, hue=2))
    real_again = write_images(root / "real_again", blobs(rng, 30, 40, hue=0))
    return real, fake, real_again


def test_keys_and_labels_name_the_extractor(two_sets):
    real, fake, _ = two_sets
    result = evaluate(real, fake, metrics="fid,kid,prdc", features="pixel", cache=False)
    for key in (
        KEY_FID,
        KEY_FID_CI_LOW,
        KEY_FID_CI_HIGH,
        KEY_KID,
        KEY_KID_STD,
        "precision",
        "recall",
        "density",
        "coverage",
    ):
        assert isinstance(result[key], float), key
    assert result[KEY_LABELS][KEY_FID] == "FID (pixel)"
    assert result[KEY_LABELS][KEY_KID] == "KID (pixel)"
    assert not any(
        label.split(" ")[0] == "FID" and "(" not in label for label in result[KEY_LABELS].values()
    )
    assert result[KEY_EXTRACTOR]["name"] == "pixel" and result[KEY_EXTRACTOR]["version"]
    assert result[KEY_FID_CI_LOW] <= result[KEY_FID] <= result[KEY_FID_CI_HIGH]
    assert "is" not in result  # only what was asked for


def test_same_distribution_scores_better_than_different(two_sets):
    real, fake, real_again = two_sets
    near = evaluate(real, real_again, metrics="fid,kid,prdc", features="pixel", options=QUIET)
    far = evaluate(real, fake, metrics="fid,kid,prdc", features="pixel", options=QUIET)
    assert near[KEY_FID] < far[KEY_FID] and near[KEY_KID] < far[KEY_KID]
    assert near["precision"] > far["precision"] and near["coverage"] > far["coverage"]


def test_top_level_api_is_the_same_function(two_sets):
    real, fake, _ = two_sets
    direct = evaluate(real, fake, metrics="kid", features="pixel", options=QUIET)
    via_api = stylebridge.evaluate(real, fake, metrics=["kid"], features="pixel", options=QUIET)
    assert direct[KEY_KID] == via_api[KEY_KID]


def test_results_do_not_depend_on_batch_size(two_sets):
    real, fake, _ = two_sets
    runs = [
        evaluate(
            real,
            fake,
            metrics="fid,kid",
            features="lite0",
            batch_size=b,
            max_images=4,
            cache=False,
            device="cpu",
            options=QUIET,
        )
        for b in (1, 3)
    ]
    assert runs[0][KEY_FID] == pytest.approx(runs[1][KEY_FID], rel=1e-5)
    assert runs[0][KEY_KID] == pytest.approx(runs[1][KEY_KID], rel=1e-4, abs=1e-7)


def test_small_sets_warn_about_fid_bias(two_sets):
    real, fake, _ = two_sets
    with pytest.warns(UserWarning, match="rank-deficient"):
        result = evaluate(
            real, fake, metrics="fid", features="lite0", max_images=8, device="cpu", options=QUIET
        )
    assert any("1280 feature dimensions" in w for w in result[KEY_WARNINGS])
    assert result["num_real"] == 8 and result[KEY_TIMING]["device"] == "cpu"


def test_cache_is_keyed_by_content(tmp_path, monkeypatch, two_sets):
    real, fake, _ = two_sets
    monkeypatch.setenv("STYLEBRIDGE_CACHE_DIR", str(tmp_path / "cache"))
    first = evaluate(real, fake, metrics="kid", features="pixel", options=QUIET)
    second = evaluate(real, fake, metrics="kid", features="pixel", options=QUIET)
    assert first[KEY_TIMING]["cached"] == {"real": False, "fake": False}
    assert second[KEY_TIMING]["cached"] == {"real": True, "fake": True}
    assert first[KEY_KID] == second[KEY_KID]
    files = sorted((tmp_path / "cache" / "features").iterdir())
    assert len(files) == 2 and all(f.name.startswith("pixel-") for f in files)
    assert not [f for f in files if f.name.startswith(".")]  # no temporary file left behind
    changed = tmp_path / "changed"
    changed.mkdir()
    for path in sorted(fake.iterdir()):
        (changed / path.name).write_bytes(path.read_bytes())
    Image.new("RGB", (40, 40), (255, 255, 255)).save(changed / "img_000.png")
    third = evaluate(real, changed, metrics="kid", features="pixel", options=QUIET)
    assert third[KEY_TIMING]["cached"] == {"real": True, "fake": False}
    assert third[KEY_KID] != first[KEY_KID]


def test_damaged_cache_file_is_recomputed(tmp_path, monkeypatch, two_sets):
    real, fake, _ = two_sets
    monkeypatch.setenv("STYLEBRIDGE_CACHE_DIR", str(tmp_path))
    first = evaluate(real, fake, metrics="kid", features="pixel", options=QUIET)
    for path in (tmp_path / "features").iterdir():
        path.write_bytes(b"garbage")
    again = evaluate(real, fake, metrics="kid", features="pixel", options=QUIET)
    assert again[KEY_KID] == first[KEY_KID] and not any(again[KEY_TIMING]["cached"].values())


def test_unreadable_files_are_skipped_and_reported(tmp_path, two_sets):
    real, _, _ = two_sets
    fake = write_images(tmp_path / "fake", blobs(np.random.default_rng(1), 10, 40, hue=1))
    (fake / "broken.png").write_bytes(b"\x89PNG not really")
    result = evaluate(real, fake, metrics="kid", features="pixel", options=QUIET, cache=False)
    assert result["num_fake"] == 10
    assert any("skipped 1 unreadable" in w and "broken.png" in w for w in result[KEY_WARNINGS])


def test_paired_metrics_match_by_name_and_list_missing(tmp_path):
    rng = np.random.default_rng(2)
    images = blobs(rng, 4, 48, hue=0)
    real = write_images(tmp_path / "real", images, names=["a", "b", "c", "d"])
    noisy = [np.clip(im + rng.normal(0, 10, im.shape), 0, 255).astype(np.uint8) for im in images]
    fake = write_images(tmp_path / "fake", noisy[:3], names=["a", "b", "x"], suffix=".jpg")
    Image.fromarray(noisy[3]).resize((60, 60)).save(fake / "c.png")  # other size: resized
    result = evaluate(real, fake, metrics="ssim,psnr")
    assert result[KEY_NUM_PAIRS] == 3  # a, b, c
    assert result[KEY_MISSING_PAIRS] == {"real_only": ["d"], "fake_only": ["x"]}
    assert 0 < result[KEY_SSIM] < 1 and 15 < result[KEY_PSNR] < 60
    assert any("resized" in w for w in result[KEY_WARNINGS])
    assert any("no partner" in w for w in result[KEY_WARNINGS])
    assert KEY_FID not in result and result[KEY_LABELS][KEY_SSIM].startswith("SSIM")


def test_clear_errors(tmp_path, two_sets):
    real, fake, _ = two_sets
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate(real, fake, metrics="fid,lpips")
    with pytest.raises(ConfigError, match="class logits"):
        evaluate(real, fake, metrics="is", features="pixel", options=QUIET)
    other = write_images(
        tmp_path / "other", blobs(np.random.default_rng(3), 2, 40, hue=1), names=["p", "q"]
    )
    with pytest.raises(DataError, match="no file names in common"):
        evaluate(real, other, metrics="ssim")
    with pytest.raises(DataError, match="not a folder"):
        evaluate(real, tmp_path / "missing", metrics="kid", features="pixel")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files"):
        evaluate(real, tmp_path / "empty", metrics="kid", features="pixel")
