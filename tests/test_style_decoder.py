import pytest
import torch

from stylebridge.nn.style_decoder import NearestUpConv, StyleDecoder, StyleDecoderConfig


def test_shuffle_decoder_starts_as_nearest_upsampling_and_keeps_the_size():
    decoder = StyleDecoder(StyleDecoderConfig(16, (16, 8, 8), "shuffle"))
    out = decoder(torch.randn(2, 16, 4, 6))
    assert out.shape == (2, 3, 32, 48)
    # ICNR: the last shuffle's four sub-pixels of every 2x2 block start equal
    blocks = out.unfold(2, 2, 2).unfold(3, 2, 2).reshape(2, 3, 16, 24, 4)
    assert torch.allclose(blocks, blocks[..., :1].expand_as(blocks), atol=1e-6)


def test_configs_without_a_kind_load_as_upsample_decoders():
    config = StyleDecoderConfig.from_dict({"in_channels": 240, "widths": "128,96,48,24"})
    assert config.kind == "upsample" and config.widths == (128, 96, 48, 24)


def test_folded_upsampling_gives_the_same_image_at_odd_sizes():
    torch.manual_seed(0)
    config = StyleDecoderConfig(16, (16, 12, 8, 8), "upsample", detail_channels=16)
    decoder = StyleDecoder(config).eval()
    torch.nn.init.normal_(decoder.detail.weight, std=0.1)  # the detail path does something
    fast = decoder.for_inference()
    folded = [m for m in fast.body if isinstance(m, NearestUpConv)]
    assert len(folded) == 2  # the upsampling where the detail joins stays as it is
    for h, w in ((5, 7), (8, 8)):
        features = torch.randn(2, 16 + 16, h, w)
        expected = decoder(features)
        got = fast(features)
        assert got.shape == expected.shape == (2, 3, 8 * h, 8 * w)
        assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()
    # the trained decoder is untouched; the copy takes no gradients
    assert not any(isinstance(m, NearestUpConv) for m in decoder.body)
    assert not any(p.requires_grad for p in fast.parameters())


def test_nearest_up_conv_matches_upsample_pad_conv_and_refuses_other_convs():
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(4, 3, 3)
    x = torch.randn(1, 4, 3, 6)
    reference = conv(
        torch.nn.functional.pad(
            torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"),
            (1, 1, 1, 1),
            mode="reflect",
        )
    )
    assert torch.allclose(NearestUpConv(conv)(x), reference, atol=1e-5)
    with pytest.raises(ValueError, match="3x3"):
        NearestUpConv(torch.nn.Conv2d(4, 3, 3, padding=1))
