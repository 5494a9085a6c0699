"""Culture priors: the views a discriminator sees, the empty-space statistic, and their wiring."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylebridge.errors import ConfigError
from stylebridge.nn.culture_views import (
    empty_space_share,
    flatness,
    ink_wash,
    orientation,
    outlines,
    strokes,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _paper_with_line(dark: bool = True, width: int = 1) -> torch.Tensor:
    """Light paper with one vertical line at column 16 (dark ink, or a light line on black)."""
    image = torch.full((1, 3, 32, 32), 0.8 if dark else -0.8)
    image[..., 16 : 16 + width] = -0.9 if dark else 0.9
    return image


def test_ink_wash_spreads_and_softens_a_thin_stroke():
    view = ink_wash(_paper_with_line())[0, 0]
    assert view.shape == (32, 32)
    row = view[16]
    assert row[16] < row[0] - 0.5  # the stroke stays dark
    assert row[14] < row[0] - 0.2 and row[18] < row[0] - 0.2  # ink bled beside it
    assert row[17] > row[16]  # a soft wash, not a hard line
    flat = ink_wash(torch.full((1, 3, 16, 16), 0.3))
    assert torch.allclose(flat, flat.mean(), atol=1e-5)


def test_strokes_and_outlines_mark_dark_lines_only():
    line = _paper_with_line()
    assert strokes(torch.full((1, 3, 16, 16), 0.5)).max() < -0.99  # no gradient, no stroke
    edge = strokes(line)[0, 0, 16]
    assert edge[15] > 0.5 and edge[2] < -0.99
    dark = outlines(line)[0, 0, 16]
    assert dark[16] > 0.9 and dark[4] < -0.99
    light = outlines(_paper_with_line(dark=False))[0, 0, 16]
    assert light[16] < -0.99  # a light line on black is not an outline


def test_flatness_separates_flat_colour_from_texture():
    flat = torch.tensor([0.6, -0.2, 0.1]).view(1, 3, 1, 1).expand(1, 3, 24, 24)
    noise = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert flatness(flat).max() < -0.99
    assert flatness(noise).mean() > 0.9


def test_orientation_tells_horizontal_from_vertical_strokes():
    stripes = torch.arange(32.0).remainder(4).lt(2).float() * 1.6 - 0.8
    vertical = stripes.view(1, 1, 1, 32).expand(1, 3, 32, 32)  # intensity varies along x
    horizontal = vertical.transpose(2, 3)
    v, h = orientation(vertical)[0, :, 8:24, 8:24], orientation(horizontal)[0, :, 8:24, 8:24]
    assert v[0].mean() > 0.9 and h[0].mean() < -0.9  # cos 2θ of the gradient, fully coherent
    assert v[1].abs().mean() < 0.05 and h[1].abs().mean() < 0.05
    assert v[2].mean() > 0 and orientation(torch.zeros(1, 3, 16, 16))[0, 2].max() < -0.99


def test_empty_space_share_matches_the_blank_area():
    noise = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    half = noise.clone()
    half[..., :16] = 0.7
    shares = empty_space_share(torch.cat([torch.full_like(noise, 0.7), half, noise]))
    assert shares[0] > 0.98 and abs(shares[1] - 0.5) < 0.02 and shares[2] < 0.02


def _model(**options):
    from stylebridge.models.stylenet import StyleNet, StyleNetConfig

    torch.manual_seed(0)
    config = StyleNetConfig(decoder_widths="16,16,16", decoder_kind="shuffle", d_ndf=8, **options)
    config.resolve(32)
    return StyleNet(config, torch.device("cpu"))


@pytest.mark.parametrize(
    ("priors", "weights"),
    [("*=empty_space", {"lambda_empty": 10.0}), ("*=flatness", {"lambda_prior": 1.0})],
)
def test_a_prior_alone_teaches_the_decoder_its_property(priors, weights):
    """Textured paintings, no content or style loss: the prior alone must take the decoder's
    flat, blank first outputs to textured ones."""
    model = _model(
        lambda_content=0.0, lambda_style=0.0, lambda_pixel=0.0, priors=priors, lr=0.003, **weights
    )
    styles = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    batch = {"real_a": torch.rand(4, 3, 32, 32) * 2 - 1, "real_b": styles}

    def blank_share() -> float:
        with torch.no_grad():
            return float(
                empty_space_share(model.decoder(model.encoder.content(batch["real_a"]))).mean()
            )

    assert blank_share() > 0.9
    for _ in range(40):
        losses = model.train_step(batch)
    assert "loss/prior" in losses
    assert blank_share() < 0.2


def test_priors_apply_to_their_own_group_and_bad_settings_are_one_line():
    model = _model(priors="ink=strokes+empty_space; oil=orientation", lambda_prior=1.0)
    model.bind_groups(["ink", "oil"])
    rows = model._prior_rows(torch.tensor([0, 1, 1, 0]))
    assert {k: v.tolist() for k, v in rows.items()} == {
        "strokes": [0, 3],
        "orientation": [1, 2],
        "empty_space": [0, 3],
    }
    assert sorted(model.prior_d.keys()) == ["orientation", "strokes"]
    with pytest.raises(ConfigError, match="'ink', not a style group of domain_b .*photo, oil"):
        model.bind_groups(["photo", "oil"])
    for bad, message in (
        ("ink=wobble", "unknown view 'wobble'"),
        ("ink:strokes", "not GROUP=view"),
        ("=strokes", "not GROUP=view"),
    ):
        with pytest.raises(ConfigError, match=message):
            _model(priors=bad)


def _content_and_two_styles(root) -> dict:
    """content/ and styles/{ink,oil}/ of 3 noise images each: train() options for them."""
    rng = np.random.default_rng(0)
    for folder in ("content", "styles/ink", "styles/oil"):
        (root / folder).mkdir(parents=True)
        for i in range(3):
            arr = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / folder / f"{i}.png")
    return dict(domain_a=root / "content", domain_b=root / "styles", size=32, batch_size=4)


def test_training_with_priors_names_the_groups_through_the_loop(tmp_path):
    """Through the one loop: the style folder's subfolders are the groups the priors name."""
    from stylebridge.api import train

    common = _content_and_two_styles(tmp_path)
    overrides = ["model.decoder_widths=8,8,8", "model.decoder_kind=shuffle", "compile=false"]
    run = train(
        "stylenet",
        steps=2,
        log_every=1,
        out=tmp_path / "run",
        overrides=[*overrides, "model.priors=ink=ink_wash+empty_space;oil=orientation"],
        **common,
    )
    logged = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert any("loss/prior_d" in record for record in logged)
    with pytest.raises(ConfigError, match="'batik', not a style group of domain_b"):
        train(
            "stylenet",
            steps=1,
            out=tmp_path / "bad",
            overrides=[*overrides, "model.priors=batik=outlines"],
            **common,
        )


