"""Token usage per call: record it, sum it up, export it, chart it, watch it live.

Each call becomes one row (a dict) with these columns:

==========================  ===============================================================================
``call``                    1, 2, 3, ... in recording order
``label``                   your own tag for the call ("" if none)
``model``                   the model the server says answered (``None`` if unknown)
``input_tokens``            the whole prompt: ``usage.input_tokens`` plus prompt-cache reads and writes
``cached_input_tokens``     the part of ``input_tokens`` the server's prompt cache supplied
``output_tokens``           generated tokens
``stop_reason``             ``end_turn``, ``max_tokens``, ``tool_use``, ... (``None`` if the call broke off)
``latency_s``               wall time of the call, request sent to last byte
``ttft_s``                  time to first token (streams only: a plain ``create`` has no first token to time)
``output_tokens_per_s``     streams: output tokens over the time from the first token to the end;
                            plain calls: output tokens over ``latency_s`` (prompt processing included)
``streamed``                True when the numbers come from a stream (a StreamResult, or a ``ttft_s``)
``error``                   ``None``, or why a watched stream ended before ``message_stop``
==========================  ===============================================================================

Example:
    >>> from ollama_anthropic_widgets import UsageTracker
    >>> tracker = UsageTracker()
    >>> client = tracker.watch(client)          # doctest: +SKIP
    >>> tracker.summary()["calls"]         # every create/stream call of ``client`` now adds a row
    0

How :meth:`UsageTracker.watch` works: it returns ``client.with_middleware(...)``, a copy of the client (same
connection pool, same settings) carrying a middleware — the SDK's public hook (``anthropic.Middleware``, 2.x)
that sees every HTTP attempt of every call and its ``APIResponse``. A plain ``messages.create`` is recorded from
the parsed ``Message`` (the SDK caches the parse, so nothing is parsed twice). For a stream
(``messages.stream`` or ``create(stream=True)``) the middleware hands the SDK an equivalent ``APIResponse`` whose
body passes the same bytes through a small meter that reads the SSE events as the SDK reads them: first delta
(TTFT), ``message_delta`` usage and ``message_stop``; the row is recorded when the stream ends. This is the
pattern of the SDK's own ``BetaRefusalFallbackMiddleware``. Why not the alternatives: an ``httpx2`` event hook
sees a streamed response before its body is read and would have to replace the user's ``http_client``; a
wrapper around ``messages`` would have to re-implement ``MessageStream``'s several reading paths
(``text_stream``, iteration, ``get_final_message``...). The returned objects stay the SDK's own, so
``StreamView`` and every other consumer work unchanged. Only successful attempts are recorded: a call that
fails with an HTTP error adds no row (the SDK raises as usual), a retried call adds one row.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import ipywidgets
import traitlets

from .messages import field_of as _get
from .messages import prompt_tokens

COLUMNS = ("call", "label", "model", "input_tokens", "cached_input_tokens", "output_tokens", "stop_reason",
           "latency_s", "ttft_s", "output_tokens_per_s", "streamed", "error")


def _rate(output_tokens: int | None, latency_s: float | None, ttft_s: float | None) -> float | None:
    if not output_tokens or latency_s is None:
        return None
    generation = latency_s - ttft_s if ttft_s is not None and latency_s > ttft_s else latency_s
    return output_tokens / generation if generation > 0 else None


def row_from_message(message_or_stream_result: Any, latency_s: float | None = None, ttft_s: float | None = None,
                     label: str = "", *, call: int | None = None) -> dict[str, Any]:
    """One usage row from an ``anthropic`` ``Message`` (or its dict form) or a ``StreamResult``-like object.

    A ``StreamResult`` (anything with ``input_tokens``/``output_tokens`` attributes) brings its own
    ``ttft_s``, ``duration_s`` (used as latency) and ``output_tokens_per_s``; arguments given here win.

    Example:
        >>> row = row_from_message({"model": "m", "stop_reason": "end_turn",
        ...                         "usage": {"input_tokens": 10, "output_tokens": 4}}, latency_s=2.0)
        >>> row["input_tokens"], row["output_tokens"], row["output_tokens_per_s"]
        (10, 4, 2.0)
    """
    source = message_or_stream_result
    usage = _get(source, "usage")
    if usage is not None:
        (input_tokens, cached), output_tokens = prompt_tokens(usage), _get(usage, "output_tokens")
        streamed, error, rate = ttft_s is not None, None, None  # only a streamed reply has a first token to time
    elif _get(source, "input_tokens", ...) is not ... or _get(source, "output_tokens", ...) is not ...:
        input_tokens, output_tokens = _get(source, "input_tokens"), _get(source, "output_tokens")
        cached = _get(source, "cached_input_tokens")
        latency_s = latency_s if latency_s is not None else _get(source, "duration_s")
        ttft_s = ttft_s if ttft_s is not None else _get(source, "ttft_s")
        streamed, error, rate = True, _get(source, "error"), _get(source, "output_tokens_per_s")
    else:
        raise TypeError(f"cannot read token usage from {type(source).__name__}: pass an anthropic Message "
                        "(what messages.create returns) or a StreamResult")
    return {
        "call": call,
        "label": str(label or ""),
        "model": _get(source, "model"),
        "input_tokens": input_tokens,  # the whole prompt, including what the server's prompt cache supplied
        "cached_input_tokens": cached,
        "output_tokens": output_tokens,
        "stop_reason": _get(source, "stop_reason"),
        "latency_s": latency_s,
        "ttft_s": ttft_s,
        "output_tokens_per_s": rate if rate is not None else _rate(output_tokens, latency_s, ttft_s),
        "streamed": streamed,
        "error": error,
    }


def _mean(values: Iterable[Any]) -> float | None:
    numbers = [value for value in values if isinstance(value, (int, float)) and not math.isnan(value)]
    return sum(numbers) / len(numbers) if numbers else None


def summarize(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals and means over usage rows (``None`` where no row has the value).

    Example:
        >>> summarize([{"input_tokens": 10, "output_tokens": 4, "latency_s": 1.0, "stop_reason": "end_turn"}])
        ... # doctest: +NORMALIZE_WHITESPACE
        {'calls': 1, 'input_tokens': 10, 'output_tokens': 4, 'total_tokens': 14, 'latency_s': 1.0,
         'mean_latency_s': 1.0, 'mean_ttft_s': None, 'mean_output_tokens_per_s': None,
         'stop_reasons': {'end_turn': 1}, 'calls_without_input_count': 0, 'errors': 0}
    """
    rows = list(rows)
    # A server that skips message_start (llama.cpp, some replies) never says the prompt size: count those calls.
    unknown_input = sum(1 for row in rows if row.get("input_tokens") is None)
    input_tokens = sum(row.get("input_tokens") or 0 for row in rows)
    output_tokens = sum(row.get("output_tokens") or 0 for row in rows)
    latencies = [row.get("latency_s") for row in rows if row.get("latency_s") is not None]
    return {
        "calls": len(rows),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "latency_s": sum(latencies) if latencies else None,
        "mean_latency_s": _mean(latencies),
        "mean_ttft_s": _mean(row.get("ttft_s") for row in rows),
        "mean_output_tokens_per_s": _mean(row.get("output_tokens_per_s") for row in rows),
        "stop_reasons": dict(Counter(str(row.get("stop_reason")) for row in rows)),
        "calls_without_input_count": unknown_input,
        "errors": sum(1 for row in rows if row.get("error")),
    }


