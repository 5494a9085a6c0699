"""The one training loop for every method: translation, paired, and unconditional GANs.

Resume is exact: the data for step ``s`` is a pure function of (seed, s); networks, optimisers,
image pools and RNG states are restored from ``train_state.safetensors``; the learning rate is a
function of the step. SIGINT/SIGTERM finish the current step, write a checkpoint and return.
Under torchrun each rank trains on its slice of the global batch (``distributed.py``); non-finite
steps are skipped and rolled back (``faults.py``); checkpoints are all-or-nothing
(``checkpoint.py``).
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..data import ImageSource, UnpairedDataset, expand_inputs, make_loader, set_digest
from ..data.manifest import find_manifests
from ..data.pairs import PairedDataset, pair_sources
from ..data.single import SingleDataset
from ..errors import ConfigError, StylebridgeError
from ..fileio import OutputError
from ..models import MODELS, TranslationModel
from ..nn import choose_precision, prepare_runtime
from .checkpoint import (
    STATE_NAME,
    NonFiniteWeightsError,
    init_networks,
    remove_stale_temps,
    restore_checkpoint,
    save_checkpoint,
)
from .compilation import StepRunner, eager, wants_compile
from .config import TrainConfig
from .distributed import (
    DistContext,
    barrier,
    broadcast_networks,
    context_from_env,
    per_rank_batch,
    rank_seed,
    reduce_step_values,
    setup,
    teardown,
)
from .faults import FaultPolicy, FaultState, UpdateGuard, judge_step, start_rollback
from .logging import RunLogger

__all__ = ["StepReport", "lr_factor", "save_checkpoint", "train"]

Evaluator = Callable[[Callable[[torch.Tensor], torch.Tensor]], dict[str, float]]


@dataclass
class StepReport:
    """What the progress callback receives after each step."""

    step: int
    total: int
    losses: dict[str, float]
    images_per_s: float
    message: str = ""


def lr_factor(step: int, total: int, decay_fraction: float) -> float:
    """Constant, then linear decay to zero over the last ``decay_fraction`` of the steps."""
    decay_start = int(total * (1.0 - decay_fraction))
    if step < decay_start:
        return 1.0
    return max(0.0, 1.0 - (step - decay_start) / max(1, total - decay_start))


class _StopRequest:
    """Turns the first SIGINT/SIGTERM into a graceful stop; a second SIGINT interrupts at once."""

    def __init__(self):
        self.requested = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum, frame):
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: no signal handling
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _data_summary(name: str, source: ImageSource) -> dict:
    summary = {
        "path": str(name),
        "count": len(source),
        "skipped": len(source.skipped),
        "hash": set_digest(source.files),
    }
    if len(source.group_names) > 1:  # subfolders as groups: the label order of the run
        summary["groups"] = source.group_names
    return summary


def _build_data(config: TrainConfig, kind: str):
    """The dataset a method declares (``data_kind``), its sources and the run's data summary."""
    needs = {"unpaired": ("domain_a", "domain_b"), "images": ("data",), "paired": ("pairs",)}
    if kind not in needs:
        raise ConfigError(f"{config.method}: unknown data kind {kind!r}")
    if kind == "unpaired" and config.cultures:
        return _culture_data(config)
    missing = [key for key in needs[kind] if not getattr(config, key)]
    if missing:
        flags = ", ".join("--" + key.replace("_", "-") for key in missing)
        raise ConfigError(f"{config.method} needs {flags} (a folder of images)")
    if kind == "images":
        listed = not isinstance(config.data, str)  # files and folders (texture motifs)
        source = ImageSource(
            expand_inputs(config.data) if listed else config.data, config.load_size
        )
        dataset = SingleDataset(source, config.size, seed=config.seed)
        name = ", ".join(config.data) if listed else config.data
        return dataset, [source], {"data": _data_summary(name, source)}
    if kind == "paired":
        source_a, source_b = pair_sources(config.pairs, config.load_size)
        dataset = PairedDataset(source_a, source_b, config.size, seed=config.seed)
        data = {
            "a": _data_summary(f"{config.pairs}/a", source_a),
            "b": _data_summary(f"{config.pairs}/b", source_b),
        }
        return dataset, [source_a, source_b], data
    source_a = ImageSource(config.domain_a, config.load_size)
    source_b = ImageSource(config.domain_b, config.load_size)
    data = {
        "a": _data_summary(config.domain_a, source_a),
        "b": _data_summary(config.domain_b, source_b),
    }
    dataset = UnpairedDataset(source_a, source_b, config.size, seed=config.seed)
    return dataset, [source_a, source_b], data


