"""``stylebridge train``: one command for every translation method."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from .. import api
from .progress import progress_bar, say

SHOWN_LOSSES = (
    "loss/g/adv",
    "loss/g/adv_ab",
    "loss/g/cycle_ab",
    "loss/g/nce",
    "loss/g/l1",
    "loss/d/b",
    "loss/d/adv",
)


def _info(losses: dict[str, float], images_per_s: float) -> str:
    parts = [f"{images_per_s:.2f} img/s"]
    parts += [f"{k.split('/', 1)[1]}={v:.3f}" for k, v in losses.items() if k in SHOWN_LOSSES]
    return " ".join(parts)


def train(
    method: str = typer.Argument(
        None,
        help="cyclegan | cut | fastcut | pix2pix | stylenet | multiculture | dcgan | lsgan | "
        "wgan | wgan-gp | sngan | stylegan2 | texture | srresnet | srgan | denoise | inpaint "
        "(omit with --resume).",
    ),
    overrides: list[str] = typer.Argument(None, help="key=value options, e.g. model.lambda_a=5"),
    domain_a: Path = typer.Option(None, "--domain-a", help="Folder of source-domain images."),
    domain_b: Path = typer.Option(None, "--domain-b", help="Folder of target-domain images."),
    data: Path = typer.Option(
        None, "--data", help="Folder of images (GANs, texture, restoration methods)."
    ),
    pairs: Path = typer.Option(
        None, "--pairs", help="Pairs folder from 'stylebridge data pairs' (pix2pix)."
    ),
    cultures: Path = typer.Option(
        None,
        help="A folder with one subfolder per culture (multiculture, stylenet): photo/ gives "
        "the content photos, every other subfolder is a culture.",
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Run folder to create (or resume)."),
    size: int = typer.Option(
        None, min=16, help="Training crop size in px (default 256); GANs: a power of two."
    ),
    steps: int = typer.Option(None, min=1, help="Training steps (default 20000)."),
    batch_size: int = typer.Option(
        None, min=1, help="Images per step (default 1; 32 for the GANs)."
    ),
    seed: int = typer.Option(None, help="Seed for every random choice (default 0)."),
    device: str = typer.Option(None, help="auto | cpu | cuda | cuda:N | mps (default auto)."),
    precision: str = typer.Option(None, help="auto | fp32 | bf16 (default auto)."),
    config: Path = typer.Option(None, "--config", "-c", help="YAML file of options."),
    resume: bool = typer.Option(False, help="Continue the run in --out where it stopped."),
    sample_every: int = typer.Option(None, min=1, help="Steps between sample grids."),
    checkpoint_every: int = typer.Option(None, min=1, help="Steps between checkpoints."),
    log_every: int = typer.Option(None, min=1, help="Steps between logged loss averages."),
    eval_every: int = typer.Option(None, min=0, help="Steps between KID (lite0) evaluations."),
    eval_real: Path = typer.Option(None, help="Real target images for --eval-every."),
    init_from: Path = typer.Option(
        None,
        help="Start from this run or model folder of the same method (fine-tuning, e.g. a "
        "seventh culture): its networks that fit are loaded.",
    ),
    dry_run: bool = typer.Option(False, help="Print the resolved configuration and stop."),
) -> None:
    """Train a translation model (two folders), pix2pix (a pairs folder), a GAN or a
    restoration model (one folder).

    Example: stylebridge train cyclegan --domain-a photos/ --domain-b ukiyoe/ --size 128
    --steps 2000 --out runs/photo2ukiyoe model.lambda_identity=0

    Example: stylebridge train stylegan2 --data ukiyoe/ --size 64 --steps 5000 --out runs/sg2

    Example: stylebridge train pix2pix --pairs ink_pairs/ --size 128 --steps 3000 --out runs/p2p

    Example: stylebridge train multiculture --cultures ../shared/data/cultures --size 128
    --steps 12000 --out runs/cultures

    Example: stylebridge train srresnet --data photos/ --size 96 --steps 5000 --out runs/sr

    Losses go to TensorBoard (tensorboard --logdir RUN/tb), sample grids to RUN/samples, and a
    checkpoint is written every --checkpoint-every steps and on Ctrl-C or SIGTERM.
    """
    overrides = list(overrides or [])
    if method and "=" in method:
        overrides.insert(0, method)
        method = None
    options = dict(
        domain_a=domain_a,
        domain_b=domain_b,
        cultures=cultures,
        data=data,
        pairs=pairs,
        out=out,
        size=size,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        device=device,
        precision=precision,
        sample_every=sample_every,
        checkpoint_every=checkpoint_every,
        log_every=log_every,
        eval_every=eval_every,
        eval_real=eval_real,
        init_from=init_from,
    )
    options = {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}
    if not resume and not method:
        raise typer.BadParameter("give a method (e.g. cyclegan, pix2pix, stylegan2) or --resume")
    resolved = api.training_config(
        method, config_file=config, overrides=overrides, resume=resume, **options
    )
    if dry_run:
        say(yaml.safe_dump(api.config_to_dict(resolved), sort_keys=False).rstrip())
        return
    with progress_bar(f"{resolved.method} {Path(resolved.out).name}", resolved.steps) as update:

        def on_step(report) -> None:
            if report.message:
                say(report.message)
            else:
                update(report.step, report.total, _info(report.losses, report.images_per_s))

        run_dir = api.train(
            method,
            config_file=config,
            overrides=overrides,
            resume=resume,
            progress=on_step,
            **options,
        )
    say(f"run folder: {run_dir}  (tensorboard --logdir {run_dir / 'tb'})")


def register(app: typer.Typer) -> None:
    app.command("train")(train)
