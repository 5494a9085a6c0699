"""``stylebridge web``: start the Gradio UI on this machine (offline, analytics off)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import require_extra
from .progress import say


def web(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 = all)."),
    port: int = typer.Option(7860, min=1, max=65535, help="TCP port."),
    cultures: Path = typer.Option(
        None, help="Folder of culture folders: enables the analysis panel and palettes."
    ),
    max_megapixels: float = typer.Option(16.0, min=0.1, help="Refuse larger uploads."),
    max_file_mb: int = typer.Option(20, min=1, help="Refuse larger upload files."),
    work_side: int = typer.Option(
        1024,
        min=64,
        help="Stylize at most this long a side (the feature engine at its own scale within it).",
    ),
    concurrency: int = typer.Option(1, min=1, help="Requests computed at once; others queue."),
    queue_size: int = typer.Option(16, min=1, help="Waiting requests before 'queue full'."),
    models_dir: Path = typer.Option(
        None, help="Offer the run folders under this folder (default: bundled styles only)."
    ),
) -> None:
    """Open the web UI: stylize, blend two styles, garments, patterns, culture analysis.

    Example: stylebridge web --cultures ../shared/data/cultures --port 7860
    """
    require_extra("gradio", "web", "The web UI")
    from ..web.app import serve
    from ..web.handlers import WebSettings

    settings = WebSettings(
        max_megapixels=max_megapixels,
        max_file_mb=max_file_mb,
        work_side=work_side,
        cultures=cultures,
        concurrency=concurrency,
        queue_size=queue_size,
        models_dir=models_dir,
    )
    say(f"stylebridge web on http://{host}:{port} (Ctrl-C stops it)")
    serve(settings, host=host, port=port, block=True)


def register(app: typer.Typer) -> None:
    app.command("web")(web)
