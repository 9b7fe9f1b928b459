"""StreamView: a live, safe view of a streamed Messages-API reply (text, thinking, tool calls, speed, tokens)."""

from __future__ import annotations

import time
import warnings
from contextlib import AsyncExitStack, ExitStack
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle
from traitlets import Bool, Enum, Float, Int, Unicode, observe

from ..core.i18n import LANGUAGES, language, localized
from ..core.incremental import IncrementalHTML
from ..core.render import render_footer, render_tool_uses, thinking_title
from ..core.streaming import (
    DERIVED_EVENT_TYPES,
    Clock,
    StreamAccumulator,
    StreamInterrupted,
    StreamResult,
    Throttle,
    describe_error,
    interruption_message,
    message_from_result,
)
from .closing import close_all
from .html_parts import HTMLParts
from .stylesheet import Stylesheet

if TYPE_CHECKING:  # pragma: no cover
    from anthropic.types import Message

    from ..core.recorder import UsageRecorder

__all__ = ["StreamView"]

_SHOWN_SECTIONS = frozenset({"text", "thinking", "tools"})  # "meta" (usage) goes to the footer, drawn at the end


_HIDDEN = "oaw-empty"  # the stylesheet hides an element with this class


def _show(widget: widgets.DOMWidget, visible: bool) -> int:
    """Show or hide ``widget`` with the stylesheet's class; returns the messages sent (0 or 1)."""
    if visible == (_HIDDEN in widget._dom_classes):
        (widget.remove_class if visible else widget.add_class)(_HIDDEN)
        return 1
    return 0


def _needs_entering(stream: Any) -> bool:
    """``messages.stream(...)`` returns a manager (enter it to send the request); entering yields the stream."""
    return hasattr(stream, "__enter__") and not hasattr(stream, "__iter__")


def _needs_async_entering(stream: Any) -> bool:
    return hasattr(stream, "__aenter__") and not hasattr(stream, "__aiter__")


