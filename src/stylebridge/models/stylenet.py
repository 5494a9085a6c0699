"""Feature-fusion style transfer (AdaIN, Huang and Belongie 2017; WCT, Li et al. 2017).

A frozen ImageNet EfficientNet-Lite1 encodes a content photo and a style image; their features
at stride 8 are fused (the content's, re-normalised to the style's statistics) and a decoder,
the only part that learns, turns the fused features back into an image. The decoder is trained
with a content loss (the output's features must be the fused ones) and a style loss (the
output's feature statistics on four layers must be the style image's), so after training one
decoder renders any style image, a culture's pooled statistics, or a mixture of cultures.

Lite1 is used here and Lite0 by the metrics, so a measurement never repeats the training loss.
With ``lambda_gan`` > 0 a culture patch discriminator joins (the GAN term): one PatchGAN with
one logit map per style group (the subfolders of ``domain_b``, e.g. one per culture) tells a
group's real paintings from photos rendered with that group's paintings, so the decoder learns
what a culture's surfaces look like in pixels, beyond one picture's feature statistics.

Culture priors (``priors``, weighted by ``lambda_prior``) add, per named group, discriminators
that see one culture view of the images (``nn/culture_views``: ink wash, strokes, outlines,
flatness, stroke orientation) and the empty-space statistic, so a style is judged on the
property that carries it, not on palette alone.

Data: ``domain_a`` holds content photos, ``domain_b`` style images (folders of any depth).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import ConfigError, ModelFileError
from ..losses import (
    check_gan_loss,
    discriminator_adv_loss,
    distillation_loss,
    generator_adv_loss,
    moment_style_loss,
    phase_grid_loss,
    relative_mse,
    softmax_smooth,
    total_variation,
)
from ..nn.culture_views import VIEWS, empty_space_loss
from ..nn.discriminators import PatchDiscriminator, PatchDiscriminatorConfig
from ..nn.efficientnet_lite import VARIANTS, fuse_batchnorm, load_efficientnet_lite
from ..nn.feature_fusion import FUSIONS, StyleMoments, adain, fuse
from ..nn.style_decoder import DetailPacker, StyleDecoder, StyleDecoderConfig
from .base import MODELS, TranslationModel
from .files import CONFIG_NAME, check_weight_values, read_run_config, read_tensors, weights_path

FUSION_BLOCK = 7  # Lite1: the 240-channel expansion entering stage 3, at stride 8
DETAIL_BLOCKS = (0, 3, 4)  # 0: none; Lite1's 144-channel expansions at stride 4
ENGINE_METHODS = ("stylenet", "multiculture")  # methods whose runs are feature-fusion engines


@dataclass
class StyleNetConfig:
    encoder: str = "lite1"  # frozen ImageNet encoder (lite0 is reserved for the metrics)
    style_blocks: str = "1,4,7,11"  # Lite1 expansions at stride 2, 4, 8, 16: the style layers
    decoder_kind: str = "upsample"  # upsample (4 widths) | shuffle (3 widths, ~5x cheaper)
    decoder_widths: str = "192,128,64,32"
    # 0: the decoder sees the fused stride-8 features only; 3 or 4: also the Lite1 expansion of
    # that block at stride 4 (normalised per pixel), where the content's edges are
    detail_block: int = 0
    lambda_content: float = 1.0
    lambda_style: float = 10.0
    lambda_tv: float = 0.0
    # the period-4 grid that decoders reading stride-4 features leave on smooth areas
    # (``phase_grid_loss`` on every output, reconstructions included): 0 = off
    lambda_grid: float = 0.0
    # Reconstruction (Li et al.'s WCT decoders): half of each batch, photos and paintings, is
    # decoded from its own features and compared in pixels, a direct signal that teaches the
    # decoder to render both photo detail and painted texture far sooner than feature losses.
    lambda_pixel: float = 5.0
    smoothing: str = "none"  # none | softmax (Wang et al. 2021) on the style layers
    smoothing_temperature: float = 1.0
    train_fusions: str = "adain,wct"  # targets the decoder learns to render, drawn per step
    # the culture patch discriminator (off at 0): one logit map per style group, up to gan_heads
    lambda_gan: float = 0.0
    gan_loss: str = "lsgan"
    gan_heads: int = 8
    d_ndf: int = 32
    d_layers: int = 3
    # culture priors: "GROUP=view+view;GROUP=..." with the views of nn/culture_views and
    # empty_space; GROUP is a subfolder of domain_b, "*" every group. Off when empty.
    priors: str = ""
    lambda_prior: float = 0.5
    lambda_empty: float = 2.0
    # distillation (off when empty): a trained engine folder whose decoder renders the same
    # fused features; the decoder learns its images (``distillation_loss``, ``lambda_teacher``),
    # so a smaller, faster decoder takes over a larger one's look. With the content and style
    # weights at 0 the step skips the encoder pass over the output (about 3x faster).
    teacher: str = ""
    lambda_teacher: float = 10.0
    # the share of distillation batches styled by one of the teacher folder's culture codes
    # (``codes/*.safetensors``, pooled over a corpus) instead of the batch's style images, each
    # fused by one of train_fusions: the styles a bundled decoder renders most
    teacher_code_share: float = 0.0
    lr: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    decay_fraction: float = 0.3

    def resolve(self, size: int) -> None:
        if self.encoder not in VARIANTS or self.encoder == "lite0":
            raise ConfigError(
                "model.encoder must be lite1 (lite0 is the metrics' network, kept apart)"
            )
        if self.smoothing not in ("none", "softmax"):
            raise ConfigError("model.smoothing must be none or softmax")
        if size % 8:
            raise ConfigError(f"stylenet needs a size that is a multiple of 8, got {size}")
        check_gan_loss(self.gan_loss)
        if not 1 <= self.gan_heads <= 64 or not 1 <= self.d_layers <= 5 or self.d_ndf < 1:
            raise ConfigError("model.gan_heads must be 1..64, d_layers 1..5, d_ndf >= 1")
        lambdas = ("content", "style", "tv", "grid", "pixel", "gan", "prior", "empty", "teacher")
        for name in (f"lambda_{k}" for k in lambdas):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"model.{name} must be >= 0")
        feature_losses = self.lambda_content > 0 or self.lambda_style > 0
        other_signals = bool(self.teacher or self.lambda_gan > 0 or str(self.priors).strip())
        if not feature_losses and not other_signals:
            raise ConfigError(
                "model.lambda_content and model.lambda_style are both 0 and there is no "
                "model.teacher, culture discriminator or prior: the decoder would learn no style"
            )
        if not 0.0 <= self.teacher_code_share <= 1.0:
            raise ConfigError("model.teacher_code_share must be within [0, 1]")
        if self.teacher_code_share > 0 and not self.teacher:
            raise ConfigError("model.teacher_code_share needs a model.teacher with codes/")
        if not self.lr > 0 or not self.smoothing_temperature > 0:
            raise ConfigError("model.lr and model.smoothing_temperature must be > 0")
        self.fusions()
        self.blocks()
        self.prior_map()
        if self.detail_block not in DETAIL_BLOCKS:
            raise ConfigError("model.detail_block must be 0 (off), 3 or 4 (stride-4 expansions)")
        self.decoder_config(240, StyleEncoder.packed_channels(self.detail_block))

    def blocks(self) -> list[int]:
        try:
            blocks = [int(b) for b in str(self.style_blocks).split(",") if b.strip()]
        except ValueError:
            raise ConfigError(
                f"model.style_blocks must be integers: {self.style_blocks!r}"
            ) from None
        if not blocks or min(blocks) < 1 or max(blocks) > 19:
            raise ConfigError("model.style_blocks must index Lite1 blocks 1..19")
        return blocks

    def prior_map(self) -> dict[str, list[str]]:
        """``priors`` as {group: [view or "empty_space", ...]}."""
        known = [*VIEWS, "empty_space"]
        result: dict[str, list[str]] = {}
        for part in (p.strip() for p in str(self.priors).split(";")):
            if not part:
                continue
            group, sep, views = part.partition("=")
            names = [v.strip() for v in views.split("+") if v.strip()]
            if not sep or not group.strip() or not names:
                raise ConfigError(
                    f"model.priors: {part!r} is not GROUP=view+view (e.g. ukiyoe=outlines)"
                )
            unknown = [v for v in names if v not in known]
            if unknown:
                raise ConfigError(
                    f"model.priors: unknown view {unknown[0]!r}; choose from {', '.join(known)}"
                )
            result.setdefault(group.strip(), []).extend(
                v for v in names if v not in result.get(group.strip(), [])
            )
        return result

    def prior_views(self) -> list[str]:
        """The views some group uses, in a fixed order: one discriminator each."""
        used = {v for views in self.prior_map().values() for v in views}
        return [v for v in VIEWS if v in used]

    def fusions(self) -> list[str]:
        names = [f.strip() for f in str(self.train_fusions).split(",") if f.strip()]
        if not names or any(f not in FUSIONS for f in names):
            raise ConfigError(f"model.train_fusions must name some of {', '.join(FUSIONS)}")
        return names

    def decoder_config(self, in_channels: int, detail_channels: int = 0) -> StyleDecoderConfig:
        """The decoder's layout; StyleDecoderConfig checks the kind and the number of widths."""
        try:
            widths = tuple(int(w) for w in str(self.decoder_widths).split(","))
            if max(widths) > 1024:
                raise ValueError("widths above 1024")
            return StyleDecoderConfig(in_channels, widths, self.decoder_kind, detail_channels)
        except ValueError as err:
            raise ConfigError(f"model.decoder_kind/decoder_widths: {err}") from None


