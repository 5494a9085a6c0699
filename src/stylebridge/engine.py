"""Where work over many images runs: the local process pool (the default, nothing to start) or
a Ray cluster (``--engine ray``, the ``[cluster]`` extra). The only module that imports ray.

Callers hand over a picklable ``setup`` (called once per worker process or Ray actor, so a
model is loaded once per worker, never per image) and a list of chunks; ``map_chunks`` yields
``setup()(chunk)`` for every chunk, in order, whichever engine ran it.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from .errors import ConfigError

ENGINES = ("local", "ray")

Worker = Callable[[Sequence], list]
Setup = Callable[[], Worker]


@dataclass(frozen=True)
class Engine:
    """``kind``: local or ray; ``workers``: processes or actors (None: CPU count, at most 8);
    ``address``: ray only, ``auto`` or ``ray://host:port`` (None: RAY_ADDRESS, a running
    local instance, else a new local one for this call)."""

    kind: str = "local"
    workers: int | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ENGINES:
            raise ConfigError(f"unknown engine {self.kind!r}; valid: {', '.join(ENGINES)}")
        if self.address and self.kind != "ray":
            raise ConfigError("--address needs --engine ray")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"workers must be at least 1, not {self.workers}")

    def num_workers(self) -> int:
        return self.workers if self.workers is not None else min(os.cpu_count() or 1, 8)


def map_chunks(setup: Setup, chunks: Sequence[Sequence], engine: Engine) -> Iterator[list]:
    """Yield each chunk's results in order; at most two chunks per worker are in flight."""
    if not chunks:
        return iter(())
    if engine.kind == "ray":
        return _ray_chunks(setup, chunks, engine)
    return _local_chunks(setup, chunks, engine.num_workers())


# -- local process pool ---------------------------------------------------------------------

_WORKER: Worker | None = None


def _single_thread() -> None:
    """One torch thread per worker: two workers on two cores must not fight over threads."""
    try:
        import torch
    except ImportError:  # a worker that does not use torch
        return
    torch.set_num_threads(1)


def _pool_init(setup: Setup) -> None:
    global _WORKER
    _single_thread()
    _WORKER = setup()


def _pool_call(chunk: Sequence) -> list:
    if _WORKER is None:
        raise RuntimeError("_pool_call runs in a worker set up by _pool_init")
    return _WORKER(chunk)


def _local_chunks(setup: Setup, chunks: Sequence[Sequence], workers: int) -> Iterator[list]:
    if workers <= 1:  # in-process, the caller's threads left alone
        worker = setup()
        for chunk in chunks:
            yield worker(chunk)
        return
    context = multiprocessing.get_context("spawn")  # safe after torch has started threads
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_pool_init, initargs=(setup,)
    ) as pool:
        pending: list[Future] = []
        queue = iter(chunks)
        for chunk in queue:
            pending.append(pool.submit(_pool_call, chunk))
            if len(pending) >= 2 * workers:
                break
        while pending:
            yield pending.pop(0).result()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(pool.submit(_pool_call, nxt))


# -- Ray Data -------------------------------------------------------------------------------


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is a separate part of the wheel)
    except ImportError:
        raise ConfigError(
            "--engine ray needs Ray Data: pip install 'stylebridge[cluster]'"
        ) from None
    return ray


class _RayActor:
    """One per Ray worker slot: builds the worker once, then serves chunk after chunk."""

    def __init__(self, setup: Setup):
        _single_thread()
        self.worker = setup()

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        results = [pickle.dumps(self.worker(pickle.loads(task))) for task in batch["task"]]
        return {"index": batch["index"], "result": np.array(results, dtype=object)}


def ray_started(address: str | None) -> bool:
    """Connect to (or start) Ray; True when this call started it, so it also stops it."""
    ray = _import_ray()
    if ray.is_initialized():
        return False
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    except (ConnectionError, ValueError, RuntimeError) as err:
        where = address or os.environ.get("RAY_ADDRESS") or "a new local instance"
        raise ConfigError(f"cannot reach Ray at {where}: {err}") from None
    return True


def _ray_chunks(setup: Setup, chunks: Sequence[Sequence], engine: Engine) -> Iterator[list]:
    ray = _import_ray()
    started = ray_started(engine.address)
    try:
        workers = engine.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        rows = [{"index": i, "task": pickle.dumps(list(c))} for i, c in enumerate(chunks)]
        dataset = ray.data.from_items(rows, override_num_blocks=min(len(rows), 4 * workers))
        results = dataset.map_batches(
            _RayActor,
            fn_constructor_args=(setup,),
            batch_size=1,
            batch_format="numpy",
            concurrency=workers,
            num_cpus=1,
        )
        waiting: dict[int, list] = {}
        nxt = 0
        for row in results.iter_rows():  # streams: results arrive as actors finish them
            waiting[int(row["index"])] = pickle.loads(row["result"])
            while nxt in waiting:
                yield waiting.pop(nxt)
                nxt += 1
    finally:
        if started:
            ray.shutdown()


__all__ = ["ENGINES", "Engine", "map_chunks", "ray_started"]