class StreamView(widgets.VBox):
    """Shows a streamed reply as it arrives: text (safe Markdown), thinking (collapsible), tool calls, and a footer
    with stop_reason, input/output tokens, time to first token and output tokens/s.

    Example:
        >>> from ollama_anthropic_widgets import StreamView, make_client, settings
        >>> client = make_client()
        >>> view = StreamView()
        >>> display(view)                                                        # doctest: +SKIP
        >>> message = view.consume(client.messages.stream(                       # doctest: +SKIP
        ...     model=settings().model, max_tokens=200, messages=[{"role": "user", "content": "写一首诗"}]))
        >>> view.text, view.stop_reason, view.output_tokens_per_s                # doctest: +SKIP

    ``consume(stream)`` takes what ``client.messages.stream(...)`` returns, entered (``with ... as stream``) or
    not, and returns the final ``anthropic.types.Message``; ``await view.aconsume(stream)`` does the same for
    ``AsyncAnthropic``. With ``tracker=UsageTracker()`` every consumed reply is also recorded there (don't pass a
    tracker that already watches the client, or the call is counted twice).

    **When something fails** the view keeps everything received so far on screen, adds one line saying what
    happened, sets ``status="error"`` and ``error``, and ``consume`` raises:

    - a failure *after the stream started* (dropped connection, a server error event, an interrupt of the reply)
      raises :class:`~.streaming.StreamInterrupted`: ``err.partial_text`` and ``err.result`` hold what
      arrived, ``err.__cause__`` the original error, and ``view.text`` / ``view.result`` keep it too;
    - a failure *before* anything arrived (server not running, unknown model 404, HTTP 500) re-raises the SDK's
      own error (``anthropic.APIConnectionError``, ``anthropic.NotFoundError``, ...): there is nothing to lose;
    - ``KeyboardInterrupt`` (the stop button) is re-raised as is, after keeping the partial text.

    Model output is untrusted: every HTML value comes from :mod:`.render` (escaped or safe Markdown).
    While streaming, each message to the browser buys a pause of ``update_interval`` (so ≈14 messages a second,
    leaving room in any second for the final push, and far below Jupyter's limits however fast the tokens come),
    rendering takes at most ``busy_fraction`` of the time, and the final state is always pushed complete (both are
    the throttle's settings, given at construction: tests and benchmarks turn it off with ``0``). Traits follow
    the same rhythm. ``ttft_s`` is measured
    from the request when ``consume`` enters the stream itself, from the ``consume`` call for an entered stream.

    **What reaches the browser grows linearly with the reply**, not with its square: text and thinking are shown
    in parts (``text_parts``, ``thinking_parts``: see :mod:`.incremental`). A finished Markdown block is sent once,
    as a part of its own; only the open block and the footer are updated. At the end the parts, joined, are exactly
    the whole reply rendered at once. An open part that cannot be cut (a reply written as one long line) is re-sent
    at most about 20 KB a second (the throttle's byte budget). Thinking shows unfolded (``thinking_view``, an
    ``Accordion``) while it streams and folds when the answer starts. ``stylesheet=False`` leaves out the kit's
    stylesheet, for a view inside a kit widget that already carries it.

    ``lang`` (``"en"`` or ``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting, else English) is the language of the
    view's own words: the footer, the status and error lines, the thinking title; ``StreamView(lang="zh")``.
    Changed later, it applies from the next render on.
    """

    text = Unicode("", help="The reply text received so far (all text blocks).")
    thinking = Unicode("", help="The thinking received so far.")
    status = Enum(("idle", "streaming", "done", "error"), default_value="idle")
    error = Unicode("", help="One line describing the last failure, or empty.")
    stop_reason = Unicode(None, allow_none=True)
    input_tokens = Int(None, allow_none=True)
    output_tokens = Int(None, allow_none=True)
    ttft_s = Float(None, allow_none=True, help="Seconds to the first content delta (see the class docstring).")
    output_tokens_per_s = Float(None, allow_none=True)
    markdown = Bool(True, help="Render text as (safe) Markdown; False shows it as escaped plain text.")
    lang = Enum(LANGUAGES, default_value="en", help="Language of the view's own words (footer, status, errors).")

    children: tuple[widgets.Widget, ...]  # the Box trait, declared for the checker (ipywidgets has no type hints)

    def __init__(self, *, markdown: bool = True, tracker: UsageRecorder | None = None, update_interval: float = 0.07,
                 busy_fraction: float = 0.05, clock: Clock = time.perf_counter, stylesheet: bool = True,
                 lang: str | None = None, **kwargs: Any):
        self._text_incremental = IncrementalHTML(markdown=markdown)
        self._thinking_incremental = IncrementalHTML(markdown=False)
        self._html_sent = 0
        # Every HTML leaf of the view shares one layout and one style model (hiding is a class, not a layout):
        # a view, and each part it adds, then costs the browser its HTML rather than a layout per widget.
        self._leaf_layout, self._leaf_style, self._box_layout = widgets.Layout(), HTMLStyle(), widgets.Layout()
        leaf = {"layout": self._leaf_layout, "style": self._leaf_style, "_dom_classes": (_HIDDEN,)}
        self.text_parts = self._parts_column(_dom_classes=("oaw-text", _HIDDEN))
        self.thinking_parts: HTMLParts | None = None  # made with the first thinking, as is thinking_view
        self.thinking_view: widgets.Accordion | None = None
        self.tools_html = widgets.HTML(**leaf)
        self.footer_html = widgets.HTML(**leaf)
        children = [self.text_parts, self.tools_html, self.footer_html]
        self._stylesheet = Stylesheet(layout=self._leaf_layout, style=self._leaf_style) if stylesheet else None
        if self._stylesheet is not None:
            children.insert(0, self._stylesheet)
        super().__init__(children=children, markdown=markdown, lang=language(lang), _dom_classes=("oaw-stream",),
                         **kwargs)
        self.tracker = tracker
        self._clock = clock
        self._throttle_settings = (update_interval, busy_fraction)
        self._accumulator = StreamAccumulator(clock=clock)
        self._throttle = Throttle(update_interval, busy_fraction=busy_fraction, clock=clock)
        self._snapshot_stream: Any = None  # the entered MessageStream once it keeps a snapshot (see _follow)
        self._shown = StreamResult()  # what the browser shows now: a flush draws only what differs
        self._thinking_open = False
        self._result: StreamResult | None = None
        self._html_sent = 0  # characters of HTML a render sent, for the throttle
        self._closed = False

    @property
    def result(self) -> StreamResult:
        """The reply as a :class:`~.streaming.StreamResult` (so far, while streaming)."""
        return self._result if self._result is not None else self._current_result()

    # -- consuming -------------------------------------------------------------------------------------------

    def consume(self, stream: Any) -> Message:
        """Show ``stream`` as it arrives and return the final ``Message``; see the class docstring for failures.

        Example:
            >>> message = view.consume(client.messages.stream(model=model, max_tokens=100,   # doctest: +SKIP
            ...                                               messages=[{"role": "user", "content": "你好"}]))
        """
        if _needs_async_entering(stream) or hasattr(stream, "__aiter__"):
            raise TypeError("this stream comes from AsyncAnthropic: use `await view.aconsume(stream)`")
        if not (_needs_entering(stream) or hasattr(stream, "get_final_message")):
            raise TypeError(f"StreamView.consume() takes what client.messages.stream(...) returns, not "
                            f"{type(stream).__name__}; for a messages.create(...) reply use view.show_message()")
        self._begin()
        try:
            with ExitStack() as stack:
                entered = stack.enter_context(stream) if _needs_entering(stream) else stream
                self._follow(entered)
                self._check_started()
                try:
                    message = entered.get_final_message()
                except AssertionError:
                    message = self._rebuilt_message()
        except BaseException as error:
            replacement = self._fail(error)
            if replacement is None:
                raise
            raise replacement from error
        return self._finish(message)

    async def aconsume(self, stream: Any) -> Message:
        """Async :meth:`consume` for ``AsyncAnthropic().messages.stream(...)``, entered or not.

        Example:
            >>> stream = async_client.messages.stream(model=model, max_tokens=100, messages=messages)  # doctest: +SKIP
            >>> message = await view.aconsume(stream)                                   # doctest: +SKIP
        """
        if _needs_entering(stream) or hasattr(stream, "__iter__"):
            raise TypeError("this stream comes from the synchronous Anthropic client: use `view.consume(stream)`")
        if not (_needs_async_entering(stream) or hasattr(stream, "get_final_message")):
            raise TypeError(f"StreamView.aconsume() takes what AsyncAnthropic().messages.stream(...) returns, not "
                            f"{type(stream).__name__}")
        self._begin()
        try:
            async with AsyncExitStack() as stack:
                entered = await stack.enter_async_context(stream) if _needs_async_entering(stream) else stream
                await self._afollow(entered)
                self._check_started()
                try:
                    message = await entered.get_final_message()
                except AssertionError:
                    message = self._rebuilt_message()
        except BaseException as error:
            replacement = self._fail(error)
            if replacement is None:
                raise
            raise replacement from error
        return self._finish(message)

    def show_message(self, message: Any) -> StreamResult:
        """Show a complete, non-streamed reply (from ``messages.create``) the same way; returns its summary.

        Example:
            >>> reply = client.messages.create(model=model, max_tokens=100, messages=messages)  # doctest: +SKIP
            >>> view.show_message(reply)                                                    # doctest: +SKIP
        """
        self._begin(status="done")
        self._result = StreamResult.from_message(message)
        self._sync_traits(self._result)
        self._render(self._result, status="done", sections=None)
        return self._result

    # -- internals ---------------------------------------------------------------------------------------------

    # The SDK's MessageStream already accumulates the reply (``current_message_snapshot``) from ``message_start``
    # on, for a bare ``text_stream`` loop too. So, once that has arrived, the per-token loop only times the first
    # token and asks the throttle; the content to draw comes from the snapshot. A server that skips
    # ``message_start`` (llama.cpp's did, for replies opening with an emoji) leaves the SDK with no snapshot: then
    # this view feeds every event to its own StreamAccumulator instead.

    def _follow(self, entered: Any) -> None:
        accumulator, clock, throttle = self._accumulator, self._clock, self._throttle
        events = iter(entered)
        for event in events:
            if self._opening(event, entered):
                break
        else:
            return
        if self._snapshot_stream is None:
            for event in events:
                if (event.type not in DERIVED_EVENT_TYPES and accumulator.feed(event) in _SHOWN_SECTIONS
                        and clock() >= throttle.next_at):
                    self._flush()
            return
        for event in events:  # the hot loop: once per token, so nothing here but timing and the throttle
            if accumulator.first_token_at is None and event.type == "content_block_delta":
                accumulator.first_token_at = clock()
            if clock() >= throttle.next_at:
                self._flush()
        accumulator.finished_at = clock()

    async def _afollow(self, entered: Any) -> None:
        accumulator, clock, throttle = self._accumulator, self._clock, self._throttle
        events = aiter(entered)
        async for event in events:
            if self._opening(event, entered):
                break
        else:
            return
        if self._snapshot_stream is None:
            async for event in events:
                if (event.type not in DERIVED_EVENT_TYPES and accumulator.feed(event) in _SHOWN_SECTIONS
                        and clock() >= throttle.next_at):
                    self._flush()
            return
        async for event in events:
            if accumulator.first_token_at is None and event.type == "content_block_delta":
                accumulator.first_token_at = clock()
            if clock() >= throttle.next_at:
                self._flush()
        accumulator.finished_at = clock()

    def _opening(self, event: Any, entered: Any) -> bool:
        """Take an event before the reply's first real one; True once it is clear who keeps the reply."""
        self._accumulator.feed(event)
        kind: str = event.type
        if kind == "message_start":
            if getattr(type(entered), "current_message_snapshot", None) is not None:  # an SDK MessageStream
                self._snapshot_stream = entered
            return True
        return kind != "ping"  # anything else first: no message_start, the accumulator keeps the reply

    def _current_result(self) -> StreamResult:
        if self._snapshot_stream is not None:
            return self._accumulator.result(self._snapshot_stream.current_message_snapshot)
        return self._accumulator.result()

    def _begin(self, status: str = "streaming") -> None:
        self._accumulator = StreamAccumulator(clock=self._clock)
        interval, busy_fraction = self._throttle_settings
        self._throttle = Throttle(interval, busy_fraction=busy_fraction, clock=self._clock)
        self._snapshot_stream = None
        self._shown = StreamResult()
        self._thinking_open = False
        self._result = None
        self._text_incremental = IncrementalHTML(markdown=self.markdown)
        self._thinking_incremental = IncrementalHTML(markdown=False)
        self.text_parts.clear()
        if self.thinking_parts is not None:
            self.thinking_parts.clear()
        with self.hold_trait_notifications():
            self.status = status
            self.error = ""
            self._sync_traits(StreamResult())
        self._render(StreamResult(), status=status, sections=None)

    def _flush(self) -> None:
        result = self._current_result()
        shown = self._shown
        sections = set()
        if result.text != shown.text:
            sections.add("text")
        if result.thinking != shown.thinking:
            sections.add("thinking")
        if result.tool_uses != shown.tool_uses:
            sections.add("tools")
        if self._thinking_open and sections - {"thinking"}:
            sections.add("thinking")  # the answer started: collapse the thinking
        self._sync_traits(result)
        self._render(result, status="streaming", sections=sections)

    def _check_started(self) -> None:
        if not self._accumulator.started:
            raise RuntimeError(localized("stream.no_events", self.lang))

    def _rebuilt_message(self) -> Message:
        """The SDK asserts it saw ``message_start``; llama.cpp's server sometimes skips it (a reply opening with an
        emoji). A reply that still ended with ``message_stop`` is complete: rebuild it from the events."""
        if not self._accumulator.stopped or self._accumulator.message_id is not None:
            raise
        return message_from_result(self._accumulator.result())

    def _finish(self, message: Message) -> Message:
        result = self._result = self._current_result()
        with self.hold_trait_notifications():
            self._sync_traits(result)
            self.status = "done"
        self._render(result, status="done", sections=None)
        if self.tracker is not None:
            try:
                self.tracker.record(message, latency_s=result.duration_s, ttft_s=result.ttft_s)
            except Exception as error:  # the reply is safe and shown; a tracker bug must not lose it
                warnings.warn(f"StreamView: the usage tracker failed to record this call: {error!r}", stacklevel=3)
        return message

    def _fail(self, error: BaseException) -> StreamInterrupted | None:
        """Show the failure; returns the StreamInterrupted to raise, or None to re-raise ``error`` itself."""
        accumulator = self._accumulator
        started = accumulator.started
        if not isinstance(error, Exception):
            stopped = localized("stream.stopped", self.lang, error=type(error).__name__,
                                count=len(self._current_result().text))
            line = localized("stream.stopped_kept", self.lang, stopped=stopped)
        elif started:
            line = interruption_message(error, self._current_result(), lang=self.lang)
        else:
            line = describe_error(error, lang=self.lang)
        accumulator.fail(line)
        result = self._result = self._current_result()
        with self.hold_trait_notifications():
            self._sync_traits(result)
            self.status = "error"
            self.error = line
        self._render(result if started else None, status="error", sections=None, error=line)
        if isinstance(error, Exception) and started:
            return StreamInterrupted(line, result)
        return None

    def _sync_traits(self, result: StreamResult) -> None:
        self.text = result.text
        self.thinking = result.thinking
        self.stop_reason = result.stop_reason
        self.input_tokens = result.input_tokens
        self.output_tokens = result.output_tokens
        self.ttft_s = result.ttft_s
        self.output_tokens_per_s = result.output_tokens_per_s

    def _render(self, result: StreamResult | None, *, status: str, sections: set[str] | None,
                error: str = "") -> None:
        """Push the sections that changed (all when ``sections`` is None) and charge the throttle for them."""
        if self._closed:
            return  # closed while a stream runs (its chat was closed): the reply is still read, nothing is drawn
        content = result or StreamResult()
        began = time.perf_counter()  # the real cost, whatever clock the view was given
        final = status != "streaming"
        sent = 0
        if sections is None or "thinking" in sections:
            self._thinking_open = status == "streaming" and not content.text and not content.tool_uses
            sent += self._show_thinking(content.thinking, final=final)
        if sections is None or "text" in sections:
            sent += self._show_parts(self.text_parts, self._text_incremental, content.text, final=final)
        if sections is None or "tools" in sections:
            sent += self._set_html(self.tools_html, render_tool_uses(content.tool_uses, self.lang))
        if sections is None:
            sent += self._set_html(self.footer_html, render_footer(result, status=status, error=error,
                                                                     lang=self.lang))
        self._shown = content
        # even a flush that found nothing new waits one interval, or an idle stretch would re-check every event
        self._throttle.spent(max(sent, 1), cost_s=time.perf_counter() - began, sent_bytes=self._html_sent)
        self._html_sent = 0

    def _parts_column(self, **kwargs: Any) -> HTMLParts:
        return HTMLParts(part_layout=self._leaf_layout, part_style=self._leaf_style, group_layout=self._box_layout,
                         layout=self._box_layout, **kwargs)

    def close(self) -> None:
        """Close the view and every widget and model it made (``Box.close`` alone would leave them open).

        Example:
            >>> StreamView().close()
        """
        self._closed = True
        close_all(*self.children, self._leaf_layout, self._leaf_style, self._box_layout)
        super().close()
        close_all(self.layout)

    def _show_parts(self, parts: HTMLParts, incremental: IncrementalHTML, text: str, *, final: bool) -> int:
        update = incremental.update(text, final=final)
        self._html_sent += len(update.tail) + sum(len(part) for part in update.append)
        return parts.apply(update) + _show(parts, bool(text))

    def _show_thinking(self, thinking: str, *, final: bool) -> int:
        """Thinking in an Accordion, made on first use: unfolded while it streams, folded once the answer starts."""
        sent = 0
        view, parts = self.thinking_view, self.thinking_parts
        if view is None or parts is None:
            if not thinking:
                return 0
            parts = self.thinking_parts = self._parts_column()
            view = self.thinking_view = widgets.Accordion(children=(parts,), layout=self._box_layout,
                                                          _dom_classes=("oaw-thinking",))
            self.children = (*self.children[:-3], view, *self.children[-3:])
            sent += 4  # the column and its open part, the accordion, this box's children
        sent += self._show_parts(parts, self._thinking_incremental, thinking, final=final)
        title, selected = (thinking_title(thinking, self.lang),), (0 if self._thinking_open else None)
        if tuple(view.titles) != title:
            view.titles = title
            sent += 1
        if view.selected_index != selected:
            view.selected_index = selected
            sent += 1
        return sent + _show(view, bool(thinking))

    @staticmethod
    def _set_html(widget: widgets.HTML, value: str) -> int:
        """Assign only real changes (each assignment is a message to the browser); hide empty sections."""
        sent = 0
        if widget.value != value:
            widget.value = value
            sent += 1
        return sent + _show(widget, bool(value))

    @observe("markdown")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _markdown_changed(self, change: dict[str, Any]) -> None:
        self._text_incremental = IncrementalHTML(markdown=change["new"])
        self.text_parts.clear()
        if self.text:
            self._show_parts(self.text_parts, self._text_incremental, self.text, final=self.status != "streaming")