def rows_to_csv(rows: Iterable[Mapping[str, Any]], path: str | os.PathLike[str] | None = None) -> str:
    """The rows as CSV text (standard columns first, then any extra keys); also written to ``path`` if given.

    Example:
        >>> print(rows_to_csv([{"call": 1, "input_tokens": 10}]).splitlines()[0])
        call,label,model,input_tokens,cached_input_tokens,output_tokens,stop_reason,latency_s,ttft_s,output_tokens_per_s,streamed,error
    """
    rows = list(rows)
    columns = list(COLUMNS)
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if row.get(key) is None else row.get(key) for key in columns})
    text = buffer.getvalue()
    if path is not None:
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(text)
    return text


def usage_figure(rows: list[Mapping[str, Any]]):
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
    tokens_axes, speed_axes = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    cumulative_axes = tokens_axes.twinx()
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


def figure_png(figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _summary_html(summary: Mapping[str, Any]) -> str:
    def number(value: Any, digits: int = 2) -> str:
        if value is None:
            return "–"
        return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"

    items = [
        ("calls", number(summary["calls"])),
        ("input tokens", number(summary["input_tokens"]) + (
            f" (+ unknown for {summary['calls_without_input_count']} calls)"
            if summary.get("calls_without_input_count") else "")),
        ("output tokens", number(summary["output_tokens"])),
        ("total tokens", number(summary["total_tokens"])),
        ("mean latency (s)", number(summary["mean_latency_s"])),
        ("mean TTFT (s)", number(summary["mean_ttft_s"], 3)),
        ("mean output tok/s", number(summary["mean_output_tokens_per_s"], 1)),
        ("stop reasons", ", ".join(f"{reason}: {count}" for reason, count in summary["stop_reasons"].items())
         or "–"),
    ]
    if summary.get("errors"):
        items.append(("broken streams", number(summary["errors"])))
    cells = "".join(f"<tr><td style='padding-right:1em'>{html.escape(key)}</td>"
                    f"<td style='text-align:right'>{html.escape(value)}</td></tr>" for key, value in items)
    return f"<table>{cells}</table>"


class UsageTracker(traitlets.HasTraits):
    """Collects one usage row per model call; see the module docstring for the columns and for ``watch``.

    ``calls`` (a trait: observe it) is the number of rows recorded so far.

    Example:
        >>> tracker = UsageTracker()
        >>> row = tracker.record({"model": "m", "stop_reason": "end_turn",
        ...                       "usage": {"input_tokens": 12, "output_tokens": 30}}, latency_s=0.5, label="hi")
        >>> tracker.summary()["total_tokens"]
        42
    """

    calls = traitlets.Int(0, read_only=True, help="number of rows recorded")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows so far, as a list of new dicts (editing them does not change the tracker)."""
        with self._lock:
            return [dict(row) for row in self._rows]

    def record(self, message_or_stream_result: Any, *, latency_s: float | None = None,
               ttft_s: float | None = None, label: str = "") -> dict[str, Any]:
        """Add one call: a ``Message`` or a ``StreamResult`` (see :func:`row_from_message`); returns the row.

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
        self.set_trait("calls", count)
        return dict(row)

    def clear(self) -> None:
        """Forget every row."""
        with self._lock:
            self._rows = []
        self.set_trait("calls", 0)

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

    def chart(self):
        """A matplotlib ``Figure``: stacked input/output bars per call, cumulative line, tok/s panel.

        Example:
            >>> UsageTracker().chart()                  # doctest: +SKIP
        """
        figure = usage_figure(self.rows)
        _display_figures_as_images()
        return figure

    def widget(self, *, min_interval_s: float = 0.5) -> UsagePanel:
        """A live panel (summary table + chart) that follows this tracker; see :class:`UsagePanel`.

        Example:
            >>> panel = UsageTracker().widget()
            >>> panel                                   # doctest: +SKIP
        """
        return UsagePanel(self, min_interval_s=min_interval_s)

    def watch(self, client: Any, *, label: str = "") -> Any:
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
        recorder = _recorder_class()(self, label)
        watched = with_middleware(recorder)
        recorder.client = watched
        return watched


def _display_figures_as_images() -> None:
    """A Figure made without pyplot shows in a fresh kernel as ``<Figure size ...>`` text: IPython learns to draw
    Figures only when pyplot or ``%matplotlib inline`` sets it up. Teach it the same PNG rendering, once."""
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


class UsagePanel(ipywidgets.HBox):
    """A live view of a :class:`UsageTracker`: a summary table (escaped HTML) and the chart as a PNG.

    The table follows every recorded call; the chart (0.2–0.5 s of matplotlib per render) is redrawn at most
    every ``min_interval_s`` seconds, or every two render times if that is longer, so drawing never takes more
    than about a third of the time. A change inside that window is drawn when it ends (on the notebook's event
    loop, i.e. once the running cell finishes); :meth:`refresh` draws at once. ``min_interval_s=0`` draws on
    every call.

    Example:
        >>> tracker = UsageTracker()
        >>> panel = UsagePanel(tracker)
        >>> panel                                      # doctest: +SKIP
    """

    min_interval_s = traitlets.Float(0.5, help="least time between two chart renders, in seconds")
    renders = traitlets.Int(0, read_only=True, help="how many times the chart was drawn")

    def __init__(self, tracker: UsageTracker, *, min_interval_s: float = 0.5, **kwargs: Any):
        self.tracker = tracker
        self.summary = ipywidgets.HTML()
        self.chart = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="640px"))
        super().__init__(children=[self.summary, self.chart], min_interval_s=min_interval_s, **kwargs)
        self._last_render = -math.inf
        self._render_cost = 0.0
        self._pending = False
        tracker.observe(self._on_calls, "calls")
        self.refresh()

    def refresh(self) -> None:
        """Redraw the table and the chart now."""
        self._pending = False
        self.summary.value = _summary_html(self.tracker.summary())
        started = time.monotonic()
        self.chart.value = figure_png(self.tracker.chart())
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

    def _on_calls(self, _change: Any) -> None:
        self.summary.value = _summary_html(self.tracker.summary())
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


