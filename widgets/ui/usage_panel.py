"""The live usage panel: a widget that follows a usage tracker (summary table and chart)."""

from __future__ import annotations

import math
import time
import warnings
from typing import TYPE_CHECKING, Any

import ipywidgets
import traitlets

from ..core.i18n import LANGUAGES, language, localized
from ..core.render import render_picture, render_usage_summary
from .closing import close_all
from .stylesheet import Stylesheet
from .usage_chart import figure_png, usage_figure

if TYPE_CHECKING:  # pragma: no cover
    import asyncio

    from ..core.recorder import UsageSource


class UsagePanel(ipywidgets.HBox):
    """A live view of a usage tracker (``UsageTracker``): a summary table and the chart, both escaped HTML from
    ``render`` (the chart is a PNG with a text alternative that gives the totals).

    The table follows every recorded call; the chart (0.2–0.5 s of matplotlib per render) is redrawn at most
    every ``min_interval_s`` seconds, or every two render times if that is longer, so drawing never takes more
    than about a third of the time. A change inside that window is drawn when it ends (on the notebook's event
    loop, i.e. once the running cell finishes); :meth:`refresh` draws at once. ``min_interval_s=0`` draws on
    every call. A chart that fails to draw gives a warning; the call stays recorded. ``close()`` stops following
    the tracker and closes every widget the panel made. ``stylesheet=False`` leaves out the kit's stylesheet, for
    a panel inside a kit widget that carries it. ``lang`` (``"en"`` or ``"zh"``; default: the ``OLLAMA_KIT_LANG``
    setting) is the language of the table and the chart's description; the chart's own labels stay English
    (matplotlib's default fonts have no Chinese characters).

    Example:
        >>> from ollama_anthropic_widgets import UsageTracker
        >>> tracker = UsageTracker()
        >>> panel = UsagePanel(tracker)
        >>> panel                                      # doctest: +SKIP
        >>> panel.close()
    """

    min_interval_s = traitlets.Float(0.5, help="least time between two chart renders, in seconds (0: every call)")
    renders = traitlets.Int(0, read_only=True, help="how many times the chart was drawn")
    lang = traitlets.Enum(LANGUAGES, default_value="en", help="language of the table's labels")

    def __init__(self, tracker: UsageSource, *, min_interval_s: float = 0.5, stylesheet: bool = True,
                 lang: str | None = None, **kwargs: Any):
        self.tracker = tracker
        self.summary = ipywidgets.HTML()
        self.chart = ipywidgets.HTML()
        children = [self.summary, self.chart]
        if stylesheet:  # False inside a kit widget that already carries it (ChatWidget)
            children.insert(0, Stylesheet())
        super().__init__(children=children, min_interval_s=min_interval_s, lang=language(lang), **kwargs)
        self._last_render = -math.inf
        self._render_cost = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._closed = False
        # untyped in traitlets < 5.10 (the floor is 5.4), typed since: hence "unused-ignore" too
        tracker.observe(self._on_calls, "calls")  # type: ignore[no-untyped-call, unused-ignore]
        self.refresh()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def refresh(self) -> None:
        """Redraw the table and the chart now."""
        self._cancel_pending()
        summary = self.tracker.summary()
        self.summary.value = render_usage_summary(summary, self.lang)
        started = time.monotonic()
        picture = figure_png(usage_figure(self.tracker.rows))
        alt = localized("usage.chart_alt", self.lang, calls=f"{summary['calls']:,}",
                        total=f"{summary['total_tokens']:,}")
        self.chart.value = render_picture(picture, "image/png", alt)
        self._last_render = time.monotonic()
        self._render_cost = self._last_render - started
        self.set_trait("renders", self.renders + 1)

    def close(self) -> None:
        """Stop following the tracker and close the panel with every widget it made.

        Example:
            >>> from ollama_anthropic_widgets import UsageTracker
            >>> UsagePanel(UsageTracker()).close()
        """
        self._closed = True
        self._cancel_pending()
        tracker = getattr(self, "tracker", None)
        if tracker is not None:
            try:
                tracker.unobserve(self._on_calls, "calls")  # type: ignore[no-untyped-call, unused-ignore]
            except ValueError:
                pass  # never subscribed (construction failed) or already closed
        close_all(*self.children)
        super().close()
        close_all(self.layout)

    @traitlets.validate("min_interval_s")  # type: ignore[untyped-decorator, unused-ignore]  # traitlets < 5.10
    def _valid_interval(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not value >= 0:
            raise traitlets.TraitError(f"min_interval_s must be 0 or more seconds, got {value}")
        return value

    @traitlets.observe("lang")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _lang_changed(self, _change: Any) -> None:
        if hasattr(self, "_closed") and not self._closed:  # not during __init__, which renders once at its end
            self.summary.value = render_usage_summary(self.tracker.summary(), self.lang)

    def _on_calls(self, _change: Any) -> None:
        if self._closed:
            return
        self.summary.value = render_usage_summary(self.tracker.summary(), self.lang)
        # Never spend more than about a third of the time drawing, however slow the machine.
        interval = max(self.min_interval_s, 2 * self._render_cost) if self.min_interval_s > 0 else 0
        wait = self._last_render + interval - time.monotonic()
        if wait <= 0:
            self._draw()
        elif self._pending is None:
            import asyncio  # here, not at the top: ~0.1 s to import outside a kernel (which has it loaded already)

            try:
                self._pending = asyncio.get_running_loop().call_later(wait, self._draw)
            except RuntimeError:
                pass  # no event loop (plain script): the next record after the interval, or refresh(), draws it

    def _draw(self) -> None:
        """Redraw for a recorded call: a chart that fails must not fail the call that was recorded."""
        self._pending = None
        if self._closed:
            return
        try:
            self.refresh()
        except Exception as error:
            warnings.warn(f"UsagePanel: the usage chart could not be drawn ({error!r}); the call is recorded",
                          stacklevel=2)

    def _cancel_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()
