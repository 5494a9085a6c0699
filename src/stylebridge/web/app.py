"""``stylebridge web``: a Gradio Blocks app over the Python API; offline, analytics off.

Requests are queued: ``concurrency`` of them compute at once and the rest wait their turn (up to
``queue_size``), so several users never run the models in parallel on a small machine.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import gradio as gr  # noqa: E402

from ..errors import StylebridgeError  # noqa: E402
from .handlers import (  # noqa: E402
    ENGINE,
    Handlers,
    WebSettings,
    engine_choices,
    fusion_choices,
    mix_cultures,
    style_choices,
)

# system fonts only: the default theme would ask Google Fonts for its typeface
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "sans-serif"],
    font_mono=["ui-monospace", "monospace"],
)
ENGINE_NOTE = (
    "With the **feature engine**, the style is an uploaded painting, or the cultures mixed by "
    "these sliders: their weights (normalised to sum to 1) mix the cultures' feature "
    "statistics, so a fusion is one style, not two pictures cross-faded, and each culture's "
    "finish (ukiyo-e's print colour, batik's wax) applies at its weight: one culture at 1 is "
    "exactly its culture style. **Strength** moves "
    "the photo's features toward the style (0 = the photo as the engine redraws it). With a "
    "bundled look or a run folder, **strength** blends the result with your photo."
)


log = logging.getLogger("stylebridge.web")


def _friendly(fn, owner: Handlers | None = None):
    """Show a StylebridgeError's one line to the user instead of a generic failure, and log
    one line per request: the action, how long it took, and how it ended."""

    owner = owner or getattr(fn, "__self__", None)  # the Handlers know what not to show
    action = getattr(fn, "__name__", "request")

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
        except StylebridgeError as err:
            message = owner.public_message(err) if owner is not None else str(err)
            log.info("%s refused in %.1f s: %s", action, time.perf_counter() - started, message)
            raise gr.Error(message) from None
        except Exception:
            log.exception("%s failed after %.1f s", action, time.perf_counter() - started)
            raise
        log.info("%s done in %.1f s", action, time.perf_counter() - started)
        return result

    return wrapper


OUTPUT_BUTTONS = ["download", "fullscreen"]  # no share button: the app stays offline


def _output_image(label: str, **options) -> gr.Image:
    """A read-only PNG result with download and full-screen buttons."""
    return gr.Image(
        type="pil", format="png", buttons=OUTPUT_BUTTONS, label=label, interactive=False, **options
    )


def _upload(h: Handlers, label: str, elem_id: str) -> gr.File:
    """An image upload taken as a plain file, shown through a preview that the handlers decode
    with the project's guarded loader. Gradio's image input opens and converts an upload
    before any handler runs, so a 900 MP bomb or a non-image got Gradio's generic error."""
    upload = gr.File(label=label, type="filepath", elem_id=elem_id)
    preview = gr.Image(
        type="pil",
        label=f"{label}: preview",
        interactive=False,
        elem_id=f"{elem_id}-preview",
        height=240,
    )
    upload.change(_friendly(h.preview), upload, preview)
    return upload


def _style_controls(h: Handlers, prefix: str, limits: str):
    """The style source: the engine (painting upload or culture mix sliders), a bundled
    translation look or a run folder; returns the components in the handlers' order."""
    choices = style_choices()
    style = gr.Radio(choices, value=ENGINE, label="Style", elem_id=f"{prefix}-style")
    run_dir = gr.Textbox(
        label="Run folder under the server's --models-dir (when 'run folder' is chosen)",
        elem_id=f"{prefix}-run",
    )
    strength = gr.Slider(0, 1, value=1.0, step=0.05, label="Strength", elem_id=f"{prefix}-strength")
    with gr.Accordion("Feature engine: your painting or a mix of cultures", open=True):
        gr.Markdown(ENGINE_NOTE)
        painting = _upload(
            h, f"Painting (optional, replaces the sliders; {limits})", f"{prefix}-painting"
        )
        engine = gr.Radio(
            engine_choices(),
            value=engine_choices()[0],
            label="Engine: auto (a mix: its cultures' styles' own; a painting: bundled), "
            "bundled (best measured) or fast (2-3x faster, a little softer)",
            elem_id=f"{prefix}-engine",
        )
        names = mix_cultures()
        sliders = [
            gr.Slider(
                0,
                1,
                value=1.0 if i == 0 else 0.0,
                step=0.05,
                label=name,
                elem_id=f"{prefix}-mix-{name}",
            )
            for i, name in enumerate(names)
        ]
    return style, run_dir, strength, painting, engine, sliders


def _weights(values) -> dict[str, float]:
    return dict(zip(mix_cultures(), (float(v) for v in values), strict=True))


def _stylize_tab(h: Handlers, limits: str) -> None:
    with gr.Row():
        with gr.Column():
            photo = _upload(h, f"Photo ({limits})", "photo")
        result = _output_image("Result", elem_id="result")
    style, run_dir, strength, painting, engine, sliders = _style_controls(h, "stylize", limits)
    fusion = gr.Radio(
        fusion_choices(),
        value=fusion_choices()[0],
        label="Fusion (engine): auto = a mix's cultures' own (else wct), wct = texture and "
        "palette, adain = lighter, per channel",
        elem_id="stylize-fusion",
    )
    with gr.Accordion("Batik wax finish in your cloth's colours (optional)", open=False):
        cloth = _upload(
            h, f"Cloth photo: its three colours dye the result ({limits})", "stylize-cloth"
        )
    button = gr.Button("Stylize", variant="primary", elem_id="stylize-button")

    def stylize(photo_file, choice, run, amount, painting_file, how, which, cloth_file, *values):
        return h.stylize(
            photo_file, choice, run, amount, painting_file, _weights(values), how, which, cloth_file
        )

    stylize.__name__ = "stylize"
    inputs = [photo, style, run_dir, strength, painting, fusion, engine, cloth, *sliders]
    button.click(_friendly(stylize, h), inputs, result)
    with gr.Accordion("Analysis: which cultures is the result closest to?", open=False):
        closest = gr.Markdown(elem_id="analysis")

        def compare(photo_file, result_image, progress=gr.Progress()):
            return h.closest(photo_file, result_image, progress=lambda f, d: progress(f, desc=d))

        compare.__name__ = "closest"
        gr.Button("Compare with the culture corpus").click(
            _friendly(compare, h), [photo, result], closest
        )


