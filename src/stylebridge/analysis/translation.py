"""What a style translation changed: stylize source images with a model, then measure per
descriptor how far the outputs moved from the source culture toward the target culture, how much
of the content's edges survived, and whether a classifier now takes the outputs for the target.

Movement of a descriptor is ``(mean_out - mean_source) / (mean_target - mean_source)``: 0 means
unchanged, 1 means the outputs reached the target mean; below 0 they moved away, above 1 they
overshot. It is only reported where source and target clearly differ (|Cohen's d| >= 0.5),
since a ratio over a gap of nothing is noise.

The verdict keeps palette and structure apart, so a colour filter cannot pass as a style:
movement is measured separately over palette (the colour descriptors) and over structure
(strokes and outlines, edges, texture, empty space), and structure descriptors that moved away
from the target are named.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from ..data.files import list_images
from ..errors import DataError, ImageError
from ..imageio import load_image, save_image
from ..metrics import ssim
from . import descriptors as desc
from . import separability as sep
from . import stats
from .extract import FeatureTable, Progress, extract

MIN_GAP_D = 0.5  # |Cohen's d| between source and target below which movement is not defined
EDGE_SIDE = 256
PALETTE = tuple(n for n, d in desc.DESCRIPTORS.items() if d.group == "colour")
# a culture's visual language beyond colour; placement (mass, thirds, symmetry, aspect) is the
# content's and stays out
STRUCTURE = (
    *(n for n, d in desc.DESCRIPTORS.items() if d.group in ("line", "texture")),
    "negative_space",
)
STYLE_STRUCTURE, STYLE_CLASSIFIED = 0.5, 0.7  # what a translation must reach to be "style"
WRONG_WAY = -0.25  # a structure descriptor that moved this far away from the target


def edge_map(rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Sobel gradient magnitude of the luminance at the analysis size (values about 0..0.7)."""
    img = desc.shrink(rgb, EDGE_SIDE)
    if size is not None and img.shape[:2] != size:
        pil = Image.fromarray((img * 255).astype(np.uint8))
        img = np.asarray(pil.resize(size[::-1], Image.Resampling.BOX), np.float32) / 255.0
    lum = desc.luminance(img)
    return np.hypot(ndimage.sobel(lum, 1), ndimage.sobel(lum, 0)) / 8.0


def edge_ssim(source: np.ndarray, output: np.ndarray) -> float:
    """SSIM of the two images' edge maps: 1 = every contour kept in place, ~0 = unrelated.

    The data range is the strongest edge of the pair, so soft images are not scored as
    similar just because both their edge maps are faint.
    """
    a = edge_map(source)
    b = edge_map(output, a.shape)
    peak = max(float(a.max()), float(b.max()), 1e-3)
    return ssim(a[..., None], b[..., None], data_range=peak)


@dataclass
class Movement:
    descriptor: str
    source: float
    target: float
    output: float
    gap_d: float  # Cohen's d of target vs source
    movement: float | None  # None where the gap is too small to measure movement


def movements(src: np.ndarray, tgt: np.ndarray, out: np.ndarray, names) -> list[Movement]:
    """Per-descriptor movement of the outputs' mean from the source mean toward the target's."""
    gap = stats.cohens_d(tgt, src)
    rows = []
    for j, name in enumerate(names):
        ms, mt, mo = float(src[:, j].mean()), float(tgt[:, j].mean()), float(out[:, j].mean())
        moved = (mo - ms) / (mt - ms) if abs(gap[j]) >= MIN_GAP_D else None
        rows.append(Movement(name, ms, mt, mo, float(gap[j]), moved))
    return rows