class _StreamMeter:
    """Reads SSE bytes as they pass and keeps what a usage row needs; calls ``on_end(result)`` exactly once."""

    def __init__(self, started_at: float, model: str | None, on_end):
        self.started_at = started_at
        self.model = model
        self.on_end = on_end
        self.input_tokens: int | None = None
        self.cached_input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.stop_reason: str | None = None
        self.first_token_at: float | None = None
        self.complete = False
        self.error: str | None = None
        self._buffer = b""
        self._ended = False

    def feed(self, chunk: bytes) -> None:
        self._buffer = (self._buffer + chunk).replace(b"\r\n", b"\n")
        while b"\n\n" in self._buffer:
            event, self._buffer = self._buffer.split(b"\n\n", 1)
            self._event(event)

    def _event(self, raw: bytes) -> None:
        data = b"\n".join(line[5:].removeprefix(b" ") for line in raw.split(b"\n") if line.startswith(b"data:"))
        try:
            payload = json.loads(data) if data else None
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        kind = payload.get("type")
        if kind == "message_start":
            message = payload.get("message") or {}
            self.model = message.get("model") or self.model
            self._usage(message.get("usage"))
        elif kind == "content_block_delta" and self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        elif kind == "message_delta":
            self.stop_reason = (payload.get("delta") or {}).get("stop_reason") or self.stop_reason
            self._usage(payload.get("usage"))
        elif kind == "message_stop":
            self.complete = True
        elif kind == "error":
            self.error = str((payload.get("error") or {}).get("message") or "error event in the stream")

    def _usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            input_tokens, cached = prompt_tokens(usage)
            if input_tokens is not None:
                self.input_tokens, self.cached_input_tokens = input_tokens, cached
            if usage.get("output_tokens") is not None:
                self.output_tokens = usage["output_tokens"]

    def end(self, failure: BaseException | None = None, closed: bool = False) -> None:
        if self._ended:
            return
        self._ended = True
        if self._buffer.strip():
            self._event(self._buffer)
        if failure is not None:
            self.error = f"stream broke off: {type(failure).__name__}: {failure}".strip()
        elif closed and not self.complete and self.error is None:
            self.error = "stream closed before message_stop"
        finished_at = time.perf_counter()
        ttft = None if self.first_token_at is None else self.first_token_at - self.started_at
        rate = None
        if self.first_token_at is not None and self.output_tokens:
            generation = finished_at - self.first_token_at
            rate = self.output_tokens / generation if generation > 0 else None
        self.on_end({"model": self.model, "input_tokens": self.input_tokens,
                     "cached_input_tokens": self.cached_input_tokens, "output_tokens": self.output_tokens,
                     "stop_reason": self.stop_reason, "ttft_s": ttft, "duration_s": finished_at - self.started_at,
                     "output_tokens_per_s": rate, "error": self.error})