def test_init_from_fine_tunes_the_networks_that_fit_and_refuses_the_rest(tmp_path):
    """A seventh culture starts from the six-culture model: --init-from loads the decoder and
    culture discriminator of a run (or the exported decoder of a model folder), leaves new
    networks fresh, and names what does not fit."""
    import shutil

    from stylebridge.api import train
    from stylebridge.errors import ModelFileError
    from stylebridge.models.files import read_run_config, read_tensors

    common = _content_and_two_styles(tmp_path)
    small = ["model.decoder_widths=8,8,8", "model.decoder_kind=shuffle", "compile=false"]
    gan = [*small, "model.lambda_gan=0.5", "model.d_ndf=8"]
    base = train("stylenet", steps=2, out=tmp_path / "base", overrides=gan, **common)
    source = read_tensors(base / "decoder.safetensors")[0]

    tuned = train(
        "stylenet",
        steps=1,
        out=tmp_path / "tuned",
        init_from=base,
        overrides=[*gan, "model.lr=1e-12", "model.priors=ink=outlines"],
        **common,
    )
    after = read_tensors(tuned / "decoder.safetensors")[0]
    assert all(torch.allclose(source[k], after[k], atol=1e-6) for k in source)
    summary = read_run_config(tuned)["data"]["init_from"]
    assert summary["networks"] == ["decoder", "culture_d"]

    exported = tmp_path / "exported"
    exported.mkdir()
    for name in ("config.json", "decoder.safetensors"):
        shutil.copy(base / name, exported / name)
    from_model = train(
        "stylenet", steps=1, out=tmp_path / "m", init_from=exported, overrides=small, **common
    )
    assert read_run_config(from_model)["data"]["init_from"]["networks"] == ["decoder"]

    wider = [*small, "model.decoder_widths=16,8,8"]
    with pytest.raises(ModelFileError, match="network decoder does not fit"):
        train("stylenet", steps=1, out=tmp_path / "w", init_from=base, overrides=wider, **common)
    with pytest.raises(ModelFileError, match="is a stylenet model; this run trains fastcut"):
        train("fastcut", steps=1, out=tmp_path / "f", init_from=base, **common)


