"""Where the networks run and in which precision, chosen from what the hardware really does."""

from __future__ import annotations

from functools import cache

import torch

from ..errors import ConfigError


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` prefers cuda, then mps, then cpu; an explicit device that is absent is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but no CUDA GPU is available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' asked for, but Metal is not available")
    return device


@cache
def cpu_has_fast_bf16() -> bool:
    """bf16 autocast pays on a CPU only with bf16 instructions (AMX tiles or AVX512-BF16);
    without them oneDNN emulates bf16 and it is slower than fp32 (docs/benchmarks.md)."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = set(fh.read().split())
    except OSError:
        return False
    return bool(flags & {"amx_bf16", "avx512_bf16"})


def choose_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype, or None for plain fp32."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ConfigError(f"precision must be auto, fp32 or bf16, not {precision!r}")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu" and cpu_has_fast_bf16():
        return torch.bfloat16
    return None


def prepare_runtime(device: torch.device) -> None:
    """Flush denormal floats to zero on CPU: GAN gradients drift into denormals, which slow CPU
    steps several-fold without changing any result that matters (docs/benchmarks.md)."""
    if device.type == "cpu":
        torch.set_flush_denormal(True)
