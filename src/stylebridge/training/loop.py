"""The one training loop for every method: translation, paired, and unconditional GANs.

Resume is exact: the data for step ``s`` is a pure function of (seed, s); networks, optimisers,
image pools and RNG states are restored from ``train_state.safetensors``; the learning rate is a
function of the step. SIGINT/SIGTERM finish the current step, write a checkpoint and return.
"""

from __future__ import annotations

import contextlib
import copy
import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

from ..data import ImageSource, UnpairedDataset, make_loader, set_digest
from ..data.pairs import PairedDataset, pair_sources
from ..data.single import SingleDataset
from ..errors import ConfigError, StylebridgeError
from ..models import MODELS, TranslationModel
from ..models.files import CONFIG_NAME, FORMAT, atomic_save_tensors, atomic_write_bytes, write_json
from ..nn import choose_precision, pick_device, prepare_runtime
from .checkpoint import STATE_NAME, load_training_state, save_training_state
from .config import TrainConfig, config_to_dict
from .logging import RunLogger

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


def _rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _data_summary(name: str, source: ImageSource) -> dict:
    return {
        "path": str(name),
        "count": len(source),
        "skipped": len(source.skipped),
        "hash": set_digest(source.files),
    }


def save_checkpoint(
    run_dir: Path, model: TranslationModel, config: TrainConfig, step: int, data: dict
) -> None:
    """Generator weights, then the training state, then config.json (which names the weights)."""
    files = {}
    for key, net_name in {**model.directions, **model.exports}.items():
        file_name = f"{net_name}.safetensors"
        atomic_save_tensors(model.networks[net_name].state_dict(), run_dir / file_name)
        files[key] = file_name
    directions = {key: files[key] for key in model.directions}
    exports = {key: files[key] for key in model.exports}
    state = {
        "step": step,
        "networks": {name: net.state_dict() for name, net in model.networks.items()},
        "optimizers": {name: opt.state_dict() for name, opt in model.optimizers.items()},
        "extra": model.extra_state(),
        "rng": _rng_state(model.device),
    }
    save_training_state(run_dir / STATE_NAME, state)
    settings = config_to_dict(config)
    write_json(
        run_dir / CONFIG_NAME,
        {
            "format": FORMAT,
            "method": config.method,
            **model.architecture(),
            "directions": directions,
            **({"exports": exports} if exports else {}),
            "size": config.size,
            "step": step,
            "data": data,
            "train": settings,
        },
    )
    atomic_write_bytes(run_dir / "config.yaml", yaml.safe_dump(settings, sort_keys=False).encode())


def _restore(model: TranslationModel, run_dir: Path) -> int:
    state = load_training_state(run_dir / STATE_NAME)
    for name, net in model.networks.items():
        net.load_state_dict(state["networks"][name])
    for name, opt in model.optimizers.items():
        opt.load_state_dict(state["optimizers"][name])
        _match_param_layout(opt)
    model.load_extra_state(state["extra"])
    _set_rng_state(state["rng"], model.device)
    return int(state["step"])


def _match_param_layout(opt: torch.optim.Optimizer) -> None:
    """Give each optimiser moment its parameter's memory layout. Saved moments come back
    contiguous while channels_last weights are not, and the fused Adam kernel pairs elements by
    memory position: without this a resumed run silently scrambles its Adam moments."""
    for group in opt.param_groups:
        for param in group["params"]:
            for key, value in opt.state.get(param, {}).items():
                mismatched = torch.is_tensor(value) and value.shape == param.shape
                if mismatched and value.stride() != param.stride():
                    opt.state[param][key] = torch.empty_like(param).copy_(value)