def test_train_multiculture_from_a_corpus_then_add_a_culture(tmp_path):
    """The way a new user runs it: one corpus folder (photo/ + one folder per culture) ->
    a model whose culture codes stylize by name and mix; a seventh culture fine-tunes from it."""
    from typer.testing import CliRunner

    import stylebridge
    from stylebridge.cli import app
    from stylebridge.models.files import read_run_config

    rng = np.random.default_rng(0)
    corpus = tmp_path / "cultures"
    for folder, channel in (("photo", None), ("ink", None), ("oil", 0), ("batik", 2)):
        (corpus / folder).mkdir(parents=True)
        for i in range(3):
            arr = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
            if folder == "ink":
                arr[:] = arr.mean(2, keepdims=True).astype(np.uint8)
            elif channel is not None:
                arr[..., channel] = 230
            Image.fromarray(arr).save(corpus / folder / f"{i}.png")
    seventh = tmp_path / "batik"
    (corpus / "batik").rename(seventh)
    tiny = ["model.decoder_widths=8,8,8", "model.d_ndf=8", "compile=false"]
    args = ["train", "multiculture", "--cultures", str(corpus), "--size", "32", "--steps", "2"]
    done = CliRunner().invoke(app, [*args, "--batch-size", "4", "-o", str(tmp_path / "mc"), *tiny])
    assert done.exit_code == 0, done.output
    assert "multiculture mc: 2/2 (100%)" in done.output  # progress as log lines off a terminal
    run = tmp_path / "mc"
    assert read_run_config(run)["data"]["b"]["groups"] == ["ink", "oil"]
    assert sorted(p.stem for p in (run / "codes").glob("*.safetensors")) == ["ink", "oil", "photo"]
    from stylebridge.inference.feature_style import FeatureEngine, resolve_mix, resolve_style

    engine = FeatureEngine(run, device="cpu")
    ink, oil = resolve_style(engine, "ink"), resolve_style(engine, "oil")
    assert ink.card["source"] == "ink" and oil.card["name"] == "oil"
    assert not torch.allclose(ink.moments.mean, oil.moments.mean)
    assert [c.card["name"] for c, _ in resolve_mix(engine, {"ink": 0.5, "oil": 0.5})] == [
        "ink",
        "oil",
    ]
    photo = corpus / "photo" / "0.png"
    assert stylebridge.stylize(photo, engine=run, mix={"ink": 0.5, "oil": 0.5}).size == (40, 40)

    (corpus / "batik").symlink_to(seventh, target_is_directory=True)
    more = [*args, "--batch-size", "4", "-o", str(tmp_path / "mc7"), "--init-from", str(run)]
    done = CliRunner().invoke(app, [*more, *tiny])
    assert done.exit_code == 0, done.output
    summary = read_run_config(tmp_path / "mc7")["data"]
    assert summary["b"]["groups"] == ["batik", "ink", "oil"]
    assert summary["init_from"]["networks"] == ["decoder", "culture_d", "prior_d"]

    (corpus / "photo").rename(tmp_path / "photos")
    done = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "none"), *tiny])
    assert isinstance(done.exception, ConfigError)  # main() prints it as one line
    assert "cultures: no photo/ subfolder of content photos; give --domain-a" in str(done.exception)