def _garment_tab(h: Handlers, limits: str) -> None:
    gr.Markdown(
        "Restyle only the garment: white in the mask is restyled, black is kept. "
        "Auto-mask finds a frontal face and segments the clothes below it (GrabCut); "
        "it needs a clearly visible face and can catch same-coloured background."
    )
    with gr.Row():
        with gr.Column():
            photo = _upload(h, f"Photo ({limits})", "garment-photo")
        with gr.Column():
            mask = _upload(h, "Garment mask (optional)", "garment-mask")
    auto = gr.Checkbox(label="Auto-mask (ignore the uploaded mask)", value=False)
    style, run_dir, strength, painting, engine, sliders = _style_controls(h, "garment", limits)
    with gr.Accordion("Batik wax finish in your cloth's colours (optional)", open=False):
        cloth = _upload(
            h, f"Cloth photo: its three colours dye the garment ({limits})", "garment-cloth"
        )
    button = gr.Button("Restyle garment", variant="primary", elem_id="garment-button")
    with gr.Row():
        result = _output_image("Result")
        overlay = _output_image("Mask used")

    def garment(
        photo_file, choice, run, mask_file, automatic, amount, painting_file, which, cloth_file, *v
    ):
        return h.garment(
            photo_file,
            choice,
            run,
            mask_file,
            automatic,
            amount,
            painting_file,
            _weights(v),
            engine=which,
            cloth=cloth_file,
        )

    garment.__name__ = "garment"
    button.click(
        _friendly(garment, h),
        [photo, style, run_dir, mask, auto, strength, painting, engine, cloth, *sliders],
        [result, overlay],
    )


def _pattern_tab(h: Handlers) -> None:
    gr.Markdown(
        "Learn a texture from one or a few motif images on the CPU (a small GAN with "
        "circular padding, so every pattern tiles seamlessly), then generate new ones. "
        f"Training takes minutes; at most {h.settings.max_pattern_steps} steps here."
    )
    motifs = gr.File(
        file_count="multiple",
        file_types=["image"],
        type="filepath",
        label="Motif images",
        elem_id="motifs",
    )
    with gr.Row():
        size = gr.Slider(64, 1024, value=256, step=16, label="Pattern side (px)")
        seeds = gr.Slider(1, 8, value=2, step=1, label="Patterns")
        most = max(50, h.settings.max_pattern_steps)
        steps = gr.Slider(50, most, value=min(300, most), step=50, label="Training steps")
    cultures = h.cultures()
    culture = gr.Dropdown(
        [None, *cultures],
        value=None,
        label="Recolour to a culture's palette"
        + ("" if cultures else " (start the server with --cultures DIR)"),
        interactive=bool(cultures),
    )
    button = gr.Button("Learn and generate", variant="primary")
    gallery = gr.Gallery(label="Patterns", format="png", columns=4, buttons=OUTPUT_BUTTONS)
    tiled = _output_image("2x2 tiling of the first pattern")
    note = gr.Markdown()

    def pattern(motif_files, side, count, n_steps, palette, progress=gr.Progress()):
        return h.pattern(
            motif_files, side, count, n_steps, palette, progress=lambda f, d: progress(f, desc=d)
        )

    button.click(_friendly(pattern), [motifs, size, seeds, steps, culture], [gallery, tiled, note])


def build_app(settings: WebSettings | None = None) -> gr.Blocks:
    """The Blocks app with its queue configured; call ``launch`` (or ``serve``) to start it."""
    h = Handlers(settings)
    s = h.settings
    limits = f"up to {s.max_megapixels:g} MP and {s.max_file_mb} MB"
    with gr.Blocks(title="stylebridge", analytics_enabled=False) as app:
        gr.Markdown(
            "# stylebridge\nCulture-inspired restyling, garments and textile patterns. "
            f"Uploads: {limits}. Requests are queued and run "
            f"{s.concurrency} at a time."
        )
        with gr.Tab("Stylize"):
            _stylize_tab(h, limits)
        with gr.Tab("Garment"):
            _garment_tab(h, limits)
        with gr.Tab("Pattern"):
            _pattern_tab(h)
    app.queue(default_concurrency_limit=s.concurrency, max_size=s.queue_size)
    if s.cultures:
        threading.Thread(target=h.warm_up, name="culture-means", daemon=True).start()
    return app


def serve(
    settings: WebSettings | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    block: bool = True,
) -> gr.Blocks:
    """Start the server (no share link, no telemetry); ``block=False`` returns at once."""
    settings = settings or WebSettings()
    if not log.handlers:  # one line per request on stderr: time, action, duration, outcome
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    app = build_app(settings)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        max_file_size=f"{settings.max_file_mb}mb",
        theme=THEME,
        quiet=True,
        footer_links=[],
    )
    return app
