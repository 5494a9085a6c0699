"""Package a restoration run (srresnet, srgan, denoise, inpaint) as a bundled model folder.

Usage: python scripts/build_restoration_models.py RUN_DIR --name upscale_x4
           [--data-name "content photos + culture corpora"] [--results bench.json]

Writes ``src/stylebridge/zoo/restore/NAME``: the generator in fp16 (safetensors), a
config.json that keeps the run's training record with machine folders replaced by the data's
name, and MODEL_CARD.md with YAML front matter (licence, data with hashes, steps, hardware,
wall time, metrics, intended and out-of-scope uses).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import yaml

from stylebridge.fileio import atomic_write
from stylebridge.models.files import read_run_config, read_tensors, tensor_bytes, write_json

ZOO = Path(__file__).resolve().parents[1] / "src" / "stylebridge" / "zoo" / "restore"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

USES = {
    "super-resolution": (
        ["museum prints and paintings only a few hundred pixels wide", "photos, x2 or x4"],
        ["forensic or scientific detail: the added detail is plausible, not recovered",
         "images already degraded by heavy JPEG or noise (denoise first)"],
    ),
    "denoising": (
        ["old photographs and scans with film grain or sensor noise"],
        ["structured noise such as halftone screens or moire", "removing deliberate texture"],
    ),
    "inpainting": (
        ["cracks, scratches, stains and small missing pieces of murals, scrolls and prints"],
        ["reconstructing large missing figures or faces", "restoration records for "
         "conservation work: the fill is invented"],
    ),
}  # fmt: skip


def manifest_hashes() -> dict[str, str]:
    out = {}
    for name in ("content_photos", "cultures"):
        manifest = DATA / name / "MANIFEST.csv"
        if manifest.is_file():
            out[f"{name}/MANIFEST.csv"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    return out


def build(run: Path, out: Path, data_name: str, results: dict, note: str = "") -> None:
    config = read_run_config(run)
    task = config.get("task")
    if task not in USES:
        raise SystemExit(f"{run}: not a restoration run (task {task!r})")
    out.mkdir(parents=True, exist_ok=True)
    tensors, _ = read_tensors(run / config["exports"]["generator"])
    atomic_write(
        out / "generator.safetensors",
        tensor_bytes({k: v.half() for k, v in tensors.items()}, {"dtype": "float16"}),
    )
    config["exports"] = {"generator": "generator.safetensors"}
    if "data" in config.get("data", {}):
        config["data"]["data"]["path"] = data_name
    train = config.get("train", {})
    train.update(data=data_name, out=out.name)
    if isinstance(config.get("model"), dict) and config["model"].get("init_from"):
        config["model"]["init_from"] = "upscale_x4 (PSNR run)"
    if isinstance(train.get("model"), dict) and train["model"].get("init_from"):
        train["model"]["init_from"] = "upscale_x4 (PSNR run)"
    write_json(out / "config.json", config)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line]
    times = [row["time"] for row in log if "time" in row]
    intended, out_of_scope = USES[task]
    front = {
        "license": "apache-2.0",
        "library_name": "stylebridge",
        "tags": ["restoration", task, config.get("method")],
        "task": task,
        "datasets": [
            {
                "name": data_name,
                "images": config.get("data", {}).get("data", {}).get("count"),
                "files_hash": config.get("data", {}).get("data", {}).get("hash"),
                "manifests_sha256": manifest_hashes(),
                "held_out": "content_photos/unsplash, cultures_extra, sr_benchmarks",
                "terms": "each image keeps its owner's terms; see the corpora's MANIFEST.csv",
            }
        ],
        "training": {
            "method": config.get("method"),
            "steps": config.get("step"),
            "crop": config.get("size"),
            "batch_size": train.get("batch_size"),
            "hardware": "2 CPU cores (AMD EPYC), fp32, one thread per run, no GPU",
            "logged_span_minutes": round((max(times) - min(times)) / 60, 1) if times else None,
            # a fine-tune: the model folder it started from (its own card has its training)
            **(
                {"init_from": config["data"]["init_from"]["path"]}
                if config.get("data", {}).get("init_from")
                else {}
            ),
        },
        "metrics": results,
        "intended_uses": intended,
        "out_of_scope": out_of_scope,
    }
    body = (
        f"# {out.name}: {task}\n\n"
        f"Trained with `stylebridge train {config.get('method')}`; measured by "
        "`bench/restoration.py` (README, docs/restoration.md). Run it with "
        "`stylebridge restore`.\n" + (f"\n{note}\n" if note else "")
    )
    text = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n\n" + body
    atomic_write(out / "MODEL_CARD.md", text.encode())
    size = (out / "generator.safetensors").stat().st_size
    print(json.dumps({"folder": out.name, "task": task, "generator_bytes": size}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--name", required=True, help="upscale_x4, denoise, inpaint, ...")
    parser.add_argument("--data-name", default="content photos (minus unsplash) + cultures")
    parser.add_argument("--results", type=Path, help="bench/restoration.py --json output")
    parser.add_argument("--zoo", type=Path, default=ZOO)
    parser.add_argument("--note", default="", help="a paragraph for the card (e.g. the history)")
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results else {}
    build(args.run, args.zoo / args.name, args.data_name, results, args.note)


if __name__ == "__main__":
    main()
