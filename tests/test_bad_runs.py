"""Damaged or foreign run folders and hostile training settings: one line each, never a
traceback, and nothing written over the run that was there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import stylebridge
from stylebridge import api
from stylebridge.errors import ConfigError, ModelFileError, StylebridgeError
from stylebridge.models.files import CONFIG_NAME
from stylebridge.training.checkpoint import STATE_NAME

from .badinputs import digests, good_image

pytestmark = pytest.mark.usefixtures("one_thread")


def _copy(run: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    return folder


def _rewrite_state(run: Path, edit) -> None:
    """Apply ``edit(tensors, skeleton) -> skeleton`` to the saved training state."""
    path = run / STATE_NAME
    with safe_open(str(path), "pt") as fh:
        metadata = fh.metadata()
        tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
    skeleton = edit(tensors, json.loads(metadata["state"]))
    metadata["state"] = skeleton if isinstance(skeleton, str) else json.dumps(skeleton)
    save_file(tensors, str(path), metadata=metadata)


def _set_step(value):
    def edit(tensors, skeleton):
        for pair in skeleton["__dict__"]:
            if pair[0] == "step":
                pair[1] = value
        return skeleton

    return edit


def _drop_first_network_tensor(tensors, skeleton):
    del tensors[sorted(k for k in tensors if k.startswith("s/1/"))[0]]
    return skeleton


def _reshape_first_network_tensor(tensors, skeleton):  # another architecture's weights
    key = sorted(k for k in tensors if k.startswith("s/1/") and tensors[k].dim() == 4)[0]
    tensors[key] = torch.zeros(3, 3, 1, 1)
    return skeleton


def _poison_first_network_tensor(tensors, skeleton):
    key = sorted(k for k in tensors if k.startswith("s/1/") and tensors[k].dim() == 4)[0]
    tensors[key] = torch.full_like(tensors[key], float("nan"))
    return skeleton


DAMAGED_STATES = {
    "step_is_text": (_set_step("abc"), "step is 'abc'"),
    "step_is_negative": (_set_step(-5), "step is -5"),
    "missing_tensor": (_drop_first_network_tensor, "damaged training state"),
    "other_architecture": (_reshape_first_network_tensor, "does not fit this run's"),
    "nan_weights": (_poison_first_network_tensor, "NaN/inf"),
    "deep_skeleton": (lambda t, s: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "skeleton_not_json": (lambda t, s: "{not json", "damaged training state"),
    "skeleton_is_a_list": (lambda t, s: [1, 2, 3], "not a mapping"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGED_STATES))
def test_resume_from_a_damaged_train_state_is_one_line(tiny_run, tmp_path, kind):
    edit, expected = DAMAGED_STATES[kind]
    run = _copy(tiny_run, tmp_path)
    _rewrite_state(run, edit)
    before = digests(run)
    with pytest.raises(ModelFileError) as err:
        stylebridge.train(resume=True, out=str(run), steps=6)
    message = str(err.value)
    assert "\n" not in message and str(run / STATE_NAME) in message and expected in message
    assert {k: v for k, v in digests(run).items() if k != "log.jsonl"} == {
        k: v for k, v in before.items() if k != "log.jsonl"
    }


@pytest.mark.parametrize(
    ("train", "expected"),
    [(None, "no 'train' section"), ([1, 2], "not a mapping"), ("cyclegan", "not a mapping")],
)
def test_resume_with_a_config_json_without_usable_train_settings(
    tiny_run, tmp_path, train, expected
):
    run = _copy(tiny_run, tmp_path)
    config = json.loads((run / CONFIG_NAME).read_text())
    if train is None:
        del config["train"]
    else:
        config["train"] = train
    (run / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=expected) as err:
        stylebridge.train(resume=True, out=str(run), steps=6)
    assert str(run / CONFIG_NAME) in str(err.value)


BAD_SETTINGS = [
    ("model.ngf=0", "model.ngf must be at least 1"),
    ("model.ngf=-8", "model.ngf must be a finite number >= 0"),
    ("model.lr=-1", "model.lr must be a finite number >= 0"),
    ("model.lr=0", "model.lr must be above 0"),
    ("model.lr=.nan", "model.lr must be a finite number >= 0"),
    ("model.lambda_a=.inf", "model.lambda_a must be a finite number"),
    ("seed=-1", "seed must be within"),
    (f"seed={2**70}", "seed must be within"),
    ("num_workers=-1", "num_workers must be within"),
    ("steps=&a [1, *a]", "aliases"),
]


@pytest.mark.parametrize(("override", "expected"), BAD_SETTINGS)
def test_bad_settings_are_one_line(override, expected):
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace(".", r"\.")) as err:
        api.training_config("cyclegan", domain_a="a", domain_b="b", overrides=[override])
    assert "\n" not in str(err.value)


def _billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("manifest: *i")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"steps: 10\nout: caf\xe9\n", "not UTF-8 text"),
        (_billion_laughs().encode(), "aliases"),
        (b"steps: [unclosed\n", "cannot read config"),
        (b"- a list\n- of things\n", "must hold a mapping"),
        (b"manifest: [a, b]\n", "manifest: expected a text value"),
        (b"# " + b"x" * (2 << 20) + b"\n", "too large for a config file"),
    ],
    ids=["latin1", "billion_laughs", "broken_yaml", "not_a_mapping", "list_as_text", "huge"],
)
def test_bad_config_files_are_one_line(tmp_path, content, expected):
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected) as err:
        api.training_config("cyclegan", domain_a="a", domain_b="b", config_file=path)
    assert "\n" not in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("model:\n  ngf: 0\n", "model.ngf must be at least 1"),
        ("model:\n  lr: .nan\n", "model.lr must be a finite number >= 0"),
        ("seed: -1\n", "seed must be within"),
        ("num_workers: -1\n", "num_workers must be within"),
        ("steps: abc\n", "steps: expected int"),
        ("model: 5\n", "model: expected a mapping"),
    ],
)
def test_a_bad_value_in_a_config_file_names_the_file_and_the_key(tmp_path, content, expected):
    path = tmp_path / "config.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        api.training_config("cyclegan", domain_a="a", domain_b="b", config_file=path)
    assert str(err.value).startswith(f"{path}: {expected}") and "\n" not in str(err.value)


def test_a_bad_override_over_a_good_config_file_does_not_blame_the_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("steps: 5\nmodel:\n  ngf: 8\n")
    with pytest.raises(ConfigError) as err:
        api.training_config(
            "cyclegan", domain_a="a", domain_b="b", config_file=path, overrides=["model.ngf=0"]
        )
    assert str(err.value).startswith("model.ngf must be at least 1")
    path.write_text("model:\n  ngf: 0\n")  # and a flag that fixes the file's value is fine
    config = api.training_config(
        "cyclegan", domain_a="a", domain_b="b", config_file=path, overrides=["model.ngf=8"]
    )
    assert config.model.ngf == 8


def _write_weights(run: Path, make) -> None:
    config = json.loads((run / CONFIG_NAME).read_text())
    path = run / config["directions"]["a2b"]
    with safe_open(str(path), "pt") as fh:
        tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
    save_file(make(tensors), str(path))


def _relabel_f16_as_bf16(path: Path) -> None:
    """The bytes of F16 tensors under a header that says BF16, as a broken converter writes."""
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = data[8 : 8 + size].rstrip().replace(b'"F16"', b'"BF16"')
    header += b" " * (-len(header) % 8)
    path.write_bytes(len(header).to_bytes(8, "little") + header + data[8 + size :])


def test_nan_huge_and_relabelled_weights_are_refused(tiny_run, tmp_path):
    photo = good_image(tmp_path / "photo.png")
    cases = {
        "nan": (lambda t: {k: torch.full_like(v, float("nan")) for k, v in t.items()}, "NaN/inf"),
        "huge": (lambda t: {k: v * 1e30 for k, v in t.items()}, "beyond any trained weight"),
        "f16_as_bf16": (lambda t: {k: v.half() for k, v in t.items()}, "nearly zero"),
    }
    for name, (make, expected) in cases.items():
        run = _copy(tiny_run, tmp_path / name)
        _write_weights(run, make)
        if name == "f16_as_bf16":
            weights = run / json.loads((run / CONFIG_NAME).read_text())["directions"]["a2b"]
            _relabel_f16_as_bf16(weights)
        with pytest.raises(ModelFileError, match=expected):
            stylebridge.load(run).stylize(photo)
    # the real weights in half precision are fine (the bundled styles ship that way)
    run = _copy(tiny_run, tmp_path / "half")
    _write_weights(run, lambda t: {k: v.half() for k, v in t.items()})
    assert stylebridge.load(run).stylize(photo).size == (48, 40)


def test_nonfinite_output_is_never_written(tiny_run, tmp_path, monkeypatch):
    """Weights can pass every check and still overflow on one image: that file is reported and
    nothing is written for it."""
    good_image(tmp_path / "in" / "a.png")
    model = stylebridge.load(tiny_run)
    monkeypatch.setattr(model.runner("a2b"), "net", lambda x: torch.full_like(x, float("inf")))
    results = list(model.stylize_files([tmp_path / "in"], tmp_path / "out"))
    assert results[0].error and "NaN/inf" in results[0].error and "a.png" in results[0].error
    assert not (tmp_path / "out" / "a.png").exists()
    with pytest.raises(StylebridgeError):
        model.stylize(tmp_path / "in" / "a.png")