def _build_data(config: TrainConfig, kind: str):
    """The dataset a method declares (``data_kind``), its sources and the run's data summary."""
    needs = {"unpaired": ("domain_a", "domain_b"), "images": ("data",), "paired": ("pairs",)}
    if kind not in needs:
        raise ConfigError(f"{config.method}: unknown data kind {kind!r}")
    missing = [key for key in needs[kind] if not getattr(config, key)]
    if missing:
        flags = ", ".join("--" + key.replace("_", "-") for key in missing)
        raise ConfigError(f"{config.method} needs {flags} (a folder of images)")
    if kind == "images":
        source = ImageSource(config.data, config.load_size)
        dataset = SingleDataset(source, config.size, seed=config.seed)
        return dataset, [source], {"data": _data_summary(config.data, source)}
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
    run folder."""
    run_dir = Path(config.out)
    has_state = (run_dir / STATE_NAME).is_file()
    if resume and not has_state:
        raise ConfigError(f"{run_dir}: nothing to resume (no {STATE_NAME})")
    if not resume and has_state:
        raise ConfigError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )
    device = pick_device(config.device)
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
    model = model_cls(
        config.model,
        device,
        amp_dtype=choose_precision(config.precision, device),
        channels_last=config.channels_last,
        seed=config.seed,
    )
    step = _restore(model, run_dir) if resume else 0
    if config.compile:
        for net in model.networks.values():
            net.compile()

    def report(message: str) -> None:
        if progress is not None:
            progress(StepReport(step, config.steps, {}, 0.0, message))

    for source in sources:
        for path, problem in source.skipped:
            report(f"skipping {path}: {problem}")
    samples = _fixed_samples(dataset)
    logger = RunLogger(run_dir)
    if not resume:
        save_checkpoint(run_dir, model, config, 0, data)
    loader = make_loader(
        dataset,
        start_step=step,
        num_steps=config.steps,
        batch_size=config.batch_size * model.batches_per_step,
        device_type=device.type,
        num_workers=config.num_workers,
    )
    model.train(True)
    started, start_step = time.perf_counter(), step
    try:
        with _StopRequest() as stop:
            for batch in loader:
                factor = lr_factor(step, config.steps, config.model.decay_fraction)
                for name, base_lr in model.learning_rates().items():
                    for group in model.optimizers[name].param_groups:
                        group["lr"] = base_lr * factor
                losses = model.train_step(batch)
                step += 1
                _check_finite(losses, step, run_dir)
                logger.accumulate(losses)
                images = (step - start_step) * config.batch_size * model.batches_per_step
                speed = images / (time.perf_counter() - started)
                extra = {}
                if config.eval_every and evaluator is not None and step % config.eval_every == 0:
                    extra = _evaluate(model, evaluator)
                if step % config.log_every == 0 or extra:
                    logger.flush(
                        step, {**extra, "perf/images_per_s": speed, "lr": config.model.lr * factor}
                    )
                if step % config.sample_every == 0 or step == config.steps:
                    logger.images(step, model.sample(samples))
                if progress is not None:
                    progress(StepReport(step, config.steps, losses, speed))
                last = step == config.steps
                elapsed = time.perf_counter() - started
                if config.time_limit_s and elapsed > config.time_limit_s:
                    stop.requested = True
                if step % config.checkpoint_every == 0 or stop.requested or last:
                    save_checkpoint(run_dir, model, config, step, data)
                if stop.requested:
                    report(f"stopped at step {step}; checkpoint written, continue with --resume")
                    break
    finally:
        logger.close()
    skipped = sum(len(s.skipped) for s in sources)
    if skipped:
        report(f"{skipped} unreadable image(s) were skipped")
    return run_dir


def _check_finite(losses: dict[str, float], step: int, run_dir: Path) -> None:
    """Stop before a diverged model overwrites the last good checkpoint."""
    for key, value in losses.items():
        if not math.isfinite(value):
            raise StylebridgeError(
                f"{key} became {value} at step {step}; training stopped and the last checkpoint "
                f"in {run_dir} is intact (try a lower model.lr or precision=fp32)"
            )


def _evaluate(model: TranslationModel, evaluator: Evaluator) -> dict[str, float]:
    model.train(False)
    try:
        return evaluator(model.inference_fn())
    finally:
        model.train(True)
