"""The report folder: features.parquet, stats.json, PNG plots and a self-contained index.html."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from . import plots
from .descriptors import DESCRIPTOR_NAMES, DESCRIPTORS, HUE_MEAN, ORIENTATION_BINS
from .extract import SCALARS, Progress
from .interactive_map import MAP_CSS, map_html

CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0} td,th{border:1px solid #ddd;
padding:3px 7px;text-align:right} th{background:#f3f3f3} td:first-child{text-align:left}
img.plot{max-width:100%;border:1px solid #eee;margin:.4em 0} .warn{color:#8a4b00}
li{margin:.25em 0} .note{color:#555;font-size:13px}
"""


def features_frame(analysis):
    """One row per usable image, values that mean the same in every run: file, culture,
    source, every descriptor, palette, and the learned statistics in the shipped style space."""
    import pandas as pd

    table = analysis.table
    frame = pd.DataFrame({"file": table.files, "culture": table.labels, "sha256": table.digests})
    if analysis.sources:
        frame["source"] = analysis.sources
    frame["width"], frame["height"] = table.sizes[:, 0], table.sizes[:, 1]
    frame["grayscale"] = table.grayscale
    for j, name in enumerate(SCALARS):
        frame[name] = table.scalars[:, j]
    for b in range(ORIENTATION_BINS):
        frame[f"orientation_bin{b}_{b * 180 // ORIENTATION_BINS}deg"] = table.orientation[:, b]
    for k in range(table.palette_lab.shape[1]):
        for c, axis in enumerate("Lab"):
            frame[f"palette{k + 1}_{axis}"] = table.palette_lab[:, k, c]
        frame[f"palette{k + 1}_share"] = table.palette_share[:, k]
    n_desc = len(DESCRIPTOR_NAMES)  # the shipped spaces' components follow the descriptors
    for j, name in enumerate(analysis.feature_names[n_desc:], start=n_desc):
        frame[name] = analysis.features[:, j]
    return frame


def coordinates_frame(analysis):
    """Quantities fitted on this run (map axes, distance to this run's culture centres, the
    reference run's verdict): they do not compare between runs, so they live apart."""
    import pandas as pd

    frame = pd.DataFrame({"file": analysis.table.files, "culture": analysis.table.labels})
    compared = np.flatnonzero(analysis.labels >= 0)
    for key, coords in analysis.maps.items():
        for axis in (0, 1):
            column = np.full(len(frame), np.nan)
            column[compared] = coords[:, axis]
            frame[f"map_{key}_{'xy'[axis]}"] = column
    if analysis.centre_distance is not None:
        frame["distance_to_culture_centre"] = analysis.centre_distance
    coords = getattr(analysis, "reference_coords", None)
    if coords is not None:
        frame["reference_pca_x"], frame["reference_pca_y"] = coords[:, 0], coords[:, 1]
        frame["reference_predicted"] = analysis.reference_predicted
    return frame


def _top_descriptors(numbers: dict, count: int = 6) -> list[str]:
    """Descriptors with the largest mean rank effect over all pairs, the best of each group
    first, so the violins show colour, tone, composition, line and texture side by side."""
    pairs = numbers.get("pairs", [])
    if not pairs:
        return ["negative_space", "saturation", "contrast", "edge_density"]
    mean = {
        name: float(np.mean([abs(p["effects"][name]["cliffs_delta"]) for p in pairs]))
        for name in pairs[0]["effects"]
    }
    ranked = sorted(mean, key=lambda n: -mean[n])
    chosen, groups = [], set()
    for name in ranked:
        group = DESCRIPTORS[name].group
        if group not in groups:
            chosen.append(name)
            groups.add(group)
    chosen += [n for n in ranked if n not in chosen]
    return chosen[:count]


def _typical_picks(analysis) -> dict[str, tuple[list[int], list[int]]]:
    picks = {}
    for c, name in enumerate(analysis.cultures):
        rows = np.flatnonzero(analysis.labels == c)
        order = rows[np.argsort(analysis.centre_distance[rows])]
        picks[name] = (order[:5].tolist(), order[::-1][:5].tolist())
    return picks


