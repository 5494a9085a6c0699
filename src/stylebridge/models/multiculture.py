"""One conditional translator for many cultures: the feature-fusion engine trained on a corpus
of cultures with a culture discriminator (one head per culture) and culture priors.

StarGAN v2 (Choi et al. 2020) gives one generator per-domain style codes and a multi-head
discriminator; here the style code of a culture is the moments of the frozen encoder's features
over its paintings (computed after training into ``RUN/codes``), the decoder is shared, and the
discriminator has one head per culture. Interpolating two codes gives the fusions between any
two cultures; a new culture fine-tunes from a trained model (``--init-from``), as the heads and
codes are per culture and the decoder is shared.

``stylebridge train multiculture --cultures CORPUS`` takes content photos from ``CORPUS/photo``
and one culture per other subfolder. The defaults are those measured best for the engine on two
CPU cores (docs/feature_engine.md): the shuffle decoder, the culture discriminator and the
stroke/outline priors, which every culture's paintings differ from the engine's renderings in.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import MODELS
from .stylenet import StyleNet, StyleNetConfig


@dataclass
class MultiCultureConfig(StyleNetConfig):
    decoder_kind: str = "shuffle"
    decoder_widths: str = "128,64,32"
    lambda_gan: float = 0.5
    priors: str = "*=strokes+outlines"
    lr: float = 3e-4
    # cultures whose codes (RUN/codes, written after training) whiten aged paper and drop its
    # colour, so ink on yellowed silk is rendered as ink, not as yellow
    paper_tone_groups: str = "chinese_ink"


@MODELS.register("multiculture")
class MultiCulture(StyleNet):
    config_cls = MultiCultureConfig
    default_batch_size = 8
