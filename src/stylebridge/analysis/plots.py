"""The report's PNG figures (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.cluster.hierarchy import dendrogram, linkage  # noqa: E402
from scipy.spatial.distance import squareform  # noqa: E402
from skimage.color import lab2rgb  # noqa: E402

from ..fileio import atomic_write  # noqa: E402
from .descriptors import DESCRIPTORS  # noqa: E402

COLOURS = plt.get_cmap("tab10").colors
DPI = 110


def colour_of(index: int) -> tuple[float, float, float]:
    return COLOURS[index % len(COLOURS)]


def _save(fig, path: Path) -> Path:
    """Through the one atomic writer (the temporary name keeps the .png that picks the format)."""
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=DPI, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return path


def _words(name: str) -> str:
    return name.replace("_", " ")


def spread_picks(coords: np.ndarray, cells: int = 14) -> list[int]:
    """One image per occupied grid cell (the one nearest the cell centre): thumbnails that
    cover the whole map without piling up in its dense parts."""
    lo, span = coords.min(0), np.maximum(np.ptp(coords, axis=0), 1e-12)
    unit = (coords - lo) / span * (cells - 1e-9)
    cell = np.floor(unit).astype(int)
    offset = ((unit - cell - 0.5) ** 2).sum(1)
    best: dict[tuple[int, int], int] = {}
    for i, key in enumerate(map(tuple, cell)):
        if key not in best or offset[i] < offset[best[key]]:
            best[key] = i
    return sorted(best.values())


def map_with_thumbnails(
    coords: np.ndarray,
    labels: np.ndarray,
    cultures: list[str],
    thumbs: np.ndarray,
    title: str,
    path: Path,
    cells: int = 14,
) -> Path:
    """2-D map: every image a dot, one framed thumbnail per grid cell."""
    fig, ax = plt.subplots(figsize=(10, 8.5))
    span = np.ptp(coords, axis=0)
    span = np.where(span > 0, span, 1.0)
    half = span * 0.45 / cells
    for c, name in enumerate(cultures):
        rows = labels == c
        ax.scatter(*coords[rows].T, s=6, color=colour_of(c), alpha=0.6, label=_words(name))
    for i in spread_picks(coords, cells):
        x, y = coords[i]
        ax.imshow(thumbs[i], extent=(x - half[0], x + half[0], y - half[1], y + half[1]), zorder=3)
        frame = plt.Rectangle(
            (x - half[0], y - half[1]), 2 * half[0], 2 * half[1], fill=False, lw=1.8,
            edgecolor=colour_of(int(labels[i])), zorder=4,
        )  # fmt: skip
        ax.add_patch(frame)
    lo, hi = coords.min(0) - 1.2 * half, coords.max(0) + 1.2 * half
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("auto")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), markerscale=3, frameon=False)
    return _save(fig, path)


def _culture_palette(lab: np.ndarray, share: np.ndarray, k: int = 8, seed: int = 0):
    """Weighted k-means over all images' palette colours: (k Lab centres, k shares)."""
    points, weights = lab.reshape(-1, 3).astype(np.float64), share.ravel().astype(np.float64)
    rng = np.random.default_rng(seed)
    k = min(k, len(points))
    centres = points[rng.choice(len(points), k, replace=False, p=weights / weights.sum())]
    for _ in range(20):
        assign = ((points[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        for j in range(k):
            w = weights[assign == j]
            if w.sum() > 0:
                centres[j] = (points[assign == j] * w[:, None]).sum(0) / w.sum()
    shares = np.bincount(assign, weights=weights, minlength=k)
    order = np.argsort(centres[:, 0])  # dark to light reads like a swatch card
    return centres[order], shares[order] / shares.sum()


def palette_strips(
    lab: np.ndarray, share: np.ndarray, labels: np.ndarray, cultures: list[str], path: Path
) -> Path:
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(cultures) + 0.8))
    for row, _name in enumerate(cultures):
        rows = labels == row
        centres, shares = _culture_palette(lab[rows], share[rows])
        rgb = np.clip(lab2rgb(centres[None])[0], 0, 1)
        left = 0.0
        for colour, width in zip(rgb, shares, strict=True):
            ax.barh(row, width, left=left, color=colour, height=0.8, edgecolor="white", lw=0.5)
            left += width
        outline = plt.Rectangle((0, row - 0.4), 1, 0.8, fill=False, edgecolor="0.55", lw=0.8)
        ax.add_patch(outline)  # a white swatch must not read as a missing one
    ax.set_yticks(range(len(cultures)), [_words(c) for c in cultures])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of pixels (8 dominant CIELAB colours per culture, dark to light)")
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def violins(
    values: dict[str, np.ndarray], labels: np.ndarray, cultures: list[str], path: Path
) -> Path:
    """One panel per descriptor, one violin per culture, the mean marked."""
    names = list(values)
    cols = 3
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        data = [values[name][labels == c] for c in range(len(cultures))]
        parts = ax.violinplot(data, showmeans=True, showextrema=False)
        for c, body in enumerate(parts["bodies"]):
            body.set_facecolor(colour_of(c))
            body.set_alpha(0.6)
        info = DESCRIPTORS.get(name)
        ax.set_title(info.label if info else _words(name), fontsize=10)
        ax.set_xticks(range(1, len(cultures) + 1), [_words(c) for c in cultures], rotation=35,
                      ha="right", fontsize=8)  # fmt: skip
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    return _save(fig, path)


def distance_heatmap(
    distance: np.ndarray, p_values: np.ndarray, cultures: list[str], path: Path
) -> Path:
    """Energy distances ordered by an average-linkage dendrogram; cells show p after Holm."""
    fig = plt.figure(figsize=(10, 6.5))
    ax_tree = fig.add_axes((0.02, 0.1, 0.16, 0.75))
    ax_map = fig.add_axes((0.19, 0.1, 0.52, 0.75))
    tree = linkage(squareform(distance, checks=False), "average")
    order = dendrogram(tree, orientation="left", ax=ax_tree, no_labels=True,
                       color_threshold=0, above_threshold_color="0.3")["leaves"]  # fmt: skip
    ax_tree.axis("off")
    ordered = distance[np.ix_(order, order)]
    image = ax_map.imshow(ordered[::-1], cmap="magma_r", aspect="auto")
    names = [_words(cultures[i]) for i in order]
    ax_map.set_xticks(range(len(order)), names, rotation=35, ha="right")
    ax_map.set_yticks(range(len(order)), names[::-1])
    ax_map.yaxis.tick_right()
    high = ordered.max() or 1.0
    for r, i in enumerate(order[::-1]):
        for c, j in enumerate(order):
            if i == j:
                continue
            text = f"{distance[i, j]:.2f}\np={p_values[i, j]:.3f}"
            colour = "white" if distance[i, j] > 0.55 * high else "black"
            ax_map.text(c, r, text, ha="center", va="center", fontsize=7, color=colour)
    ax_bar = fig.add_axes((0.9, 0.1, 0.02, 0.75))
    fig.colorbar(image, cax=ax_bar, label="energy distance")
    ax_map.set_title("Distance between cultures (all descriptors, standardised)")
    return _save(fig, path)


def confusion(matrix: np.ndarray, cultures: list[str], accuracy: float, path: Path) -> Path:
    share = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = [_words(c) for c in cultures]
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{matrix[i, j]}", ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.5 else "black")  # fmt: skip
    ax.set_xlabel("predicted")
    ax.set_ylabel("true culture")
    ax.set_title(f"Cross-validated confusion (balanced accuracy {accuracy:.2f})")
    return _save(fig, path)


def importance_bars(importance: dict[str, float], path: Path, count: int = 12) -> Path:
    top = sorted(importance.items(), key=lambda kv: -kv[1])[:count][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(top) + 1))
    labels = [DESCRIPTORS[k].label if k in DESCRIPTORS else _words(k) for k, _ in top]
    ax.barh(labels, [v for _, v in top], color="0.35")
    ax.set_xlabel("drop in balanced accuracy when shuffled (permutation importance)")
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def typical_grid(
    thumbs: np.ndarray, picks: dict[str, tuple[list[int], list[int]]], path: Path
) -> Path:
    """Per culture: the most typical images (left), a gap, the most atypical (right)."""
    count = max(len(t) for t, _ in picks.values())
    cols = 2 * count + 1
    fig, axes = plt.subplots(len(picks), cols, figsize=(cols * 0.95, len(picks) * 1.15),
                             squeeze=False, gridspec_kw={"width_ratios": [1] * count + [0.35]
                                                         + [1] * count})  # fmt: skip
    for row, (name, (typical, atypical)) in enumerate(picks.items()):
        padded = typical + [-1] * (count - len(typical)) + [-1] + atypical
        for col, index in enumerate(padded):
            ax = axes[row, col]
            ax.axis("off")
            if index >= 0:
                ax.imshow(thumbs[index])
        axes[row, 0].set_title(_words(name), fontsize=9, loc="left")
    axes[0, 0].annotate("typical: nearest the culture centre", (0, 1.45), xycoords="axes fraction",
                        fontsize=9, weight="bold")  # fmt: skip
    axes[0, count + 1].annotate("atypical: farthest from it", (0, 1.45), xycoords="axes fraction",
                                fontsize=9, weight="bold")  # fmt: skip
    return _save(fig, path)
