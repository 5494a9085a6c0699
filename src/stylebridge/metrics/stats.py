"""Batched feature extraction, streaming float64 statistics and the content-addressed cache."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError, ImageError
from ..fileio import OutputError, atomic_write
from ..models.files import tensor_bytes
from .features import FeatureExtractor
from .folders import to_batch

Progress = Callable[[int, int], None]


class FeatureStats:
    """Running mean and covariance in float64, so no batch size or order changes the result."""

    def __init__(self, dims: int):
        self.count = 0
        self.total = torch.zeros(dims, dtype=torch.float64)
        self.outer = torch.zeros(dims, dims, dtype=torch.float64)

    def update(self, features: torch.Tensor) -> None:
        x = features.detach().to("cpu", torch.float64)
        self.count += x.shape[0]
        self.total += x.sum(0)
        self.outer += x.T @ x

    @property
    def mean(self) -> torch.Tensor:
        return self.total / max(self.count, 1)

    @property
    def cov(self) -> torch.Tensor:
        """Unbiased (n - 1) covariance, as numpy.cov and the FID reference code use."""
        if self.count < 2:
            raise DataError("covariance needs at least two images")
        mean = self.mean
        return (self.outer - self.count * torch.outer(mean, mean)) / (self.count - 1)


@dataclass
class FeatureSet:
    """Everything the set metrics need from one image set, plus where it came from."""

    features: torch.Tensor  # (N, D) float32
    logits: torch.Tensor | None  # (N, C) float32
    mean: torch.Tensor  # (D,) float64
    cov: torch.Tensor  # (D, D) float64
    extractor: dict
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False

    @property
    def count(self) -> int:
        return self.features.shape[0]


def cache_file(root: Path, extractor: FeatureExtractor, digest: str) -> Path:
    return root / "features" / f"{extractor.name}-{digest[:40]}.safetensors"


def save_cached(path: Path, fs: FeatureSet) -> None:
    """Written through the one atomic writer: readers never see half a file; a cache that
    cannot be written (full disk) only makes the next run slower."""
    tensors = {"features": fs.features, "mean": fs.mean, "cov": fs.cov}
    if fs.logits is not None:
        tensors["logits"] = fs.logits
    meta = {"extractor": json.dumps(fs.extractor), "skipped": json.dumps(fs.skipped)}
    with contextlib.suppress(OutputError):
        atomic_write(path, tensor_bytes(tensors, meta))


def load_cached(path: Path) -> FeatureSet | None:
    """The cached set, or None when absent or unreadable (it is then recomputed)."""
    from safetensors import safe_open

    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
        found = FeatureSet(
            features=tensors["features"],
            logits=tensors.get("logits"),
            mean=tensors["mean"],
            cov=tensors["cov"],
            extractor=json.loads(meta["extractor"]),
            skipped=json.loads(meta.get("skipped", "[]")),
            cached=True,
        )
    except Exception:
        found = None
    if found is not None and _valid_set(found):
        return found
    path.unlink(missing_ok=True)  # damaged or poisoned (NaN): dropped, then recomputed
    return None


def _valid_set(fs: FeatureSet) -> bool:
    """Shapes that fit together and finite numbers: a NaN here would poison every score."""
    if fs.features.dim() != 2 or fs.mean.shape != fs.features.shape[1:]:
        return False
    if fs.cov.shape != (fs.features.shape[1], fs.features.shape[1]):
        return False
    tensors = [fs.features, fs.mean, fs.cov] + ([fs.logits] if fs.logits is not None else [])
    return all(bool(torch.isfinite(t.float()).all()) for t in tensors)


def _safe_load(load: Callable[[Path], np.ndarray], path: Path) -> np.ndarray | str:
    try:
        return load(path)
    except ImageError as err:
        return str(err)


def _prefetched(
    files: Sequence[Path], load: Callable[[Path], np.ndarray], batch_size: int, workers: int
) -> Iterator[list[tuple[Path, np.ndarray | str]]]:
    """Batches decoded by a thread pool two batches ahead of the network (PIL frees the GIL)."""
    chunks = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for chunk in chunks[:2]:
            pending.append((chunk, [pool.submit(_safe_load, load, p) for p in chunk]))
        next_chunk = 2
        while pending:
            chunk, futures = pending.popleft()
            if next_chunk < len(chunks):
                c = chunks[next_chunk]
                pending.append((c, [pool.submit(_safe_load, load, p) for p in c]))
                next_chunk += 1
            yield [(p, f.result()) for p, f in zip(chunk, futures, strict=True)]


def run_batches(
    extractor: FeatureExtractor,
    batches: Iterable[torch.Tensor],
    total: int,
    progress: Progress | None = None,
) -> FeatureSet:
    """Features, logits and streaming stats for float [0, 255] NCHW batches."""
    stats = FeatureStats(extractor.num_features)
    features, logits, done = [], [], 0
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            feats, logs = extractor(batch.to(extractor.device, non_blocking=True))
            feats = feats.cpu()
            stats.update(feats)
            features.append(feats)
            if logs is not None:
                logits.append(logs.cpu())
            done += batch.shape[0]
            if progress:
                progress(done, total)
    if stats.count == 0:
        raise DataError("no readable image in the set")
    return FeatureSet(
        features=torch.cat(features),
        logits=torch.cat(logits) if logits else None,
        mean=stats.mean,
        cov=stats.cov if stats.count > 1 else torch.zeros(0, 0),
        extractor=extractor.describe(),
        seconds=time.perf_counter() - start,
    )


def extract_files(
    files: Sequence[Path],
    extractor: FeatureExtractor,
    *,
    load: Callable[[Path], np.ndarray],
    batch_size: int = 32,
    progress: Progress | None = None,
    workers: int | None = None,
) -> FeatureSet:
    """Decode, batch and run; unreadable files are skipped and listed in ``skipped``."""
    skipped: list[str] = []
    workers = workers or min(4, os.cpu_count() or 1)

    def batches() -> Iterator[torch.Tensor]:
        for batch in _prefetched(files, load, batch_size, workers):
            arrays = [a for _, a in batch if not isinstance(a, str)]
            skipped.extend(a for _, a in batch if isinstance(a, str))
            if arrays:
                yield to_batch(arrays)

    result = run_batches(extractor, batches(), len(files), progress)
    result.skipped = skipped
    return result


def cached_features(
    files: Sequence[Path],
    extractor: FeatureExtractor,
    *,
    digest: str,
    cache_root: Path | None,
    **kwargs,
) -> FeatureSet:
    """``extract_files`` behind the cache keyed by ``digest`` (contents + extractor version)."""
    path = cache_file(cache_root, extractor, digest) if cache_root else None
    if path is not None:
        found = load_cached(path)
        if found is not None:
            return found
    result = extract_files(files, extractor, **kwargs)
    if path is not None:
        save_cached(path, result)
    return result
