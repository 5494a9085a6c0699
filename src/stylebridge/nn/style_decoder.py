"""The decoder of the feature-fusion style engine: encoder features at stride 8 -> RGB.

No normalisation layer anywhere (as in AdaIN's decoder): a norm would undo the statistics that
carry the style. Two layouts:

- ``upsample``: nearest-neighbour upsampling and reflection-padded 3x3 convolutions at every
  resolution, four widths (stride 8, 4, 2, 1). The first bundled decoder; about 11 GMAC at
  512 px with widths 128,96,48,24.
- ``detail_channels`` > 0: the encoder's stride-4 features, normalised per
  pixel and packed into the input behind the fusion features (``DetailPacker``), are added at
  stride 4 through a 1x1 convolution that starts at zero. They carry where the content's edges
  are, which the stride-8 fusion features blur; a decoder trained without them loads and
  fine-tunes with them (it starts as it was). Every upsampling followed by a padded 3x3
  convolution runs as one transposed convolution from the lower resolution
  (``nearest_up_conv``): the same function, computed in about half the time.
- ``shuffle``: the work stays at low resolution. A 1x1 and a 3x3 convolution at stride 8, then
  pixel shuffles trade channels for resolution (each stage's width / 4 channels enter the next
  one) and the last 3x3 convolution, at stride 2, writes 2x2 RGB sub-pixels. Three widths
  (stride 8, 4, 2); about 2.2 GMAC at 512 px with 128,64,32. Sub-pixel convolutions start as
  ICNR (Aitken et al. 2017), a nearest-neighbour upsampling, so they begin without checkerboards.
  Detail features join after the first pixel shuffle (stride 4), as in ``upsample``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

DECODER_KINDS = {"upsample": 4, "shuffle": 3}  # layout -> number of widths


@dataclass
class StyleDecoderConfig:
    in_channels: int = 240
    widths: tuple[int, ...] = (192, 128, 64, 32)  # one per resolution, stride 8 -> ...
    kind: str = "upsample"
    detail_channels: int = 0  # packed stride-4 detail features after the fusion features

    def __post_init__(self) -> None:
        count = DECODER_KINDS.get(self.kind)
        if count is None:
            raise ValueError(f"decoder kind must be one of {', '.join(DECODER_KINDS)}")
        if len(self.widths) != count or min(self.widths) < 1 or self.in_channels < 1:
            raise ValueError(f"a {self.kind} decoder needs {count} positive widths")
        if self.kind == "shuffle" and any(w % 4 for w in self.widths[:-1]):
            raise ValueError("a shuffle decoder's stride-8 and stride-4 widths must divide by 4")
        if self.detail_channels < 0 or self.detail_channels % 4:
            raise ValueError("detail_channels must be a multiple of 4 (packed 2x2), or 0")

    def to_dict(self) -> dict:
        return {**asdict(self), "widths": ",".join(str(w) for w in self.widths)}

    @classmethod
    def from_dict(cls, data: dict) -> StyleDecoderConfig:
        widths = data.get("widths", cls.widths)
        if isinstance(widths, str):
            widths = tuple(int(w) for w in widths.split(",") if w.strip())
        # configs written before the shuffle layout have no kind: they are upsample decoders
        return cls(
            int(data.get("in_channels", 240)),
            tuple(widths),
            data.get("kind", "upsample"),
            int(data.get("detail_channels", 0)),
        )


def _conv(c_in: int, c_out: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3)]
    return [*layers, nn.ReLU(inplace=True)] if relu else layers


def icnr_(conv: nn.Conv2d, scale: int = 2) -> None:
    """Initialise a convolution followed by PixelShuffle(scale) so that the shuffle starts as a
    nearest-neighbour upsampling: the scale**2 sub-pixel filters of each output start equal."""
    out, *rest = conv.weight.shape
    base = torch.empty(out // scale**2, *rest)
    nn.init.kaiming_uniform_(base, a=5**0.5)  # Conv2d's own default
    with torch.no_grad():
        conv.weight.copy_(base.repeat_interleave(scale**2, dim=0))
        if conv.bias is not None:
            conv.bias.copy_(conv.bias[:: scale**2].repeat_interleave(scale**2))


def _upsample_body(config: StyleDecoderConfig) -> list[nn.Module]:
    w8, w4, w2, w1 = config.widths
    layers = _conv(config.in_channels, w8)
    for c_in, c_out in ((w8, w4), (w4, w2)):
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv(c_in, c_out)]
        layers += _conv(c_out, c_out)
    layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv(w2, w1)]
    return layers + _conv(w1, 3, relu=False)


def _shuffle_body(config: StyleDecoderConfig) -> list[nn.Module]:
    """s8: 1x1 + 3x3 (w8); s4: 3x3 (w8/4 -> w4) + 3x3 (w4); s2: 3x3 (w4/4 -> w2), then a 3x3
    conv to 2x2 RGB sub-pixels. Every conv that feeds a shuffle starts as ICNR."""
    w8, w4, w2 = config.widths
    s8 = [nn.Conv2d(config.in_channels, w8, 1), nn.ReLU(inplace=True), *_conv(w8, w8)]
    s4 = [nn.PixelShuffle(2), *_conv(w8 // 4, w4), *_conv(w4, w4)]
    s2 = [nn.PixelShuffle(2), *_conv(w4 // 4, w2), *_conv(w2, 3 * 4, relu=False)]
    for stage in (s8, s4, s2):
        icnr_([m for m in stage if isinstance(m, nn.Conv2d)][-1])
    return [*s8, *s4, *s2, nn.PixelShuffle(2)]


class DetailPacker(nn.Module):
    """Stride-4 detail features, normalised per pixel (their direction, not their strength,
    which would carry the content's own style), packed 2x2 into channels behind the stride-8
    fusion features: the decoder takes one tensor, and the fusion reads only its first
    channels.

    Both steps are fixed 1x1 and 2x2 convolutions (the channel mean of squares; a one-hot
    space-to-depth in ``pixel_unshuffle``'s channel order, exact): onnxruntime runs a
    convolution in its blocked layout, where a channel reduction and a 6-d transpose cost it a
    third of the encoder's time at 512 px."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.register_buffer("mean_kernel", torch.full((1, channels, 1, 1), 1.0 / channels), False)
        unshuffle = torch.zeros(4 * channels, 1, 2, 2)
        for k in range(4):  # output channel 4c + 2i + j reads pixel (i, j) of channel c
            unshuffle[k::4, 0, k // 2, k % 2] = 1.0
        self.register_buffer("unshuffle_kernel", unshuffle, False)
        self.divisible_sides = False  # efficientnet_lite.fix_same_padding: sides multiples of 8

    def forward(self, fusion: torch.Tensor, detail: torch.Tensor) -> torch.Tensor:
        return self.pack(fusion, self.normalise(detail))

    def normalise(self, detail: torch.Tensor) -> torch.Tensor:
        """Each pixel's detail vector divided by its RMS over the channels, in float32."""
        with torch.autocast(detail.device.type, enabled=False):
            detail = detail.float()
            mean_square = nn.functional.conv2d(detail.square(), self.mean_kernel.float())
            return detail * torch.rsqrt(mean_square + 1e-6)

    def pack(self, fusion: torch.Tensor, detail: torch.Tensor) -> torch.Tensor:
        """``detail`` (stride 4, ``channels``) packed 2x2 behind ``fusion`` (stride 8)."""
        with torch.autocast(detail.device.type, enabled=False):
            detail = detail.float()
            # sides that are no multiple of 8: the stride-4 grid is one short of twice stride 8
            pad_h = 2 * fusion.shape[-2] - detail.shape[-2]
            pad_w = 2 * fusion.shape[-1] - detail.shape[-1]
            if not self.divisible_sides:
                detail = nn.functional.pad(detail, (0, pad_w, 0, pad_h), mode="replicate")
            packed = nn.functional.conv2d(
                detail, self.unshuffle_kernel.float(), stride=2, groups=self.channels
            )
        return torch.cat([fusion.float(), packed], 1)


# A 3x3 convolution after a nearest x2 upsampling, as a stride-2 transposed convolution with a
# 4x4 kernel: output row 2i reads input rows i-1 (tap -1) and i (taps 0, +1), row 2i+1 reads
# rows i (taps -1, 0) and i+1 (tap +1). Rows: transposed-kernel index; columns: 3x3 taps.
_TRANSPOSED_TAPS = torch.tensor([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=torch.float64)


def nearest_up_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """Nearest x2 upsampling, reflection padding of 1 and ``conv`` (3x3, unpadded), computed
    exactly from ``x``'s resolution as one transposed convolution (stride 2, 4x4 kernel folded
    from the 3x3 one) of the replicate-padded input: after a nearest upsampling, reflecting one
    pixel repeats the edge. 4/9 of the multiply-adds and no upsampled or padded copy at the
    output's resolution: the decoder renders in about half the time on a CPU and trains about
    1.6x faster; gradients reach the 3x3 weights, so checkpoints keep their layout."""
    taps = _TRANSPOSED_TAPS.to(conv.weight)
    kernel = torch.einsum("ak,oikl,bl->ioab", taps, conv.weight, taps)
    padded = nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")
    # padding 3: the transposed convolution's own 1, plus the 2 output pixels per side that the
    # replicated input pixels add
    return nn.functional.conv_transpose2d(padded, kernel, conv.bias, stride=2, padding=3)


def _is_up_conv(layers: nn.Sequential, i: int) -> bool:
    if i + 3 > len(layers):
        return False
    window = [layers[i], layers[i + 1], layers[i + 2]]  # indexing: a slice builds a Sequential
    return (
        isinstance(window[0], nn.Upsample)
        and window[0].mode == "nearest"
        and window[0].scale_factor in (2, 2.0)
        and isinstance(window[1], nn.ReflectionPad2d)
        and tuple(window[1].padding) == (1, 1, 1, 1)
        and isinstance(window[2], nn.Conv2d)
        and window[2].kernel_size == (3, 3)
        and window[2].padding == (0, 0)
        and window[2].stride == (1, 1)
    )


def run_layers(layers: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """``layers`` applied in turn, each upsample -> pad -> 3x3 conv as ``nearest_up_conv``."""
    i = 0
    while i < len(layers):
        if _is_up_conv(layers, i):
            x = nearest_up_conv(x, layers[i + 2])
            i += 3
        else:
            x = layers[i](x)
            i += 1
    return x


class StyleDecoder(nn.Module):
    # layers that fine-tuning may add to a decoder trained without them (they start at zero)
    optional_prefixes = ("detail.",)

    def __init__(self, config: StyleDecoderConfig):
        super().__init__()
        self.config = config
        body = _shuffle_body(config) if config.kind == "shuffle" else _upsample_body(config)
        self.body = nn.Sequential(*body)
        if config.detail_channels:
            # the detail joins where the layout first reaches stride 4: the output of the first
            # upsampling (w8 channels) or of the first pixel shuffle (w8 / 4 channels)
            grows = nn.PixelShuffle if config.kind == "shuffle" else nn.Upsample
            self.split = next(i for i, m in enumerate(self.body) if isinstance(m, grows))
            width = config.widths[0] // (4 if config.kind == "shuffle" else 1)
            self.detail = nn.Conv2d(config.detail_channels // 4, width, 1)
            nn.init.zeros_(self.detail.weight)
            nn.init.zeros_(self.detail.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Features (N, C, H/8, W/8) -> image (N, 3, H, W) in about [-1, 1] (not clamped, so
        the losses see gradients at the extremes). With detail, C is the fusion channels plus
        the packed detail channels (``DetailPacker``)."""
        if not self.config.detail_channels:
            return run_layers(self.body, features)
        fusion, packed = features.split(
            [self.config.in_channels, self.config.detail_channels], dim=1
        )
        return self.render(fusion, self.detail(nn.functional.pixel_shuffle(packed, 2)))

    def render(self, fusion: torch.Tensor, detail_term: torch.Tensor) -> torch.Tensor:
        """The image from the fusion features and the detail layer's output (stride 4,
        ``detail.out_channels``), which joins where the layout first reaches stride 4. Split
        out so that an exported engine can compute the detail term in its encoder graph, where
        the detail features are still at stride 4 (docs/feature_engine.md)."""
        x = run_layers(self.body[: self.split + 1], fusion)
        x = x + detail_term.to(x.dtype)
        return run_layers(self.body[self.split + 1 :], x)
