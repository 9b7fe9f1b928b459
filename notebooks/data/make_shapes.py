"""Save the picture lesson 07 sends to a vision model: the kit's sample_image(), a red circle and a blue square.

    python notebooks/data/make_shapes.py        # rewrites notebooks/data/shapes.png (400 x 300 px)

Drawn by code rather than downloaded, so the repository knows exactly what is in it (and its licence); the drawing
lives in the kit (ollama_anthropic_widgets.core.images.sample_image), so a pip install has the same picture.
"""

from __future__ import annotations

from pathlib import Path

from ollama_anthropic_widgets import sample_image

OUTPUT = Path(__file__).with_name("shapes.png")


def draw(path: Path = OUTPUT) -> Path:
    """Write the picture to ``path`` and return it."""
    sample_image().save(path, optimize=True)
    return path


if __name__ == "__main__":
    print(f"wrote {draw()}")
