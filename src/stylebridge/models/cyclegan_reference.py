"""Generators trained with the reference CycleGAN code (junyanz/pytorch-CycleGAN-and-pix2pix):
its ``latest_net_G.pth`` files become stylebridge ResNet generators with the same outputs.

The reference ``ResnetGenerator`` is one ``nn.Sequential`` called ``model``: reflection pad,
7x7 conv, norm, ReLU (0-3); two stride-2 convs with norm and ReLU (4-9); n ``ResnetBlock``s
whose ``conv_block`` holds its convs at 1 and 5 (6 with dropout); two transposed convs with
norm and ReLU; reflection pad, 7x7 conv, Tanh. Ours keeps CUT's numbering (an identity after
each downsampling stage), so only the indices differ. With instance norm the reference gives
every conv before a norm a bias, which the norm's mean subtraction cancels exactly; ours has
none, and those biases are dropped.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from pathlib import Path

import torch

from ..errors import ModelFileError
from ..nn import build_generator

REFERENCE = "junyanz/pytorch-CycleGAN-and-pix2pix"
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def reference_files(source: str | os.PathLike, epoch: str = "latest") -> dict[str, Path]:
    """Direction -> generator file: a ``.pth`` file itself, or a ``checkpoints/NAME/`` run
    folder (``latest_net_G.pth`` of a test model, ``latest_net_G_A/B.pth`` of a training run)."""
    source = Path(source)
    if source.is_file():
        return {"a2b": source}
    if not source.is_dir():
        raise ModelFileError(source, "no such file or folder")
    single = source / f"{epoch}_net_G.pth"
    if single.is_file():
        return {"a2b": single}
    pair = {"a2b": source / f"{epoch}_net_G_A.pth", "b2a": source / f"{epoch}_net_G_B.pth"}
    found = {direction: path for direction, path in pair.items() if path.is_file()}
    if not found:
        raise ModelFileError(
            source,
            f"no {single.name} or {pair['a2b'].name}: not a checkpoints/NAME folder of {REFERENCE}",
        )
    return found


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors only, through torch's restricted unpickler: a file that needs any other object
    to load is refused before it can run code."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        first = (str(err).strip().splitlines() or ["unpickling error"])[0][:160]
        raise ModelFileError(
            path, f"refused: it holds more than tensors (weights_only=True says: {first})"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise ModelFileError(path, f"not a PyTorch weights file ({first})") from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ModelFileError(path, "holds no state dict (a mapping of layer names to tensors)")
    return {k.removeprefix("module."): v for k, v in state.items()}  # DataParallel saves


def _layer_pairs(n_blocks: int, second_conv: int) -> list[tuple[str, str, bool]]:
    """(reference prefix, our prefix, is_norm) for every layer with parameters."""
    pairs = [("model.1", "layers.1", False), ("model.2", "layers.2", True)]
    pairs += [("model.4", "layers.4", False), ("model.5", "layers.5", True)]
    pairs += [("model.7", "layers.8", False), ("model.8", "layers.9", True)]
    for i in range(n_blocks):
        ref, ours = f"model.{10 + i}.conv_block", f"layers.{12 + i}.body"
        pairs += [(f"{ref}.1", f"{ours}.1", False), (f"{ref}.2", f"{ours}.2", True)]
        pairs += [(f"{ref}.{second_conv}", f"{ours}.5", False)]
        pairs += [(f"{ref}.{second_conv + 1}", f"{ours}.6", True)]
    up, n = 10 + n_blocks, n_blocks
    pairs += [(f"model.{up}", f"layers.{12 + n}.conv", False)]
    pairs += [(f"model.{up + 1}", f"layers.{13 + n}", True)]
    pairs += [(f"model.{up + 3}", f"layers.{15 + n}.conv", False)]
    pairs += [(f"model.{up + 4}", f"layers.{16 + n}", True)]
    pairs += [(f"model.{up + 7}", f"layers.{19 + n}", False)]
    return pairs


def _describe(path: Path, state: dict[str, torch.Tensor]) -> dict:
    """The generator section the reference file's shapes imply."""
    if any(k.startswith("model.model.") for k in state):
        raise ModelFileError(
            path,
            "is a U-Net generator (unet_256/unet_128, as pix2pix uses); only the reference's "
            "ResNet generators (resnet_9blocks, resnet_6blocks) import",
        )
    stem = state.get("model.1.weight")
    if stem is None or stem.dim() != 4 or tuple(stem.shape[1:]) != (3, 7, 7):
        raise ModelFileError(
            path, f"no model.1 7x7 RGB input conv: not a {REFERENCE} ResnetGenerator"
        )
    first_convs = (re.fullmatch(r"model\.(\d+)\.conv_block\.1\.weight", k) for k in state)
    blocks = sorted(int(m.group(1)) for m in first_convs if m)
    if not blocks or blocks != list(range(10, 10 + len(blocks))):
        raise ModelFileError(path, "its residual blocks are not at model.10, model.11, ...")
    return {
        "ngf": int(stem.shape[0]),
        "n_blocks": len(blocks),
        "norm": "batch" if "model.2.weight" in state else "instance",
        "upsample": "transpose",
        "n_downsampling": 2,
    }


