"""The feature-fusion style engine: moments, fusion maths, style codes, mixing, masks, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylebridge.errors import ConfigError, ImageError, ModelFileError
from stylebridge.inference.feature_style import (
    FeatureEngine,
    StyleCode,
    check_mix_names,
    paper_tone,
    parse_mix,
)
from stylebridge.nn.feature_fusion import StyleMoments, adain, fuse, wct


def _features(seed: int, c: int = 6, hw: int = 20) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(c, c, generator=g)
    return (mix @ torch.randn(c, hw * hw, generator=g)).reshape(1, c, hw, hw) + seed


def test_moments_pool_and_mix_are_the_mixture_moments():
    a, b = _features(1), _features(2)
    ma, mb = StyleMoments.of(a), StyleMoments.of(b)
    both = StyleMoments.of(torch.cat([a, b], dim=3))  # all pixels of both images at once
    pooled = StyleMoments.pool([ma, mb])
    assert torch.allclose(pooled.mean, both.mean, atol=1e-6)
    assert torch.allclose(pooled.second, both.second, atol=1e-5)
    pure = StyleMoments.mix([(ma, 1.0), (mb, 0.0)])
    assert torch.equal(pure.mean, ma.mean) and torch.equal(pure.second, ma.second)
    scaled = StyleMoments.mix([(ma, 3.0), (mb, 1.0)])
    unit = StyleMoments.mix([(ma, 0.75), (mb, 0.25)])
    assert torch.allclose(scaled.second, unit.second)
    with pytest.raises(ValueError):
        StyleMoments.mix([(ma, 0.0), (mb, 0.0)])
    with pytest.raises(ValueError):
        StyleMoments.mix([(ma, -1.0), (mb, 2.0)])


def test_adain_and_wct_impose_the_style_statistics():
    content, style = _features(3), _features(4)
    target = StyleMoments.of(style)
    out = adain(content, target.mean.float(), target.std.float())
    got = StyleMoments.of(out)
    assert torch.allclose(got.mean, target.mean, atol=1e-3)
    assert torch.allclose(got.std, target.std, rtol=1e-3)
    # AdaIN leaves cross-channel correlation as the content had it; WCT imposes the style's
    out_wct = StyleMoments.of(wct(content, target))
    assert torch.allclose(out_wct.covariance, target.covariance, atol=1e-2 * target.std.max())
    off = ~torch.eye(6, dtype=torch.bool)
    assert (got.covariance - target.covariance)[off].abs().max() > (
        out_wct.covariance - target.covariance
    )[off].abs().max() * 10
    assert torch.equal(fuse(content, target, "adain", strength=0.0), content)


def test_style_code_round_trip_and_refusals(tmp_path):
    moments = StyleMoments.of(_features(5))
    code = StyleCode(moments, {"name": "test", "image_count": 1})
    path = code.save(tmp_path / "test")
    assert path.suffix == ".safetensors" and path.with_suffix(".json").is_file()
    back = StyleCode.load(path)
    assert torch.allclose(back.moments.second, moments.second.float().double())
    assert back.card["name"] == "test"
    with pytest.raises(ModelFileError, match="channels|shapes"):
        StyleCode.load(path, channels=240)
    (tmp_path / "junk.safetensors").write_bytes(b"\x80\x04junk pickle")
    with pytest.raises(ModelFileError, match="junk.safetensors"):
        StyleCode.load(tmp_path / "junk.safetensors")


def test_parse_mix_and_name_checks():
    assert parse_mix("chinese_ink=0.6, western_oil=0.4") == {
        "chinese_ink": 0.6,
        "western_oil": 0.4,
    }
    for bad in ("ukiyoe", "ukiyoe=abc", "", "ukiyoe=nan"):
        with pytest.raises(ConfigError):
            parse_mix(bad)
    valid = ["chinese_ink", "ukiyoe"]
    with pytest.raises(ConfigError, match="valid: chinese_ink, ukiyoe"):
        check_mix_names({"klimt": 1.0}, valid)
    with pytest.raises(ConfigError, match="valid names: chinese_ink, ukiyoe"):
        check_mix_names({"ukiyoe": 0.0, "chinese_ink": 0.0}, valid)
    with pytest.raises(ConfigError, match=">= 0"):
        check_mix_names({"ukiyoe": -0.5, "chinese_ink": 1.5}, valid)


def test_paper_tone_turns_yellowed_silk_white_and_grey():
    rng = np.random.default_rng(0)
    silk = np.empty((64, 64, 3), np.float32)
    silk[:] = (205, 180, 120)  # aged silk
    strokes = rng.random((64, 64)) < 0.2
    silk[strokes] = (60, 50, 30)  # ink on it
    out = np.asarray(paper_tone(Image.fromarray(silk.astype(np.uint8))), np.float32)
    assert np.ptp(out, axis=2).max() == 0  # grey
    assert out[~strokes].mean() > 245  # paper is white
    assert out[strokes].mean() < 90  # ink stays dark


# --- a real (tiny) trained engine -------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_dir(tmp_path_factory):
    """A stylenet run trained for a few steps on synthetic images: real files, real loader;
    with stride-4 detail features, so every path below carries them (packed behind the fusion
    features, through the ONNX graphs too)."""
    from stylebridge.api import train

    root = tmp_path_factory.mktemp("stylenet")
    rng = np.random.default_rng(0)
    for folder, hue in (("content", 0), ("styles", 1)):
        (root / folder).mkdir()
        for i in range(4):
            arr = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
            arr[..., hue] = 255 - arr[..., hue] // 4
            Image.fromarray(arr).save(root / folder / f"{i}.png")
    run = train(
        "stylenet",
        domain_a=root / "content",
        domain_b=root / "styles",
        size=32,
        steps=3,
        batch_size=2,
        out=root / "run",
        overrides=[
            "model.decoder_widths=8,8,8,8",
            "model.detail_block=4",
            "compile=false",
            "precision=fp32",
        ],
    )
    return run, root


@pytest.fixture(scope="module")
def engine(engine_dir):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: threads only wait for each other
    yield FeatureEngine(engine_dir[0], device="cpu", precision="fp32")
    torch.set_num_threads(threads)


def _photo(w: int = 45, h: int = 37) -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))


def test_codes_from_folder_and_mixing_rules(engine, engine_dir, tmp_path):
    _, root = engine_dir
    skipped = []
    (root / "styles" / "broken.jpg").write_bytes(b"not a jpeg")
    code = engine.code_from_folder(root / "styles", on_skip=skipped.append)
    assert code.card["image_count"] == 4 and len(skipped) == 1 and "broken.jpg" in skipped[0]
    assert code.card["files_hash"]
    other = engine.code_from_images([_photo(64, 64)], name="photo")
    photo = _photo()
    pure = engine.render(photo, [(code, 1.0), (other, 0.0)])
    assert pure.size == photo.size
    assert np.array_equal(np.asarray(pure), np.asarray(engine.render(photo, code)))
    halves = engine.render(photo, [(code, 0.5), (other, 0.5)])
    doubled = engine.render(photo, [(code, 2.0), (other, 2.0)])
    assert np.array_equal(np.asarray(halves), np.asarray(doubled))
    assert not np.array_equal(np.asarray(halves), np.asarray(pure))
    saved = StyleCode.load(code.save(tmp_path / "styles"), channels=engine.channels)
    again = engine.render(photo, saved)
    assert np.abs(np.asarray(again, np.int16) - np.asarray(pure, np.int16)).max() <= 1


def test_mask_fusion_inside_and_outside(engine, engine_dir):
    _, root = engine_dir
    code = engine.code_from_folder(root / "styles")
    other = engine.code_from_images([_photo(64, 64)])
    photo = _photo(48, 40)
    full = np.ones((40, 48), np.float32)
    none = np.zeros((40, 48), np.float32)
    a = np.asarray(engine.render(photo, code), np.int16)
    b = np.asarray(engine.render(photo, other), np.int16)
    inside = np.asarray(engine.render(photo, code, mask=full, outside=other), np.int16)
    outside = np.asarray(engine.render(photo, code, mask=none, outside=other), np.int16)
    assert np.abs(inside - a).max() <= 1 and np.abs(outside - b).max() <= 1
    kept = np.asarray(engine.render(photo, code, mask=none))
    assert np.array_equal(kept, np.asarray(photo))  # no outside style: the photo itself
    # the white level greys the styled part only; the photo outside the mask stays as it was
    half = np.zeros((40, 48), np.float32)
    half[:, :24] = 1.0
    grey = np.asarray(engine.render(photo, code, mask=half, white_level=0.5), np.int16)
    assert np.array_equal(grey[:, 30:], np.asarray(photo, np.int16)[:, 30:])
    assert grey[:, :20].max() <= 128


def test_bad_style_inputs_are_one_line_errors(engine, tmp_path):
    broken = tmp_path / "painting.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(ImageError, match="painting.jpg"):
        engine.code_from_images([broken])
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (12, 12), "red").save(tiny)
    with pytest.raises(ImageError, match="tiny.png.*too small"):
        engine.code_from_images([tiny])
    grey = tmp_path / "grey.png"
    Image.new("RGB", (100, 100), (128, 128, 128)).save(grey)
    with pytest.raises(ImageError, match="grey.png.*flat"):
        engine.code_from_images([grey])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImageError, match="empty"):
        engine.code_from_folder(empty)
    (empty / "bad.png").write_bytes(b"nope")
    with pytest.raises(ImageError, match="no usable style image"):
        engine.code_from_folder(empty)
    with pytest.raises(ConfigError, match="fusion"):
        engine.render(_photo(), engine.code_from_images([_photo(64, 64)]), fusion="median")


def test_not_an_engine_folder(tmp_path):
    with pytest.raises(ModelFileError):
        FeatureEngine(tmp_path)


def test_damaged_engine_folders_are_one_line_errors(engine_dir, tmp_path):
    """NaN weights, weights of another width, another encoder: each names the file."""
    import shutil

    from stylebridge.models.files import read_tensors, tensor_bytes

    def copy(name: str):
        folder = tmp_path / name
        shutil.copytree(engine_dir[0], folder)
        return folder

    nan = copy("nan")
    tensors = read_tensors(nan / "decoder.safetensors")[0]
    first = sorted(tensors)[0]
    tensors[first] = torch.full_like(tensors[first], float("nan"))
    (nan / "decoder.safetensors").write_bytes(tensor_bytes(tensors))
    with pytest.raises(ModelFileError, match=f"decoder.safetensors.*{first} holds NaN/inf"):
        FeatureEngine(nan, device="cpu")

    for name, change, message in (
        ("wider", {"decoder": {"widths": "16,8,8,8"}}, "weights do not fit the decoder"),
        ("encoder", {"encoder": {"variant": "lite2", "fusion_block": 7}}, "unsupported encoder"),
    ):
        folder = copy(name)
        config = json.loads((folder / "config.json").read_text())
        for section, values in change.items():
            config[section] = {**config[section], **values}
        (folder / "config.json").write_text(json.dumps(config))
        with pytest.raises(ModelFileError, match=message) as err:
            FeatureEngine(folder, device="cpu")
        assert name in str(err.value) and "\n" not in str(err.value)


def test_decoder_learns_to_render_its_inputs(one_thread):
    """The reconstruction half of each step must teach the decoder: its pixel loss halves."""
    from stylebridge.models.stylenet import StyleNet, StyleNetConfig

    torch.manual_seed(0)
    config = StyleNetConfig(decoder_widths="16,16,16,16", lr=0.002, lambda_style=0.0)
    config.resolve(32)
    model = StyleNet(config, torch.device("cpu"))
    rng = np.random.default_rng(0)

    def image() -> torch.Tensor:
        a = np.zeros((3, 32, 32), np.float32)
        a[:] = rng.uniform(-0.8, 0.8, (3, 1, 1))
        a[:, 10:, :20] = rng.uniform(-1, 1, (3, 1, 1))
        return torch.from_numpy(a)

    batch = {k: torch.stack([image() for _ in range(4)]) for k in ("real_a", "real_b")}
    pixel = [model.train_step(batch)["loss/pixel"] for _ in range(60)]
    assert pixel[-1] < 0.6 * pixel[0], pixel[::10]


# --- the commands a user types -----------------------------------------------------------------


def _cli(*args: str):
    from typer.testing import CliRunner

    from stylebridge.cli import app
    from stylebridge.errors import StylebridgeError

    try:
        return CliRunner().invoke(app, list(args), catch_exceptions=False)
    except StylebridgeError as err:  # main() prints these as one line, exit status 1
        return err


def test_stylize_command_with_a_painting_a_folder_and_a_mask(engine_dir, tmp_path):
    run, root = engine_dir
    photo = tmp_path / "photo.png"
    _photo(50, 40).save(photo)
    painting = root / "styles" / "0.png"
    out = tmp_path / "out.png"
    result = _cli(
        "stylize", str(photo), "--style-image", str(painting), "--engine", str(run), "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (50, 40)
    mask = tmp_path / "mask.png"
    Image.new("L", (50, 40), 0).save(mask)
    kept = tmp_path / "kept.png"
    result = _cli(
        "stylize",
        str(photo),
        "--style-from",
        str(root / "styles"),
        "--engine",
        str(run),
        "--mask",
        str(mask),
        "-o",
        str(kept),
    )
    assert result.exit_code == 0, result.output
    assert np.array_equal(np.asarray(Image.open(kept)), np.asarray(Image.open(photo)))
    again = _cli(
        "stylize", str(photo), "--style-image", str(painting), "--engine", str(run), "-o", str(out)
    )
    assert "exists" in str(again) or again.exit_code != 0  # no silent overwrite
    both = _cli(
        "stylize",
        str(photo),
        "--style",
        "ukiyoe",
        "--style-image",
        str(painting),
        "-o",
        str(tmp_path / "x.png"),
    )
    assert both.exit_code != 0 and "give one of them" in both.output


def test_fuse_command_writes_a_measured_sweep(engine_dir, tmp_path):
    run, root = engine_dir
    cultures = tmp_path / "cultures"
    for name, hue in (("reds", 0), ("blues", 2)):
        (cultures / name).mkdir(parents=True)
        rng = np.random.default_rng(hue)
        for i in range(3):
            arr = rng.integers(0, 120, (48, 48, 3), dtype=np.uint8)
            arr[..., hue] = 230
            Image.fromarray(arr).save(cultures / name / f"{i}.png")
    photo = tmp_path / "photo.png"
    _photo(40, 40).save(photo)
    out = tmp_path / "sweep"
    result = _cli(
        "fuse",
        str(cultures / "reds"),
        str(cultures / "blues"),
        str(photo),
        "-o",
        str(out),
        "--steps",
        "3",
        "--engine",
        str(run),
        "--cultures",
        str(cultures),
    )
    assert result.exit_code == 0, getattr(result, "output", result)
    summary = json.loads((out / "sweep.json").read_text())
    assert [s["weights"] for s in summary["steps"]] == [
        {"reds": 1.0, "blues": 0.0},
        {"reds": 0.5, "blues": 0.5},
        {"reds": 0.0, "blues": 1.0},
    ]
    assert all(set(s["moved_toward"]) == {"reds", "blues"} for s in summary["steps"])
    assert all("position_a_to_b" in s for s in summary["steps"])
    assert (out / "sweep.png").is_file() and len(list(out.glob("step_*.png"))) == 3
    bad = _cli(
        "fuse",
        "nowhere",
        str(cultures / "blues"),
        str(photo),
        "-o",
        str(tmp_path / "b"),
        "--engine",
        str(run),
    )
    assert "not a culture, style code, folder or image" in str(bad)


def test_style_code_command_round_trip(engine_dir, tmp_path):
    run, root = engine_dir
    target = tmp_path / "mine.safetensors"
    result = _cli("style-code", str(root / "styles"), "-o", str(target), "--engine", str(run))
    assert result.exit_code == 0, getattr(result, "output", result)
    card = json.loads(target.with_suffix(".json").read_text())
    assert card["image_count"] >= 4 and card["format"] == "stylebridge.stylecode/1"
    photo = tmp_path / "photo.png"
    _photo().save(photo)
    result = _cli(
        "stylize",
        str(photo),
        "--style-from",
        str(target),
        "--engine",
        str(run),
        "-o",
        str(tmp_path / "o.png"),
    )
    assert result.exit_code == 0, result.output


def test_bundled_engine_codes_mix_and_errors():
    """The shipped engine: six culture codes, a pure culture at weight 1.0 is that culture's
    style, weights are normalised, and a bad mix names the valid cultures."""
    import stylebridge
    from stylebridge import zoo

    assert set(zoo.culture_codes()) == {
        "chinese_ink",
        "indonesian_batik",
        "islamic_ornament",
        "photo",
        "ukiyoe",
        "western_oil",
    }
    assert "feature_engine" not in zoo.styles()
    photo = _photo(64, 48)
    pure = stylebridge.stylize(photo, mix={"ukiyoe": 1.0, "western_oil": 0.0})
    assert pure.size == (64, 48)
    same = stylebridge.stylize(photo, "ukiyoe")  # its finish, palette and render side too
    assert np.array_equal(np.asarray(pure), np.asarray(same))
    assert not np.array_equal(
        np.asarray(pure), np.asarray(stylebridge.stylize(photo, style_from="ukiyoe"))
    )
    a = stylebridge.stylize(photo, mix={"ukiyoe": 0.3, "western_oil": 0.7})
    b = stylebridge.stylize(photo, mix={"ukiyoe": 3.0, "western_oil": 7.0})
    assert np.array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ConfigError, match="valid: chinese_ink, indonesian_batik"):
        stylebridge.stylize(photo, mix={"klimt": 1.0})
    with pytest.raises(ConfigError, match="valid names: chinese_ink"):
        stylebridge.stylize(photo, mix={"ukiyoe": 0.0, "western_oil": 0.0})
    with pytest.raises(ConfigError, match="exactly one"):
        stylebridge.stylize(photo, "ukiyoe", mix={"ukiyoe": 1.0})
    ink = np.asarray(stylebridge.stylize(_photo(96, 96), style_from="chinese_ink"), np.float32)
    assert np.ptp(ink, axis=2).mean() < 12  # ink code: near-grey, not yellowed silk


def test_a_mix_takes_each_cultures_settings_at_its_weight(tmp_path):
    """A mix of culture styles renders on the engine they share (else the bundled one), with
    each culture's finish at its weight and the white level averaged, so a culture at weight 1
    is exactly its style and a fuse sweep runs from one style to the other."""
    import stylebridge
    from stylebridge import api
    from stylebridge.inference.feature_style import MixPreset
    from stylebridge.inference.finish import FinishShare, finish_to_size

    ink_oil = MixPreset.of({"chinese_ink": 0.6, "western_oil": 0.4})
    assert (ink_oil.engine, ink_oil.finish, ink_oil.render_side) == ("fast", "none", 512)
    assert ink_oil.white_level == pytest.approx(0.6 * 0.85 + 0.4)
    uk_batik = MixPreset.of({"ukiyoe": 1.0, "indonesian_batik": 3.0})
    assert uk_batik.engine == "bundled"
    assert [(s.finish, s.amount) for s in uk_batik.finish] == [("flat_detail", 0.25), ("wax", 0.75)]
    assert MixPreset.of({"photo": 1.0}) == MixPreset()  # no culture style: the plain rendering
    photo = _photo(64, 48)
    for name in ("chinese_ink", "indonesian_batik"):
        mixed = stylebridge.stylize(photo, mix={name: 1.0})
        assert np.array_equal(np.asarray(mixed), np.asarray(stylebridge.stylize(photo, name)))
    photo.save(tmp_path / "photo.png")
    api.fuse("chinese_ink", "indonesian_batik", tmp_path / "photo.png", tmp_path / "sweep", steps=3)
    steps = sorted((tmp_path / "sweep").glob("step_*.png"))
    for step, name in ((steps[0], "chinese_ink"), (steps[-1], "indonesian_batik")):
        style = np.asarray(stylebridge.stylize(photo, name))
        assert np.array_equal(np.asarray(Image.open(step).convert("RGB")), style)
    rgb = np.asarray(_photo(40, 30))
    half = finish_to_size(rgb, (40, 30), (FinishShare("grey", 0.5),))
    grey = finish_to_size(rgb, (40, 30), "grey").astype(np.float32)
    assert np.abs(half - (rgb + grey) / 2).max() <= 0.51  # halfway to the finished rendering
    with pytest.raises(ConfigError, match=r"within \[0, 1\]"):
        finish_to_size(rgb, (40, 30), (FinishShare("grey", 1.5),))
    with pytest.raises(ConfigError, match="unknown finish 'oil'"):
        finish_to_size(rgb, (40, 30), (FinishShare("oil", 0.5),))


def test_culture_discriminator_judges_each_image_by_its_own_group(one_thread):
    """Each style group has its own head: after training, each head calls its own group's
    images real and the other group's not; a group beyond gan_heads is refused before any work.
    """
    from stylebridge.models.stylenet import StyleNet, StyleNetConfig

    torch.manual_seed(0)
    config = StyleNetConfig(
        decoder_widths="16,16,16",
        decoder_kind="shuffle",
        lambda_gan=1.0,
        gan_heads=2,
        d_ndf=8,
        lr=0.002,
    )
    config.resolve(32)
    model = StyleNet(config, torch.device("cpu"))
    red, blue = torch.full((3, 32, 32), -0.9), torch.full((3, 32, 32), -0.9)
    red[0], blue[2] = 0.9, 0.9
    styles = torch.stack([red, blue, red, blue, red, blue])
    batch = {
        "real_a": torch.rand(6, 3, 32, 32) * 2 - 1,
        "real_b": styles,
        "label_b": torch.tensor([0, 1, 0, 1, 0, 1]),
    }
    for _ in range(40):
        losses = model.train_step(batch)
    assert {"loss/gan", "loss/d"} <= losses.keys()
    with torch.no_grad():
        logits = model.culture_d(red[None]).mean((2, 3))[0]
        blue_logits = model.culture_d(blue[None]).mean((2, 3))[0]
        picked = model._culture_logits(red[None].expand(2, -1, -1, -1), torch.tensor([0, 1]))
    assert torch.allclose(picked.mean((1, 2, 3)), logits, atol=1e-5)
    assert logits[0] > logits[1] + 0.3, logits  # LSGAN: real is 1, fake is 0
    assert blue_logits[1] > blue_logits[0] + 0.3, blue_logits

    batch["label_b"] = torch.tensor([0, 1, 2, 0, 1, 2])
    with pytest.raises(ConfigError, match="gan_heads=2"):
        model.train_step(batch)


def test_newton_schulz_whitening_matches_the_eigendecomposition():
    """The ONNX graph whitens with matrix products only; on a rank-deficient covariance (fewer
    positions than channels, as in a small image) it must whiten like ``sym_power``."""
    from stylebridge.nn.feature_fusion import newton_schulz_inverse_sqrt, sym_power

    for hw in (4, 20):  # 16 positions for 24 channels: rank-deficient; 400: full rank
        features = _features(5, c=24, hw=hw)[0].reshape(24, -1).double()
        centred = features - features.mean(1, keepdim=True)
        covariance = centred @ centred.T / centred.shape[1]
        exact = sym_power(covariance, -0.5) @ centred
        approx = newton_schulz_inverse_sqrt(covariance.float()).double() @ centred
        assert ((approx - exact).norm() / exact.norm()) < 5e-3
        white = approx @ approx.T / approx.shape[1]  # whitened: identity on the content's span
        rank = int(torch.linalg.matrix_rank(covariance))
        assert torch.allclose(
            torch.linalg.eigvalsh(white)[-rank:], torch.ones(rank, dtype=white.dtype), atol=2e-2
        )


def test_bundled_engine_exports_to_onnx_with_the_style_fixed(tmp_path):
    """``export --style-from``: one image -> image graph, any size, that renders like
    ``stylize`` (AdaIN exactly; WCT with Newton-Schulz whitening) and refuses misuse."""
    import onnxruntime as ort
    from typer.testing import CliRunner

    import stylebridge
    from stylebridge.cli import app
    from stylebridge.imageio import to_tensor, to_uint8

    photo = Image.open(_sample_photo()).convert("RGB").resize((128, 96))
    for fusion, exporter in (("adain", "torchscript"), ("wct", "auto")):
        out = tmp_path / f"ukiyoe_{fusion}.onnx"
        report = stylebridge.export(
            None, onnx=out, style_from="ukiyoe", fusion=fusion, exporter=exporter
        )
        assert report.max_abs_diff <= report.tolerance and out.is_file()
        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        for size in ((128, 96), (64, 104)):
            image = photo.resize(size)
            got = session.run(["styled"], {"image": to_tensor(image).numpy()})[0]
            assert got.shape == (1, 3, size[1], size[0])
            ours = to_uint8(torch.from_numpy(got)).astype(np.float32)
            want = np.asarray(
                stylebridge.stylize(image, style_from="ukiyoe", fusion=fusion), np.float32
            )
            psnr = 10 * np.log10(255**2 / max(np.mean((ours - want) ** 2), 1e-9))
            assert psnr > 40, (fusion, size, psnr)
    # a graph whose check fails under the dynamo exporter (it fixes the batch) falls back
    from stylebridge.api import style_renderer
    from stylebridge.inference import export_module

    renderer = style_renderer(style_from="ukiyoe")
    baked = renderer.engine.baked(renderer.code, "adain")
    fallback = export_module(baked, tmp_path / "auto.onnx", exporter="auto")
    assert fallback.exporter == "torchscript" and "failed the check" in fallback.fallback_reason
    runner = CliRunner()
    again = runner.invoke(app, ["export", "--style-from", "ukiyoe", "--onnx", str(out)])
    assert again.exit_code != 0 and "exists" in str(again.output) + str(again.exception)
    with pytest.raises(ConfigError, match="style source"):
        stylebridge.export(None, onnx=tmp_path / "none.onnx")
    with pytest.raises(ConfigError, match="valid"):
        stylebridge.export(None, onnx=tmp_path / "bad.onnx", mix={"klimt": 1.0})
    assert not (tmp_path / "none.onnx").exists() and not (tmp_path / "bad.onnx").exists()


def _sample_photo():
    """A real photograph that ships with scikit-image (no data download)."""
    from skimage import data

    return data.data_dir + "/astronaut.png"


def test_onnxruntime_backend_renders_like_pytorch(engine_dir, tmp_path, monkeypatch):
    """``backend="onnxruntime"``: the encoder and decoder exported once into the cache and run
    there; whole, tiled and masked renderings match PyTorch's."""
    monkeypatch.setenv("STYLEBRIDGE_CACHE_DIR", str(tmp_path / "cache"))
    run, root = engine_dir
    torch_engine = FeatureEngine(run, device="cpu", precision="fp32")
    ort_engine = FeatureEngine(run, device="cpu", precision="fp32", backend="onnxruntime")
    graphs = sorted(p.name for p in (tmp_path / "cache" / "onnx").glob("engine-*.onnx"))
    assert len(graphs) == 2 and graphs[0].endswith("-decoder.onnx")
    code = torch_engine.code_from_folder(root / "styles")
    photo, mask = _photo(72, 56), np.zeros((56, 72), np.float32)
    mask[:, :36] = 1.0
    for options in ({}, {"tile": 40}, {"mask": mask, "outside": code}):
        a = np.asarray(torch_engine.render(photo, code, **options), np.float32)
        b = np.asarray(ort_engine.render(photo, code, **options), np.float32)
        assert a.shape == b.shape == (56, 72, 3)
        assert np.abs(a - b).max() <= 2, options  # fp32 both: rounding only
    odd = _photo(67, 45)  # style images of any size, not only multiples of 8
    for engine in (torch_engine, ort_engine):
        assert engine.encode(torch.zeros(1, 3, 48, 64)).shape[1] > engine.channels  # detail
    a, b = (e.code_from_images([odd]).moments for e in (torch_engine, ort_engine))
    assert torch.allclose(a.mean, b.mean, atol=1e-4)
    assert torch.allclose(a.second, b.second, atol=1e-3)
    again = FeatureEngine(run, device="cpu", precision="fp32", backend="onnxruntime")
    assert again.encode.path == ort_engine.encode.path  # exported once, then reused
    with pytest.raises(ConfigError, match="unknown backend 'tflite'"):
        FeatureEngine(run, device="cpu", backend="tflite")


