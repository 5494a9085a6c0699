"""Training: a known mapping is learnt, resume is exact, configs are checked, bad files skipped."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import stylebridge
from stylebridge.errors import ConfigError
from stylebridge.training import build_config, lr_factor
from stylebridge.training.checkpoint import STATE_NAME, load_training_state

from .conftest import TINY, make_domain


def _redness(images: list[np.ndarray]) -> float:
    """Mean (R - B) over the pixels that differ from the grey background."""
    values = []
    for img in images:
        f = img.astype(np.float64)
        shape = np.abs(f - 128).max(axis=2) > 40
        values.append((f[..., 0] - f[..., 2])[shape].mean())
    return float(np.mean(values))


def _shape_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the shape maps (distance from the grey background): near 1 when the same
    shapes sit in the same places, whatever their colour; near 0 for unrelated images. Unlike a
    thresholded mask overlap it does not punish the soft edges of a small generator."""
    sa = np.abs(a.astype(np.float64) - 128).max(axis=2).ravel()
    sb = np.abs(b.astype(np.float64) - 128).max(axis=2).ravel()
    return float(np.corrcoef(sa, sb)[0, 1])


@pytest.mark.slow
@pytest.mark.parametrize(
    "method,steps,extra",
    [
        # transposed upsampling: at 32 px the bilinear path blurs the 4-pixel shapes' edges
        ("cyclegan", 400, ["model.lr=0.001", "model.upsample=transpose"]),
        ("cut", 500, ["model.lr=0.0005", "model.nce_layers=0,4,8,12,13"]),
    ],
)
def test_learns_red_to_blue_and_keeps_shapes(tmp_path, method, steps, extra):
    red = make_domain(tmp_path / "red", "red", 32, size=32, seed=11)
    blue = make_domain(tmp_path / "blue", "blue", 32, size=32, seed=12)
    run = stylebridge.train(
        method,
        domain_a=str(red),
        domain_b=str(blue),
        out=str(tmp_path / "run"),
        size=32,
        load_size=32,
        steps=steps,
        sample_every=steps,
        checkpoint_every=steps,
        overrides=TINY + extra,
    )
    test_dir = make_domain(tmp_path / "test", "red", 8, size=32, seed=99)
    model = stylebridge.load(run)
    inputs = [np.asarray(Image.open(p)) for p in sorted(test_dir.iterdir())]
    outputs = [np.asarray(model.stylize(Image.fromarray(x))) for x in inputs]
    targets = [np.asarray(Image.open(p)) for p in sorted(blue.iterdir())]
    start, goal, reached = _redness(inputs), _redness(targets), _redness(outputs)
    moved = (start - reached) / (start - goal)
    assert moved > 0.7, (
        f"moved {moved:.2f} of the way from red to blue "
        f"({start:.0f} -> {reached:.0f}, goal {goal:.0f})"
    )
    structure = np.mean([_shape_correlation(x, y) for x, y in zip(inputs, outputs, strict=True)])
    unrelated = np.mean([_shape_correlation(x, y) for x, y in zip(inputs, targets, strict=False)])
    # measured over seeds: cyclegan and cut 0.65-0.72, unrelated images 0.06
    assert structure > 0.5 and structure > 5 * unrelated, (
        f"shape correlation {structure:.2f} (unrelated images: {unrelated:.2f}): "
        "shapes were not kept"
    )


def _params(run: Path) -> dict[str, torch.Tensor]:
    state = load_training_state(run / STATE_NAME)
    return {f"{n}.{k}": v for n, sd in state["networks"].items() for k, v in sd.items()}


def test_resume_equals_straight_run(tmp_path, domains):
    common = dict(
        domain_a=str(domains[0]),
        domain_b=str(domains[1]),
        size=32,
        steps=8,
        sample_every=100,
        checkpoint_every=100,
        seed=3,
        overrides=TINY + ["deterministic=true", "model.pool_size=3"],
    )
    straight = stylebridge.train("cyclegan", out=str(tmp_path / "straight"), **common)

    def stop_at_4(report):
        if report.step == 4 and not report.message:
            os.kill(os.getpid(), signal.SIGTERM)

    halves = tmp_path / "halves"
    stylebridge.train("cyclegan", out=str(halves), progress=stop_at_4, **common)
    assert load_training_state(halves / STATE_NAME)["step"] == 4
    stylebridge.train(out=str(halves), resume=True)
    assert load_training_state(halves / STATE_NAME)["step"] == 8
    a, b = _params(straight), _params(halves)
    assert a.keys() == b.keys()
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst < 1e-5, worst


