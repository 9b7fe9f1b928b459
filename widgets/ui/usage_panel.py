"""The live usage panel: a widget that follows a :class:`~.usage.UsageTracker` (summary table and chart)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import ipywidgets
import traitlets

from ..core.i18n import LANGUAGES, language
from ..core.render import render_usage_summary
from .stylesheet import Stylesheet
from .usage_chart import figure_png, usage_figure

if TYPE_CHECKING:  # pragma: no cover
    from ..core.usage import UsageTracker


class UsagePanel(ipywidgets.HBox):
    """A live view of a :class:`UsageTracker`: a summary table (escaped HTML) and the chart as a PNG.

    The table follows every recorded call; the chart (0.2–0.5 s of matplotlib per render) is redrawn at most
    every ``min_interval_s`` seconds, or every two render times if that is longer, so drawing never takes more
    than about a third of the time. A change inside that window is drawn when it ends (on the notebook's event
    loop, i.e. once the running cell finishes); :meth:`refresh` draws at once. ``min_interval_s=0`` draws on
    every call. ``stylesheet=False`` leaves out the kit's stylesheet, for a panel inside a kit widget that
    carries it. ``lang`` (``"en"`` or ``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting) is the language of the
    table's labels; the chart's stay English (matplotlib's default fonts have no Chinese characters).

    Example:
        >>> from ollama_anthropic_widgets.core.usage import UsageTracker
        >>> tracker = UsageTracker()
        >>> panel = UsagePanel(tracker)
        >>> panel                                      # doctest: +SKIP
    """

    min_interval_s = traitlets.Float(0.5, help="least time between two chart renders, in seconds")
    renders = traitlets.Int(0, read_only=True, help="how many times the chart was drawn")
    lang = traitlets.Enum(LANGUAGES, default_value="en", help="language of the table's labels")

    def __init__(self, tracker: UsageTracker, *, min_interval_s: float = 0.5, stylesheet: bool = True,
                 lang: str | None = None, **kwargs: Any):
        self.tracker = tracker
        self.summary = ipywidgets.HTML()
        self.chart = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="640px"))
        children = [self.summary, self.chart]
        if stylesheet:  # False inside a kit widget that already carries it (ChatWidget)
            children.insert(0, Stylesheet())
        super().__init__(children=children, min_interval_s=min_interval_s, lang=language(lang), **kwargs)
        self._last_render = -math.inf
        self._render_cost = 0.0
        self._pending = False
        # untyped in traitlets < 5.10 (the floor is 5.4), typed since: hence "unused-ignore" too
        tracker.observe(self._on_calls, "calls")  # type: ignore[no-untyped-call, unused-ignore]
        self.refresh()

    def refresh(self) -> None:
        """Redraw the table and the chart now."""
        self._pending = False
        self.summary.value = render_usage_summary(self.tracker.summary(), self.lang)
        started = time.monotonic()
        self.chart.value = figure_png(usage_figure(self.tracker.rows))
        self._last_render = time.monotonic()
        self._render_cost = self._last_render - started
        self.set_trait("renders", self.renders + 1)

    def close(self) -> None:
        """Stop following the tracker and close the widget."""
        tracker = getattr(self, "tracker", None)
        if tracker is not None:
            try:
                tracker.unobserve(self._on_calls, "calls")
            except ValueError:
                pass  # never subscribed (construction failed) or already closed
        super().close()

    @traitlets.observe("lang")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _lang_changed(self, _change: Any) -> None:
        if hasattr(self, "_last_render"):  # not during __init__, which renders once at its end
            self.summary.value = render_usage_summary(self.tracker.summary(), self.lang)

    def _on_calls(self, _change: Any) -> None:
        self.summary.value = render_usage_summary(self.tracker.summary(), self.lang)
        # Never spend more than about a third of the time drawing, however slow the machine.
        interval = max(self.min_interval_s, 2 * self._render_cost) if self.min_interval_s > 0 else 0
        wait = self._last_render + interval - time.monotonic()
        if wait <= 0:
            self.refresh()
        elif not self._pending:
            self._pending = True
            import asyncio  # here, not at the top: ~0.1 s to import outside a kernel (which has it loaded already)

            try:
                asyncio.get_running_loop().call_later(wait, self._render_if_pending)
            except RuntimeError:
                pass  # no event loop (plain script): the next record after the interval, or refresh(), draws it

    def _render_if_pending(self) -> None:
        if self._pending:
            self.refresh()
