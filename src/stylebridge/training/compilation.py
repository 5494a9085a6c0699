"""torch.compile for a training run: when to use it, and going on without it when it fails.

``compile=auto`` turns it on only where it was measured to pay (docs/benchmarks.md): the CPU
translation methods, on runs long enough to repay minutes of compiling, with a C++ compiler for
inductor's CPU kernels at hand.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable

import torch

from ..models import TranslationModel
from .config import TrainConfig

AUTO_METHODS = ("cyclegan", "cut", "fastcut")  # where the speed-up was measured
AUTO_MIN_STEPS = 1000  # ~1-2 min of compiling is repaid after a few hundred steps


def wants_compile(
    config: TrainConfig, device: torch.device, steps_left: int, distributed: bool
) -> bool:
    if config.compile != "auto":
        return config.compile == "true"
    return (
        device.type == "cpu"
        and config.method in AUTO_METHODS
        and steps_left >= AUTO_MIN_STEPS
        and not config.deterministic
        and not distributed
        and any(shutil.which(cc) for cc in ("c++", "g++", "clang++"))
    )


def eager() -> contextlib.AbstractContextManager:
    """Run compiled networks eagerly: sample grids and evaluation use other shapes and eval
    mode, which under torch.compile would each compile again for a few calls."""
    set_stance = getattr(torch.compiler, "set_stance", None)
    return set_stance("force_eager") if set_stance else contextlib.nullcontext()


class StepRunner:
    """Calls ``model.train_step``, compiling the networks first when the run wants it.

    Under ``compile=auto`` a failure while compiling (no working toolchain, an unsupported
    platform) is reported in one line and the run goes on eagerly instead of stopping;
    ``compile=true`` lets the error through.
    """

    def __init__(self, model: TranslationModel, config: TrainConfig, compiled: bool):
        self.model = model
        self.compiling = compiled and config.compile == "auto"  # until the first step is done
        self.fell_back = False
        if compiled:
            for net in model.networks.values():
                net.compile()

    def __call__(self, batch, report: Callable[[str], None]) -> dict[str, float]:
        if self.fell_back:
            with eager():
                return self.model.train_step(batch)
        if not self.compiling:
            return self.model.train_step(batch)
        try:
            losses = self.model.train_step(batch)
        except Exception as err:
            if not type(err).__module__.startswith(("torch._dynamo", "torch._inductor")):
                raise
            lines = [line.strip() for line in str(err).splitlines() if line.strip()]
            reason = " ".join(lines[:2]) or type(err).__name__  # "backend=... raised: <error>"
            report(f"torch.compile failed ({reason[:200]}); continuing without it")
            self.fell_back = True
            return self(batch, report)
        self.compiling = False
        return losses
