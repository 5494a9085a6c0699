import pytest
import torch

from stylebridge.nn.style_decoder import StyleDecoder, StyleDecoderConfig, nearest_up_conv


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


def _unfolded(decoder: StyleDecoder, features: torch.Tensor) -> torch.Tensor:
    """The decoder as its layers read: upsample, pad and convolve at the upsampled size."""
    if not decoder.config.detail_channels:
        return decoder.body(features)
    fusion, packed = features.split(
        [decoder.config.in_channels, decoder.config.detail_channels], dim=1
    )
    x = decoder.body[: decoder.split + 1](fusion)
    x = x + decoder.detail(torch.nn.functional.pixel_shuffle(packed, 2))
    return decoder.body[decoder.split + 1 :](x)


@pytest.mark.parametrize("detail", [0, 16])
def test_folded_upsampling_gives_the_same_image_and_gradients(detail):
    torch.manual_seed(0)
    decoder = StyleDecoder(StyleDecoderConfig(16, (16, 12, 8, 8), "upsample", detail))
    if detail:
        torch.nn.init.normal_(decoder.detail.weight, std=0.1)  # the detail path does something
    for h, w in ((5, 7), (8, 8)):
        features = torch.randn(2, 16 + detail, h, w)
        got, expected = decoder(features), _unfolded(decoder, features)
        assert got.shape == expected.shape == (2, 3, 8 * h, 8 * w)
        assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()
    # training: the same gradients reach the 3x3 weights the checkpoint holds
    target = torch.randn(2, 3, 40, 56)
    grads = []
    for forward in (decoder, lambda f: _unfolded(decoder, f)):
        decoder.zero_grad()
        (forward(features[:, :, :5, :7]) - target).square().mean().backward()
        grads.append(decoder.body[-1].weight.grad.clone())
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def test_nearest_up_conv_matches_upsample_pad_conv():
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
    assert torch.allclose(nearest_up_conv(x, conv), reference, atol=1e-5)


def test_detail_packer_is_the_normalised_pixel_unshuffle():
    """The fixed convolutions compute the per-pixel RMS normalisation and ``pixel_unshuffle``'s
    channel order; a side that is no multiple of 8 is still padded by replication."""
    from stylebridge.nn.style_decoder import DetailPacker

    torch.manual_seed(0)
    packer = DetailPacker(6)
    fusion = torch.randn(2, 5, 4, 6)
    detail = torch.randn(2, 6, 8, 12)
    wanted = detail * torch.rsqrt(detail.square().mean(1, keepdim=True) + 1e-6)
    wanted = torch.cat([fusion, torch.nn.functional.pixel_unshuffle(wanted, 2)], 1)
    assert torch.allclose(packer(fusion, detail), wanted, atol=1e-6)
    short = packer(fusion, detail[..., :7, :11])  # one short of twice the fusion grid
    assert short.shape == wanted.shape
    assert torch.equal(short[:, 7::4, 3], short[:, 5::4, 3])  # pixel row 7 repeats row 6
    assert torch.allclose(short[:, :, :3, :5], wanted[:, :, :3, :5], atol=1e-6)


@pytest.mark.parametrize("side", [31, 32, 45, 64])
def test_same_padding_matches_tensorflow_and_fixes_for_even_sides(side):
    """SAME: ``k - s + (-n) % s`` in total, the smaller half first; the stride-1 kernels pad
    inside the convolution, and ``fix_same_padding`` gives the same image on even sides."""
    import torch.nn.functional as F

    from stylebridge.nn.efficientnet_lite import SameConv2d, fix_same_padding

    torch.manual_seed(0)
    x = torch.randn(1, 4, side, side + 6)
    for kernel, stride in [(3, 1), (5, 1), (3, 2), (5, 2)]:
        conv = SameConv2d(4, 4, kernel, stride, groups=4, bias=False)
        pads = []
        for n in x.shape[:1:-1]:
            total = max((-(-n // stride) - 1) * stride + kernel - n, 0)
            pads += [total // 2, total - total // 2]
        wanted = F.conv2d(F.pad(x, pads), conv.weight, None, stride, groups=4)
        assert torch.allclose(conv(x), wanted, atol=1e-5)
        if side % 2 == 0:
            assert torch.allclose(fix_same_padding(conv)(x), wanted, atol=1e-5)
