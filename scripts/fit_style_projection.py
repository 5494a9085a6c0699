"""Fit the shipped learned spaces once: principal components of the style statistics and of
the pooled subject embedding of the bundled culture corpus, written beside
``src/stylebridge/analysis/projection.py`` (``style_`` and ``subject_projection.safetensors``).

Only the dev corpus (``../shared/data/cultures``) is used, so ``cultures_extra`` stays a true
held-out collection for the cross-source figure. Rerun after changing the extractor
(``analysis/learned.py``): ``analyze`` refuses a projection fitted on another version.

    python scripts/fit_style_projection.py [--corpus ../shared/data/cultures] [--space style]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "cultures"


def main(argv: list[str] | None = None) -> int:
    from stylebridge.analysis import projection
    from stylebridge.analysis.corpus import collect_inputs
    from stylebridge.analysis.extract import extract

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--space", choices=[*projection.SPACES, "all"], default="all")
    args = parser.parse_args(argv)
    folders = sorted(p for p in args.corpus.iterdir() if p.is_dir())
    if not folders:
        print(f"{args.corpus}: no culture folders", file=sys.stderr)
        return 1
    found = collect_inputs(folders)
    table = extract(found.items, workers=2)
    digest = hashlib.sha256("".join(sorted(table.digests)).encode()).hexdigest()[:16]
    for name, space in projection.SPACES.items():
        if args.space not in ("all", name):
            continue
        raw = getattr(table, space.column)
        fitted = projection.fit(
            raw,
            space.components,
            info={
                "fitted_on": f"../shared/data/{args.corpus.name}",
                "images": len(table),
                "cultures": sorted({f.name for f in folders}),
                "corpus_sha256": digest,
            },
            space=name,
        )
        projection.save(fitted, space.file)
        explained = sum(fitted.info["explained_variance"])
        print(
            f"{space.file.name}: {space.components} components of {raw.shape[1]} values "
            f"from {len(table)} images ({100 * explained:.1f}% of the variance)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