def test_cut_identity_pass_on_its_own_graph_gives_the_joint_update():
    """The CPU schedule back-propagates CUT's identity term separately (less memory); the
    update must be the one the paper's joint batch gives."""
    from stylebridge.models import MODELS

    cls = MODELS.get("cut")
    config = cls.config_cls(
        ngf=8, ndf=8, n_blocks=2, netf_dim=16, num_patches=16, nce_layers="0,4,8,12,13"
    )
    gen = torch.Generator().manual_seed(5)
    batch = {k: torch.rand(2, 3, 32, 32, generator=gen) * 2 - 1 for k in ("real_a", "real_b")}

    def weights(model):
        return {
            f"{name}.{k}": v.clone()
            for name, net in model.networks.items()
            for k, v in net.state_dict().items()
        }

    runs = []
    for split in (True, False):
        torch.manual_seed(0)
        model = cls(config, torch.device("cpu"), seed=1)
        model.split_identity = split
        start = weights(model)
        losses = [model.train_step(batch) for _ in range(2)]
        runs.append((start, weights(model), losses[-1]))
    (start, split_w, split_l), (_, joint_w, joint_l) = runs
    assert split_l.keys() == joint_l.keys() and "loss/g/nce_idt" in split_l
    for key in split_l:
        assert split_l[key] == pytest.approx(joint_l[key], rel=1e-4, abs=1e-6), key
    g_keys = [k for k in start if k.startswith("g_ab.")]
    assert max((joint_w[k] - start[k]).abs().max().item() for k in g_keys) > 1e-4
    worst = max((split_w[k] - joint_w[k]).abs().max().item() for k in start)
    assert worst < 1e-5, worst


def test_refuses_to_overwrite_and_to_resume_nothing(tmp_path, tiny_run):
    with pytest.raises(ConfigError, match="already holds a run"):
        stylebridge.train("cyclegan", domain_a="x", domain_b="y", out=str(tiny_run))
    with pytest.raises(ConfigError, match="nothing to resume"):
        stylebridge.train(
            "cyclegan", domain_a="x", domain_b="y", out=str(tmp_path / "new"), resume=True
        )


def test_config_yaml_overrides_and_errors(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"method": "cut", "size": 64, "model": {"lambda_nce": 2.0}}))
    config = build_config({"steps": 10}, cfg, ["model.num_patches=64", "seed=5"])
    assert (config.method, config.size, config.steps, config.seed) == ("cut", 64, 10, 5)
    assert config.model.lambda_nce == 2.0 and config.model.num_patches == 64
    assert config.model.n_blocks == 6 and config.load_size == 72  # the papers' 128-px defaults
    with pytest.raises(ConfigError, match="unknown option 'model.lamda_nce'"):
        build_config({}, cfg, ["model.lamda_nce=3"])
    with pytest.raises(ConfigError, match="expected int"):
        build_config({}, None, ["steps=many"])
    with pytest.raises(ConfigError, match="unknown method"):
        build_config({"method": "pix3pix"})


def test_paper_defaults():
    cyc = build_config({"method": "cyclegan"}).model
    assert (cyc.lambda_a, cyc.lambda_identity, cyc.pool_size, cyc.gan_loss) == (
        10,
        0.5,
        50,
        "lsgan",
    )
    assert cyc.n_blocks == 9 and cyc.lr == 2e-4 and cyc.beta1 == 0.5
    fast = build_config({"method": "fastcut"}).model
    assert (fast.lambda_nce, fast.nce_idt, fast.flip_equivariance) == (10, False, True)
    cut = build_config({"method": "cut"}).model
    assert (cut.nce_layers, cut.num_patches, cut.nce_tau) == ("0,4,8,12,16", 256, 0.07)


def test_lr_constant_then_linear_decay():
    assert lr_factor(0, 100, 0.5) == 1.0 and lr_factor(49, 100, 0.5) == 1.0
    assert lr_factor(75, 100, 0.5) == pytest.approx(0.5)
    assert lr_factor(100, 100, 0.5) == 0.0


def test_bad_files_skipped_with_summary(tmp_path, domains):
    messy = tmp_path / "messy"
    messy.mkdir()
    for p in list(domains[0].iterdir())[:6]:
        (messy / p.name).write_bytes(p.read_bytes())
    (messy / "zero.jpg").write_bytes(b"")
    (messy / "text.png").write_text("not an image")
    messages = []
    run = stylebridge.train(
        "cyclegan",
        domain_a=str(messy),
        domain_b=str(domains[1]),
        out=str(tmp_path / "run"),
        size=32,
        steps=2,
        sample_every=2,
        overrides=TINY,
        progress=lambda r: messages.append(r.message),
    )
    text = "\n".join(m for m in messages if m)
    assert "zero.jpg: empty file" in text and "text.png: not an image" in text
    assert "2 unreadable image(s) were skipped" in text
    assert (run / "samples" / "step_0000002.png").is_file()
    assert (run / "tb").is_dir() and (run / "config.yaml").is_file()


