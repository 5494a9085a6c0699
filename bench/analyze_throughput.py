"""Throughput of ``stylebridge analyze``'s feature extraction (the part that grows with the
corpus), in images/s, against the target of 10,000 images of 256 px in 5 minutes on 2 cores.

It measures a few hundred images and extrapolates to 10,000; it says so in its output. In the
same run it times the floor every extractor pays, decoding the same files (the reference for
the ratio), and the statistics stage on a 10,000-row synthetic feature table, so the whole
``analyze`` run can be projected. On a shared machine the wall-clock rate depends on the other
load, so it also prints the CPU time per image and the rate that gives on idle cores.

    python bench/analyze_throughput.py [--images 300] [--workers 2] [--folder DIR]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

TARGET_IMAGES, TARGET_S = 10_000, 300.0
CULTURES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cultures"


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the worker pool)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _files(folder: Path | None, count: int, scratch: Path) -> list[Path]:
    """Real culture images when available (cycled to ``count``), else generated 256 px JPEGs."""
    found = sorted(folder.rglob("*.jpg")) if folder and folder.is_dir() else []
    if found:
        return [found[i % len(found)] for i in range(count)]
    rng = np.random.default_rng(0)
    out = []
    for i in range(count):
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((256, 256), Image.Resampling.BICUBIC)
        out.append(scratch / f"synthetic_{i:04d}.jpg")
        img.save(out[-1], quality=90)
    return out


def _unique_copies(files: list[Path], scratch: Path) -> list[str]:
    """Byte-distinct copies (one appended byte each) so the content-hash cache cannot help."""
    out = []
    for i, path in enumerate(files):
        target = scratch / f"{i:05d}{path.suffix}"
        target.write_bytes(path.read_bytes() + i.to_bytes(4, "little"))
        out.append(str(target))
    return out


def _decode_rate(files: list[str]) -> float:
    from stylebridge.imageio import load_image

    start = time.perf_counter()
    for path in files:
        np.asarray(load_image(path).rgb)
    return len(files) / (time.perf_counter() - start)


def _stats_seconds(rows: int, cultures: int = 6, umap: bool = True) -> tuple[float, float]:
    """Wall and CPU seconds of the statistics stage on a synthetic table of ``rows`` images."""
    from stylebridge.analysis.compare import run_statistics
    from stylebridge.analysis.corpus import CorpusAnalysis

    rng = np.random.default_rng(0)
    labels = rng.integers(0, cultures, rows)
    features = rng.normal(size=(rows, 39)) + labels[:, None] * 0.1
    table = type("Table", (), {"files": [f"f{i}" for i in range(rows)]})()
    names = [f"feature_{i}" for i in range(39)]
    analysis = CorpusAnalysis(table, [f"c{i}" for i in range(cultures)], labels, names, features)
    maps = ("pca", "umap") if umap else ("pca",)
    cpu0, start = _cpu_s(), time.perf_counter()
    run_statistics(analysis, permutations=999, classifier_permutations=20, seed=0,
                   progress=lambda *a: None, maps=maps)  # fmt: skip
    return time.perf_counter() - start, _cpu_s() - cpu0


def _timed_extract(extract, items, cache: Path, workers: int) -> tuple[int, float, float]:
    """(images described, wall seconds, CPU seconds incl. the pool's workers)."""
    cpu0, start = _cpu_s(), time.perf_counter()
    table = extract(items, cache=cache, workers=workers)
    return len(table), time.perf_counter() - start, _cpu_s() - cpu0


def _report(n: int, wall: float, cpu: float, fixed_cpu: float, workers: int, decode: float):
    """Print the measured rates and the affine extrapolation to 10,000 images."""
    target = TARGET_IMAGES / TARGET_S
    rate = n / wall
    marginal = (cpu - fixed_cpu) / n  # CPU per image once the pool runs
    idle_s = (fixed_cpu + TARGET_IMAGES * marginal) / workers
    print(f"decode only (reference, 1 process): {decode:.1f} images/s")
    print(f"extraction: {rate:.1f} images/s wall clock ({rate / decode:.3f}x the decode rate); "
          f"10,000 at this rate: {TARGET_IMAGES / rate / 60:.1f} min")  # fmt: skip
    print(f"CPU: {1000 * cpu / n:.0f} ms per image in this run, of which pool start "
          f"{fixed_cpu:.1f} s in all; {1000 * marginal:.0f} ms per further image")  # fmt: skip
    print(f"10,000 images on {workers} idle cores (extrapolated): {idle_s / 60:.1f} min = "
          f"{TARGET_IMAGES / idle_s:.1f} images/s, {TARGET_IMAGES / idle_s / target:.2f}x the "
          f"target of {target:.1f} images/s")  # fmt: skip
    return idle_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--folder", type=Path, default=CULTURES)
    parser.add_argument("--skip-stats", action="store_true")
    parser.add_argument("--no-umap", action="store_true", help="Leave UMAP out of the stats.")
    args = parser.parse_args()
    from stylebridge.analysis import extract
    from stylebridge.analysis.extract import CHUNK

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "in").mkdir()
        files = _unique_copies(_files(args.folder, args.images, scratch), scratch / "in")
        items = [(f, "x") for f in files]
        extract(items[:4], cache=scratch / "warm", workers=1)  # weights converted once
        decode = _decode_rate(files)
        # a small run (2 chunks, so the pool starts) gives the fixed cost, the full run the rest
        small = 2 * CHUNK
        _, _, small_cpu = _timed_extract(extract, items[:small], scratch / "c1", args.workers)
        n, wall, cpu = _timed_extract(extract, items, scratch / "c2", args.workers)
    small_marginal = (cpu - small_cpu) / (n - small)
    fixed_cpu = max(small_cpu - small * small_marginal, 0.0)
    source = "real culture images" if args.folder.is_dir() else "generated 256 px images"
    print(f"measured on {n} {source} (byte-distinct copies, empty cache), {args.workers} "
          f"workers; 10,000 images extrapolated: pool start + 10,000 x CPU per image")  # fmt: skip
    idle_s = _report(n, wall, cpu, fixed_cpu, args.workers, decode)
    if not args.skip_stats:
        wall_s, cpu_s = _stats_seconds(TARGET_IMAGES, umap=not args.no_umap)
        what = "PCA" if args.no_umap else "PCA + UMAP"
        print(f"statistics stage for 10,000 images x 6 cultures ({what} maps): {wall_s:.0f} s "
              f"wall, {cpu_s:.0f} s CPU")  # fmt: skip
        total = idle_s + cpu_s  # statistics counted as one serial core
        print(f"whole analysis of 10,000 images on {args.workers} idle cores: about "
              f"{total / 60:.1f} min (statistics counted as serial)")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
