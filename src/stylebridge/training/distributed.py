"""Data-parallel training under ``torchrun``: one process per GPU (or CPU process), any node count.

Why gradients are averaged by hand instead of wrapping networks in DistributedDataParallel: a
GAN step runs several optimisers, toggles ``requires_grad`` on the discriminators, calls a
network several times before one backward, back-propagates CycleGAN's generator loss in halves
and takes double-backward penalties (R1, gradient penalty). DDP's reducer expects one forward and
one backward per module per iteration and breaks or mis-syncs on each of these. Averaging every
gradient of an optimiser right before its ``step`` (``faults.UpdateGuard``, which every
``TranslationModel.update`` runs) is correct for all of them: each rank computes
gradients on its slice of the global batch, the average equals the gradient of the mean loss over
the whole batch, and every rank applies the same update, so parameters stay identical without
extra broadcasts. The price is that communication does not overlap the backward pass.

Networks are never wrapped, so checkpoints hold plain state dicts and resume with any world size.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError
from ..nn import pick_device


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job; ``world_size == 1`` means plain single-process training."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process writes logs, samples and checkpoints and shows progress."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment variable {name}={value!r} is not an integer") from None


def context_from_env() -> DistContext:
    """``RANK``/``LOCAL_RANK``/``WORLD_SIZE`` as torchrun sets them; absent means one process."""
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", rank)
    if world_size < 1 or not 0 <= rank < world_size or local_rank < 0:
        raise ConfigError(f"inconsistent torchrun environment: RANK={rank} WORLD_SIZE={world_size}")
    return DistContext(rank, local_rank, world_size)


def setup(ctx: DistContext, device_name: str, timeout_s: float = 1800.0) -> torch.device:
    """Pick this rank's device and join the process group (nccl on CUDA, gloo otherwise)."""
    if not ctx.enabled:
        return pick_device(device_name)
    use_cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if device_name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device_name!r} asked for, but no CUDA GPU is available")
    if use_cuda:
        if ctx.local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"LOCAL_RANK {ctx.local_rank} but only {torch.cuda.device_count()} GPU(s) here; "
                "use --nproc-per-node <= the number of GPUs"
            )
        device = torch.device("cuda", ctx.local_rank)
        torch.cuda.set_device(device)
    elif device_name in ("auto", "cpu"):
        device = torch.device("cpu")
    else:
        raise ConfigError(f"device {device_name!r} is not supported for multi-process training")
    if not dist.is_initialized():
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo",
            rank=ctx.rank,
            world_size=ctx.world_size,
            timeout=datetime.timedelta(seconds=timeout_s),
            **({"device_id": device} if device.type == "cuda" else {}),
        )
    return device


def teardown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def per_rank_batch(batch_size: int, ctx: DistContext) -> int:
    """``batch_size`` is the global batch; each rank takes an equal slice of it."""
    if batch_size % ctx.world_size:
        fit = ctx.world_size * max(1, batch_size // ctx.world_size)
        raise ConfigError(
            f"batch_size={batch_size} (the global batch) must be divisible by the "
            f"{ctx.world_size} processes; use e.g. batch_size={fit}"
        )
    return batch_size // ctx.world_size


def average_gradients(grads: list[torch.Tensor], world_size: int) -> None:
    """Replace each gradient by its mean over the ranks: one flat all-reduce per dtype."""
    by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
    for grad in grads:
        by_dtype.setdefault(grad.dtype, []).append(grad)
    for group in by_dtype.values():
        flat = torch.cat([g.reshape(-1) for g in group])
        dist.all_reduce(flat)
        flat.div_(world_size)
        offset = 0
        for grad in group:
            n = grad.numel()
            grad.copy_(flat[offset : offset + n].view_as(grad))
            offset += n


def broadcast_networks(networks: Iterable[nn.Module]) -> None:
    """Rank 0's parameters and buffers everywhere: all ranks start from the same weights."""
    with torch.no_grad():
        for net in networks:
            for tensor in list(net.parameters()) + list(net.buffers()):
                if tensor.is_floating_point() or tensor.dtype in (torch.int64, torch.int32):
                    dist.broadcast(tensor.data, src=0)


def reduce_step_values(values: list[float], device: torch.device, ctx: DistContext) -> list[float]:
    """Sum a few per-step numbers (losses, flags) over the ranks in one small all-reduce."""
    if not ctx.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def rank_seed(seed: int, step: int, rank: int) -> int:
    """A distinct global-RNG seed for rank > 0 (latent noise, dropout differ across ranks)."""
    return (seed * 1_000_003 + step * 7_919 + rank * 104_729) % (2**63)
