"""UsageTracker: one usage row per model call (the columns: :mod:`..core.usage`), its chart and its live panel.

Example:
    >>> from ollama_anthropic_widgets import UsageTracker
    >>> tracker = UsageTracker()
    >>> client = tracker.watch(client)          # doctest: +SKIP
    >>> tracker.summary()["calls"]         # every create/stream call of ``client`` now adds a row
    0
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, TypeVar

import traitlets

from ..core.usage import row_from_message, rows_to_csv, summarize
from .usage_panel import UsagePanel

if TYPE_CHECKING:  # pragma: no cover
    from anthropic import Anthropic, AsyncAnthropic
    from matplotlib.figure import Figure

_Client = TypeVar("_Client", "Anthropic", "AsyncAnthropic")


class UsageTracker(traitlets.HasTraits):
    """Collects one usage row per model call; see :mod:`..core.usage` for the columns, and :meth:`watch`.

    ``calls`` (a trait: observe it) is the number of rows recorded so far. :meth:`widget` is the tracker's live
    panel, one per tracker however often it is asked for; :meth:`close` closes it (the rows stay).

    Example:
        >>> tracker = UsageTracker()
        >>> row = tracker.record({"model": "m", "stop_reason": "end_turn",
        ...                       "usage": {"input_tokens": 12, "output_tokens": 30}}, latency_s=0.5, label="hi")
        >>> tracker.summary()["total_tokens"]
        42
    """

    calls = traitlets.Int(0, read_only=True, help="number of rows recorded")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)  # type: ignore[no-untyped-call, unused-ignore]  # untyped in traitlets < 5.10
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._panel: UsagePanel | None = None

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows so far, as a list of new dicts (editing them does not change the tracker)."""
        with self._lock:
            return [dict(row) for row in self._rows]

    def record(self, message_or_stream_result: Any, *, latency_s: float | None = None,
               ttft_s: float | None = None, label: str = "") -> dict[str, Any]:
        """Add one call: a ``Message`` or a ``StreamResult`` (see ``core.usage.row_from_message``); returns the row.

        Example:
            >>> tracker = UsageTracker()
            >>> tracker.record({"usage": {"input_tokens": 3, "output_tokens": 5}})["call"]
            1
        """
        row = row_from_message(message_or_stream_result, latency_s=latency_s, ttft_s=ttft_s, label=label)
        with self._lock:
            row["call"] = len(self._rows) + 1
            self._rows.append(row)
            count = len(self._rows)
        self.set_trait("calls", count)  # type: ignore[no-untyped-call, unused-ignore]  # untyped in traitlets < 5.10
        return dict(row)

    def clear(self) -> None:
        """Forget every row."""
        with self._lock:
            self._rows = []
        self.set_trait("calls", 0)  # type: ignore[no-untyped-call, unused-ignore]  # untyped in traitlets < 5.10

    def summary(self) -> dict[str, Any]:
        """Totals: calls, input/output/total tokens, latency, mean TTFT and tok/s, stop reasons."""
        return summarize(self.rows)

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """The rows as CSV text; also written to ``path`` when one is given.

        Example:
            >>> UsageTracker().to_csv().startswith("call,label,model")
            True
        """
        return rows_to_csv(self.rows, path)

    def chart(self) -> Figure:
        """A matplotlib ``Figure``: stacked input/output bars per call, cumulative line, tok/s panel.

        Example:
            >>> UsageTracker().chart()                  # doctest: +SKIP
        """
        from .usage_chart import show_figures_as_images, usage_figure

        figure = usage_figure(self.rows)
        show_figures_as_images()
        return figure

    def widget(self, *, min_interval_s: float = 0.5, stylesheet: bool = True, lang: str | None = None) -> UsagePanel:
        """The tracker's live panel (summary table + chart; see :class:`~.usage_panel.UsagePanel`).

        The same panel every time while it is open (so showing it again adds no widgets and no redraws): the
        arguments given update it, except ``stylesheet``, which counts when the panel is made (``False`` inside a
        kit widget that already carries the kit's stylesheet). ``lang``: the language of the table's labels
        (``"en"`` or ``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting).

        Example:
            >>> tracker = UsageTracker()
            >>> tracker.widget() is tracker.widget()
            True
        """
        panel = self._panel
        if panel is None or panel.closed:
            panel = self._panel = UsagePanel(self, min_interval_s=min_interval_s, stylesheet=stylesheet, lang=lang)
        else:
            panel.min_interval_s = min_interval_s
            if lang is not None:
                panel.lang = lang
        return panel

    def close(self) -> None:
        """Close the live panel, if one is open; the rows stay (a later :meth:`widget` makes a new panel).

        Example:
            >>> UsageTracker().close()
        """
        if self._panel is not None:
            self._panel.close()
            self._panel = None

    def watch(self, client: _Client, *, label: str = "") -> _Client:
        """A copy of ``client`` (``Anthropic`` or ``AsyncAnthropic``) whose every Messages call is recorded.

        Works for ``messages.create`` and ``messages.stream`` (and ``create(stream=True)``); rows get ``label``.

        Example:
            >>> from anthropic import Anthropic
            >>> tracker = UsageTracker()
            >>> client = tracker.watch(Anthropic(base_url="http://localhost:11434", api_key="ollama"))
        """
        with_middleware = getattr(client, "with_middleware", None)
        if with_middleware is None:
            raise TypeError(f"watch() needs an anthropic 2.x client (Anthropic or AsyncAnthropic), "
                            f"not {type(client).__name__}")
        from ..core.usage_middleware import UsageMiddleware  # here: it imports anthropic, which only watch() needs

        return client.with_middleware(UsageMiddleware(self, label))
