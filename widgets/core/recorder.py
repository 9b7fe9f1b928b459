"""What records a model call, as the core and the widgets need it: a protocol, so that a StreamView, a turn or a
usage panel can take a tracker without importing one (``UsageTracker`` is in ``ui.usage_tracker``; its rows in
:mod:`.usage`).

Example:
    >>> from ollama_anthropic_widgets import UsageTracker
    >>> recorder: UsageRecorder = UsageTracker()
"""

from __future__ import annotations

from typing import Any, Protocol


class UsageRecorder(Protocol):
    """What records a call (a ``UsageTracker``, or your own): the core's views and turns need only this.

    Example:
        >>> class Rows:
        ...     def __init__(self):
        ...         self.rows = []
        ...     def record(self, message, *, latency_s=None, ttft_s=None, label=""):
        ...         self.rows.append((message, latency_s, ttft_s, label))
        >>> recorder: UsageRecorder = Rows()
    """

    def record(self, message_or_stream_result: Any, *, latency_s: float | None = None,
               ttft_s: float | None = None, label: str = "") -> Any: ...


class UsageSource(UsageRecorder, Protocol):
    """What a usage panel follows (a ``UsageTracker``): its rows, their summary, and a ``calls`` trait to observe.

    Example:
        >>> from ollama_anthropic_widgets import UsageTracker
        >>> source: UsageSource = UsageTracker()
    """

    @property
    def rows(self) -> list[dict[str, Any]]: ...

    def summary(self) -> dict[str, Any]: ...

    def observe(self, handler: Any, names: Any = ..., type: str = ...) -> None: ...

    def unobserve(self, handler: Any, names: Any = ..., type: str = ...) -> None: ...