def projection(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """How far the mean of rows ``c`` moved from the mean of ``a`` toward the mean of ``b``:
    0 = at ``a``, 1 = at ``b`` (the shift projected onto the a -> b direction)."""
    direction = b.mean(0) - a.mean(0)
    return float((c.mean(0) - a.mean(0)) @ direction / max(direction @ direction, 1e-12))


def overall_movement(
    src: np.ndarray, tgt: np.ndarray, out: np.ndarray, n_boot: int = 500, seed: int = 0
) -> tuple[float, float, float]:
    """Projection of the outputs' mean shift onto the source->target direction (standardised
    by the source+target spread), with a bootstrap 95% interval over images."""
    pooled = np.vstack([src, tgt])
    scale = np.where(pooled.std(0) > 1e-12, pooled.std(0), 1.0)
    s, t, o = src / scale, tgt / scale, out / scale
    rng = np.random.default_rng(seed)
    boots = [
        projection(*(x[rng.integers(0, len(x), len(x))] for x in (s, t, o))) for _ in range(n_boot)
    ]
    low, high = np.percentile(boots, [2.5, 97.5])
    return projection(s, t, o), float(low), float(high)


def part_movement(
    src: np.ndarray, tgt: np.ndarray, out: np.ndarray, rows: list[Movement], part: tuple[str, ...]
) -> tuple[float, float, float] | None:
    """``overall_movement`` over the descriptors of ``part`` where source and target differ
    (the ``movements`` rows with a movement); None when they differ in none of them."""
    columns = [j for j, r in enumerate(rows) if r.descriptor in part and r.movement is not None]
    if not columns:
        return None
    return overall_movement(src[:, columns], tgt[:, columns], out[:, columns], n_boot=200)


def style_verdict(
    palette: float | None, structure: float | None, classified: float, wrong_way: list[str]
) -> tuple[str, str]:
    """(verdict, reason): style, partial style, palette shift or little change."""
    moved = f"structure moved {structure:.2f}" if structure is not None else ""
    colours = f"palette {palette:.2f}" if palette is not None else "palette not measurable"
    away = f"; away from the target: {', '.join(wrong_way)}" if wrong_way else ""
    if structure is None:
        return "not measurable", (
            "source and target do not differ in strokes, edges, texture or empty space"
        )
    if structure >= STYLE_STRUCTURE and classified >= STYLE_CLASSIFIED and not wrong_way:
        return "style", f"{moved}, {colours}, {100 * classified:.0f}% called the target"
    if palette is not None and palette >= 0.5 and structure < 0.25:
        return "palette shift", (
            f"a filter: {colours} of the way but {moved} (strokes, edges, texture, empty "
            f"space){away}"
        )
    if structure >= 0.25:
        return (
            "partial style",
            f"{moved}, {colours}, {100 * classified:.0f}% called the target{away}",
        )
    return "little change", f"{moved}, {colours}{away}"


def target_verdict(
    src: np.ndarray, tgt: np.ndarray, out: np.ndarray, seed: int = 0
) -> tuple[float, float]:
    """(share of outputs a source-vs-target classifier calls target, its own CV balanced
    accuracy on real source/target images)."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = np.vstack([src, tgt])
    y = np.r_[np.zeros(len(src), int), np.ones(len(tgt), int)]
    folds = max(2, min(5, len(src), len(tgt)))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    accuracy = balanced_accuracy_score(y, cross_val_predict(sep.classifier(), x, y, cv=cv))
    model = sep.classifier().fit(x, y)
    return float((model.predict(out) == 1).mean()), float(accuracy)


def _sample(folder: Path, count: int, seed: int) -> list[Path]:
    files = list_images(folder)
    if not files:
        raise DataError(f"{folder}: folder holds no image files")
    if len(files) > count:
        picks = np.random.default_rng(seed).choice(len(files), count, replace=False)
        files = [files[i] for i in sorted(picks)]
    return files


@dataclass
class Translated:
    sources: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    edge_ssim: list[float] = field(default_factory=list)
    unrelated_ssim: list[float] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def stylize_sources(
    stylizer, files: list[Path], out: Path, options: dict, progress: Progress
) -> Translated:
    """Translate each source file into ``out``; a bad file is noted and skipped."""
    done = Translated()
    previous: np.ndarray | None = None
    for i, path in enumerate(files, 1):
        try:
            rgb = np.asarray(load_image(path).rgb)
            result = np.asarray(stylizer.stylize(rgb, **options).convert("RGB"))
        except ImageError as err:
            done.failures.append((str(path), err.problem))
            continue
        target = save_image(Image.fromarray(result), out / f"{i:05d}_{path.stem}.png")
        done.sources.append(str(path))
        done.outputs.append(str(target))
        done.edge_ssim.append(edge_ssim(rgb, result))
        if previous is not None:  # reference: contours of an unrelated image
            done.unrelated_ssim.append(edge_ssim(previous, result))
        previous = rgb
        progress("stylize sources", i, len(files))
    return done


def descriptor_matrix(table: FeatureTable) -> np.ndarray:
    return np.stack([table.column(n) for n in desc.DESCRIPTOR_NAMES], 1).astype(np.float64)


def _learned(src: FeatureTable, tgt: FeatureTable, out: FeatureTable, count: int = 10):
    """Learned style statistics -> PCs fitted on source+target, applied to all three."""
    from sklearn.decomposition import PCA

    real = np.vstack([src.learned, tgt.learned]).astype(np.float64)
    mean, std = real.mean(0), real.std(0)
    std = np.where(std > 1e-12, std, 1.0)
    pca = PCA(max(1, min(count, len(real) - 1)), random_state=0).fit((real - mean) / std)
    return [pca.transform((t.learned.astype(np.float64) - mean) / std) for t in (src, tgt, out)]


def measure(src: FeatureTable, tgt: FeatureTable, out: FeatureTable, seed: int = 0) -> dict:
    """All translation numbers from three feature tables (source, target, outputs)."""
    names = list(desc.DESCRIPTOR_NAMES)
    s, t, o = (descriptor_matrix(x) for x in (src, tgt, out))
    rows = movements(s, t, o, names)
    moved, low, high = overall_movement(s, t, o, seed=seed)
    ls, lt, lo = _learned(src, tgt, out)
    share, accuracy = target_verdict(np.hstack([s, ls]), np.hstack([t, lt]), np.hstack([o, lo]))
    measured = [r for r in rows if r.movement is not None]
    palette = part_movement(s, t, o, rows, PALETTE)
    structure = part_movement(s, t, o, rows, STRUCTURE)
    wrong_way = [
        desc.DESCRIPTORS[r.descriptor].phrase
        for r in measured
        if r.descriptor in STRUCTURE and r.movement < WRONG_WAY
    ]
    verdict, reason = style_verdict(
        None if palette is None else palette[0],
        None if structure is None else structure[0],
        share,
        wrong_way,
    )
    return {
        "verdict": verdict,
        "verdict_reason": reason,
        "palette_movement": None if palette is None else round(palette[0], 4),
        "structure_movement": None if structure is None else round(structure[0], 4),
        "structure_movement_ci95": None
        if structure is None
        else [round(structure[1], 4), round(structure[2], 4)],
        "structure_wrong_way": wrong_way,
        "overall_movement": round(moved, 4),
        "overall_movement_ci95": [round(low, 4), round(high, 4)],
        "classified_as_target": round(share, 4),
        "classifier_balanced_accuracy": round(accuracy, 4),
        "descriptors": {
            r.descriptor: {
                "source": round(r.source, 5),
                "target": round(r.target, 5),
                "output": round(r.output, 5),
                "gap_cohens_d": round(r.gap_d, 3),
                "movement": None if r.movement is None else round(r.movement, 4),
            }
            for r in rows
        },
        "median_movement": round(float(np.median([r.movement for r in measured])), 4)
        if measured
        else None,
    }


@dataclass
class TranslationReport:
    folder: Path
    numbers: dict
    files: dict[str, Path]


def analyze_translation(
    stylizer,
    source: str | os.PathLike,
    target: str | os.PathLike,
    out: str | os.PathLike,
    *,
    stylize_options: dict | None = None,
    max_images: int = 200,
    cache: str | os.PathLike | None = None,
    workers: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> TranslationReport:
    """Stylize up to ``max_images`` source images with ``stylizer`` (an inference Stylizer) and
    measure the effect against ``target``; writes translation.json, index.html and PNGs."""
    from .translation_report import write_translation_report

    progress = progress or (lambda stage, done, total: None)
    log = log or (lambda message: None)
    out = Path(out)
    src_files = _sample(Path(source), max_images, seed)
    tgt_files = _sample(Path(target), max_images, seed)
    done = stylize_sources(stylizer, src_files, out / "translated", stylize_options or {}, progress)
    for path, reason in done.failures:
        log(f"warning: {path}: skipped ({reason})")
    if len(done.outputs) < 2:
        raise DataError(f"{source}: fewer than 2 source images could be translated")
    tables = [
        extract([(str(f), name) for f in files], cache=cache, workers=workers, progress=progress)
        for files, name in ((done.sources, "source"), (tgt_files, "target"), (done.outputs, "out"))
    ]
    if len(tables[1]) < 2:
        raise DataError(f"{target}: fewer than 2 readable target images")
    numbers = measure(*tables, seed=seed)
    numbers["edge_ssim"] = round(float(np.mean(done.edge_ssim)), 4)
    numbers["edge_ssim_unrelated_pairs"] = (
        round(float(np.mean(done.unrelated_ssim)), 4) if done.unrelated_ssim else None
    )
    numbers["images"] = {
        "source": len(tables[0]),
        "target": len(tables[1]),
        "translated": len(tables[2]),
        "skipped": [{"file": p, "reason": r} for p, r in done.failures + tables[1].failures],
    }
    numbers["source"], numbers["target"] = str(source), str(target)
    files = write_translation_report(numbers, tables, out)
    return TranslationReport(out, numbers, files)
