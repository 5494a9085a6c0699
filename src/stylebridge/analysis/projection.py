"""The fixed learned spaces: the style statistics and the pooled subject embedding, each
projected on components fitted once on the bundled corpus and shipped with the package
(``style_projection.safetensors``, ``subject_projection.safetensors``).

A PCA fitted per run gives columns that look alike between runs but live in different spaces,
so a classifier trained on one run's ``style_pc1`` means nothing on another's. With one shipped
projection, ``style_pc1`` is the same direction in every run and every per-image value in
``features.parquet`` is comparable between runs. ``scripts/fit_style_projection.py`` refits both.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from . import learned


@dataclass(frozen=True)
class Space:
    """A shipped projection: its file, column prefix, the extractor version it was fitted on,
    its number of components and the feature-table column it projects."""

    file: Path
    prefix: str
    extractor: str
    components: int
    column: str


SPACES = {
    "style": Space(
        Path(__file__).with_name("style_projection.safetensors"),
        "style_pc",
        learned.VERSION,
        16,
        "learned",
    ),
    "subject": Space(
        Path(__file__).with_name("subject_projection.safetensors"),
        "subject_pc",
        learned.EMBEDDING_VERSION,
        16,
        "embedding",
    ),
}


@dataclass(frozen=True)
class Projection:
    """Standardise with the fitted mean and scale, then project on ``components``."""

    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    components: np.ndarray  # (K, D), orthonormal rows
    info: dict
    prefix: str = SPACES["style"].prefix

    @property
    def names(self) -> list[str]:
        return [f"{self.prefix}{i + 1}" for i in range(len(self.components))]

    def __call__(self, raw: np.ndarray, block: int = 8192) -> np.ndarray:
        """(N, D) statistics -> (N, K) components, in blocks of rows: the float64 copy of a
        large corpus's statistics would cost 4x the float16 table it comes from."""
        out = np.empty((len(raw), len(self.components)), np.float64)
        for start in range(0, len(raw), block):
            z = (np.asarray(raw[start : start + block], np.float64) - self.mean) / self.scale
            out[start : start + block] = z @ self.components.T
        return out


def fit(
    raw: np.ndarray, count: int | None = None, info: dict | None = None, space: str = "style"
) -> Projection:
    """Principal components of the standardised statistics (deterministic: an SVD)."""
    kind = SPACES[space]
    count = count or kind.components
    x = np.asarray(raw, np.float64)
    mean, std = x.mean(0), x.std(0)
    scale = np.where(std > 1e-8, std, 1.0)
    _, singular, vt = np.linalg.svd((x - mean) / scale, full_matrices=False)
    signs = np.sign(vt[:count].sum(1, keepdims=True))  # a fixed sign per component
    components = vt[:count] * np.where(signs == 0, 1.0, signs)
    explained = (singular**2 / (singular**2).sum())[:count]
    meta = {
        "extractor": kind.extractor,
        "space": space,
        "explained_variance": [round(float(v), 5) for v in explained],
        **(info or {}),
    }
    return Projection(mean, scale, components, meta, kind.prefix)


def save(projection: Projection, path: str | Path) -> Path:
    """Write the projection as safetensors (float32) with its provenance as metadata."""
    from safetensors.numpy import save as to_bytes

    from ..fileio import atomic_write

    tensors = {
        name: np.ascontiguousarray(value, np.float32)
        for name, value in (
            ("mean", projection.mean),
            ("scale", projection.scale),
            ("components", projection.components),
        )
    }
    atomic_write(Path(path), to_bytes(tensors, metadata={"info": json.dumps(projection.info)}))
    return Path(path)


@functools.lru_cache(maxsize=8)
def load(path: str | Path | None = None, space: str = "style") -> Projection:
    """A shipped projection (``space``: style or subject); refuses one fitted on another
    extractor version."""
    from safetensors import safe_open

    kind = SPACES[space]
    path = Path(path) if path is not None else kind.file
    try:
        with safe_open(str(path), framework="numpy") as fh:
            info = json.loads((fh.metadata() or {}).get("info", "{}"))
            arrays = {k: fh.get_tensor(k).astype(np.float64) for k in fh.keys()}  # noqa: SIM118
    except (OSError, ValueError, json.JSONDecodeError) as err:
        raise ModelFileError(path, f"cannot read the {space} projection ({err})") from None
    if info.get("extractor") != kind.extractor:
        raise ModelFileError(
            path,
            f"fitted on extractor {info.get('extractor')!r}, not {kind.extractor!r}; "
            "refit with scripts/fit_style_projection.py",
        )
    if set(arrays) != {"mean", "scale", "components"}:
        raise ModelFileError(path, "needs mean, scale and components tensors")
    return Projection(arrays["mean"], arrays["scale"], arrays["components"], info, kind.prefix)


__all__ = [
    "SPACES",
    "Projection",
    "Space",
    "fit",
    "load",
    "save",
]
