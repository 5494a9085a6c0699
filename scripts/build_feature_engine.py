"""Package a `train stylenet` run as the bundled feature-fusion engine, with culture codes.

Usage: python scripts/build_feature_engine.py RUN_DIR --cultures ../shared/data/cultures
           [--out src/stylebridge/zoo/feature_engine]

Writes the decoder in fp16 (safetensors) with a config.json that keeps the run's training
record, and one style code per culture folder: the moments of the engine's fusion features
pooled over every image of the folder. Ink cultures are read with tone "paper" (aged silk
whitened, colour dropped): the dev ink corpus is yellowed pre-modern silk, and the yellow is the
collection's age, not ink painting.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

from stylebridge.fileio import atomic_write
from stylebridge.inference.feature_style import FeatureEngine
from stylebridge.models.files import read_run_config, read_tensors, tensor_bytes, write_json

PAPER_TONE = {"chinese_ink"}
ZOO = Path(__file__).resolve().parents[1] / "src" / "stylebridge" / "zoo" / "feature_engine"


def build(run: Path, cultures: Path, out: Path) -> None:
    config = read_run_config(run)
    if config.get("method") != "stylenet":
        raise SystemExit(f"{run}: not a stylenet run")
    out.mkdir(parents=True, exist_ok=True)
    tensors, _ = read_tensors(run / config["exports"]["decoder"])
    atomic_write(
        out / "decoder.safetensors",
        tensor_bytes({k: v.half() for k, v in tensors.items()}, {"dtype": "float16"}),
    )
    config["exports"] = {"decoder": "decoder.safetensors"}
    write_json(out / "config.json", config)
    engine = FeatureEngine(out, device="cpu")
    codes = out / "codes"
    if codes.exists():
        shutil.rmtree(codes)
    manifest = cultures / "MANIFEST.csv"
    manifest_hash = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else ""
    for folder in sorted(p for p in cultures.iterdir() if p.is_dir()):
        tone = "paper" if folder.name in PAPER_TONE else "as-is"
        skipped: list[str] = []
        code = engine.code_from_folder(folder, tone=tone, on_skip=skipped.append)
        code.card.update(
            {
                "name": folder.name,
                "source": f"cultures/{folder.name}",
                "manifest_sha256": manifest_hash,
                "skipped": skipped,
            }
        )
        code.save(codes / folder.name)
        print(f"{folder.name}: {code.card['image_count']} images, tone {tone}")
    print(json.dumps({"decoder_bytes": (out / "decoder.safetensors").stat().st_size}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--cultures", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ZOO)
    args = parser.parse_args()
    build(args.run, args.cultures, args.out)


if __name__ == "__main__":
    main()
