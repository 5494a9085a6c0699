"""The cross-source figure of README and docs/analysis.md: a classifier trained on
``../shared/data/cultures`` and tested on ``../shared/data/cultures_extra`` (the shared groups).

It uses analyze's own features (descriptors plus the shipped style space) and classifier, as
``analyze cultures_extra/* --reference <report of cultures/*>`` does, without the rest of the
report. Feature sets are compared side by side, so the gain of the learned features is visible.

    python scripts/cross_source_accuracy.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    from sklearn.metrics import balanced_accuracy_score

    from stylebridge.analysis import separability as sep
    from stylebridge.analysis.corpus import collect_inputs, prepare
    from stylebridge.analysis.descriptors import DESCRIPTOR_NAMES
    from stylebridge.analysis.extract import extract

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    dev = sorted(p for p in (args.data / "cultures").iterdir() if p.is_dir())
    extra = sorted(p for p in (args.data / "cultures_extra").iterdir() if p.is_dir())
    shared = sorted({p.name for p in extra} & {p.name for p in dev})
    found = collect_inputs([*dev, *extra])
    table = extract(found.items, workers=2)
    analysis = prepare(table)
    labels = np.array(table.labels)
    is_extra = np.array([Path(f).parent.parent.name == "cultures_extra" for f in table.files])
    names = analysis.feature_names
    n_desc = len(DESCRIPTOR_NAMES)
    style = [i for i, n in enumerate(names) if n.startswith("style_pc")]
    subject = [i for i, n in enumerate(names) if n.startswith("subject_pc")]
    sets = {
        "descriptors": list(range(n_desc)),
        "style space": style,
        "subject space": subject,
        "descriptors + style space": list(range(n_desc)) + style,
        "descriptors + style + subject spaces (analyze)": list(range(len(names))),
    }
    test = is_extra & np.isin(labels, shared)
    print(f"train: {int((~is_extra).sum())} images of cultures/; test: {int(test.sum())} images "
          f"of cultures_extra/ ({', '.join(shared)})")  # fmt: skip
    for groups, train in (
        ("all 6 groups", ~is_extra),
        ("shared groups", ~is_extra & np.isin(labels, shared)),
    ):
        for name, columns in sets.items():
            x = analysis.features[:, columns]
            model = sep.classifier().fit(x[train], labels[train])
            predicted = model.predict(x[test])
            score = balanced_accuracy_score(labels[test], predicted)
            recall = ", ".join(
                f"{c} {(predicted[labels[test] == c] == c).mean():.2f}" for c in shared
            )
            print(f"trained on {groups}, {name}: balanced accuracy {score:.3f} ({recall})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
