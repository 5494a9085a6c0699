"""Learned statistics of EfficientNet-Lite0: style (channel mean/std and Gram matrices of two
mid-level layers) and subject (the pooled ImageNet embedding at the end of the network).

Style (as in Gatys et al.) lives in the statistics of mid-level feature maps. What a picture
shows (mountains and pines, figures and waves, still lifes) is the pooled "what is it" vector:
a culture's conventions of subject carry across collections where palette and scan do not
(measured in docs/analysis.md). One pass at ``INPUT_SIDE`` px gives both: the style layers on
the way, the embedding at the head. 128 px is enough for texture statistics and 3x cheaper
than 224 px, and the embedding read there separated collections as well as at 224 px.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..metrics import build_extractor

INPUT_SIDE = 128
GRAM_BLOCK = 4  # end of stage 3: 40 channels at 1/8 resolution
STATS_BLOCK = 10  # end of stage 5: 112 channels at 1/16 resolution
GRAM_CHANNELS = 40
STATS_CHANNELS = 112
NUM_LEARNED = 2 * GRAM_CHANNELS + GRAM_CHANNELS * (GRAM_CHANNELS + 1) // 2 + 2 * STATS_CHANNELS
VERSION = f"lite0-style-1:{INPUT_SIDE}:b{GRAM_BLOCK}:b{STATS_BLOCK}"
NUM_EMBEDDING = 1280
EMBEDDING_VERSION = f"lite0-pooled-1:{INPUT_SIDE}:bilinear"


class StyleStatistics:
    """Runs Lite0 once on batches of images: the style statistics and the pooled embedding."""

    def __init__(self, cache: str | None = None):
        extractor = build_extractor("lite0", device="cpu", cache=cache)
        self.net = extractor.net
        self.blocks = list(self.net._blocks)[: STATS_BLOCK + 1]
        self.rest = list(self.net._blocks)[STATS_BLOCK + 1 :]
        rows, cols = np.triu_indices(GRAM_CHANNELS)
        self.triu = (torch.from_numpy(rows), torch.from_numpy(cols))

    @staticmethod
    def prepare(rgb: np.ndarray) -> np.ndarray:
        """Uint8 HxWx3 -> the square uint8 input the style layers see (whole image, resized)."""
        image = Image.fromarray(rgb)
        if image.size != (INPUT_SIDE, INPUT_SIDE):
            image = image.resize((INPUT_SIDE, INPUT_SIDE), Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.uint8)

    @staticmethod
    def _moments(h: torch.Tensor) -> torch.Tensor:
        flat = h.flatten(2)
        return torch.cat([flat.mean(2), flat.std(2, correction=0)], dim=1)

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, S, S, 3) uint8 -> style (N, NUM_LEARNED) and subject (N, NUM_EMBEDDING) float32."""
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).float()
        x = ((x - 127.0) / 128.0).contiguous(memory_format=torch.channels_last)
        h = torch.nn.functional.relu6(self.net._bn0(self.net._conv_stem(x)))
        parts = []
        for index, block in enumerate(self.blocks):
            h = block(h)
            if index == GRAM_BLOCK:
                flat = h.flatten(2)
                gram = flat @ flat.transpose(1, 2) / flat.shape[2]
                parts += [self._moments(h), gram[:, self.triu[0], self.triu[1]]]
        parts.append(self._moments(h))
        for block in self.rest:  # on to the head for the pooled embedding
            h = block(h)
        pooled = torch.nn.functional.relu6(self.net._bn1(self.net._conv_head(h))).mean((2, 3))
        return torch.cat(parts, dim=1).float().numpy(), pooled.float().numpy()