class StyleEncoder(torch.nn.Module):
    """The frozen encoder: [-1, 1] images -> fusion features, or the style layers' features.

    With a ``detail_block``, ``content`` returns the fusion features with the stride-4 detail
    features packed behind them (``DetailPacker``); the fusion uses the first ``channels``."""

    def __init__(self, variant: str = "lite1", detail_block: int = 0):
        super().__init__()
        self.net = fuse_batchnorm(load_efficientnet_lite(variant)).requires_grad_(False).eval()
        self.variant, self.detail_block = variant, detail_block
        if detail_block:
            self.pack = DetailPacker(self.net.tap_channels(detail_block))

    @property
    def channels(self) -> int:
        return self.net.tap_channels(FUSION_BLOCK)

    @property
    def detail_channels(self) -> int:
        return self.packed_channels(self.detail_block)

    @staticmethod
    def packed_channels(detail_block: int) -> int:
        """Channels the packed detail of a block adds (its Lite1 expansion, 2x2): 0 for none."""
        return 4 * 144 if detail_block else 0  # blocks 3 and 4 expand to 144 channels

    @staticmethod
    def normalise(images: torch.Tensor) -> torch.Tensor:
        return (images * 127.5 + 0.5) / 128.0  # [-1, 1] -> TensorFlow's (x - 127) / 128

    def taps(self, images: torch.Tensor, blocks: list[int]) -> list[torch.Tensor]:
        return self.net.expanded_taps(self.normalise(images), blocks)

    def fusion_and_detail(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The fusion features and the normalised stride-4 detail features (None without a
        detail block), unpacked: for graphs that feed the detail to the decoder themselves."""
        if not self.detail_block:
            return self.taps(images, [FUSION_BLOCK])[0], None
        detail, fusion = self.taps(images, [self.detail_block, FUSION_BLOCK])
        return fusion, self.pack.normalise(detail)

    def content(self, images: torch.Tensor) -> torch.Tensor:
        fusion, detail = self.fusion_and_detail(images)
        return fusion if detail is None else self.pack.pack(fusion, detail)

    def split(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``content``'s output -> (fusion features, packed detail: maybe 0 channels)."""
        return features[:, : self.channels], features[:, self.channels :]

    def train(self, mode: bool = True):  # always eval: BatchNorm is folded, nothing learns
        return super().train(False)


def _read_codes(folder: Path, device: torch.device) -> list[StyleMoments]:
    """The style codes in ``folder`` (a trained engine's ``codes/``) as moments on ``device``."""
    paths = sorted(folder.glob("*.safetensors"))
    if not paths:
        raise ConfigError(f"model.teacher_code_share: {folder} holds no style codes")
    codes = []
    for path in paths:
        tensors, _ = read_tensors(path)
        if set(tensors) != {"mean", "second"}:
            raise ModelFileError(path, "not a style code (it needs mean and second)")
        mean, second = (tensors[k].double().to(device) for k in ("mean", "second"))
        codes.append(StyleMoments(mean, second))
    return codes


def load_engine(folder: Path) -> tuple[StyleDecoder, int, dict]:
    """A trained engine's decoder (eval, float32), its encoder's detail block and its config,
    from a run or model folder; every problem is one ``ModelFileError`` line naming the file."""
    folder = Path(folder)
    config = read_run_config(folder)
    if config.get("method") not in ENGINE_METHODS:
        raise ModelFileError(
            folder,
            f"holds a {config.get('method')} model, not the feature-fusion engine "
            "(train one with `stylebridge train stylenet`)",
        )
    encoder = config.get("encoder") or {}
    if encoder.get("variant") != "lite1" or encoder.get("fusion_block") != FUSION_BLOCK:
        raise ModelFileError(folder / CONFIG_NAME, f"unsupported encoder {encoder}")
    try:
        decoder_config = StyleDecoderConfig.from_dict(config.get("decoder") or {})
        decoder = StyleDecoder(decoder_config)
    except (TypeError, ValueError) as err:
        raise ModelFileError(folder / CONFIG_NAME, f"bad decoder section ({err})") from None
    detail_block = encoder.get("detail_block", 0)
    if detail_block not in DETAIL_BLOCKS or (
        StyleEncoder.packed_channels(detail_block) != decoder_config.detail_channels
    ):
        raise ModelFileError(
            folder / CONFIG_NAME,
            f"detail block {detail_block!r} does not fit the decoder's detail channels",
        )
    path = weights_path(folder, (config.get("exports") or {}).get("decoder", "decoder.safetensors"))
    tensors, _ = read_tensors(path)
    check_weight_values(path, tensors, magnitudes=False)
    try:
        decoder.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError as err:
        raise ModelFileError(
            path, f"weights do not fit the decoder ({str(err).splitlines()[0]})"
        ) from None
    return decoder.eval(), detail_block, config


@MODELS.register("stylenet")
class StyleNet(TranslationModel):
    config_cls = StyleNetConfig
    directions: dict[str, str] = {}
    exports = {"decoder": "decoder"}
    load_scale = 1.0
    default_batch_size = 4

    def __init__(self, config: StyleNetConfig, device: torch.device, **kwargs):
        super().__init__(config, device, **kwargs)
        self.encoder = StyleEncoder(config.encoder, config.detail_block).to(device)
        if self.channels_last:
            self.encoder = self.encoder.to(memory_format=torch.channels_last)
        self.style_blocks = config.blocks()
        self.fusion_names = config.fusions()
        self.decoder = self.add_network(
            "decoder",
            StyleDecoder(
                config.decoder_config(self.encoder.channels, self.encoder.detail_channels)
            ),
        )
        self.optimizers = {"decoder": self.adam(self.decoder)}
        self.teacher: StyleDecoder | None = None
        self.teacher_codes: list[StyleMoments] = []
        if config.teacher and config.lambda_teacher > 0:
            self.teacher = self._load_teacher(Path(config.teacher))
            if config.teacher_code_share > 0:
                self.teacher_codes = _read_codes(Path(config.teacher) / "codes", self.device)
        if config.lambda_gan > 0:
            d_config = PatchDiscriminatorConfig(config.d_ndf, config.d_layers, "none")
            self.culture_d = self.add_network(
                "culture_d", PatchDiscriminator(d_config, out_channels=config.gan_heads)
            )
            self.optimizers["culture_d"] = self.adam(self.culture_d)
        self.view_names = config.prior_views() if config.lambda_prior > 0 else []
        self.uses_empty = config.lambda_empty > 0 and any(
            "empty_space" in v for v in config.prior_map().values()
        )
        if self.view_names:
            d_config = PatchDiscriminatorConfig(config.d_ndf, config.d_layers, "none")
            views = {
                name: PatchDiscriminator(d_config, VIEWS[name][1], out_channels=config.gan_heads)
                for name in self.view_names
            }
            self.prior_d = self.add_network("prior_d", torch.nn.ModuleDict(views))
            self.optimizers["prior_d"] = self.adam(self.prior_d)
        self.prior_rows: torch.Tensor | None = None  # (group, view | empty_space) -> on

    def bind_groups(self, names: list[str]) -> None:
        """Each group's priors as a host table, so picking a batch's rows never syncs a GPU."""
        priors = self.config.prior_map()
        unknown = [g for g in priors if g != "*" and g not in names]
        if unknown:
            raise ConfigError(
                f"model.priors names {unknown[0]!r}, not a style group of domain_b "
                f"(its subfolders: {', '.join(names)})"
            )
        columns = [*self.view_names, "empty_space"]
        table = torch.zeros(max(len(names), 1), len(columns), dtype=torch.bool)
        for g, name in enumerate(names):
            wanted = {*priors.get("*", []), *priors.get(name, [])}
            for j, view in enumerate(columns):
                table[g, j] = view in wanted
        self.prior_rows = table

    def _load_teacher(self, folder: Path) -> StyleDecoder:
        teacher, detail_block, _ = load_engine(folder)
        if detail_block != self.config.detail_block:
            raise ConfigError(
                f"model.teacher {folder} reads detail block {detail_block}, this run "
                f"model.detail_block={self.config.detail_block}: they must see the same features"
            )
        teacher.requires_grad_(False)
        teacher = teacher.to(self.device)
        return teacher.to(memory_format=torch.channels_last) if self.channels_last else teacher

    def _distill(self, output: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        with torch.no_grad(), self.autocast():
            wanted = self.teacher(features)
        return distillation_loss(output, wanted) * self.config.lambda_teacher

    @staticmethod
    def _full_strength_rows(n: int) -> int:
        """With a teacher, the first rows of a batch are fused at full strength."""
        return (n + 1) // 2

    def _partial_strength(self, content: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
        """The first half of the batch at full strength, the other half between the content's
        own features (strength 0) and the fused ones, as ``--strength`` and fusion sweeps
        render them."""
        n = content.shape[0]
        strength = torch.rand(n, generator=self.rng)
        strength[: self._full_strength_rows(n)] = 1.0
        strength = strength.to(self.device).view(-1, 1, 1, 1)
        return content + strength * (fused - content)

    def architecture(self) -> dict:
        encoder = {"variant": self.config.encoder, "fusion_block": FUSION_BLOCK}
        if self.config.detail_block:
            encoder["detail_block"] = self.config.detail_block
        return {"decoder": self.decoder.config.to_dict(), "encoder": encoder}

    def _style_view(self, features: torch.Tensor) -> torch.Tensor:
        if self.config.smoothing == "softmax":
            return softmax_smooth(features, self.config.smoothing_temperature)
        return features

    def _code_target(self, content: torch.Tensor) -> torch.Tensor | None:
        """With ``teacher_code_share``, that share of batches fused with one of the teacher's
        culture codes (by one of the train fusions); None for a batch styled by its images."""
        if not self.teacher_codes or float(torch.rand(1, generator=self.rng)) >= (
            self.config.teacher_code_share
        ):
            return None
        code = int(torch.randint(len(self.teacher_codes), (1,), generator=self.rng))
        pick = int(torch.randint(len(self.fusion_names), (1,), generator=self.rng))
        return fuse(content, self.teacher_codes[code], self.fusion_names[pick])

    def _targets(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        pick = int(torch.randint(len(self.fusion_names), (1,), generator=self.rng))
        if self.fusion_names[pick] == "adain":
            mean, var = style.mean((2, 3)), style.var((2, 3), unbiased=False)
            return adain(content, mean, var.add(1e-5).sqrt())
        return torch.cat(
            [
                fuse(c[None], StyleMoments.of(s.float()), "wct")
                for c, s in zip(content, style, strict=True)
            ]
        )

    def _culture_logits(
        self, images: torch.Tensor, labels: torch.Tensor, net: torch.nn.Module | None = None
    ) -> torch.Tensor:
        """Each image's logit map from the head of its own group."""
        logits = (self.culture_d if net is None else net)(images)
        pick = labels.view(-1, 1, 1, 1).expand(-1, 1, *logits.shape[2:])
        return logits.gather(1, pick)

    def train_step(self, batch):
        c = self.config
        labels = batch.get("label_b")  # the unpaired dataset's style groups; else one group
        # checked while the labels are still on the host, so a GPU run never syncs for it
        if c.lambda_gan > 0 and labels is not None and int(labels.max()) >= c.gan_heads:
            raise ConfigError(
                f"domain_b has more style groups (subfolders) than model.gan_heads={c.gan_heads}"
            )
        host_labels = (
            labels if labels is not None else torch.zeros(len(batch["real_b"]), dtype=torch.long)
        )
        batch = self.prepare(batch)
        content_images, style_images = batch["real_a"], batch["real_b"]
        labels = batch.get("label_b")
        if labels is None:
            labels = torch.zeros(style_images.shape[0], dtype=torch.long, device=self.device)
        losses: dict[str, torch.Tensor] = {}
        self.optimizers["decoder"].zero_grad(set_to_none=True)
        if c.lambda_pixel > 0 and content_images.shape[0] > 1:
            half = content_images.shape[0] // 2
            originals = torch.cat([content_images[:half], style_images[:half]])
            with torch.no_grad(), self.autocast():
                own = self.encoder.content(originals).float()
            with self.autocast():
                rebuilt = self.decoder(own)
            loss_pixel = (rebuilt.float() - originals.float()).abs().mean() * c.lambda_pixel
            if c.lambda_grid > 0:
                loss_pixel = loss_pixel + phase_grid_loss(rebuilt) * c.lambda_grid
            if self.teacher is not None:
                loss_teacher = self._distill(rebuilt, own)
                losses["loss/teacher_own"] = loss_teacher.detach()
                loss_pixel = loss_pixel + loss_teacher
            loss_pixel.backward()
            losses["loss/pixel"] = loss_pixel.detach()
            content_images, style_images = content_images[half:], style_images[half:]
            labels, host_labels = labels[half:], host_labels[half:]
        blocks = [*self.style_blocks, FUSION_BLOCK]
        with torch.no_grad(), self.autocast():
            content, detail = self.encoder.split(self.encoder.content(content_images).float())
            target = self._code_target(content)
            from_code = target is not None  # then the style images are not encoded at all
            style_views: list[torch.Tensor] = []
            if not from_code:
                style_taps = [t.float() for t in self.encoder.taps(style_images, blocks)]
                target = self._targets(content, style_taps[-1])
                style_views = [self._style_view(t) for t in style_taps[:-1]]
            if self.teacher is not None:  # the student must render every --strength alike
                target = self._partial_strength(content, target)
        fused = torch.cat([target, detail], 1)
        with self.autocast():
            output = self.decoder(fused)
        total = torch.zeros((), device=self.device)
        if c.lambda_content > 0 or c.lambda_style > 0:  # the encoder's pass over the output
            with self.autocast():
                output_taps = self.encoder.taps(output, blocks)
            loss_content = relative_mse(output_taps[-1], target) * c.lambda_content
            # the style's statistics are the target of full-strength renderings only
            rows = len(output) if self.teacher is None else self._full_strength_rows(len(output))
            loss_style = torch.zeros((), device=self.device)
            if not from_code:  # a culture code's style is not the batch's images'
                loss_style = sum(
                    moment_style_loss(self._style_view(o[:rows]), s[:rows])
                    for o, s in zip(output_taps[:-1], style_views, strict=True)
                ) * (c.lambda_style / len(style_views))
            total = loss_content + loss_style
            losses |= {"loss/content": loss_content.detach(), "loss/style": loss_style.detach()}
        if self.teacher is not None:
            loss_teacher = self._distill(output, fused)
            total = total + loss_teacher
            losses["loss/teacher"] = loss_teacher.detach()
        if c.lambda_grid > 0:
            loss_grid = phase_grid_loss(output) * c.lambda_grid
            total = total + loss_grid
            losses["loss/grid"] = loss_grid.detach()
        if c.lambda_tv > 0:
            loss_tv = total_variation(output) * c.lambda_tv
            total = total + loss_tv
            losses["loss/tv"] = loss_tv.detach()
        if c.lambda_gan > 0:
            self.requires_grad([self.culture_d], False)
            with self.autocast():
                fake_logits = self._culture_logits(output, labels)
            loss_gan = generator_adv_loss(c.gan_loss, fake_logits) * c.lambda_gan
            total = total + loss_gan
            losses["loss/gan"] = loss_gan.detach()
        prior_rows = self._prior_rows(host_labels)
        if prior_rows:
            loss_prior = self._prior_generator_loss(output, style_images, labels, prior_rows)
            total = total + loss_prior
            losses["loss/prior"] = loss_prior.detach()
        if total.requires_grad:  # no loss applies when only priors are on and none is this batch's
            total.backward()
        self.update("decoder")
        if c.lambda_gan > 0:
            self.requires_grad([self.culture_d], True)
            self.optimizers["culture_d"].zero_grad(set_to_none=True)
            with self.autocast():
                real_logits = self._culture_logits(style_images, labels)
                fake_logits = self._culture_logits(output.detach(), labels)
            loss_d = discriminator_adv_loss(c.gan_loss, real_logits, fake_logits)
            loss_d.backward()
            self.update("culture_d")
            losses["loss/d"] = loss_d.detach()
        if self.view_names:
            losses["loss/prior_d"] = self._prior_discriminator_step(
                output.detach(), style_images, labels, prior_rows
            )
        return self.read_losses(losses)

    def _prior_rows(self, host_labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """For each prior (view or empty_space): the batch rows whose group has it on."""
        if not self.view_names and not self.uses_empty:
            return {}
        if self.prior_rows is None:  # a model used outside the loop: one unnamed group
            self.bind_groups(["."])
        on = self.prior_rows[host_labels.clamp(max=len(self.prior_rows) - 1)]
        columns = [*self.view_names, "empty_space"]  # the columns of bind_groups' table
        rows = {}
        for j, name in enumerate(columns):
            picked = torch.nonzero(on[:, j]).flatten()
            if len(picked) and (name != "empty_space" or self.uses_empty):
                rows[name] = picked.to(self.device, non_blocking=True)
        return rows

    def _prior_generator_loss(self, output, style_images, labels, rows) -> torch.Tensor:
        c = self.config
        terms = []
        if self.view_names:
            self.requires_grad([self.prior_d], False)
        for name, picked in rows.items():
            fake = output.index_select(0, picked)
            if name == "empty_space":
                real = style_images.index_select(0, picked)
                terms.append(empty_space_loss(fake, real) * c.lambda_empty)
                continue
            view = VIEWS[name][0]
            with self.autocast():
                logits = self._culture_logits(view(fake), labels[picked], self.prior_d[name])
            terms.append(generator_adv_loss(c.gan_loss, logits) * c.lambda_prior)
        return sum(terms)

    def _prior_discriminator_step(self, output, style_images, labels, rows) -> torch.Tensor:
        """Each view's discriminator: the group's paintings against its renderings, in that
        view only. It steps every time, with zero gradients for views no row of this batch
        uses, so ranks of a torchrun job always average the same tensors."""
        self.requires_grad([self.prior_d], True)
        self.optimizers["prior_d"].zero_grad(set_to_none=True)
        total = torch.zeros((), device=self.device)
        for name, picked in rows.items():
            if name == "empty_space":
                continue
            view, net, group = VIEWS[name][0], self.prior_d[name], labels[picked]
            with self.autocast():
                real = self._culture_logits(view(style_images.index_select(0, picked)), group, net)
                fake = self._culture_logits(view(output.index_select(0, picked)), group, net)
            total = total + discriminator_adv_loss(self.config.gan_loss, real, fake)
        if total.requires_grad:
            total.backward()
        for param in self.prior_d.parameters():
            if param.grad is None:
                param.grad = torch.zeros_like(param)
        self.update("prior_d")
        return total.detach()

    def inference_fn(self):
        """Content photos -> renderings in the style of the fixed sample styles (evaluator)."""
        raise ConfigError("stylenet renders a style code; evaluate it with `stylebridge stylize`")

    @torch.no_grad()
    def sample(self, batch):
        """Rows: content, style, AdaIN rendering, WCT rendering, and the decoded content
        (the decoder's reconstruction, which shows how much detail it keeps)."""
        batch = self.prepare(batch)
        content_images, style_images = batch["real_a"], batch["real_b"]
        with self.autocast():
            own = self.encoder.content(content_images).float()
            content, detail = self.encoder.split(own)
            style = self.encoder.split(self.encoder.content(style_images).float())[0]
        rows = [content_images.float(), style_images.float()]
        for method in ("adain", "wct"):
            fused = torch.cat(
                [
                    fuse(c[None], StyleMoments.of(s), method)
                    for c, s in zip(content, style, strict=True)
                ]
            )
            with self.autocast():
                rows.append(self.decoder(torch.cat([fused, detail], 1)).float().clamp(-1, 1))
        with self.autocast():
            rows.append(self.decoder(own).float().clamp(-1, 1))
        return [rows]