def _culture_data(config: TrainConfig):
    """A corpus of cultures: content photos from its ``content_group`` subfolder (or
    ``domain_a``), every other subfolder one style group."""
    root = Path(config.cultures)
    if not root.is_dir():
        raise ConfigError(f"{root}: --cultures must be a folder with one subfolder per culture")
    if config.domain_b:
        raise ConfigError("give --cultures or --domain-b, not both")
    content = config.domain_a or str(root / config.content_group)
    if not Path(content).is_dir():
        raise ConfigError(
            f"{root}: no {config.content_group}/ subfolder of content photos; give --domain-a"
        )
    source_a = ImageSource(content, config.load_size)
    source_b = ImageSource(root, config.load_size, exclude_groups=[config.content_group])
    data = {
        "a": _data_summary(content, source_a),
        "b": _data_summary(str(root), source_b),
    }
    dataset = UnpairedDataset(source_a, source_b, config.size, seed=config.seed)
    return dataset, [source_a, source_b], data


def _fixed_samples(dataset, count: int = 3) -> dict[str, torch.Tensor]:
    """The same few images at every sample point, so grids show progress, not new inputs."""
    fixed = copy.copy(dataset)  # any of the datasets: same sources, another seed, no flips
    fixed.seed, fixed.flip = dataset.seed + 1, False
    items = [fixed[i] for i in range(count)]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    progress: Callable[[StepReport], None] | None = None,
    evaluator: Evaluator | None = None,
) -> Path:
    """Train ``config.method`` on the data it declares (two folders, one, or pairs); returns the
    run folder. Under torchrun (``WORLD_SIZE`` > 1) every rank calls this; rank 0 writes."""
    run_dir = Path(config.out)
    has_state = (run_dir / STATE_NAME).is_file()
    if resume and not has_state:
        raise ConfigError(f"{run_dir}: nothing to resume (no {STATE_NAME})")
    if not resume and has_state:
        raise ConfigError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )
    ctx = context_from_env()
    if ctx.is_main:
        _writable_run_folder(run_dir)
    per_rank_batch(config.batch_size, ctx)  # a bad global batch fails before any process waits
    device = setup(ctx, config.device)
    try:
        run = _train(config, ctx, device, resume, progress if ctx.is_main else None, evaluator)
        # every rank leaves together: a rank that destroys its process group while a peer
        # still has gloo work in flight can abort at exit ("terminate called ...")
        barrier(ctx)
        return run
    finally:
        teardown(ctx)


def _writable_run_folder(run_dir: Path) -> None:
    """Fail in one line before any work when the run folder could not be created or written (a
    file in its path, a read-only or system folder), not at the first log line; nothing is
    created here, so a run that fails later on its data leaves no empty folder."""
    existing = run_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        problem = f"cannot create the run folder ({existing} is a file, not a folder)"
        raise OutputError(run_dir, problem)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(run_dir, f"cannot write into {existing} (no permission)")


