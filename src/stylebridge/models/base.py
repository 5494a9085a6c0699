"""The contract every translation method follows.

A method is a config dataclass plus a class that owns its networks and optimisers and implements
``train_step(batch) -> dict of losses``. The training loop, checkpoints and the stylizer only use
what is declared here, so a new method is one file (see ``template.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ..nn import ResnetGenerator, ResnetGeneratorConfig
from ..registry import Registry

MODELS: Registry[type[TranslationModel]] = Registry("method")


@dataclass
class GeneratorOptions:
    """Generator and optimiser options shared by the ResNet-based methods."""

    ngf: int = 64  # generator width
    n_blocks: int | None = None  # residual blocks; None = 9 at >= 256 px, else 6 (the papers)
    norm: str = "instance"  # instance | batch | none
    upsample: str = "resize"  # resize (no checkerboard) | transpose (the papers) | pixelshuffle
    ndf: int = 64  # discriminator width
    d_layers: int = 3  # PatchGAN depth; 3 = 70x70 patches
    gan_loss: str = "lsgan"  # lsgan | vanilla | hinge
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    decay_fraction: float = 0.5  # last share of the steps over which the LR falls linearly to 0

    def resolve(self, size: int) -> None:
        """Size-dependent defaults, filled by ``training.config.resolve``."""
        if self.n_blocks is None:
            self.n_blocks = 9 if size >= 256 else 6

    def generator_config(self) -> ResnetGeneratorConfig:
        if self.n_blocks is None:
            raise ValueError("n_blocks must be resolved (see training.config.resolve) first")
        return ResnetGeneratorConfig(self.ngf, self.n_blocks, self.norm, self.upsample)


class TranslationModel:
    """Base class: networks, optimisers, precision, and the inference generators by direction."""

    config_cls: type = GeneratorOptions
    directions: dict[str, str] = {}  # "a2b" -> name of the generator network
    exports: dict[str, str] = {}  # other inference networks ("generator" -> "g_ema")
    data_kind: str = "unpaired"  # unpaired (real_a, real_b) | images (real) | paired (aligned)
    load_scale: float = 286 / 256  # default load_size / size: room for the random crop
    default_batch_size: int = 1

    def __init__(
        self,
        config,
        device: torch.device,
        *,
        amp_dtype: torch.dtype | None = None,
        channels_last: bool = False,
        seed: int = 0,
    ):
        self.config = config
        self.device = device
        self.amp_dtype = amp_dtype
        self.channels_last = channels_last
        self.rng = torch.Generator().manual_seed(seed + 7919)  # pools, patch ids, flips
        self.networks: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        # set by the training loop: average gradients over ranks, veto non-finite updates
        self.update_guard: Callable[[str, torch.optim.Optimizer], bool] | None = None

    def bind_groups(self, names: list[str]) -> None:
        """The style groups of ``domain_b`` (its subfolders, e.g. cultures) in label order,
        told by the loop before the first step: methods with per-group settings map names to
        the labels of ``label_b`` here (nothing learnable may depend on it)."""

    # --- helpers for subclasses -------------------------------------------------------------
    def add_network(self, name: str, net: nn.Module) -> nn.Module:
        net = net.to(self.device)
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.networks[name] = net
        return net

    def adam(self, *nets: nn.Module) -> torch.optim.Optimizer:
        params = [p for net in nets for p in net.parameters()]
        betas = (self.config.beta1, self.config.beta2)
        # fused: one kernel per step, no temporary copies of every parameter (CPU and CUDA)
        fused = self.device.type in ("cpu", "cuda")
        return torch.optim.Adam(params, lr=self.config.lr, betas=betas, fused=fused or None)

    def update(self, name: str) -> bool:
        """Apply optimiser ``name``'s update; methods call this, never ``optimizer.step()``, so
        the loop's ``update_guard`` sees every update first. False when the guard skipped it."""
        opt = self.optimizers[name]
        if self.update_guard is not None and not self.update_guard(name, opt):
            return False
        opt.step()
        return True

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    @staticmethod
    def requires_grad(nets: Iterator[nn.Module] | list[nn.Module], flag: bool) -> None:
        for net in nets:
            for p in net.parameters():
                p.requires_grad_(flag)

    def prepare(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return {  # images in the memory format of the networks; labels as they are
            k: v.to(self.device, non_blocking=True).contiguous(
                memory_format=fmt if v.dim() == 4 else torch.contiguous_format
            )
            for k, v in batch.items()
        }

    def make_generator(self) -> ResnetGenerator:
        return ResnetGenerator(self.config.generator_config())

    # --- what the loop and the run folder need (defaults fit the translation methods) -------
    @property
    def batches_per_step(self) -> int:
        """Batches the loop hands to one ``train_step`` (a GAN's critic updates per step)."""
        return 1

    def learning_rates(self) -> dict[str, float]:
        """Base learning rate per optimiser; the loop scales it by the schedule."""
        return {name: self.config.lr for name in self.optimizers}

    def architecture(self) -> dict:
        """config.json sections that rebuild the inference networks without this class."""
        return {"generator": vars(self.config.generator_config())}

    def inference_fn(self):
        """images -> outputs, for the training evaluator (the a2b translation here)."""
        generator = self.networks[self.directions["a2b"]]

        def translate(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad(), self.autocast():
                return generator(x.to(self.device)).float()

        return translate

    @staticmethod
    def read_losses(values: dict[str, torch.Tensor]) -> dict[str, float]:
        """Scalar tensors -> floats in one device-to-host copy instead of one sync per loss
        (``.item()`` on a GPU waits for every queued kernel)."""
        if not values:
            return {}
        stacked = torch.stack([v.detach().float().reshape(()) for v in values.values()])
        return dict(zip(values, stacked.tolist(), strict=True))

    # --- the contract -----------------------------------------------------------------------
    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, batch: dict[str, torch.Tensor]) -> list[list[torch.Tensor]]:
        """Rows of images for the sample grid: input, translation (and reconstruction)."""
        raise NotImplementedError

    def extra_state(self) -> dict[str, torch.Tensor]:
        """Tensors besides networks and optimisers that resume needs (image pools, RNG)."""
        return {"rng": self.rng.get_state()}

    def load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        self.rng.set_state(state["rng"])

    def train(self, mode: bool = True) -> None:
        for net in self.networks.values():
            net.train(mode)
