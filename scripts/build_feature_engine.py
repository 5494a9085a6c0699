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
from stylebridge.models import ENGINE_METHODS
from stylebridge.models.files import read_run_config, read_tensors, tensor_bytes, write_json

PAPER_TONE = {"chinese_ink"}
# what each bundled decoder was fine-tuned from (a run's init_from) and distilled from (its
# model.teacher), as its card names them; keyed by the output folder's name
FINE_TUNED_FROM = {
    "feature_engine": (
        "the previous bundled decoder (same data, 4,400 steps, 82 min on the same 2 cores), "
        "with model.detail_block=4 added"
    ),
    "fast": (
        "a shuffle decoder of the same widths, distilled from the same teacher for 8,000 steps "
        "of batch 12 on the style images only (52 min on the same 2 cores), then 3,000 steps "
        "with half of its batches styled by the teacher's culture codes "
        "(model.teacher_code_share=0.5, 22 min); this run went on with the content, style and "
        "reconstruction losses at their defaults and the teacher at model.lambda_teacher=5"
    ),
}
HARDWARE = {  # where each bundled decoder's runs trained
    "feature_engine": "2 CPU cores (AMD EPYC, AVX512-BF16), bf16 autocast, no GPU",
    "fast": "2 CPU cores (AMD EPYC, AVX2 kernels), float32, no GPU",
}
DISTILLED_FROM = (
    "the bundled decoder (upsample layout, widths 128,96,48,24 with detail features; 4,400 + "
    "3,000 steps), whose renderings of the same photos and paintings it learned (model.teacher)"
)
ZOO = Path(__file__).resolve().parents[1] / "src" / "stylebridge" / "zoo" / "feature_engine"


def build(run: Path, cultures: Path, out: Path, with_codes: bool = True) -> None:
    config = read_run_config(run)
    if config.get("method") not in ENGINE_METHODS:
        raise SystemExit(f"{run}: not a stylenet run")
    out.mkdir(parents=True, exist_ok=True)
    teacher = config.get("train", {}).get("model", {}).get("teacher")
    if teacher:  # a distilled decoder: which weights it learned from, before they are replaced
        teacher_config = read_run_config(Path(teacher))
        weights = Path(teacher) / teacher_config["exports"]["decoder"]
        config.setdefault("data", {})["teacher"] = {
            "decoder": teacher_config.get("decoder"),
            "steps": teacher_config.get("step"),
            "decoder_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        }
        # the teacher's folder may be the one this build replaces: name it by its weights
        config["train"]["model"]["teacher"] = "previous engine, see data.teacher"

    tensors, _ = read_tensors(run / config["exports"]["decoder"])
    atomic_write(
        out / "decoder.safetensors",
        tensor_bytes({k: v.half() for k, v in tensors.items()}, {"dtype": "float16"}),
    )
    config["exports"] = {"decoder": "decoder.safetensors"}
    # the record names the data, never this machine's folders
    names = {"a": "content_photos_train", "b": "culture_paintings"}
    for key, name in names.items():
        if key in config.get("data", {}):
            config["data"][key]["path"] = name
    train = config.get("train", {})
    train.update(domain_a=names["a"], domain_b=names["b"], out="feature_engine")
    if train.get("init_from"):  # a fine-tune: the card's fine_tuned_from names what it was
        train["init_from"] = "previous run, see MODEL_CARD.md training.fine_tuned_from"
        config["data"]["init_from"]["path"] = train["init_from"]
    write_json(out / "config.json", config)
    engine = FeatureEngine(out, device="cpu")
    codes = out / "codes"
    if codes.exists():
        shutil.rmtree(codes)
    if not with_codes:  # the same encoder as the bundled engine: its codes serve this decoder
        return
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


def write_card(run: Path, out: Path, results: Path | None) -> None:
    """MODEL_CARD.md with YAML front matter (licence, data with hashes, metrics, uses)."""
    import yaml

    config = read_run_config(out)
    codes = out / "codes" if (out / "codes").is_dir() else ZOO / "codes"
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line]
    times = [row["time"] for row in log if "time" in row]
    data = config.get("data", {})
    metrics = json.loads(results.read_text()) if results and results.is_file() else {}
    front = {
        "license": "apache-2.0",
        "library_name": "stylebridge",
        "tags": ["style-transfer", "adain", "wct", "efficientnet-lite1"],
        "datasets": [
            {
                "name": "content photos (BSDS500, ImageNet sample, Yosemite, deep-photo)",
                "images": data.get("a", {}).get("count"),
                "files_hash": data.get("a", {}).get("hash"),
            },
            {
                "name": "culture paintings: chinese_ink, indonesian_batik, islamic_ornament, "
                "ukiyoe, western_oil",
                "images": data.get("b", {}).get("count"),
                "files_hash": data.get("b", {}).get("hash"),
                "manifest_sha256": json.loads(next(codes.glob("*.json")).read_text()).get(
                    "manifest_sha256"
                ),
                "terms": "each image keeps its owner's terms; see the corpus MANIFEST.csv",
            },
        ],
        "training": {
            "steps": config.get("step"),
            "hardware": HARDWARE.get(out.name),
            "logged_span_minutes": round((max(times) - min(times)) / 60, 1) if times else None,
            "crop": config.get("size"),
            # a fine-tune: the decoder it started from (the earlier bundled one)
            "fine_tuned_from": (
                FINE_TUNED_FROM.get(out.name) if config.get("train", {}).get("init_from") else None
            ),
            # distilled: the decoder learned the renderings of a larger one (model.teacher)
            "distilled_from": (
                f"{DISTILLED_FROM} (sha256 {data['teacher']['decoder_sha256'][:16]}...)"
                if "teacher" in data
                else None
            ),
        },
        "metrics": metrics,
        "intended_uses": [
            "photos rendered in the style of a painting, a folder of paintings or a culture",
            "feature-space fusion of two cultures, masked fusion for garments",
        ],
        "out_of_scope": [
            "faithful reproduction of a specific artist's work",
            "claims about a culture's style without the measurements of `analyze`",
        ],
    }
    where = "codes/" if codes.parent == out else "the bundled engine's codes/ (same encoder)"
    body = (
        "# Feature-fusion engine (EfficientNet-Lite1 encoder, AdaIN/WCT, trained decoder)\n\n"
        "See docs/feature_engine.md for the method, the measurements and what each culture "
        f"code looks like. Style codes for six culture groups: {where}.\n"
    )
    text = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n\n" + body
    atomic_write(out / "MODEL_CARD.md", text.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--cultures", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ZOO)
    parser.add_argument("--results", type=Path, help="evaluation results.json for the card")
    parser.add_argument("--card-only", action="store_true")
    parser.add_argument(
        "--without-codes", action="store_true", help="a second decoder that reads ZOO's codes"
    )
    args = parser.parse_args()
    if not args.card_only:
        build(args.run, args.cultures, args.out, with_codes=not args.without_codes)
    write_card(args.run, args.out, args.results)


if __name__ == "__main__":
    main()