def write_plots(analysis, numbers: dict, out: Path) -> dict[str, Path]:
    table, labels, cultures = analysis.table, analysis.labels, analysis.cultures
    compared = labels >= 0
    made: dict[str, Path] = {}
    titles = {
        "pca": "PCA of all descriptors (standardised)",
        "umap": "UMAP of all descriptors (standardised)",
    }
    for key, coords in analysis.maps.items():
        made[f"map_{key}"] = plots.map_with_thumbnails(
            coords,
            labels[compared],
            cultures,
            table.thumbs[compared],
            titles[key],
            out / f"map_{key}.png",
        )
    if not cultures:
        return made
    made["palettes"] = plots.palette_strips(
        table.palette_lab, table.palette_share, labels, cultures, out / "palettes.png"
    )
    values = {n: table.column(n) for n in _top_descriptors(numbers)}
    made["violins"] = plots.violins(values, labels, cultures, out / "violins.png")
    if "pairs" in numbers:
        distance, p_holm = np.array(numbers["distance_matrix"]), np.array(numbers["p_holm_matrix"])
        made["distances"] = plots.distance_heatmap(
            distance, p_holm, cultures, out / "distances.png"
        )
        fit = analysis.fit
        made["confusion"] = plots.confusion(
            fit.confusion, cultures, fit.balanced_accuracy, out / "confusion.png"
        )
        made["importance"] = plots.importance_bars(fit.importance, out / "importance.png")
        made["typical"] = plots.typical_grid(
            table.thumbs, _typical_picks(analysis), out / "typical.png"
        )
    return made


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _interval_table(numbers: dict, names: list[str]) -> str:
    cultures = list(numbers["cultures"])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cultures)
    rows = []
    for name in names:
        label = DESCRIPTORS[name].label if name in DESCRIPTORS else name
        cells = []
        for c in cultures:
            d = numbers["cultures"][c]["descriptors"][name]
            cells.append(
                f"<td>{d['mean']:.3g} <small>[{d['ci95'][0]:.3g}, {d['ci95'][1]:.3g}]</small></td>"
            )
        rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>descriptor: mean [95% CI]</th>{head}</tr>{''.join(rows)}</table>"


def _claim_items(pair: dict) -> str:
    verdicts = [v["verdict"] for v in pair.get("claims_by_source", [])]
    verdicts += [""] * (len(pair["claims"]) - len(verdicts))
    return "".join(
        f"<li>{html.escape(c)}" + (f" <b>[{html.escape(v)}]</b>" if v else "") + "</li>"
        for c, v in zip(pair["claims"], verdicts, strict=True)
    )


def _sources_section(numbers: dict) -> list[str]:
    found = numbers.get("sources")
    if not found:
        return []
    rows = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{len(s)}</td><td>"
        + html.escape(", ".join(f"{k} ({n})" for k, n in s.items()))
        + "</td></tr>"
        for c, s in found["per_culture"].items()
    )
    parts = [
        "<h2>Sources</h2>",
        f"<table><tr><th>culture</th><th>sources</th><th>images per source</th></tr>{rows}</table>",
    ]
    loso = found.get("leave_one_source_out")
    if loso:
        parts.append(
            f"<p>Leave-one-source-out balanced accuracy <b>{loso['balanced_accuracy']:.3f}</b> "
            f"({', '.join(loso['cultures'])}: each source predicted by a classifier that never "
            f"saw it), against {loso['mixed_source_cv_balanced_accuracy']:.3f} when the "
            "cross-validation folds mix sources.</p>"
        )
    flagged = found.get("collection_artefacts", [])
    if flagged:
        parts.append(
            "<p class='warn'>Collection artefacts (separate two sources of one culture more "
            "than they separate cultures; Cliff's delta): "
            + html.escape(
                "; ".join(
                    f"{a['descriptor']} {a['between_sources']:.2f} ({a['sources']}) vs "
                    f"{a['between_cultures']:.2f}"
                    for a in flagged
                )
            )
            + "</p>"
        )
    return parts


def _reference_section(numbers: dict) -> list[str]:
    ref = numbers.get("reference")
    if not ref:
        return []
    shares = "; ".join(
        f"{c}: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in s.items())
        for c, s in ref["predicted_shares"].items()
    )
    parts = [
        "<h2>Placed in the reference run</h2>",
        f"<p>Reference: {html.escape(ref['folder'])} ({ref['images']} images, cultures "
        f"{html.escape(', '.join(ref['cultures']))}). Its classifier calls these images: "
        f"{html.escape(shares)}.</p>",
    ]
    if "balanced_accuracy" in ref:
        parts.append(
            f"<p>Trained on the reference, tested here ({', '.join(ref['shared_cultures'])}): "
            f"balanced accuracy <b>{ref['balanced_accuracy']:.3f}</b> (recall "
            + html.escape(", ".join(f"{c} {v:.2f}" for c, v in ref["recall"].items()))
            + ").</p>"
        )
    among = ref.get("among_shared")
    if among:
        parts.append(
            f"<p>The same classifier refitted on the shared cultures only, so that it chooses "
            f"among {', '.join(ref['shared_cultures'])}: balanced accuracy "
            f"<b>{among['balanced_accuracy']:.3f}</b> (recall "
            + html.escape(", ".join(f"{c} {v:.2f}" for c, v in among["recall"].items()))
            + ").</p>"
        )
    return parts


