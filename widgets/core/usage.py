"""Token usage per call, as data: one row per call, totals, CSV, and the UsageTracker that collects them.

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
    >>> row = row_from_message({"model": "m", "usage": {"input_tokens": 12, "output_tokens": 30}}, latency_s=1.5)
    >>> summarize([row])["total_tokens"]
    42

This module is the core's part: rows, totals and CSV (what a tracker must offer is :mod:`.recorder`). The tracker
itself is ``ui.usage_tracker.UsageTracker`` (it makes the chart, ``ui.usage_chart``, and the live panel,
``ui.usage_panel``); ``watch()``'s client instrumentation is ``core.usage_middleware`` (the SDK's middleware hook;
streams are read by the kit's one stream parser, ``StreamAccumulator``).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .messages import cached_prompt_tokens, prompt_tokens
from .messages import field_of as _get
from .streaming import tokens_per_second

COLUMNS = ("call", "label", "model", "input_tokens", "cached_input_tokens", "output_tokens", "stop_reason",
           "latency_s", "ttft_s", "output_tokens_per_s", "streamed", "error")


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
        input_tokens, cached = prompt_tokens(usage), cached_prompt_tokens(usage)
        output_tokens = _get(usage, "output_tokens")
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
        "output_tokens_per_s": rate if rate is not None else tokens_per_second(output_tokens, latency_s, ttft_s),
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
