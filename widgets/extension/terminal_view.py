"""TerminalView: a streamed reply printed as plain text while it arrives (IPython in a terminal, scripts, logs).

:class:`~.stream_view.StreamView`'s twin for places without a widget front-end: the same ``consume(stream)``
contract (returns the final ``Message``, records into a tracker, keeps the partial reply when a stream breaks),
but the reply goes to a text file (``sys.stdout`` by default) instead of a widget.

- **Text** is written as it arrives, without Markdown rendering (a terminal shows Markdown source well enough).
- **Thinking** is marked ``[thinking]`` and kept short: its first ``thinking_chars`` characters are shown on one
  line (the reader sees what the model is working on), then one dot per ``dots_every`` more characters (the
  reader sees that it is still working), and a count when the thinking ends. A thinking model's reasoning can run
  to thousands of tokens; printed in full it would push the answer, which is what was asked for, off the screen.
- **Tool calls** get one line each (name and arguments) once their arguments are complete.
- A last line gives ``stop_reason``, tokens, time to first token and tokens/s (the footer StreamView shows).

Output is flushed at most every ``flush_interval`` seconds (and at the end): a flush per token would be a system
call per token. Model output is untrusted, but plain text to a file is inert: nothing is interpreted; control
characters other than newline and tab are replaced, so a reply cannot move the cursor or recolour the terminal.

Example:
    >>> import io
    >>> from ollama_anthropic_widgets.extension.terminal_view import TerminalView
    >>> out = io.StringIO()
    >>> view = TerminalView(out)
    >>> message = view.consume(client.messages.stream(                       # doctest: +SKIP
    ...     model="llama3.2", max_tokens=200, messages=[{"role": "user", "content": "写一首诗"}]))
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, TextIO

from ..core.i18n import language, localized, localized_from
from ..core.render import footer_text, format_tool_input
from ..core.streaming import (
    DERIVED_EVENT_TYPES,
    Clock,
    StreamAccumulator,
    StreamInterrupted,
    StreamResult,
    interruption_message,
    message_from_result,
)

if TYPE_CHECKING:  # pragma: no cover
    from anthropic.types import Message

    from ..core.recorder import UsageRecorder

__all__ = ["TerminalView"]

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # keeps \t and \n; ESC never passes
_DIM, _RESET = "\x1b[2m", "\x1b[0m"


def printable(text: str) -> str:
    """``text`` with terminal control characters replaced by ``�`` (carriage returns dropped: ``\\r\\n`` is a newline).

    Example:
        >>> printable("ok\\x1b[2Jgone\\r\\nnext\\tcolumn\\rover")
        'ok�[2Jgone\\nnext\\tcolumnover'
    """
    return _CONTROL_CHARACTERS.sub("\N{REPLACEMENT CHARACTER}", text.replace("\r", ""))


# The terminal view's words, in the kit's format (core/i18n.py).
WORDS: dict[str, dict[str, str]] = {
    "terminal.thinking": {"en": "[thinking] ", "zh": "[思考] "},
    "terminal.thinking_length": {"en": " [{count:,} characters of thinking]", "zh": " [思考共 {count:,} 个字符]"},
    "terminal.tool_call": {"en": "[tool call] {name} {input}", "zh": "[工具调用] {name} {input}"},
}


def _say(key: str, lang: str | None = None, /, **values: Any) -> str:
    return localized_from(WORDS, key, lang, **values)


class TerminalView:
    """Prints a streamed reply to ``out`` as it arrives; see the module docstring for what is shown and how.

    ``consume(stream)`` takes what ``client.messages.stream(...)`` returns (entered or not) and returns the final
    ``Message``; with ``tracker=UsageTracker()`` the reply is recorded there. Failures follow StreamView: before
    anything arrived the SDK's own error is re-raised (nothing printed but the error is yours to show); after, the
    partial reply stays printed, one line says what happened, and :class:`~.streaming.StreamInterrupted` is raised
    with the partial result. ``out=None`` means the ``sys.stdout`` of the moment ``consume`` runs (IPython and
    Jupyter replace it). ``dim=None`` dims thinking and the footer when ``out`` is a terminal. ``lang`` (``"en"`` or
    ``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting) is the language of the marks and the footer.

    Example:
        >>> import io
        >>> view = TerminalView(io.StringIO(), thinking_chars=80)
        >>> view.result.text
        ''
    """

    def __init__(self, out: TextIO | None = None, *, tracker: UsageRecorder | None = None, thinking_chars: int = 200,
                 dots_every: int = 200, flush_interval: float = 0.1, dim: bool | None = None,
                 clock: Clock = time.perf_counter, lang: str | None = None):
        self.out = out
        self.lang = language(lang)
        self.tracker = tracker
        self.thinking_chars = thinking_chars
        self.dots_every = max(1, dots_every)
        self.flush_interval = flush_interval
        self.dim = dim
        self.clock = clock
        self._accumulator = StreamAccumulator(clock=clock)
        self._snapshot_stream: Any = None  # the entered MessageStream once it keeps the reply (see _Printer.follow)
        self._result: StreamResult | None = None

    @property
    def result(self) -> StreamResult:
        """The reply as a :class:`~.streaming.StreamResult` (so far, while streaming)."""
        if self._result is not None:
            return self._result
        if self._snapshot_stream is not None:
            return self._accumulator.result(self._snapshot_stream.current_message_snapshot)
        return self._accumulator.result()

    def consume(self, stream: Any) -> Message:
        """Print ``stream`` as it arrives and return the final ``Message``; see the class docstring for failures.

        Example:
            >>> message = TerminalView().consume(client.messages.stream(model=model, max_tokens=100,  # doctest: +SKIP
            ...                                                    messages=[{"role": "user", "content": "你好"}]))
        """
        if hasattr(stream, "__aenter__") and not hasattr(stream, "__enter__") or hasattr(stream, "__aiter__"):
            raise TypeError("TerminalView takes streams of the synchronous Anthropic client, not AsyncAnthropic")
        if not (hasattr(stream, "__enter__") or hasattr(stream, "get_final_message")):
            raise TypeError(f"TerminalView.consume() takes what client.messages.stream(...) returns, not "
                            f"{type(stream).__name__}")
        out = self.out if self.out is not None else sys.stdout
        dim = self.dim if self.dim is not None else _is_terminal(out)
        printer = _Printer(out, self, dim)
        self._accumulator = StreamAccumulator(clock=self.clock)
        self._snapshot_stream = None
        self._result = None
        try:
            with ExitStack() as stack:
                entered = stack.enter_context(stream) if not hasattr(stream, "__iter__") else stream
                printer.follow(entered, self._accumulator)
                if not self._accumulator.started:
                    raise RuntimeError(localized("stream.no_events", self.lang))
                try:
                    message: Message = entered.get_final_message()
                except AssertionError:  # no message_start (llama.cpp, some replies): rebuild the complete reply
                    if not self._accumulator.stopped:
                        raise
                    message = message_from_result(self._accumulator.result())
        except BaseException as error:
            printer.close_block()
            started = self._accumulator.started
            if not isinstance(error, Exception):  # KeyboardInterrupt: the reader stopped it
                line = localized("stream.stopped", self.lang, error=type(error).__name__,
                                 count=len(self.result.text))
            elif started:
                line = interruption_message(error, self.result, lang=self.lang)
            else:
                line = f"{type(error).__name__}: {error}"  # nothing printed: the caller says it in its own words
            self._accumulator.fail(line)
            self._result = self.result
            if started:
                printer.footer(line)
            printer.flush()
            if started and isinstance(error, Exception):
                raise StreamInterrupted(line, self._result) from error
            raise
        self._accumulator.finished_at = self._accumulator.finished_at or self.clock()
        self._result = self.result
        printer.close_block()
        printer.footer(footer_text(self._result, self.lang))
        if self.tracker is not None:
            try:
                self.tracker.record(message, latency_s=self._result.duration_s, ttft_s=self._result.ttft_s)
            except Exception as error:  # the reply is printed and returned; a tracker bug must not lose it
                warnings.warn(f"TerminalView: the usage tracker failed to record this call: {error!r}", stacklevel=2)
        return message


def _is_terminal(out: Any) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


class _Printer:
    """Writes one reply's blocks as their events arrive; knows which block is open and what was written."""

    def __init__(self, out: TextIO, view: TerminalView, dim: bool):
        self.out, self.view, self.dim = out, view, dim
        self.open_block: str | None = None
        self.thinking_seen = 0  # characters of the open thinking block
        self.last_written = "\n"  # what the line so far ends with: a block or the footer starts on a new line
        self.dimmed = False  # a dim escape sequence is open (reset before the next plain text)
        self.next_flush = float("-inf")

    def follow(self, entered: Any, accumulator: StreamAccumulator) -> None:
        """Write each event as it arrives. Like StreamView, once ``message_start`` shows that the SDK's
        MessageStream keeps the reply (``current_message_snapshot``), deltas are not fed to the accumulator too:
        the per-token loop then does no more than write and time."""
        view, clock, interval = self.view, self.view.clock, self.view.flush_interval
        feed, write, thinking = accumulator.feed, self.write, self.thinking
        snapshot_kept = False
        for event in entered:
            kind = event.type
            if kind == "content_block_delta":  # nearly every event is one
                if snapshot_kept:
                    if accumulator.first_token_at is None:
                        accumulator.first_token_at = clock()
                else:
                    feed(event)
                delta = event.delta
                if delta.type == "text_delta":
                    write(delta.text)
                elif delta.type == "thinking_delta":
                    thinking(delta.thinking)
            elif kind in DERIVED_EVENT_TYPES:  # MessageStream's own copies of the deltas just written
                continue
            else:
                feed(event)
                if kind == "content_block_start":
                    self.start_block(event.content_block)
                elif kind == "content_block_stop":
                    self.stop_block()
                elif kind == "message_start" and getattr(type(entered), "current_message_snapshot", None):
                    snapshot_kept, view._snapshot_stream = True, entered
            if clock() >= self.next_flush:
                self.flush()
                self.next_flush = clock() + interval

    def start_block(self, block: Any) -> None:
        self.close_block()
        self.open_block = block.type
        if block.type == "thinking":
            self.thinking_seen = 0
            self.write_marked(_say("terminal.thinking", self.view.lang))
            self.thinking(getattr(block, "thinking", "") or "")
        elif block.type == "text":
            self.write(getattr(block, "text", "") or "")

    def stop_block(self) -> None:
        tools = self.view.result.tool_uses if self.open_block in ("tool_use", "server_tool_use") else None
        if tools:
            tool = tools[-1]  # blocks arrive one after another: the one ending is the last begun
            self.newline()
            self.write_marked(_say("terminal.tool_call", self.view.lang, name=tool["name"],
                                        input=format_tool_input(tool["input"])))
            self.write("\n")
        self.close_block()

    def thinking(self, piece: str) -> None:
        if not piece:
            return
        limit, before = self.view.thinking_chars, self.thinking_seen
        self.thinking_seen += len(piece)
        if before < limit:
            self.write_marked(" ".join(piece[: limit - before].split("\n")))
        if before <= limit < self.thinking_seen:
            self.write_marked("…")
        every = self.view.dots_every
        dots = max(0, self.thinking_seen - limit) // every - max(0, before - limit) // every
        if dots:
            self.write_marked("." * dots)

    def close_block(self) -> None:
        """End the open block's line; a thinking block says how long it was."""
        if self.open_block == "thinking":
            self.write_marked(_say("terminal.thinking_length", self.view.lang, count=self.thinking_seen))
            self.write("\n")
        elif self.open_block == "text":
            self.newline()
        self.open_block = None

    def footer(self, line: str) -> None:
        self.newline()
        self.write_marked(f"[{line}]")
        self.write("\n")
        self.flush()

    def newline(self) -> None:
        if not self.last_written.endswith("\n"):
            self.write("\n")

    def write(self, text: str) -> None:
        if text:
            if self.dimmed:
                self.out.write(_RESET)
                self.dimmed = False
            self.out.write(printable(text))
            self.last_written = text

    def write_marked(self, text: str) -> None:
        """Thinking, tool calls and the footer: dimmed on a terminal, so the answer stands out."""
        if text:
            if self.dim and not self.dimmed:
                self.out.write(_DIM)
                self.dimmed = True
            self.out.write(printable(text))
            self.last_written = text

    def flush(self) -> None:
        try:
            self.out.flush()
        except (AttributeError, ValueError):
            pass  # a closed or flush-less file: the text is written, only the timing of its display is lost