def _is_messages_call(request: Any) -> bool:
    path = str(request.url).split("?", 1)[0].rstrip("/")
    return str(request.method).lower() == "post" and path.endswith("/v1/messages")


@functools.cache
def _recorder_class():
    """The middleware class, built on first use so that importing this module does not import anthropic."""
    import httpx2
    from anthropic import APIResponse, AsyncAPIResponse, Middleware

    class MeteredBody(httpx2.SyncByteStream, httpx2.AsyncByteStream):
        """The original (decoded) body, byte for byte, shown to a meter on the way."""

        def __init__(self, source: httpx2.Response, meter: _StreamMeter):
            self.source, self.meter = source, meter
            # The SDK's tracing looks for an observer on the body it reads: keep it reachable from the new body.
            observer = getattr(source.stream, "stream_observer", None)
            if observer is not None:
                self.stream_observer = observer

        def __iter__(self):
            try:
                for chunk in self.source.iter_bytes():
                    self.meter.feed(chunk)
                    yield chunk
            except GeneratorExit:
                self.meter.end(closed=True)
                raise
            except BaseException as failure:
                self.meter.end(failure)
                raise
            self.meter.end()

        async def __aiter__(self):
            try:
                async for chunk in self.source.aiter_bytes():
                    self.meter.feed(chunk)
                    yield chunk
            except GeneratorExit:
                self.meter.end(closed=True)
                raise
            except BaseException as failure:
                self.meter.end(failure)
                raise
            self.meter.end()

        def close(self) -> None:
            self.meter.end(closed=True)
            self.source.close()

        async def aclose(self) -> None:
            self.meter.end(closed=True)
            await self.source.aclose()

    class UsageRecorder(Middleware):
        """Records every successful ``POST /v1/messages`` of the client it is attached to into a tracker."""

        def __init__(self, tracker: UsageTracker, label: str):
            self.tracker, self.label = tracker, label
            self.client: Any = None

        def _record(self, result: Mapping[str, Any]) -> None:
            self.tracker.record(result, label=self.label)

        def _metered(self, request, response, started_at: float, response_class):
            raw = response.http_response
            body = request.json if isinstance(request.json, dict) else {}
            meter = _StreamMeter(started_at, body.get("model"), self._record)
            headers = raw.headers.copy()
            for header in ("content-encoding", "content-length"):  # the meter passes on decoded bytes
                headers.pop(header, None)
            metered = httpx2.Response(raw.status_code, headers=headers, stream=MeteredBody(raw, meter),
                                      request=raw.request)
            return response_class(raw=metered, cast_to=request.cast_to, client=self.client, stream=True,
                                  stream_cls=request.stream_cls, options=request.options,
                                  retries_taken=request.retries_taken)

        def _passes_through(self, request, response, response_class) -> bool:
            return (not _is_messages_call(request) or not 200 <= response.status_code < 300
                    or type(response) is not response_class)

        def handle(self, request, call_next):
            started_at = time.perf_counter()
            response = call_next(request)
            if self._passes_through(request, response, APIResponse):
                return response
            if request.stream:
                return self._metered(request, response, started_at, APIResponse)
            try:
                message = response.parse()  # cached: the SDK's own parse returns this same object
            except Exception:
                return response  # the SDK raises the same error to the caller
            self.tracker.record(message, latency_s=time.perf_counter() - started_at, label=self.label)
            return response

        async def handle_async(self, request, call_next):
            started_at = time.perf_counter()
            response = await call_next(request)
            if self._passes_through(request, response, AsyncAPIResponse):
                return response
            if request.stream:
                return self._metered(request, response, started_at, AsyncAPIResponse)
            try:
                message = await response.parse()
            except Exception:
                return response
            self.tracker.record(message, latency_s=time.perf_counter() - started_at, label=self.label)
            return response

    return UsageRecorder