def test_bf16_networks_keep_the_fusion_in_float32():
    """On a CPU with bf16 instructions the engine runs its networks under bf16 autocast, but
    the moments, their matrix roots and the fusion stay float32: covariances summed in bf16
    had moved WCT renderings to 20 dB PSNR from float32's (AdaIN 46 dB)."""
    from stylebridge import api, zoo
    from stylebridge.inference.feature_style import StyleCode

    photo = Image.open(_sample_photo()).convert("RGB").resize((128, 96))
    fp32, bf16 = api.feature_engine(precision="fp32"), api.feature_engine(precision="bf16")
    code = StyleCode.load(zoo.culture_codes()["ukiyoe"], channels=fp32.channels)
    for fusion in ("wct", "adain"):
        a = np.asarray(fp32.render(photo, code, fusion=fusion), np.float32)
        b = np.asarray(bf16.render(photo, code, fusion=fusion), np.float32)
        psnr = 10 * np.log10(255**2 / max(np.mean((a - b) ** 2), 1e-9))
        assert psnr > 35, (fusion, psnr)


def test_moments_and_fusion_stay_float32_under_bf16_autocast():
    """Training fuses its targets inside the networks' autocast: the moments and WCT must not
    be summed in bf16 there either (``nn.feature_fusion.in_float32``)."""
    features = torch.randn(1, 24, 16, 16, generator=torch.Generator().manual_seed(0)) * 3 + 1
    exact = StyleMoments.of(features)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = StyleMoments.of(features)
        fused = wct(features, exact)
    assert torch.allclose(got.second, exact.second, rtol=1e-6, atol=1e-6)
    assert torch.allclose(fused, wct(features, exact), atol=1e-5)
