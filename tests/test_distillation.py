"""Distillation: a smaller engine decoder learns a trained one's renderings (``model.teacher``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylebridge.errors import ConfigError, ModelFileError
from stylebridge.losses import distillation_loss

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = ["model.decoder_widths=8,8,8", "model.decoder_kind=shuffle", "compile=false"]


def test_distillation_loss_sees_lost_texture_not_only_colour():
    rng = torch.Generator().manual_seed(0)
    sharp = torch.rand(2, 3, 32, 32, generator=rng) * 2 - 1
    smooth = torch.nn.functional.avg_pool2d(sharp, 3, 1, 1, count_include_pad=False)
    assert float(distillation_loss(sharp, sharp)) == 0.0
    pixels_only = float((smooth - sharp).abs().mean())
    # the blurred copy keeps the colours on average but loses the differences between pixels
    assert float(distillation_loss(smooth, sharp)) > 2.5 * pixels_only


def _folders(root) -> dict:
    rng = np.random.default_rng(0)
    for folder in ("content", "styles/ink", "styles/oil"):
        (root / folder).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(
                root / folder / f"{i}.png"
            )
    return dict(domain_a=root / "content", domain_b=root / "styles", size=32, batch_size=4)


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    from stylebridge.api import train

    root = tmp_path_factory.mktemp("distill")
    common = _folders(root)
    return train("stylenet", steps=2, out=root / "teacher", overrides=SMALL, **common), common


def test_a_smaller_decoder_learns_the_teachers_renderings(teacher_run):
    from stylebridge.models.stylenet import StyleNet, StyleNetConfig, load_engine

    teacher_dir, _ = teacher_run
    torch.manual_seed(0)
    config = StyleNetConfig(
        decoder_widths="4,4,4",
        decoder_kind="shuffle",
        teacher=str(teacher_dir),
        lambda_content=0.0,
        lambda_style=0.0,
        lambda_pixel=0.0,
        lr=0.01,
    )
    config.resolve(32)
    student = StyleNet(config, torch.device("cpu"))
    teacher = load_engine(teacher_dir)[0]
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    batch = {"real_a": images, "real_b": images.flip(0)}

    def gap() -> float:  # the two decoders on the same features, in pixels
        with torch.no_grad():
            features = student.encoder.content(images)
            return float((student.decoder(features) - teacher(features)).abs().mean())

    before = gap()
    for _ in range(60):
        losses = student.train_step(batch)
    assert set(losses) == {"loss/teacher"}  # no content or style loss, no encoder pass
    assert gap() < 0.2 * before


def test_teacher_settings_are_checked_and_recorded(teacher_run, tmp_path):
    from stylebridge.api import train
    from stylebridge.models.files import read_run_config

    teacher_dir, common = teacher_run
    zero = ["model.lambda_content=0", "model.lambda_style=0"]
    run = train(
        "stylenet",
        steps=2,
        log_every=1,
        out=tmp_path / "student",
        overrides=[*SMALL, *zero, f"model.teacher={teacher_dir}"],
        **common,
    )
    logged = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert any("loss/teacher" in record for record in logged)
    assert read_run_config(run)["train"]["model"]["teacher"] == str(teacher_dir)
    with pytest.raises(ConfigError, match="no model.teacher"):
        train("stylenet", steps=1, out=tmp_path / "none", overrides=[*SMALL, *zero], **common)
    with pytest.raises(ConfigError, match="reads detail block 0, this run model.detail_block=4"):
        train(
            "stylenet",
            steps=1,
            out=tmp_path / "detail",
            overrides=[*SMALL, "model.decoder_kind=upsample", "model.decoder_widths=8,8,8,8"]
            + ["model.detail_block=4", f"model.teacher={teacher_dir}"],
            **common,
        )
    with pytest.raises(ModelFileError, match="missing: not a stylebridge run"):
        train(
            "stylenet",
            steps=1,
            out=tmp_path / "nowhere",
            overrides=[*SMALL, f"model.teacher={tmp_path}"],
            **common,
        )


def test_half_the_batch_is_fused_at_full_strength_the_rest_in_between(teacher_run):
    """Full-strength rows (the style loss's targets) first; the others lie on the line from the
    content's own features to the fused ones."""
    from stylebridge.models.stylenet import StyleNet, StyleNetConfig

    teacher_dir, _ = teacher_run
    config = StyleNetConfig(
        decoder_widths="4,4,4", decoder_kind="shuffle", teacher=str(teacher_dir)
    )
    config.resolve(32)
    model = StyleNet(config, torch.device("cpu"))
    content, fused = torch.zeros(5, 2, 3, 3), torch.ones(5, 2, 3, 3)
    mixed = model._partial_strength(content, fused)
    rows = model._full_strength_rows(5)
    assert rows == 3 and torch.equal(mixed[:rows], fused[:rows])
    partial = mixed[rows:].flatten(1)
    assert bool((partial == partial[:, :1]).all())  # one strength per row
    assert bool(((partial >= 0) & (partial < 1)).all())


def test_culture_code_batches_fuse_with_the_teachers_codes(teacher_run, tmp_path):
    """``model.teacher_code_share``: that share of batches is styled by one of the teacher's
    ``codes/`` (here all of them, and one code), whatever the batch's style images are."""
    import shutil

    from stylebridge.inference.feature_style import StyleCode
    from stylebridge.models.stylenet import StyleNet, StyleNetConfig
    from stylebridge.nn.feature_fusion import StyleMoments, fuse

    teacher_dir, _ = teacher_run
    config = StyleNetConfig(
        decoder_widths="4,4,4", decoder_kind="shuffle", teacher=str(tmp_path / "teacher")
    )
    config.teacher_code_share = 1.0
    shutil.copytree(teacher_dir, tmp_path / "teacher")
    config.resolve(32)
    with pytest.raises(ConfigError, match="holds no style codes"):
        StyleNet(config, torch.device("cpu"))
    rng = torch.Generator().manual_seed(0)
    code = StyleMoments.of(torch.rand(240, 6, 6, generator=rng) * 3)
    StyleCode(code).save(tmp_path / "teacher" / "codes" / "ink.safetensors")
    model = StyleNet(config, torch.device("cpu"))
    content = torch.rand(2, 240, 4, 4, generator=rng)
    for _ in range(2):  # the batch's style images play no part
        target = model._code_target(content)
        assert target is not None
        wanted = [fuse(content, code, f) for f in ("adain", "wct")]
        assert any(torch.allclose(target, w, atol=1e-4) for w in wanted)
    model.config.teacher_code_share = 0.0
    assert model._code_target(content) is None  # the images style every batch
    config.teacher, config.teacher_code_share = "", 0.5
    with pytest.raises(ConfigError, match="needs a model.teacher"):
        config.resolve(32)
