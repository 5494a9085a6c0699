"""Faults while training: non-finite steps, a full or read-only disk, kill -9 at random moments."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
import torch

import stylebridge
from stylebridge.errors import StylebridgeError
from stylebridge.models.cyclegan import CycleGAN
from stylebridge.training.checkpoint import STATE_NAME, load_training_state

from .badinputs import inject_write_fault
from .conftest import TINY

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_thread")


def _train(domains, out: Path, steps: int, *extra: str, resume: bool = False) -> Path:
    if resume:
        return stylebridge.train(resume=True, out=str(out), steps=steps)
    return stylebridge.train(
        "cyclegan",
        domain_a=str(domains[0]),
        domain_b=str(domains[1]),
        out=str(out),
        size=32,
        steps=steps,
        sample_every=1000,
        log_every=1,
        checkpoint_every=2,
        overrides=[*TINY, "precision=fp32", *extra],
    )


def _poison(monkeypatch, bad_calls: set[int], weights: bool = False) -> list[int]:
    """Make chosen train_step calls non-finite: NaN inputs (so NaN gradients), or, with
    ``weights``, a NaN written straight into a weight after the step (a bug outside the
    optimiser). Returns the call counter."""
    original = CycleGAN.train_step
    calls = [0]

    def train_step(self, batch):
        calls[0] += 1
        bad = calls[0] in bad_calls
        if bad and not weights:
            batch = {k: v * float("nan") for k, v in batch.items()}
        losses = original(self, batch)
        if bad and weights:
            with torch.no_grad():
                next(self.g_ab.parameters())[0, 0, 0, 0] = float("nan")
        return losses

    monkeypatch.setattr(CycleGAN, "train_step", train_step)
    return calls


def _events(run: Path) -> list[tuple[int, str]]:
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    return [(r["step"], r["event"]) for r in records if "event" in r]


def _state(run: Path) -> dict:
    return load_training_state(run / STATE_NAME)


def _all_finite(state: dict) -> bool:
    return all(
        bool(torch.isfinite(t).all())
        for tensors in state["networks"].values()
        for t in tensors.values()
        if t.is_floating_point()
    )


def test_one_nonfinite_step_is_skipped(tmp_path, domains, monkeypatch):
    _poison(monkeypatch, {3})
    run = _train(domains, tmp_path / "run", 6)
    state = _state(run)
    assert _events(run) == [(3, "nonfinite_skip")]
    assert _all_finite(state)
    # the poisoned step updated nothing: Adam counted 5 updates of G and of D in 6 steps
    for name in ("g", "d"):
        assert int(state["optimizers"][name]["state"][0]["step"]) == 5
    assert state["faults"] == {"lr_scale": 1.0, "rollbacks": 0, "skipped_steps": 1}


def test_repeated_nonfinite_steps_roll_back_and_lower_the_lr(tmp_path, domains, monkeypatch):
    calls = _poison(monkeypatch, {4, 5})
    run = _train(domains, tmp_path / "run", 8, "nonfinite_patience=2")
    assert _events(run) == [(4, "nonfinite_skip"), (5, "nonfinite_rollback")]
    assert calls[0] == 8 + 1  # back to the step-4 checkpoint, steps 5-8 again
    state = _state(run)
    assert state["step"] == 8 and _all_finite(state)
    assert state["faults"]["lr_scale"] == 0.5 and state["faults"]["rollbacks"] == 1
    lrs = [json.loads(line).get("lr") for line in (run / "log.jsonl").read_text().splitlines()]
    assert lrs[-1] == pytest.approx(2e-4 * 0.5 * 0.25)  # schedule (step 8 of 8: x0.25) x0.5


def test_hopeless_divergence_stops_with_the_checkpoint_intact(tmp_path, domains, monkeypatch):
    _poison(monkeypatch, set(range(3, 100)))
    with pytest.raises(StylebridgeError, match="non-finite at step 3 after 1 rollback") as err:
        _train(domains, tmp_path / "run", 8, "nonfinite_patience=1", "nonfinite_max_rollbacks=1")
    assert "\n" not in str(err.value)
    state = _state(tmp_path / "run")
    assert state["step"] == 2 and _all_finite(state)


def test_nan_weights_are_never_saved(tmp_path, domains, monkeypatch):
    calls = _poison(monkeypatch, {2}, weights=True)
    run = _train(domains, tmp_path / "run", 4)
    assert _events(run) == [(2, "nonfinite_rollback")]
    assert calls[0] == 4 + 2  # rolled back to step 0, then 4 clean steps
    state = _state(run)
    assert state["step"] == 4 and _all_finite(state) and state["faults"]["lr_scale"] == 0.5


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_disk_full_or_read_only_keeps_the_previous_checkpoint(tmp_path, domains, monkeypatch, code):
    run = _train(domains, tmp_path / "run", 2)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.suffix != ".jsonl"}
    inject_write_fault(monkeypatch, code, only=".safetensors")
    with pytest.raises(StylebridgeError) as err:
        _train(domains, run, 4, resume=True)
    message = str(err.value)
    assert "\n" not in message and "step 4 checkpoint" in message
    assert os.strerror(code) in message and "previous checkpoint is intact" in message
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.suffix != ".jsonl"}
    assert after == before  # no temporary file left, every checkpoint file unchanged
    assert _state(run)["step"] == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_one_line(tmp_path, domains):
    run = _train(domains, tmp_path / "run", 2)
    run.chmod(0o555)
    try:
        with pytest.raises(StylebridgeError, match="cannot write the step 4 checkpoint"):
            _train(domains, run, 4, resume=True)
    finally:
        run.chmod(0o755)
    assert _state(run)["step"] == 2


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume(tmp_path):
    """Two kills here; ``scripts/kill_resume.py --kills 10`` is the long version."""
    spec = importlib.util.spec_from_file_location("kill_resume", ROOT / "scripts/kill_resume.py")
    harness = importlib.util.module_from_spec(spec)
    sys.modules["kill_resume"] = harness  # dataclasses look their module up there
    spec.loader.exec_module(harness)
    data = (harness.make_images(tmp_path / "a", 6, 1), harness.make_images(tmp_path / "b", 6, 2))
    report = harness.kill_and_resume(tmp_path / "run", data, kills=2, seed=3)
    assert report.steps == sorted(report.steps)
    assert report.final_step == report.steps[-1] + 2


def test_resume_removes_every_temporary_a_kill_leaves_and_nothing_else(tmp_path):
    """Whatever file the writer was staging when killed (log, checkpoint, sample grid), its
    temporary goes on resume; a user's own hidden files stay."""
    from stylebridge.fileio import stage
    from stylebridge.training.checkpoint import remove_stale_temps

    staged = [stage(tmp_path / name, b"x") for name in ("log.jsonl", STATE_NAME, "config.yaml")]
    staged.append(stage(tmp_path / "samples" / "step_0000010.png", b"x"))
    rust = tmp_path / ".tmpA1b2C3"
    kept = [tmp_path / ".gitignore", tmp_path / ".notes.txt", tmp_path / "samples" / ".keep"]
    for path in [rust, *kept]:
        path.write_bytes(b"x")
    removed = remove_stale_temps(tmp_path)
    assert sorted(removed) == sorted([*staged, rust])
    assert all(p.exists() for p in kept)


