"""Throughput of ``stylebridge analyze``'s feature extraction (the part that grows with the
corpus) on each engine: images/s, a model of cost per image and fixed overhead, a projection
to 1,000,000 images on N workers, Ray's overhead against the local pool, and peak memory.

Each (engine, workers) pair describes ``--small`` and ``--images`` byte-distinct copies of real
culture images (empty caches, so nothing is read back) and fits wall = overhead + n x cost. Ray
is started once before the timings (a cluster is started once, not per job); its start-up is
printed apart. ``--rss N`` describes N images (cycled, cache off) in a fresh process per engine
and prints the peak resident memory of the driver and of the local pool's workers.

    python bench/analyze_throughput.py --engine local,ray --workers 1,2 --images 2000
    python bench/analyze_throughput.py --engine local --workers 2 --rss 10000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

CULTURES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cultures"
PROJECT = 1_000_000


def _files(folder: Path, count: int, scratch: Path) -> list[Path]:
    """Real culture images when available (cycled to ``count``), else generated 256 px JPEGs."""
    found = sorted(folder.rglob("*.jpg")) if folder.is_dir() else []
    if found:
        return [found[i % len(found)] for i in range(count)]
    rng = np.random.default_rng(0)
    out = []
    for i in range(min(count, 64)):
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((256, 256), Image.Resampling.BICUBIC)
        out.append(scratch / f"synthetic_{i:04d}.jpg")
        img.save(out[-1], quality=90)
    return [out[i % len(out)] for i in range(count)]


def _unique_copies(files: list[Path], scratch: Path, tag: str) -> list[str]:
    """Byte-distinct copies (a few appended bytes each) so the content-hash cache cannot help."""
    scratch.mkdir(parents=True, exist_ok=True)
    out = []
    for i, path in enumerate(files):
        target = scratch / f"{tag}_{i:06d}{path.suffix}"
        target.write_bytes(path.read_bytes() + tag.encode() + i.to_bytes(4, "little"))
        out.append(str(target))
    return out


def _timed(files: list[str], cache: Path, engine) -> float:
    from stylebridge.analysis.extract import extract

    start = time.perf_counter()
    table = extract([(f, "x") for f in files], cache=cache, engine=engine)
    assert len(table) == len(files), table.failures[:3]
    return time.perf_counter() - start


def _measure(args, engines: list[str], workers: list[int]) -> list[dict]:
    from stylebridge.engine import Engine, ray_started

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        source = _files(args.folder, args.images, scratch)
        _timed([str(source[0])], scratch / "warm", Engine("local", 1))  # weights converted once
        ray_start = None
        if "ray" in engines:
            start = time.perf_counter()
            ray_started(None)  # held for every timing below
            ray_start = time.perf_counter() - start
        for kind in engines:
            for w in workers:
                engine = Engine(kind, w)
                tag = f"{kind}{w}"
                small = _unique_copies(source[: args.small], scratch / tag / "s", tag + "s")
                large = _unique_copies(source, scratch / tag / "l", tag + "l")
                t_small = _timed(small, scratch / tag / "c1", engine)
                t_large = _timed(large, scratch / tag / "c2", engine)
                cost = (t_large - t_small) / (args.images - args.small)  # wall s per image
                overhead = max(t_small - args.small * cost, 0.0)
                rows.append(
                    {
                        "engine": kind,
                        "workers": w,
                        "images": args.images,
                        "wall_s": round(t_large, 2),
                        "images_per_s": round(args.images / t_large, 2),
                        "overhead_s": round(overhead, 2),
                        "worker_ms_per_image": round(1000 * cost * w, 1),
                        "ray_start_s": round(ray_start, 1) if kind == "ray" else None,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    return rows


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _summary(rows: list[dict], nodes: list[int]) -> None:
    print("\n| engine | workers | images/s | overhead s | worker-ms per image |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['engine']} | {r['workers']} | {r['images_per_s']:.1f} | "
              f"{r['overhead_s']:.1f} | {r['worker_ms_per_image']:.0f} |")  # fmt: skip
    for r in rows:
        per = r["worker_ms_per_image"] / 1000
        cells = ", ".join(
            f"{n} workers {_duration(r['overhead_s'] + PROJECT * per / n)}" for n in nodes
        )
        print(f"{PROJECT:,} images, {r['engine']} cost model (from {r['workers']} workers): "
              f"{cells}")  # fmt: skip
    by = {(r["engine"], r["workers"]): r for r in rows}
    for w in sorted({r["workers"] for r in rows}):
        if ("local", w) in by and ("ray", w) in by:
            local, ray = by[("local", w)], by[("ray", w)]
            loss = 1 - ray["images_per_s"] / local["images_per_s"]
            note = (" (local with 1 worker is no pool: it runs in this process on torch's own "
                    "threads, while a Ray actor has one thread and shares the cores with the "
                    "driver)" if w == 1 else "")  # fmt: skip
            print(f"Ray overhead at {local['images']} images, {w} workers: {100 * loss:.1f}% "
                  f"of the local engine's throughput (target <= 15%){note}; cluster start "
                  f"{ray['ray_start_s']} s, paid once per cluster")  # fmt: skip


def _rss_child(kind: str, workers: int, count: int, folder: str) -> None:
    """Runs in a fresh process: describe ``count`` images, print peak RSS as JSON."""
    from stylebridge.analysis.extract import extract
    from stylebridge.engine import Engine

    with tempfile.TemporaryDirectory() as tmp:
        files = _files(Path(folder), count, Path(tmp))
        start = time.perf_counter()
        table = extract(
            [(str(f), "x") for f in files],
            cache=Path(tmp) / "cache",
            use_cache=False,
            engine=Engine(kind, workers),
        )
        wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"engine": kind, "workers": workers, "images": len(table),
                      "wall_s": round(wall, 1), "driver_peak_mb": round(own, 1),
                      "worker_peak_mb": round(kids, 1)}))  # fmt: skip


def _rss(args, engines: list[str], workers: int) -> None:
    sizes = sorted({min(1000, args.rss), args.rss})
    for kind in engines:
        found = []
        for n in sizes:
            code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                    f"import analyze_throughput as b; "
                    f"b._rss_child({kind!r}, {workers}, {n}, {str(args.folder)!r})")  # fmt: skip
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if out.returncode:
                print(out.stderr[-2000:], file=sys.stderr)
                raise SystemExit(1)
            found.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(found[-1]), flush=True)
        if len(found) == 2:
            a, b = found
            slope = (b["driver_peak_mb"] - a["driver_peak_mb"]) / (b["images"] - a["images"])
            print(f"{kind}: driver peak {a['driver_peak_mb']:.0f} MB at {a['images']:,} and "
                  f"{b['driver_peak_mb']:.0f} MB at {b['images']:,} images = {1024 * slope:.1f} "
                  f"kB per image; {PROJECT:,} images: about "
                  f"{(a['driver_peak_mb'] + slope * (PROJECT - a['images'])) / 1024:.1f} GB; "
                  f"worker peak {b['worker_peak_mb']:.0f} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="local,ray", help="local, ray or both (comma list)")
    parser.add_argument("--workers", default="1,2", help="comma list of worker counts")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--small", type=int, default=200, help="the small run of the fit")
    parser.add_argument("--nodes", default="2,16,64,256", help="workers for the projection")
    parser.add_argument("--rss", type=int, default=0, help="peak memory over N images instead")
    parser.add_argument("--folder", type=Path, default=CULTURES)
    args = parser.parse_args()
    engines = [e.strip() for e in args.engine.split(",") if e.strip()]
    workers = [int(w) for w in args.workers.split(",")]
    if args.rss:
        _rss(args, engines, max(workers))
        return
    rows = _measure(args, engines, workers)
    _summary(rows, [int(n) for n in args.nodes.split(",")])


if __name__ == "__main__":
    main()
