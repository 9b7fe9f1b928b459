"""Draw the picture lesson 07 sends to a vision model: a red circle and a blue square, labelled.

    python notebooks/images/make_shapes.py        # rewrites notebooks/images/shapes.png (400 x 300 px)

Drawn by this script rather than downloaded, so the repository knows exactly what is in it (and its licence).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

OUTPUT = Path(__file__).with_name("shapes.png")
WIDTH_PX, HEIGHT_PX, DPI = 400, 300, 100


def draw(path: Path = OUTPUT) -> Path:
    """Write the picture to ``path`` and return it."""
    figure = plt.figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, WIDTH_PX)
    axes.set_ylim(0, HEIGHT_PX)
    axes.set_aspect("equal")
    axes.axis("off")
    figure.patch.set_facecolor("white")
    axes.add_patch(Circle((110, 165), 75, color="#d62728"))
    axes.add_patch(Rectangle((220, 90), 150, 150, color="#1f77b4"))
    axes.text(110, 45, "red circle", ha="center", fontsize=14)
    axes.text(295, 45, "blue square", ha="center", fontsize=14)
    # No "Software" tag: the file then only changes when the drawing does.
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(figure)
    return path


if __name__ == "__main__":
    print(f"wrote {draw()}")