def _pairs_section(numbers: dict) -> str:
    items = []
    for pair in sorted(numbers.get("pairs", []), key=lambda r: -r["energy_distance"]):
        claims = _claim_items(pair)
        items.append(
            f"<h3>{html.escape(pair['a'])} vs {html.escape(pair['b'])}: energy distance "
            f"{pair['energy_distance']:.3f}, permutation p = {pair['p_value']:.3g} "
            f"(Holm {pair['p_holm']:.3g})</h3><ul>{claims}</ul>"
        )
    return "".join(items)


def _separability_text(numbers: dict) -> str:
    s = numbers["separability"]
    return (
        f"<p>Linear discriminant analysis (shrinkage) on all descriptors, {s['folds']}-fold "
        "stratified "
        f"cross-validation: <b>balanced accuracy {s['balanced_accuracy']:.3f}</b>; with shuffled "
        f"labels ({s['permutations']} permutations) {s['permutation_baseline_mean']:.3f} on "
        f"average, at most {s['permutation_baseline_max']:.3f} (chance {s['chance']:.3f}; "
        f"p = {s['p_value']:.3g}). Clustering without labels (k-means) agrees with the "
        f"cultures at adjusted Rand index {numbers['clustering_ari']:.3f}.</p>"
    )


def index_html(analysis, numbers: dict, made: dict[str, Path]) -> str:
    parts = [f"<h1>Style analysis of {len(analysis.table)} images</h1>"]
    counts = ", ".join(f"{c} {numbers['cultures'][c]['count']}" for c in numbers["cultures"])
    parts.append(f"<p>Cultures compared: {html.escape(counts) or 'none'}.</p>")
    if numbers["warnings"]:
        shown = numbers["warnings"][:30]
        more = len(numbers["warnings"]) - len(shown)
        parts.append(
            "<ul class='warn'>"
            + "".join(f"<li>{html.escape(w)}</li>" for w in shown)
            + (f"<li>... and {more} more (stats.json)</li>" if more else "")
            + "</ul>"
        )
    parts += _reference_section(numbers)
    if "pairs" in numbers:
        parts += ["<h2>Separability</h2>", _separability_text(numbers)]
        parts += [_img(made[k], k) for k in ("confusion", "importance") if k in made]
        parts += _sources_section(numbers)
        parts += ["<h2>How the cultures differ</h2>", _pairs_section(numbers)]
        parts.append(_img(made["distances"], "distances"))
    if analysis.maps:
        parts.append("<h2>Interactive map</h2>")
        compared = analysis.labels >= 0
        names = [
            Path(f).name for f, keep in zip(analysis.table.files, compared, strict=True) if keep
        ]
        colours = [
            "#{:02x}{:02x}{:02x}".format(*tuple(int(255 * v) for v in plots.colour_of(i)))
            for i in range(len(analysis.cultures))
        ]
        parts.append(
            map_html(
                analysis.maps,
                analysis.labels[compared],
                analysis.cultures,
                names,
                analysis.table.thumbs[compared],
                colours,
            )
        )
        parts += [_img(made[k], k) for k in ("map_umap", "map_pca") if k in made]
    for key, title in (
        ("palettes", "Palettes"),
        ("violins", "Distributions of the top descriptors"),
        ("typical", "Typical and atypical images"),
    ):
        if key in made:
            parts += [f"<h2>{title}</h2>", _img(made[key], key)]
    if numbers["cultures"]:
        parts += [
            "<h2>Every descriptor per culture</h2>",
            _interval_table(numbers, analysis.feature_names),
        ]
    parts.append(
        "<p class='note'>Descriptors are explained in docs/analysis.md. Numbers: "
        "stats.json; per-image values: features.parquet.</p>"
    )
    body = "\n".join(parts)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>stylebridge analysis"
        f"</title><style>{CSS}{MAP_CSS}</style></head><body>{body}</body></html>"
    )


def write_report(
    analysis, numbers: dict, out: Path, progress: Progress
) -> tuple[Path, dict[str, Path]]:
    """Write every file of the report; returns the folder and the files by name."""
    out.mkdir(parents=True, exist_ok=True)
    progress("write report", 0, 3)
    for name, frame in (("features", features_frame), ("coordinates", coordinates_frame)):
        table = frame(analysis)
        atomic_write(out / f"{name}.parquet", lambda tmp, t=table: t.to_parquet(tmp, index=False))
    numbers["descriptors_left_out_of_statistics"] = [HUE_MEAN]
    atomic_write(out / "stats.json", json.dumps(numbers, indent=1).encode())
    progress("write report", 1, 3)
    made = write_plots(analysis, numbers, out)
    progress("write report", 2, 3)
    page = index_html(analysis, numbers, made)  # a file name that is not UTF-8 stays readable
    atomic_write(out / "index.html", page.encode("utf-8", "backslashreplace"))
    progress("write report", 3, 3)
    files = {"index": out / "index.html", "stats": out / "stats.json"}
    files["features"] = out / "features.parquet"
    files["coordinates"] = out / "coordinates.parquet"
    return out, {**files, **made}
