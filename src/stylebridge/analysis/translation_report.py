"""The translation report: translation.json, movement and example plots, a small index.html."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from .descriptors import DESCRIPTORS
from .plots import _save, plt
from .report import CSS, _img


def movement_plot(numbers: dict, path: Path) -> Path:
    """One bar per descriptor with a measurable gap: 0 = unchanged, 1 = reached the target."""
    rows = [(k, v) for k, v in numbers["descriptors"].items() if v["movement"] is not None]
    rows.sort(key=lambda kv: kv[1]["movement"])
    fig, ax = plt.subplots(figsize=(8, 0.3 * max(len(rows), 3) + 1.3))
    labels = [DESCRIPTORS[k].label if k in DESCRIPTORS else k for k, _ in rows]
    values = [v["movement"] for _, v in rows]
    colours = ["#2a7ab0" if 0 <= m <= 1.25 else "#c0504d" for m in values]
    ax.barh(labels, np.clip(values, -1.0, 2.0), color=colours)
    for x, style in ((0, "-"), (1, "--")):
        ax.axvline(x, color="0.3", lw=1, ls=style)
    ax.set_xlim(-1.05, 2.05)
    ax.set_xlabel("movement toward the target mean (0 = unchanged, 1 = reached; clipped to -1..2)")
    overall = numbers["overall_movement"]
    ax.set_title(f"Per-descriptor movement (all descriptors together: {overall:.2f})")
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def examples_plot(sources: list[str], outputs: list[str], path: Path, count: int = 6) -> Path:
    """Source above, translation below, for the first ``count`` images."""
    from ..imageio import load_image

    count = min(count, len(outputs))
    fig, axes = plt.subplots(2, count, figsize=(1.9 * count, 4.0), squeeze=False)
    for col in range(count):
        for row, file in enumerate((sources[col], outputs[col])):
            axes[row, col].imshow(np.asarray(load_image(file).rgb))
            axes[row, col].axis("off")
    axes[0, 0].set_title("source", loc="left", fontsize=9)
    axes[1, 0].set_title("translated", loc="left", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _table(numbers: dict) -> str:
    rows = []
    for name, v in sorted(
        numbers["descriptors"].items(),
        key=lambda kv: -abs(kv[1]["gap_cohens_d"]),
    ):
        label = DESCRIPTORS[name].label if name in DESCRIPTORS else name
        moved = "gap too small" if v["movement"] is None else f"{v['movement']:.2f}"
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{v['source']:.3g}</td><td>{v['output']:.3g}"
            f"</td><td>{v['target']:.3g}</td><td>{v['gap_cohens_d']:.2f}</td><td>{moved}</td></tr>"
        )
    head = "<tr><th>descriptor</th><th>source</th><th>translated</th><th>target</th>"
    head += "<th>gap (d)</th><th>movement</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _summary(numbers: dict) -> str:
    ci = numbers["overall_movement_ci95"]
    unrelated = numbers["edge_ssim_unrelated_pairs"]
    reference = f" (unrelated image pairs: {unrelated:.3f})" if unrelated is not None else ""
    return (
        f"<p>{numbers['images']['translated']} source images translated, compared with "
        f"{numbers['images']['target']} target images.</p>"
        f"<p>Verdict: <b>{html.escape(numbers['verdict'])}</b> "
        f"({html.escape(numbers['verdict_reason'])}).</p><ul>"
        f"<li>Movement toward the target over all descriptors: <b>{numbers['overall_movement']:.2f}"
        f"</b> [95% CI {ci[0]:.2f}, {ci[1]:.2f}]; median per descriptor "
        f"{numbers['median_movement']}.</li>"
        f"<li>Content kept (SSIM of edge maps, source vs translation): "
        f"<b>{numbers['edge_ssim']:.3f}</b>{reference}.</li>"
        f"<li>A source-vs-target classifier (cross-validated balanced accuracy "
        f"{numbers['classifier_balanced_accuracy']:.2f}) calls <b>"
        f"{100 * numbers['classified_as_target']:.0f}%</b> of the translations target.</li></ul>"
    )


def write_translation_report(numbers: dict, tables, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"stats": out / "translation.json"}
    atomic_write(files["stats"], json.dumps(numbers, indent=1).encode())
    files["movement"] = movement_plot(numbers, out / "movement.png")
    source, _, output = tables
    files["examples"] = examples_plot(source.files, output.files, out / "examples.png")
    body = (
        f"<h1>Translation effect: {html.escape(numbers['source'])} &rarr; "
        f"{html.escape(numbers['target'])}</h1>{_summary(numbers)}"
        f"{_img(files['examples'], 'examples')}{_img(files['movement'], 'movement')}"
        f"<h2>Every descriptor</h2>{_table(numbers)}"
        "<p class='note'>Movement = (translated mean - source mean) / (target mean - source "
        "mean), shown where |Cohen's d| between source and target is at least 0.5. "
        "See docs/analysis.md.</p>"
    )
    files["index"] = out / "index.html"
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>stylebridge translation "
        f"analysis</title><style>{CSS}</style></head><body>{body}</body></html>"
    )
    atomic_write(files["index"], page.encode("utf-8", "backslashreplace"))
    return files
