"""The Gradio web UI over ``stylebridge.api`` (needs the ``[web]`` extra)."""
