"""The demo's contact sheet has no white bands and readable labels; its page shows what each
style does and does not do, from the model cards."""

from __future__ import annotations

import numpy as np
from PIL import Image

from stylebridge import api, zoo
from stylebridge.sheets import LABEL_PX, contact_sheet, html_page


def _ink_rows(region: np.ndarray) -> np.ndarray:
    return np.flatnonzero((region < 128).any(axis=(1, 2)))


def test_rows_are_as_tall_as_their_landscape_images():
    landscape = Image.new("RGB", (300, 200), (200, 40, 40))
    rows = [("coffee", [landscape, landscape]), ("rocket", [landscape, landscape])]
    sheet = contact_sheet(rows, ["input", "ukiyoe"], cell=150, pad=8)
    title_h = LABEL_PX + 2 * 8
    assert sheet.height == title_h + 2 * (100 + 8) + 8  # thumbnails 150x100: no 50 px bands
    pixels = np.asarray(sheet)
    column = pixels[:, -8 - 150 : -8]  # the last image column
    white = np.all(column == 255, axis=(1, 2))
    assert white[title_h : title_h + 100].sum() == 0  # the first row's image fills its band


def test_labels_are_readable_and_fit_their_column():
    image = Image.new("RGB", (200, 200), (40, 40, 200))
    sheet = contact_sheet([("Typography", [image])], ["input"], cell=120, pad=8)
    pixels = np.asarray(sheet)
    label_column = pixels[LABEL_PX + 16 :, : sheet.width - 120 - 8]
    ink = _ink_rows(label_column)
    assert ink.size and ink.max() - ink.min() >= 14  # ascender to descender: 14 px or more
    assert not (label_column[:, -4:] < 128).any()  # the label ends before the image column
    title = _ink_rows(pixels[: LABEL_PX + 16])
    assert title.max() - title.min() >= 12


def test_page_shows_each_columns_look_and_what_it_does_not_do(tmp_path):
    files = [tmp_path / "in.png", tmp_path / "out.png"]
    for f in files:
        Image.new("RGB", (8, 8)).save(f)
    page = html_page(
        tmp_path / "index.html",
        "demo",
        [("photo", files)],
        ["input", "ink"],
        column_notes={"ink": ("silk tones", "draw <brush> strokes")},
    ).read_text()
    assert "<p class='look'>silk tones</p>" in page
    assert "Does not: draw &lt;brush&gt; strokes" in page
    assert page.count("<img") == 2


def test_style_notes_come_from_the_card():
    look, does_not = api.style_notes("ukiyoe")
    card = zoo.describe("ukiyoe")
    assert look == card["look"]
    assert does_not and f"- Does not: {does_not}" in card["notes"]