def _train(
    config: TrainConfig,
    ctx: DistContext,
    device: torch.device,
    resume: bool,
    progress: Callable[[StepReport], None] | None,
    evaluator: Evaluator | None,
) -> Path:
    run_dir = Path(config.out)
    prepare_runtime(device)
    torch.manual_seed(config.seed)
    if config.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    model_cls = MODELS.get(config.method)
    dataset, sources, data = _build_data(config, model_cls.data_kind)
    data_folders = [config.data] if isinstance(config.data, str) else config.data
    folders = [config.domain_a, config.domain_b, *data_folders, config.pairs]
    manifests = find_manifests([f for f in folders if f], config.manifest)
    if manifests:
        data["manifests"] = manifests
    model = model_cls(
        config.model,
        device,
        amp_dtype=choose_precision(config.precision, device),
        channels_last=config.channels_last,
        seed=config.seed,
    )
    if model_cls.data_kind == "unpaired":
        model.bind_groups(sources[1].group_names)
    if config.init_from and not resume:
        loaded = init_networks(model, config.method, Path(config.init_from))
        data["init_from"] = {"path": str(config.init_from), "networks": loaded}
    faults, policy = (
        FaultState(),
        FaultPolicy(
            config.nonfinite_patience, config.nonfinite_lr_factor, config.nonfinite_max_rollbacks
        ),
    )
    step = 0
    if resume:
        if ctx.is_main:
            remove_stale_temps(run_dir)
        step, saved = restore_checkpoint(model, run_dir)
        faults = FaultState.from_saved(saved)
    if ctx.enabled:
        broadcast_networks(model.networks.values())
        if ctx.rank:  # rank 0 keeps the saved stream; others draw their own noise
            torch.manual_seed(rank_seed(config.seed, step, ctx.rank))
    compiled = wants_compile(config, device, config.steps - step, ctx.enabled)
    run_step = StepRunner(model, config, compiled)

    def report(message: str) -> None:
        if progress is not None:
            progress(StepReport(step, config.steps, {}, 0.0, message))

    def rollback() -> int:
        barrier(ctx)  # rank 0 has finished any checkpoint write
        restored, _ = restore_checkpoint(model, run_dir)
        if ctx.rank:
            torch.manual_seed(rank_seed(config.seed, restored, ctx.rank))
        report(f"resumed from the checkpoint of step {restored}")
        return restored

    for source in sources:
        for path, problem in source.skipped:
            report(f"skipping {path}: {problem}")
    if compiled:
        report("compiling the networks (torch.compile, 1-2 min; compile=false starts at once)")
    samples = _fixed_samples(dataset) if ctx.is_main else None
    logger = RunLogger(run_dir, enabled=ctx.is_main)
    if not resume:
        _checkpoint(run_dir, model, config, 0, data, faults, ctx)
    guard = UpdateGuard(ctx)
    # the named step before every optimiser update: gradients averaged over the ranks, then
    # non-finite updates skipped (models call ``self.update(name)``, which runs it)
    model.update_guard = guard.before_update
    checked_updates = False
    rank_batch = per_rank_batch(config.batch_size, ctx) * model.batches_per_step
    model.train(True)
    started, start_step = time.perf_counter(), step
    run_started = started
    try:
        with _StopRequest() as stop:
            while step < config.steps and not stop.requested:
                loader = make_loader(
                    dataset,
                    start_step=step,
                    num_steps=config.steps,
                    batch_size=rank_batch,
                    device_type=device.type,
                    rank=ctx.rank,
                    world_size=ctx.world_size,
                    num_workers=config.num_workers,
                )
                for batch in loader:
                    factor = lr_factor(step, config.steps, config.model.decay_fraction)
                    for name, base_lr in model.learning_rates().items():
                        for group in model.optimizers[name].param_groups:
                            group["lr"] = base_lr * factor * faults.lr_scale
                    losses = run_step(batch, report)
                    if not checked_updates:
                        _check_updates(guard, model, config.method, ctx, report)
                        checked_updates = True
                    step += 1
                    elapsed = time.perf_counter() - started
                    if (
                        config.time_limit_s
                        and time.perf_counter() - run_started > config.time_limit_s
                    ):
                        stop.requested = True
                    losses, skipped, stop.requested = _sync_step(
                        losses, guard.take_skipped(), stop.requested, device, ctx
                    )
                    verdict, message = judge_step(step, losses, skipped, faults, policy, run_dir)
                    if message:
                        report(message)
                        logger.event(step, f"nonfinite_{verdict}", message)
                    if verdict == "rollback":
                        step = rollback()
                        started, start_step = time.perf_counter(), step  # images/s from here
                        break
                    if verdict == "ok":
                        logger.accumulate(losses)
                    images = (step - start_step) * config.batch_size * model.batches_per_step
                    speed = images / max(elapsed, 1e-9)
                    extra = {}
                    if (
                        ctx.is_main
                        and config.eval_every
                        and evaluator is not None
                        and step % config.eval_every == 0
                    ):
                        extra = _evaluate(model, evaluator)
                    if step % config.log_every == 0 or extra:
                        lr = config.model.lr * factor * faults.lr_scale
                        logger.flush(step, {**extra, "perf/images_per_s": speed, "lr": lr})
                    if ctx.is_main and (step % config.sample_every == 0 or step == config.steps):
                        with eager():
                            logger.images(step, model.sample(samples))
                    if progress is not None:
                        progress(StepReport(step, config.steps, losses, speed))
                    last = step == config.steps
                    if step % config.checkpoint_every == 0 or stop.requested or last:
                        try:
                            _checkpoint(run_dir, model, config, step, data, faults, ctx)
                        except NonFiniteWeightsError as err:
                            detail = start_rollback(step, "weights", faults, policy, run_dir)
                            report(f"{err}; {detail}")
                            logger.event(step, "nonfinite_rollback", f"{err}; {detail}")
                            step = rollback()
                            started, start_step = time.perf_counter(), step
                            break
                    if stop.requested:
                        report(
                            f"stopped at step {step}; checkpoint written, continue with --resume"
                        )
                        break
    finally:
        logger.close()
    skipped = sum(len(s.skipped) for s in sources)
    if skipped:
        report(f"{skipped} unreadable image(s) were skipped")
    return run_dir