def test_every_update_goes_through_the_named_guard_step():
    """Methods call ``self.update(name)``; the loop's guard sees each update first, skips one with
    NaN gradients, and names an optimiser stepped around it."""
    from stylebridge.training.config import build_config
    from stylebridge.training.distributed import DistContext
    from stylebridge.training.faults import UpdateGuard

    config = build_config({"method": "cyclegan", "size": 32}, overrides=TINY)
    model = CycleGAN(config.model, torch.device("cpu"), seed=0)
    guard = UpdateGuard(DistContext())
    model.update_guard = guard.before_update
    params = [p for g in model.optimizers["g"].param_groups for p in g["params"]]
    before = [p.detach().clone() for p in params]
    for p in params:
        p.grad = torch.full_like(p, float("nan"))
    assert model.update("g") is False and guard.take_skipped() == ["g"]
    assert all(torch.equal(a, p) for a, p in zip(before, params, strict=True))
    for p in params:
        p.grad = torch.ones_like(p)
    assert model.update("g") is True and guard.take_skipped() == []
    assert not all(torch.equal(a, p) for a, p in zip(before, params, strict=True))
    d_params = [p for g in model.optimizers["d"].param_groups for p in g["params"]]
    d_params[0].grad = torch.ones_like(d_params[0])
    model.optimizers["d"].step()  # around the guard: what a method must not do
    assert guard.unguarded(model.optimizers) == ["d"]
