import torch

from stylebridge.nn.style_decoder import StyleDecoder, StyleDecoderConfig


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