def _check_updates(
    guard: UpdateGuard,
    model: TranslationModel,
    method: str,
    ctx: DistContext,
    report: Callable[[str], None],
) -> None:
    """After the first step: an optimiser stepped around ``model.update`` would train on
    unaveraged gradients under torchrun (ranks drift apart), so that stops; alone it only
    misses the non-finite guard, so that is said once."""
    direct = guard.unguarded(model.optimizers)
    if not direct:
        return
    problem = (
        f"{method}: optimiser(s) {', '.join(direct)} stepped with optimizer.step(), not "
        "self.update(name)"
    )
    if ctx.enabled:
        raise StylebridgeError(f"{problem}; their gradients would not be averaged over ranks")
    report(f"{problem}; non-finite updates of them are not skipped")


def _sync_step(
    losses: dict[str, float],
    skipped: list[str],
    stop: bool,
    device: torch.device,
    ctx: DistContext,
) -> tuple[dict[str, float], list[str], bool]:
    """One small all-reduce per step: mean losses for the log, and the same stop decision on
    every rank (a rank that stops alone would leave the others waiting forever)."""
    if not ctx.enabled:
        return losses, skipped, stop
    keys = sorted(losses)
    values = [losses[k] for k in keys] + [float(stop), float(len(skipped))]
    reduced = reduce_step_values(values, device, ctx)
    mean = {k: v / ctx.world_size for k, v in zip(keys, reduced[: len(keys)], strict=True)}
    return mean, skipped, reduced[-2] > 0


def _checkpoint(
    run_dir: Path,
    model: TranslationModel,
    config: TrainConfig,
    step: int,
    data: dict,
    faults: FaultState,
    ctx: DistContext,
) -> None:
    """Rank 0 writes; every rank learns whether it worked, so all stop or roll back together."""
    error: StylebridgeError | None = None
    if ctx.is_main:
        try:
            save_checkpoint(run_dir, model, config, step, data, faults.saved())
        except StylebridgeError as err:
            error = err
    code = 0.0 if error is None else 2.0 if isinstance(error, NonFiniteWeightsError) else 1.0
    code = reduce_step_values([code], model.device, ctx)[0]
    if error is not None:
        raise error
    if code == 2.0:
        raise NonFiniteWeightsError(f"{run_dir}: rank 0 found non-finite weights at step {step}")
    if code:
        raise StylebridgeError(f"{run_dir}: rank 0 could not write the step {step} checkpoint")


def _evaluate(model: TranslationModel, evaluator: Evaluator) -> dict[str, float]:
    model.train(False)
    try:
        with eager():
            return evaluator(model.inference_fn())
    finally:
        model.train(True)
