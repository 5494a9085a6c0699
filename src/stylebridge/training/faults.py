"""What the loop does when a step goes wrong: non-finite gradients and losses.

Every optimiser update goes through one named step, ``UpdateGuard.before_update``: gradients
are first averaged over the ranks (see ``distributed.py``), then an update whose gradients hold
NaN/inf is skipped, the way AMP's grad scaler skips one. A step with a skipped update or a
non-finite loss is *bad*; after ``nonfinite_patience`` bad steps in a row the loop rolls back to
the last good checkpoint and multiplies the learning rate by ``nonfinite_lr_factor``; after
``nonfinite_max_rollbacks`` rollbacks it stops. Checkpoints refuse non-finite weights, so a NaN
never reaches the disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import StylebridgeError
from .distributed import DistContext, average_gradients


def grads_finite(grads: list[torch.Tensor]) -> bool:
    """One max-abs per tensor, one host sync: NaN and inf both make a max non-finite."""
    norms = torch._foreach_norm(grads, float("inf"))
    return bool(torch.isfinite(torch.stack(norms)).all())


class UpdateGuard:
    """The named step before every optimiser update (``TranslationModel.update``): average the
    gradients over the ranks under torchrun, then refuse an update whose gradients hold NaN/inf.
    The loop installs ``before_update`` as the model's ``update_guard``."""

    def __init__(self, ctx: DistContext):
        self.ctx = ctx
        self.skipped: list[str] = []
        self.seen: set[str] = set()  # optimisers that went through the guard at least once

    def before_update(self, name: str, opt: torch.optim.Optimizer) -> bool:
        """True when ``opt.step()`` may run; False skips it (its gradients are dropped)."""
        self.seen.add(name)
        grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
        if not grads:
            return True
        if self.ctx.enabled:
            average_gradients(grads, self.ctx.world_size)
        if not grads_finite(grads):
            self.skipped.append(name)
            opt.zero_grad(set_to_none=True)
            return False
        return True

    def unguarded(self, optimizers: dict[str, torch.optim.Optimizer]) -> list[str]:
        """Optimisers holding gradients that never passed the guard: a method that calls
        ``optimizer.step()`` itself instead of ``self.update(name)``."""
        return [
            name
            for name, opt in optimizers.items()
            if name not in self.seen
            and any(p.grad is not None for g in opt.param_groups for p in g["params"])
        ]

    def take_skipped(self) -> list[str]:
        skipped, self.skipped = self.skipped, []
        return skipped


@dataclass
class FaultState:
    """Counters that survive a rollback and a resume (saved in the training state)."""

    lr_scale: float = 1.0
    rollbacks: int = 0
    skipped_steps: int = 0
    streak: int = 0  # bad steps in a row (not saved: a resume starts from a good state)

    def saved(self) -> dict[str, float]:
        return {
            "lr_scale": self.lr_scale,
            "rollbacks": self.rollbacks,
            "skipped_steps": self.skipped_steps,
        }

    @classmethod
    def from_saved(cls, values: dict[str, float]) -> FaultState:
        scale = values.get("lr_scale", 1.0)
        return cls(
            lr_scale=float(scale) if math.isfinite(scale) and scale > 0 else 1.0,
            rollbacks=int(values.get("rollbacks", 0)),
            skipped_steps=int(values.get("skipped_steps", 0)),
        )


@dataclass(frozen=True)
class FaultPolicy:
    patience: int = 3  # bad steps in a row before a rollback; 0 = stop at the first one
    lr_factor: float = 0.5  # learning-rate multiplier applied at each rollback
    max_rollbacks: int = 3  # then stop with an error


def judge_step(
    step: int,
    losses: dict[str, float],
    skipped: list[str],
    state: FaultState,
    policy: FaultPolicy,
    run_dir: object,
) -> tuple[str, str]:
    """('ok' | 'skip' | 'rollback', message). Raises when the run should stop."""
    bad = [key for key, value in losses.items() if not math.isfinite(value)]
    if not bad and not skipped:
        state.streak = 0
        return "ok", ""
    state.streak += 1
    state.skipped_steps += 1
    what = ", ".join(f"{k}={losses[k]}" for k in bad[:3]) or "gradients"
    updates = "/".join(dict.fromkeys(skipped)) or "no"
    message = (
        f"step {step}: non-finite {what}; skipped the {updates} update(s) "
        f"({state.streak} bad step(s) in a row)"
    )
    if state.streak < policy.patience:
        return "skip", message
    return "rollback", f"{message}; {start_rollback(step, what, state, policy, run_dir)}"


def start_rollback(
    step: int, what: str, state: FaultState, policy: FaultPolicy, run_dir: object
) -> str:
    """Count a rollback and lower the learning rate, or raise when none is left."""
    if policy.patience == 0 or state.rollbacks >= policy.max_rollbacks:
        raise StylebridgeError(
            f"{what} non-finite at step {step} after {state.rollbacks} rollback(s); training "
            f"stopped and the last checkpoint in {run_dir} is intact (try a lower model.lr "
            "or precision=fp32)"
        )
    state.rollbacks += 1
    state.lr_scale *= policy.lr_factor
    state.streak = 0
    return (
        f"rolling back to the last checkpoint with the learning rate x{state.lr_scale:g} "
        f"(rollback {state.rollbacks} of {policy.max_rollbacks})"
    )
