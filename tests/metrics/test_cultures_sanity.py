"""On real data, two halves of the photo corpus are closer than photos and ukiyo-e prints."""

from __future__ import annotations

import pytest

from stylebridge.metrics import KEY_FID, KEY_KID, SetOptions, evaluate

COUNT = 36  # per set: small enough for 2 CPU cores, large enough to separate the cultures


@pytest.fixture(scope="module")
def halves(culture_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("photo_halves")
    photos = sorted((culture_dir / "photo").glob("*.jpg"))[: 2 * COUNT]
    for i, path in enumerate(photos):
        half = root / ("a" if i % 2 == 0 else "b")
        half.mkdir(exist_ok=True)
        (half / path.name).symlink_to(path)
    return root / "a", root / "b"


@pytest.mark.slow
def test_photo_halves_closer_than_photo_vs_ukiyoe(halves, culture_dir):
    a, b = halves
    options = SetOptions(fid_bootstrap=0)
    same = evaluate(a, b, metrics="fid,kid", device="cpu", options=options)
    other = evaluate(
        a,
        culture_dir / "ukiyoe",
        metrics="fid,kid",
        max_images=COUNT,
        device="cpu",
        options=options,
    )
    assert same["num_real"] == same["num_fake"] == other["num_fake"] == COUNT  # equal counts
    assert same[KEY_FID] < 0.7 * other[KEY_FID], (same[KEY_FID], other[KEY_FID])
    assert same[KEY_KID] < 0.5 * other[KEY_KID], (same[KEY_KID], other[KEY_KID])
    assert other["labels"][KEY_FID] == "FID (lite0)"
