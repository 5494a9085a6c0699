"""CUT's default PatchNCE layers follow the generator's depth: the paper's 0,4,8,12,16 with
enough residual blocks, the last one clipped to the encoder's end with fewer."""

from __future__ import annotations

import pytest
import torch

from stylebridge.models import MODELS
from stylebridge.models.cut import paper_nce_layers
from stylebridge.training import build_config


@pytest.mark.parametrize(
    ("n_blocks", "layers"),
    [
        (1, "0,4,8,12"),
        (2, "0,4,8,12,13"),
        (4, "0,4,8,12,15"),
        (5, "0,4,8,12,16"),
        (9, "0,4,8,12,16"),
    ],
)
def test_paper_layers_clipped_to_the_encoder(n_blocks, layers):
    assert paper_nce_layers(n_blocks) == layers


@pytest.mark.parametrize("method", ["cut", "fastcut"])
def test_a_small_generator_trains_with_the_default_layers(method):
    config = build_config(
        {"method": method, "size": 32},
        None,
        ["model.ngf=8", "model.ndf=8", "model.n_blocks=2", "model.netf_dim=16"],
    )
    assert config.model.nce_layers == "0,4,8,12,13"  # resolved, so the run folder records it
    model = MODELS.get(method)(config.model, torch.device("cpu"), seed=0)
    batch = {k: torch.rand(1, 3, 32, 32) * 2 - 1 for k in ("real_a", "real_b")}
    losses = model.train_step(batch)
    assert torch.isfinite(torch.tensor(float(losses["loss/g/nce"])))


def test_the_default_at_paper_size_is_the_papers():
    assert build_config({"method": "cut", "size": 256}).model.nce_layers == "0,4,8,12,16"


def test_explicit_layers_beyond_the_encoder_are_still_refused():
    from stylebridge.errors import ConfigError

    config = build_config({"method": "cut", "size": 32}, None, ["model.n_blocks=2"])
    config.model.nce_layers = "0,4,8,12,16"
    with pytest.raises(ConfigError, match=r"must index encoder layers 0\.\.13"):
        MODELS.get("cut")(config.model, torch.device("cpu"), seed=0)
