"""Privacy and provenance: faces obscured, metadata stripped, manifests with hashes and
licences, and the manifest hash recorded by training."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo
from skimage import data as skdata
from typer.testing import CliRunner

import stylebridge
from stylebridge.cli import app
from stylebridge.data.privacy import anonymize
from stylebridge.imageio import metadata_summary

from .conftest import TINY

runner = CliRunner()
FACE = (177, 67, 93, 93)  # the astronaut's face (x, y, w, h), as the frontal cascade finds it
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description creator="someone"/></x:xmpmeta>'


def _exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)}
    return exif


def _astronaut_jpeg(path: Path) -> np.ndarray:
    pixels = skdata.astronaut()
    Image.fromarray(pixels).save(path, quality=95, exif=_exif(), xmp=XMP, comment=b"at home")
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


def _box_change(a: np.ndarray, b: np.ndarray, box, inside: bool) -> float:
    x, y, w, h = box
    mask = np.zeros(a.shape[:2], bool)
    mask[y : y + h, x : x + w] = True
    diff = np.abs(a - b).mean(axis=2)
    return float(diff[mask if inside else ~mask].mean())


def test_anonymize_blurs_the_face_and_strips_metadata(tmp_path):
    source = tmp_path / "in" / "astronaut.jpg"
    source.parent.mkdir()
    before = _astronaut_jpeg(source)
    assert {"exif_tags", "gps_tags", "xmp", "comment"} <= set(metadata_summary(source))
    (source.parent / "broken.jpg").write_bytes(b"\xff\xd8 not really")

    result = runner.invoke(
        app, ["data", "anonymize", str(source.parent), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "1 face(s) found in 1 image(s)" in result.output
    assert "broken.jpg" in result.output  # one line for the bad file, the rest went on

    output = tmp_path / "out" / "astronaut.jpg"
    after = np.asarray(Image.open(output).convert("RGB")).astype(np.int16)
    # measured: 27.5 grey levels inside the face box, 0.4 outside (JPEG re-encoding only)
    assert _box_change(before, after, FACE, inside=True) > 15
    assert _box_change(before, after, (150, 40, 150, 150), inside=False) < 2
    assert metadata_summary(output) == {}
    reopened = Image.open(output)
    assert not reopened.getexif() and "xmp" not in reopened.info

    log = [json.loads(line) for line in (tmp_path / "out" / "anonymize_log.jsonl").open()]
    by_name = {Path(r["file"]).name: r for r in log}
    face = by_name["astronaut.jpg"]
    assert len(face["faces"]) == 1 and face["metadata_left"] == {}
    x, y, w, h = face["faces"][0]
    assert x <= FACE[0] and y <= FACE[1] and x + w >= FACE[0] + FACE[2]  # box grown by a margin
    assert face["metadata_removed"]["gps_tags"] == 4 and face["metadata_removed"]["xmp"]
    assert "not an image" in by_name["broken.jpg"]["error"] or by_name["broken.jpg"]["error"]


def test_pixelate_leaves_blocks_and_a_faceless_photo_untouched(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Author", "someone")
    sideways = np.ascontiguousarray(np.rot90(skdata.astronaut()))  # EXIF orientation 6 shows
    Image.fromarray(sideways).save(
        folder / "astronaut.png", pnginfo=info, exif=_exif(6)
    )  # it upright
    Image.fromarray(skdata.coffee()).save(folder / "coffee.png", pnginfo=info)
    records = {
        Path(r.file).name: r for r in anonymize([folder], tmp_path / "out", method="pixelate")
    }

    astronaut = records["astronaut.png"]
    out = np.asarray(Image.open(tmp_path / "out" / "astronaut.png"))
    # the face was found upright (the cascade misses sideways faces) and is written upright
    assert len(astronaut.faces) == 1
    x, y, w, h = astronaut.faces[0]
    assert abs(x + w / 2 - (FACE[0] + FACE[2] / 2)) < 10 and abs(y + h / 2 - (FACE[1] + 46)) < 10
    assert np.abs(out[400:].astype(int) - skdata.astronaut()[400:]).max() == 0
    face = out[y : y + h, x : x + w].astype(np.int16)
    # pixelated: 8 blocks across, so most neighbouring pixels are equal
    assert (np.abs(np.diff(face, axis=1)).sum(axis=2) == 0).mean() > 0.8
    assert metadata_summary(tmp_path / "out" / "astronaut.png") == {}

    coffee = records["coffee.png"]
    assert coffee.faces == [] and coffee.metadata_removed == {"xmp": True, "text": ["Author"]}
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "coffee.png")), skdata.coffee())


def _image(path: Path, size=(20, 12), seed=0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_manifest_hashes_and_provenance(tmp_path):
    corpus = tmp_path / "corpus"
    plain = _image(corpus / "plain.png", seed=1)
    museum = _image(corpus / "museum" / "print.png", (16, 24), seed=2)
    (corpus / "museum" / "SOURCE").write_text(
        "source: Museum of Prints, open access\nlicence: CC0\n"
    )
    special = _image(corpus / "museum" / "deep" / "scan.png", seed=3)
    (corpus / "museum" / "deep" / "scan.png.json").write_text(
        json.dumps({"source": "donor scan", "license": "CC-BY-4.0"})
    )
    (corpus / "museum" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "manifest.csv"
    result = runner.invoke(
        app, ["data", "manifest", str(corpus), "-o", str(out), "--licence", "unknown"]
    )
    assert result.exit_code == 0, result.output
    assert "3 image(s), 1 unreadable skipped, 1 without source or licence" in result.output
    rows = {row["file"]: row for row in csv.DictReader(out.open())}
    assert set(rows) == {
        "corpus/plain.png",
        "corpus/museum/print.png",
        "corpus/museum/deep/scan.png",
    }
    row = rows["corpus/museum/print.png"]
    assert row["sha256"] == hashlib.sha256(museum.read_bytes()).hexdigest()
    assert (row["size"], row["width"], row["height"]) == (str(museum.stat().st_size), "16", "24")
    assert (row["source"], row["licence"]) == ("Museum of Prints, open access", "CC0")
    deep = rows["corpus/museum/deep/scan.png"]
    assert (deep["source"], deep["licence"]) == ("donor scan", "CC-BY-4.0")  # sidecar wins
    assert (rows["corpus/plain.png"]["source"], rows["corpus/plain.png"]["licence"]) == (
        "",
        "unknown",
    )
    assert plain.exists() and special.exists()


def test_training_records_the_manifest_hash(tmp_path, domains):
    red = tmp_path / "red"
    red.mkdir()
    for path in sorted(domains[0].iterdir())[:6]:
        (red / path.name).write_bytes(path.read_bytes())
    result = runner.invoke(app, ["data", "manifest", str(red), "--licence", "CC0"])
    assert result.exit_code == 0, result.output
    manifest = red / "manifest.csv"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = stylebridge.train(
            "cyclegan",
            domain_a=str(red),
            domain_b=str(domains[1]),
            out=str(tmp_path / "run"),
            size=32,
            steps=1,
            overrides=TINY,
        )
    finally:
        torch.set_num_threads(threads)
    recorded = json.loads((run / "config.json").read_text())["data"]["manifests"]
    assert recorded == [
        {
            "path": str(manifest),
            "sha256": hashlib.sha256(manifest.read_bytes()).hexdigest(),
            "rows": 6,
        }
    ]


def test_unknown_method_is_refused(tmp_path):
    with pytest.raises(stylebridge.errors.ConfigError, match="blur or pixelate"):
        anonymize([tmp_path], tmp_path / "out", method="smudge")
