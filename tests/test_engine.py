"""The engine seam: the local pool by default, Ray on request, the same results from both."""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import pytest

from stylebridge.engine import Engine, map_chunks
from stylebridge.errors import ConfigError

SORT = functools.partial(functools.partial, sorted)  # setup() -> worker(chunk) = sorted(chunk)


def test_engine_choices_are_checked():
    with pytest.raises(ConfigError, match="unknown engine 'spark'; valid: local, ray"):
        Engine("spark")
    with pytest.raises(ConfigError, match="--address needs --engine ray"):
        Engine("local", address="auto")


def test_local_engine_keeps_chunk_order():
    chunks = [[3, 1], [9, 2, 5], [], [0]]
    assert list(map_chunks(SORT, chunks, Engine("local", 1))) == [[1, 3], [2, 5, 9], [], [0]]
    assert list(map_chunks(SORT, [], Engine("local", 1))) == []


@pytest.mark.slow  # a local Ray instance starts in 10-20 s
@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (pip install 'stylebridge[cluster]')",
)
def test_ray_engine_gives_the_local_engine_features(tmp_path):
    """Feature extraction as Ray Data batches (one model per actor) equals the local pool's,
    image by image, and arrives in order."""
    import ray

    from stylebridge.analysis.extract import extract

    from .analysis.conftest import hsv_corpus, write_corpus

    folder = write_corpus(tmp_path / "imgs", hsv_corpus(5, 40, 0.1, 0.8))
    items = [(str(p), "x") for p in sorted(folder.iterdir())]
    local = extract(items, cache=tmp_path / "c1", engine=Engine("local", 2))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = extract(items, cache=tmp_path / "c2", engine=Engine("ray", 2))
        chunks = [[3, 1], [9, 2, 5], [7], [0]]
        assert list(map_chunks(SORT, chunks, Engine("ray", 2))) == [[1, 3], [2, 5, 9], [7], [0]]
    finally:
        ray.shutdown()
    assert on_ray.files == local.files and len(on_ray) == 40
    for name in ("scalars", "orientation", "palette_lab", "palette_share", "learned", "embedding"):
        np.testing.assert_array_equal(getattr(on_ray, name), getattr(local, name), err_msg=name)
    np.testing.assert_array_equal(on_ray.thumbs, local.thumbs)