def test_group_sigterm_with_loader_workers_stops_cleanly(tmp_path, domains):
    """``timeout``, Ctrl-C and schedulers signal the whole process group, data-loader workers
    included: the run must still finish its step and write a checkpoint, not die of a worker."""
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "stylebridge",
        "train",
        "cyclegan",
        "--domain-a",
        str(domains[0]),
        "--domain-b",
        str(domains[1]),
        "--size",
        "32",
        "--steps",
        "100000",
        "--out",
        str(out),
        *TINY,
        "num_workers=2",
        "compile=false",
        "log_every=1",
        "checkpoint_every=100000",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        log = out / "log.jsonl"
        if log.is_file() and len(log.read_text().splitlines()) >= 3:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "DataLoader worker" not in err.decode()
    assert load_training_state(out / STATE_NAME)["step"] >= 3


@pytest.mark.skipif(
    not any(shutil.which(cc) for cc in ("c++", "g++", "clang++")),
    reason="torch.compile on a CPU needs a C++ compiler",
)
@pytest.mark.slow
def test_compiled_run_trains_resumes_and_loads(tmp_path, domains):
    """compile=true (torch.compile of every network) keeps the files of an eager run: the
    weights load without compiled-module prefixes, and resume continues the step count."""
    common = dict(
        domain_a=str(domains[0]),
        domain_b=str(domains[1]),
        size=32,
        sample_every=100,
        checkpoint_every=100,
        overrides=TINY + ["compile=true", "model.nce_layers=0,4,8,12,13"],
    )
    run = stylebridge.train("fastcut", out=str(tmp_path / "run"), steps=2, **common)
    stylebridge.train(out=str(run), resume=True, steps=4)
    assert load_training_state(run / STATE_NAME)["step"] == 4
    out = stylebridge.load(run).stylize(np.full((32, 40, 3), 128, np.uint8))
    assert out.size == (40, 32)


def test_compile_auto_chooses_where_it_was_measured_to_pay(monkeypatch):
    from stylebridge.training import compilation

    monkeypatch.setattr(compilation.shutil, "which", lambda name: "/usr/bin/" + name)
    cpu, cuda = torch.device("cpu"), torch.device("cuda")

    def decide(method="cut", steps=20000, device=cpu, distributed=False, **values):
        config = build_config({"method": method, **values})
        return compilation.wants_compile(config, device, steps, distributed)

    assert decide()
    assert not decide(steps=999)  # too short to repay the compile
    assert not decide(method="dcgan")  # not measured
    assert not decide(device=cuda)  # not measured on GPUs
    assert not decide(distributed=True)
    assert not decide(deterministic=True)
    assert decide(steps=10, compile="true") and not decide(compile="false")
    monkeypatch.setattr(compilation.shutil, "which", lambda name: None)
    assert not decide()  # no C++ compiler for inductor's CPU kernels
    assert build_config({"compile": True}).compile == "true"  # a YAML boolean
    with pytest.raises(ConfigError, match="compile must be one of auto, true, false"):
        build_config({"compile": "sometimes"})


def test_compile_auto_falls_back_to_eager_when_compiling_fails(tmp_path, domains, monkeypatch):
    from stylebridge.training import loop

    def broken_backend(graph, example_inputs):
        raise RuntimeError("no toolchain here")

    original = torch.nn.Module.compile
    monkeypatch.setattr(
        torch.nn.Module, "compile", lambda self, **kw: original(self, backend=broken_backend)
    )
    monkeypatch.setattr(loop, "wants_compile", lambda *args: True)
    messages = []
    run = stylebridge.train(
        "fastcut",
        domain_a=str(domains[0]),
        domain_b=str(domains[1]),
        out=str(tmp_path / "run"),
        size=32,
        steps=3,
        sample_every=2,
        overrides=TINY + ["model.nce_layers=0,4,8,12,13"],
        progress=lambda r: r.message and messages.append(r.message),
    )
    assert load_training_state(run / STATE_NAME)["step"] == 3
    assert any("torch.compile failed" in m and "no toolchain here" in m for m in messages), messages