def generator_from_reference(path: Path) -> torch.nn.Module:
    """Our ResNet generator holding the reference file's weights; shapes checked layer by layer."""
    state = read_state_dict(path)
    section = _describe(path, state)
    # with use_dropout a Dropout sits between the block's convs, moving the second one to 6
    dropout = "model.10.conv_block.5.weight" not in state
    mapped: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    for ref, ours, is_norm in _layer_pairs(section["n_blocks"], 6 if dropout else 5):
        for key in [k for k in state if k.startswith(f"{ref}.")]:
            suffix = key[len(ref) + 1 :]
            used.add(key)
            if section["norm"] == "instance" and (is_norm or suffix in _BUFFERS):
                continue  # affine-free instance norm: old files carry unused running stats
            mapped[f"{ours}.{suffix}"] = state[key]
    unknown = sorted(set(state) - used)
    if unknown:
        raise ModelFileError(
            path, f"unexpected layers {unknown[:3]}: not the {REFERENCE} ResnetGenerator layout"
        )
    net = build_generator(section)
    expected = net.state_dict()
    if section["norm"] == "instance":  # cancelled by the norm that follows (see module doc)
        mapped = {k: v for k, v in mapped.items() if k in expected or not k.endswith(".bias")}
    for key, value in mapped.items():
        if key not in expected:
            raise ModelFileError(path, f"{key} has no place in a ResNet generator")
        if tuple(value.shape) != tuple(expected[key].shape):
            raise ModelFileError(
                path,
                f"{key} has shape {tuple(value.shape)}, a ResNet generator with ngf "
                f"{section['ngf']} needs {tuple(expected[key].shape)}",
            )
    missing = sorted(k for k in set(expected) - set(mapped) if not k.endswith(_BUFFERS[2]))
    if missing:
        raise ModelFileError(path, f"layers missing: {missing[:3]}")
    net.load_state_dict({**expected, **mapped})
    return net.eval()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def card_text(source: Path, files: dict[str, Path], section: dict) -> str:
    """A model card for an imported generator: where it came from, and what is not known."""
    hashes = {direction: file_sha256(path) for direction, path in files.items()}
    lines = [
        "---",
        "license: other",
        "license_note: the licence the publisher of the source weights gave; stylebridge did not "
        "train them",
        "library_name: stylebridge",
        "pipeline_tag: image-to-image",
        "tags: [style-transfer, cyclegan, imported]",
        "source_files:",
        *[f"- {{direction: {d}, name: {files[d].name}, sha256: {h}}}" for d, h in hashes.items()],
        "---",
        "",
        f"# {source.stem if source.is_file() else source.name}: imported CycleGAN generator",
        "",
        f"Converted by `stylebridge import cyclegan` from {REFERENCE} weights: ResNet generator, "
        f"ngf {section['ngf']}, {section['n_blocks']} residual blocks, {section['norm']} norm, "
        "transposed-convolution upsampling. The outputs equal the reference network's on the "
        "same input (the conversion renames layers and drops biases that instance norm cancels).",
        "",
        "Training data, metrics, intended uses and licence are those of the source run; they were "
        "not recorded in the .pth file, so fill them in here before sharing this folder.",
    ]
    return "\n".join(lines) + "\n"
