"""Contact sheets and simple HTML pages of labelled images (demo, design variants)."""

from __future__ import annotations

import html
import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .imageio import save_image
from .models.files import atomic_write_bytes


def contact_sheet(
    rows: list[tuple[str, list[Image.Image]]],
    columns: list[str],
    cell: int = 256,
    pad: int = 8,
    label_h: int = 22,
) -> Image.Image:
    """Grid with column titles on top and a row label left of each row."""
    font = ImageFont.load_default()
    label_w = 110
    width = label_w + len(columns) * (cell + pad) + pad
    height = label_h + len(rows) * (cell + pad) + pad
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(columns):
        draw.text((label_w + pad + c * (cell + pad), 4), title, fill="black", font=font)
    for r, (label, images) in enumerate(rows):
        y = label_h + r * (cell + pad)
        draw.text((6, y + cell // 2), label, fill="black", font=font)
        for c, image in enumerate(images):
            thumb = image.convert("RGB").copy()
            thumb.thumbnail((cell, cell), Image.Resampling.LANCZOS)
            x = label_w + pad + c * (cell + pad)
            sheet.paste(thumb, (x + (cell - thumb.width) // 2, y + (cell - thumb.height) // 2))
    return sheet


def html_page(
    path: Path, title: str, rows: list[tuple[str, list[Path]]], columns: list[str], notes: str = ""
) -> Path:
    """A self-contained page of image rows (images linked by relative path)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for label, files in rows:
        cells = "".join(
            f'<td><img src="{html.escape(os.path.relpath(f, path.parent))}" width="256"></td>'
            for f in files
        )
        body.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    page = (
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif}td,th{padding:4px;text-align:center}</style>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(notes)}</p>"
        f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"
    )
    atomic_write_bytes(path, page.encode())
    return path


def save_sheet(sheet: Image.Image, path: Path) -> Path:
    return save_image(sheet, path)
