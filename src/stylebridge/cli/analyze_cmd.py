"""``stylebridge analyze``: compare image corpora by culture, or measure what a translation did.

``analyze DIR... -o report/`` is short for ``analyze corpus DIR... -o report/``: the group
routes any first argument that is not a subcommand name to ``corpus``, so the short form and
``analyze translation RUN ...`` live side by side. (A culture folder literally named
``corpus`` or ``translation`` needs the long form.)
"""

from __future__ import annotations

from pathlib import Path

import typer
from typer.core import TyperGroup

from .. import api
from .progress import say, stage_bars

SUBCOMMANDS = ("corpus", "translation")


class _CorpusByDefault(TyperGroup):
    """A group whose default subcommand is ``corpus``."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["corpus", *args]
        return super().parse_args(ctx, args)


analyze_app = typer.Typer(
    cls=_CorpusByDefault,
    no_args_is_help=True,
    help="Compare visual cultures (analyze DIR... -o report/) or a translation's effect.",
)


def _corpus_summary(numbers: dict) -> list[str]:
    lines = []
    sep = numbers.get("separability")
    if sep:
        lines.append(
            f"separability: balanced accuracy {sep['balanced_accuracy']:.3f} "
            f"(shuffled labels {sep['permutation_baseline_mean']:.3f}, "
            f"chance {sep['chance']:.3f}); "
            f"clustering vs cultures ARI {numbers['clustering_ari']:.3f}"
        )
    loso = numbers.get("sources", {}).get("leave_one_source_out")
    if loso:
        lines.append(
            f"leave-one-source-out balanced accuracy {loso['balanced_accuracy']:.3f} "
            f"({', '.join(loso['cultures'])}; mixed-source folds "
            f"{loso['mixed_source_cv_balanced_accuracy']:.3f})"
        )
    ref = numbers.get("reference", {})
    if "balanced_accuracy" in ref:
        lines.append(
            f"trained on {ref['folder']}, tested here ({', '.join(ref['shared_cultures'])}): "
            f"balanced accuracy {ref['balanced_accuracy']:.3f}"
            + (
                f" ({ref['among_shared']['balanced_accuracy']:.3f} choosing among these only)"
                if "among_shared" in ref
                else ""
            )
        )
    for pair in sorted(numbers.get("pairs", []), key=lambda r: -r["energy_distance"]):
        lines.append(
            f"{pair['a']} vs {pair['b']}: energy distance {pair['energy_distance']:.2f}, "
            f"p (Holm) {pair['p_holm']:.3g}"
        )
        verdicts = [v["verdict"] for v in pair.get("claims_by_source", [])]
        for i, claim in enumerate(pair["claims"][:2]):
            lines.append(f"  - {claim}" + (f" [{verdicts[i]}]" if i < len(verdicts) else ""))
    return lines


@analyze_app.command("corpus")
def corpus(
    inputs: list[Path] = typer.Argument(
        ..., help="One folder per culture (named by the folder), or CSV manifests (file,label)."
    ),
    out: Path = typer.Option(..., "-o", "--out", help="Report folder to write."),
    permutations: int = typer.Option(
        999, min=9, help="Permutations of the energy-distance test per pair of cultures."
    ),
    classifier_permutations: int = typer.Option(
        20, min=1, help="Label shuffles for the classifier's chance baseline."
    ),
    maps: str = typer.Option(
        "pca,umap", help="2-D maps to draw: pca, umap (comma list; another name is refused)."
    ),
    workers: int = typer.Option(
        None, min=1, help="Extraction processes or Ray actors [default: CPU count]."
    ),
    engine: str = typer.Option(
        "local", help="local (process pool) | ray (Ray Data; pip install 'stylebridge[cluster]')."
    ),
    address: str = typer.Option(
        None, help="Ray cluster: auto | ray://host:port [default: RAY_ADDRESS or a local one]."
    ),
    reference: Path = typer.Option(
        None, help="An earlier report folder: place this corpus in its space and score it."
    ),
    cache: bool = typer.Option(
        True, "--cache/--no-cache", help="Reuse cached image features (`stylebridge cache`)."
    ),
    cache_dir: Path = typer.Option(
        None, help="Cache folder [default: STYLEBRIDGE_CACHE_DIR or ~/.cache/stylebridge]"
    ),
    seed: int = typer.Option(0, help="Seed for resampling, permutations, maps and clustering."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier report."),
) -> None:
    """Describe every image, compare the cultures and write a report.

    Several folders may share a culture (each is its own source, or the source_repo column of
    a MANIFEST.csv beside them): analyze cultures/chinese_ink cultures_extra/chinese_ink ...

    Example: stylebridge analyze ../shared/data/cultures/* -o report/
    """
    kinds = [k.strip() for k in maps.split(",") if k.strip()]
    with stage_bars() as progress:
        report = api.analyze(
            [str(p) for p in inputs],
            out,
            cache=cache_dir,
            use_cache=cache,
            workers=workers,
            engine=engine,
            address=address,
            reference=reference,
            permutations=permutations,
            classifier_permutations=classifier_permutations,
            maps=kinds,
            seed=seed,
            progress=progress,
            log=say,
            overwrite=overwrite,
        )
    for line in _corpus_summary(report.numbers):
        say(line)
    say(f"report: {report.files['index']}")


@analyze_app.command("translation")
def translation(
    model: str = typer.Argument(..., help="A run/model folder or a bundled style name."),
    source: Path = typer.Option(..., "--source", help="Folder of source-culture images."),
    target: Path = typer.Option(..., "--target", help="Folder of target-culture images."),
    out: Path = typer.Option(..., "-o", "--out", help="Report folder to write."),
    direction: str = typer.Option("a2b", help="a2b or b2a (CUT runs have a2b only)."),
    max_images: int = typer.Option(200, min=2, help="At most N images from each folder."),
    max_side: int = typer.Option(None, min=16, help="Translate at most this long a side."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | mps"),
    workers: int = typer.Option(None, min=1, help="Extraction processes [default: CPU count]."),
    cache_dir: Path = typer.Option(None, help="Feature cache folder."),
    seed: int = typer.Option(0, help="Seed for the image sample and the bootstrap."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier report."),
) -> None:
    """Stylize source images and measure how far they moved toward the target culture.

    Example: stylebridge analyze translation ukiyoe --source photos/ --target ukiyoe/ -o tr/
    """
    with stage_bars() as progress:
        report = api.analyze_translation(
            model,
            source,
            target,
            out,
            direction=direction,
            max_side=max_side,
            device=device,
            max_images=max_images,
            cache=cache_dir,
            workers=workers,
            seed=seed,
            progress=progress,
            log=say,
            overwrite=overwrite,
        )
    n = report.numbers
    ci = n["overall_movement_ci95"]
    say(
        f"movement toward the target: {n['overall_movement']:.2f} [{ci[0]:.2f}, {ci[1]:.2f}] "
        f"(0 = unchanged, 1 = reached the target mean)"
    )
    say(f"verdict: {n['verdict']} ({n['verdict_reason']})")
    say(f"content kept (edge SSIM): {n['edge_ssim']:.3f}")
    say(f"classified as the target culture: {100 * n['classified_as_target']:.0f}%")
    say(f"report: {report.files['index']}")


cache_app = typer.Typer(no_args_is_help=True, help="The feature cache of analyze: info, clear.")
CACHE_DIR = typer.Option(
    None,
    "--cache-dir",
    help="Cache folder [default: STYLEBRIDGE_CACHE_DIR or ~/.cache/stylebridge]",
)


@cache_app.command("info")
def cache_info(cache_dir: Path = CACHE_DIR) -> None:
    """Where analyze caches per-image features, and how much is there."""
    info = api.cache_info(cache_dir)
    say(f"{info['folder']}: {info['entries']} entries, {info['bytes'] / 1e6:.1f} MB")


@cache_app.command("clear")
def cache_clear(cache_dir: Path = CACHE_DIR) -> None:
    """Delete the cached analysis features (model weights stay)."""
    entries, size = api.clear_cache(cache_dir)
    say(f"removed {entries} cached feature entries ({size / 1e6:.1f} MB)")


def register(app: typer.Typer) -> None:
    app.add_typer(analyze_app, name="analyze")
    app.add_typer(cache_app, name="cache")
