"""Contact sheets and simple HTML pages of labelled images (demo, design variants)."""

from __future__ import annotations

import html
import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .imageio import save_image
from .models.files import atomic_write_bytes

LABEL_PX = 18  # label text height: readable when the sheet is shown at half size


def _fitted(image: Image.Image, cell: int) -> Image.Image:
    thumb = image.convert("RGB").copy()
    thumb.thumbnail((cell, cell), Image.Resampling.LANCZOS)
    return thumb


def contact_sheet(
    rows: list[tuple[str, list[Image.Image]]],
    columns: list[str],
    cell: int = 256,
    pad: int = 8,
) -> Image.Image:
    """Grid with column titles on top and a row label left of each row.

    Each row is as tall as its tallest image, so landscape photos leave no white bands, and the
    label column is as wide as the longest label.
    """
    font = ImageFont.load_default(size=LABEL_PX)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = pad + max((measure.textlength(label, font=font) for label, _ in rows), default=0)
    label_w = int(label_w) + pad
    title_h = LABEL_PX + 2 * pad
    thumbs = [[_fitted(image, cell) for image in images] for _, images in rows]
    heights = [max((t.height for t in row), default=cell) for row in thumbs]
    width = label_w + len(columns) * (cell + pad) + pad
    sheet = Image.new("RGB", (width, title_h + sum(h + pad for h in heights) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(columns):
        x = label_w + pad + c * (cell + pad) + cell // 2
        draw.text((x, title_h // 2), title, fill="black", font=font, anchor="mm")
    y = title_h
    for (label, _), row, height in zip(rows, thumbs, heights, strict=True):
        draw.text((pad, y + height // 2), label, fill="black", font=font, anchor="lm")
        for c, thumb in enumerate(row):
            x = label_w + pad + c * (cell + pad)
            sheet.paste(thumb, (x + (cell - thumb.width) // 2, y + (height - thumb.height) // 2))
        y += height + pad
    return sheet


PAGE_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1400px;margin:1.5em auto;padding:0 1em;"
    "color:#222}table{border-collapse:collapse}td,th{padding:4px;vertical-align:top}"
    "thead th{position:sticky;top:0;background:#fff;text-align:left;max-width:260px}"
    "tbody th{text-align:right;font-weight:normal;color:#555}img{max-width:256px;height:auto}"
    ".look{font-weight:normal;font-size:13px;margin:.3em 0}"
    ".caveat{font-weight:normal;font-size:13px;color:#8a4b00;margin:.3em 0}"
)


def html_page(
    path: Path,
    title: str,
    rows: list[tuple[str, list[Path]]],
    columns: list[str],
    notes: str = "",
    column_notes: dict[str, tuple[str, str]] | None = None,
) -> Path:
    """A self-contained page of image rows (images linked by relative path).

    ``column_notes`` maps a column title to (what it does, what it does not do), shown under
    the title: a model's look and its main caveat, from its card.
    """
    column_notes = column_notes or {}
    head = []
    for column in columns:
        look, does_not = column_notes.get(column, ("", ""))
        cell = f"<div>{html.escape(column)}</div>"
        cell += f"<p class='look'>{html.escape(look)}</p>" if look else ""
        cell += f"<p class='caveat'>Does not: {html.escape(does_not)}</p>" if does_not else ""
        head.append(f"<th>{cell}</th>")
    body = []
    for label, files in rows:
        cells = "".join(
            f'<td><img src="{html.escape(os.path.relpath(f, path.parent))}" '
            f'alt="{html.escape(label)}"></td>'
            for f in files
        )
        body.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    page = (
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{PAGE_CSS}</style>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(notes)}</p>"
        f"<table><thead><tr><th></th>{''.join(head)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    atomic_write_bytes(path, page.encode())
    return path


def save_sheet(sheet: Image.Image, path: Path, *, replace: bool = True) -> Path:
    return save_image(sheet, path, replace=replace)
