"""The usage chart: token usage per call as a matplotlib ``Figure`` (object-oriented API, no pyplot state).

matplotlib is imported inside the functions: it costs ~0.3 s, and only a chart needs it.

Example:
    >>> figure = usage_figure([{"call": 1, "input_tokens": 10, "output_tokens": 4, "output_tokens_per_s": 8.0}])
    >>> len(figure.axes)
    3
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def usage_figure(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """A matplotlib ``Figure`` (object-oriented API, no pyplot state): tokens per call and speed.

    Top: stacked input/output token bars per call, with the cumulative total on a twin axis (a line).
    Bottom: output tokens/s per call. Three axes in all, whatever the number of rows.

    Example:
        >>> figure = usage_figure([{"call": 1, "input_tokens": 10, "output_tokens": 4}])
        >>> len(figure.axes)
        3
    """
    from matplotlib.figure import Figure  # imported here: matplotlib costs ~0.3 s, only charts need it

    figure = Figure(figsize=(7.5, 5.0))
    # Fixed margins instead of layout="constrained": a third cheaper per render, and the live panel redraws often.
    figure.subplots_adjust(left=0.11, right=0.88, top=0.93, bottom=0.1, hspace=0.12)
    # two rows give an array of two Axes, which matplotlib's stubs cannot say (a union at 3.8, Any since)
    tokens_axes, speed_axes = cast("Sequence[Axes]", figure.subplots(2, 1, sharex=True, height_ratios=(2, 1)))
    # an Axes; matplotlib 3.8's stubs said _AxesBase (the floor only: newer ones need no ignore, hence unused-ignore)
    cumulative_axes: Axes = tokens_axes.twinx()  # type: ignore[assignment, unused-ignore]
    calls = [row.get("call") or index + 1 for index, row in enumerate(rows)]
    inputs = [row.get("input_tokens") or 0 for row in rows]
    outputs = [row.get("output_tokens") or 0 for row in rows]
    speeds = [row.get("output_tokens_per_s") for row in rows]

    tokens_axes.bar(calls, inputs, color="#4e79a7", label="input tokens")
    tokens_axes.bar(calls, outputs, bottom=inputs, color="#f28e2b", label="output tokens")
    running, cumulative = 0, []
    for tokens_in, tokens_out in zip(inputs, outputs, strict=True):
        running += tokens_in + tokens_out
        cumulative.append(running)
    cumulative_axes.plot(calls, cumulative, color="#333333", marker="o", markersize=3, label="cumulative total")
    cumulative_axes.set_ylim(bottom=0)
    cumulative_axes.set_ylabel("cumulative tokens")
    tokens_axes.set_ylabel("tokens per call")
    tokens_axes.set_title("Token usage per call")
    handles = tokens_axes.get_legend_handles_labels()[0] + cumulative_axes.get_legend_handles_labels()[0]
    tokens_axes.legend(handles=handles, loc="upper left", fontsize="small")

    speed_axes.bar(calls, [math.nan if speed is None else speed for speed in speeds], color="#59a14f")
    speed_axes.set_ylabel("output tok/s")
    speed_axes.set_xlabel("call")
    if not rows:
        tokens_axes.text(0.5, 0.5, "no calls recorded yet", ha="center", va="center",
                         transform=tokens_axes.transAxes, color="#777777")
    elif len(calls) <= 20:
        speed_axes.set_xticks(calls)
    return figure


def figure_png(figure: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``).

    Example:
        >>> figure_png(usage_figure([]))[:4]
        b'\\x89PNG'
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def show_figures_as_images() -> None:
    """Make IPython show a matplotlib ``Figure`` as a PNG, as pyplot would (once per kernel; nothing outside one).

    A Figure made without pyplot shows in a fresh kernel as ``<Figure size ...>`` text: IPython learns to draw
    Figures only when pyplot or ``%matplotlib inline`` sets it up. This teaches it the same PNG rendering.

    Example:
        >>> show_figures_as_images()
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure

    png = shell.display_formatter.formatters["image/png"]
    if Figure not in png.type_printers:
        png.for_type(Figure, lambda figure: print_figure(figure, "png", bbox_inches="tight"))
