"""Pure stream logic: accumulate Messages-API stream events into a :class:`StreamResult`, time them, throttle.

Nothing here touches ipywidgets, so tests (and your own scripts) can use it without a browser::

    with client.messages.stream(model=model, max_tokens=200, messages=messages) as stream:
        accumulator = StreamAccumulator()
        for event in stream:
            accumulator.feed(event)
    result = accumulator.result()
    print(result.text, result.ttft_s, result.output_tokens_per_s)

:class:`~.stream_view.StreamView` is this plus rendering. With the SDK's own ``MessageStream`` it lets the
SDK accumulate (``accumulator.result(stream.current_message_snapshot)``: content from the snapshot, timing from
here) and feeds every event only to streams without that snapshot, e.g. when a server skipped ``message_start``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ExplainedError, describe_error, one_line
from .i18n import language, localized
from .messages import cached_prompt_tokens, prompt_tokens
from .messages import field_of as _get

if TYPE_CHECKING:  # pragma: no cover
    from anthropic.types import Message

__all__ = ["DERIVED_EVENT_TYPES", "StreamAccumulator", "StreamInterrupted", "StreamResult", "Throttle",
           "describe_error", "interruption_message", "message_from_result", "tokens_per_second"]

Clock = Callable[[], float]

# MessageStream yields these next to the raw events they are derived from; counting them too would double the text.
DERIVED_EVENT_TYPES = frozenset({"text", "thinking", "input_json", "citation", "signature"})


def tokens_per_second(output_tokens: int | None, duration_s: float | None, ttft_s: float | None = None) -> float | None:
    """Output speed: ``output_tokens`` over the generation time, the kit's one definition of tok/s.

    With ``ttft_s`` (a stream) the generation time runs from the first token to the end (``duration_s - ttft_s``),
    so the prompt processing before the first token does not count; without it (a plain ``create``), it is the
    whole ``duration_s``. ``None`` when there is nothing to divide.

    Example:
        >>> tokens_per_second(30, 2.0, ttft_s=0.5), tokens_per_second(30, 2.0), tokens_per_second(0, 2.0)
        (20.0, 15.0, None)
    """
    if not output_tokens or duration_s is None:
        return None
    generation = duration_s - ttft_s if ttft_s is not None else duration_s
    return output_tokens / generation if generation > 0 else None


class _Fields:
    """Attribute access to a decoded-JSON event, so plain dicts take the same (fast) path as SDK models."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def __getattr__(self, name: str) -> Any:
        value = self.data.get(name)
        return _Fields(value) if isinstance(value, dict) else value


def _plain(value: Any) -> Any:
    return value.data if isinstance(value, _Fields) else value


@dataclass
class StreamResult:
    """Everything one streamed reply produced, including timing; also what is kept when a stream fails.

    ``tool_uses`` is a list of ``{"id", "name", "input"}`` dicts (``input`` is the parsed JSON object, or the raw
    string when the model sent invalid JSON). ``ttft_s`` is the time to the first content delta,
    ``output_tokens_per_s`` is ``output_tokens`` over the time from that first delta to the end.

    Example:
        >>> result = StreamResult(text="你好", stop_reason="end_turn", output_tokens=2)
        >>> result.complete
        True
    """

    text: str = ""
    thinking: str = ""
    tool_uses: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    input_tokens: int | None = None  # the whole prompt, cached part included: messages.prompt_tokens
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    ttft_s: float | None = None
    duration_s: float | None = None
    output_tokens_per_s: float | None = None
    error: str | None = None
    model: str | None = None
    message_id: str | None = None

    @property
    def complete(self) -> bool:
        """True when the server finished the reply (a ``stop_reason`` arrived) and nothing failed."""
        return self.error is None and self.stop_reason is not None

    @classmethod
    def from_message(cls, message: Any, *, duration_s: float | None = None) -> StreamResult:
        """The same summary for a non-streamed ``Message`` (from ``messages.create``), or its dict form.

        Example:
            >>> StreamResult.from_message({"content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
            ...                            "usage": {"input_tokens": 3, "output_tokens": 1}}).text
            'hi'
        """
        text, thinking, tool_uses = [], [], []
        for block in _get(message, "content", None) or []:
            kind = _get(block, "type")
            if kind == "text":
                text.append(_get(block, "text", ""))
            elif kind == "thinking":
                thinking.append(_get(block, "thinking", ""))
            elif kind == "tool_use":
                tool_uses.append({"id": _get(block, "id"), "name": _get(block, "name"),
                                  "input": _get(block, "input", {})})
        usage = _get(message, "usage", None)
        return cls(text="".join(text), thinking="".join(thinking), tool_uses=tool_uses,
                   stop_reason=_get(message, "stop_reason"),
                   input_tokens=prompt_tokens(usage) if usage is not None else None,
                   cached_input_tokens=cached_prompt_tokens(usage) if usage is not None else None,
                   output_tokens=_get(usage, "output_tokens") if usage is not None else None,
                   duration_s=duration_s, model=_get(message, "model"), message_id=_get(message, "id"))


class StreamInterrupted(ExplainedError):
    """A stream failed after it had started; nothing received so far is lost.

    ``partial_text`` is the text received before the failure, ``result`` the whole :class:`StreamResult` so far
    (thinking, tool calls, tokens), and ``__cause__`` the original error (e.g. ``httpx2.RemoteProtocolError``
    when the connection dropped). ``str(error)`` is one line saying what happened and what to do.

    Example:
        >>> error = StreamInterrupted("connection dropped", StreamResult(text="Once upon"))
        >>> error.partial_text
        'Once upon'
    """

    def __init__(self, message: str, result: StreamResult):
        super().__init__(message)
        self.result = result

    @property
    def partial_text(self) -> str:
        return self.result.text


class StreamAccumulator:
    """Feed it stream events one by one; it keeps text, thinking, tool calls, usage and timing.

    Accepts the events ``MessageStream`` yields (raw ``message_start`` ... ``message_stop`` plus the derived
    ``text``/``thinking``/``input_json`` events, which it skips so nothing is counted twice) or the same events as
    plain dicts. Timing starts when the accumulator is created (or at ``started_at``); pass ``clock`` to test
    timing without waiting.

    Example:
        >>> ticks = iter([0.0, 0.25, 1.25])
        >>> accumulator = StreamAccumulator(clock=lambda: next(ticks))
        >>> for event in [
        ...     {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 5}}},
        ...     {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ...     {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        ...     {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 10}},
        ...     {"type": "message_stop"}]:
        ...     _ = accumulator.feed(event)
        >>> result = accumulator.result()
        >>> result.text, result.ttft_s, result.output_tokens_per_s
        ('Hi', 0.25, 10.0)
    """

    def __init__(self, *, clock: Clock = time.perf_counter, started_at: float | None = None):
        self._clock = clock
        self.started_at = clock() if started_at is None else started_at
        self.first_token_at: float | None = None
        self.finished_at: float | None = None
        self.events = 0
        self.stop_reason: str | None = None
        self.input_tokens: int | None = None
        self.cached_input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.model: str | None = None
        self.message_id: str | None = None
        self.stopped = False  # message_stop arrived: the reply is complete
        self.error: str | None = None
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._block_types: dict[int, str] = {}
        self._tools: dict[int, dict[str, Any]] = {}
        self._tool_json: dict[int, list[str]] = {}
        self._unparsed = b""  # server-sent-event bytes not yet making a whole event (see feed_sse)

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def thinking(self) -> str:
        return "".join(self._thinking)

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        """Tool calls so far; a call whose JSON is still arriving shows the partial JSON string as ``input``."""
        calls = []
        for index, tool in self._tools.items():
            pending = self._tool_json.get(index)
            calls.append({**tool, "input": "".join(pending)} if pending is not None else dict(tool))
        return calls

    @property
    def started(self) -> bool:
        """True once any event arrived: from then on a failure is an interruption, not a refused request."""
        return self.events > 0

    def feed(self, event: Any) -> str | None:
        """Take one event; returns what it changed ("text", "thinking", "tools", "meta") or None."""
        if isinstance(event, dict):
            event = _Fields(event)
        kind = event.type
        if kind == "content_block_delta":  # first: nearly every event is one
            self.events += 1
            if self.first_token_at is None:
                self.first_token_at = self._clock()
            delta = event.delta
            if delta.type == "text_delta":
                self._text.append(delta.text)
                return "text"
            return self._other_delta(event.index or 0, delta)
        if kind in DERIVED_EVENT_TYPES:
            return None
        self.events += 1
        if kind == "content_block_start":
            return self._block_start(event.index or 0, event.content_block)
        if kind == "content_block_stop":
            return self._block_stop(event.index or 0)
        if kind == "message_start":
            message = event.message
            if message is not None:
                self.message_id, self.model = message.id, message.model
                self._take_usage(message.usage)
            return "meta"
        if kind == "message_delta":
            self.stop_reason = getattr(event.delta, "stop_reason", None) or self.stop_reason
            self._take_usage(event.usage)
            return "meta"
        if kind == "message_stop":
            self.finished_at = self._clock()
            self.stopped = True
            return "meta"
        if kind == "error":  # the server gave up mid-reply (Anthropic's API sends this; Ollama never does)
            self.fail(one_line(getattr(event.error, "message", None) or "the server sent an error event"))
            return "meta"
        return None  # ping and future event types carry nothing to show

    def feed_sse(self, chunk: bytes, *, final: bool = False) -> None:
        r"""Take the raw body of a streamed response as it arrives, split anywhere, and feed each whole event.

        The body is server-sent events (``event: ...`` / ``data: {json}`` lines, a blank line after each event;
        LF or CRLF line ends); only the JSON ``data`` matters, since it names its own ``type``. ``final=True``
        says the body ended: a last event without its blank line is taken too. A ``data`` line that is not JSON
        is skipped, as the SDK skips it.

        Example:
            >>> accumulator = StreamAccumulator()
            >>> body = b'event: message_start\r\ndata: {"type": "message_start", "message": {"id": "msg_1", '
            >>> body += b'"model": "m", "usage": {"input_tokens": 7}}}\r\n\r\n'
            >>> accumulator.feed_sse(body[:30]); accumulator.feed_sse(body[30:])
            >>> accumulator.input_tokens
            7
        """
        self._unparsed = (self._unparsed + chunk).replace(b"\r\n", b"\n")
        while b"\n\n" in self._unparsed:
            event, self._unparsed = self._unparsed.split(b"\n\n", 1)
            self._feed_sse_event(event)
        if final and self._unparsed.strip():
            event, self._unparsed = self._unparsed, b""
            self._feed_sse_event(event)

    def _feed_sse_event(self, raw: bytes) -> None:
        data = b"\n".join(line[5:].removeprefix(b" ") for line in raw.split(b"\n") if line.startswith(b"data:"))
        try:
            payload = json.loads(data) if data else None
        except ValueError:
            return
        if isinstance(payload, dict) and payload.get("type"):
            self.feed(payload)

    def _other_delta(self, index: int, delta: Any) -> str | None:
        kind = delta.type
        if kind == "thinking_delta":
            self._thinking.append(delta.thinking)
            return "thinking"
        if kind == "input_json_delta" and index in self._tools:
            self._tool_json.setdefault(index, []).append(delta.partial_json or "")
            return "tools"
        return None

    def _block_start(self, index: int, block: Any) -> str | None:
        kind = block.type
        self._block_types[index] = kind
        if kind in ("tool_use", "server_tool_use"):
            initial = _plain(getattr(block, "input", None))
            self._tools[index] = {"id": block.id, "name": block.name, "input": initial if initial is not None else {}}
            return "tools"
        if kind == "text" and getattr(block, "text", None):
            self._text.append(block.text)
            return "text"
        if kind == "thinking" and getattr(block, "thinking", None):
            self._thinking.append(block.thinking)
            return "thinking"
        return None

    def _block_stop(self, index: int) -> str | None:
        pending = self._tool_json.pop(index, None)
        if pending is None:
            return None
        raw = "".join(pending)
        if raw.strip():
            try:
                self._tools[index]["input"] = json.loads(raw)  # data only: never evaluated
            except ValueError:
                self._tools[index]["input"] = raw
        return "tools"

    def _take_usage(self, usage: Any) -> None:
        if usage is None:
            return
        input_tokens = prompt_tokens(usage)
        output_tokens = getattr(usage, "output_tokens", None)
        if input_tokens is not None:
            self.input_tokens, self.cached_input_tokens = input_tokens, cached_prompt_tokens(usage)
        if output_tokens is not None:
            self.output_tokens = output_tokens

    def fail(self, message: str) -> None:
        """Record that the stream stopped with an error (one line); timing ends now."""
        self.error = message
        if self.finished_at is None:
            self.finished_at = self._clock()

    def result(self, snapshot: Any = None) -> StreamResult:
        """A snapshot: complete after ``message_stop``, partial before (duration then runs to now).

        With ``snapshot`` (a ``Message`` so far, e.g. the SDK's ``stream.current_message_snapshot``), content and
        usage come from it and only timing and errors from here: a view can let the SDK do the accumulating.

        Example:
            >>> accumulator = StreamAccumulator()
            >>> accumulator.result({"content": [{"type": "text", "text": "so far"}], "usage": None}).text
            'so far'
        """
        if snapshot is None:
            result = StreamResult(text=self.text, thinking=self.thinking, tool_uses=self.tool_uses,
                                  stop_reason=self.stop_reason, input_tokens=self.input_tokens,
                                  cached_input_tokens=self.cached_input_tokens, output_tokens=self.output_tokens,
                                  model=self.model, message_id=self.message_id)
        else:
            result = StreamResult.from_message(snapshot)
        end = self.finished_at if self.finished_at is not None else self._clock()
        result.error = self.error
        result.duration_s = end - self.started_at
        if self.first_token_at is not None:
            result.ttft_s = self.first_token_at - self.started_at
            result.output_tokens_per_s = tokens_per_second(result.output_tokens, result.duration_s, result.ttft_s)
        return result


class Throttle:
    """Decides when a view may push updates to the browser: at most one per ``interval`` seconds on average, no
    more than ``busy_fraction`` of the time spent rendering, and no more than ``bytes_per_s`` sent.

    Call :meth:`ready` before rendering and :meth:`spent` afterwards with how many updates were pushed, how long
    rendering took and how many bytes of HTML went out: *k* updates buy a pause of *k* × ``interval``, a render
    that took *c* seconds a pause of at least *c* / ``busy_fraction`` (a long reply is re-rendered less often
    instead of eating the CPU), *b* bytes a pause of at least *b* / ``bytes_per_s`` (a part that cannot be cut,
    such as a reply written as one long line, is re-sent less often: what is sent then grows with the time, not
    with the square of the length). The caller always pushes the final state, ready or not, so the end of a
    stream is never lost to throttling. Every widget trait change is one message to the browser, and the notebook
    server drops output above ~1000 messages/s, so a stream at 1000 tokens/s must not mean 1000 updates.

    Example:
        >>> now = [0.0]
        >>> throttle = Throttle(0.05, clock=lambda: now[0])
        >>> throttle.ready()
        True
        >>> throttle.spent(1); throttle.ready()
        False
        >>> now[0] = 0.05; throttle.ready()
        True
        >>> throttle.spent(1, cost_s=0.01); now[0] = 0.2; throttle.ready()   # 10 ms of rendering: pause 0.2 s
        False
        >>> now[0] = 0.25; throttle.spent(1, sent_bytes=20_000); now[0] = 0.75; throttle.ready()  # 20 KB: 1 s
        False
    """

    def __init__(self, interval: float = 0.07, *, busy_fraction: float = 0.05, bytes_per_s: float = 20_000,
                 clock: Clock = time.perf_counter):
        self.interval = interval
        self.busy_fraction = busy_fraction
        self.bytes_per_s = bytes_per_s
        self._clock = clock
        self.next_at = float("-inf")  # ready() is ``clock() >= next_at``; a per-token loop may compare directly

    def ready(self) -> bool:
        return self._clock() >= self.next_at

    def spent(self, updates: int = 1, cost_s: float = 0.0, sent_bytes: int = 0) -> None:
        pause = updates * self.interval
        if cost_s > 0 and self.busy_fraction > 0:
            pause = max(pause, cost_s / self.busy_fraction)
        if sent_bytes > 0 and self.bytes_per_s > 0:
            pause = max(pause, sent_bytes / self.bytes_per_s)
        if pause > 0:
            self.next_at = self._clock() + pause


def interruption_message(error: BaseException, result: StreamResult, *, lang: str | None = None) -> str:
    """One line for a stream that failed midway: what happened, how much was kept, what to do.

    Example:
        >>> line = interruption_message(ConnectionResetError("reset"), StreamResult(text="abc"), lang="en")
        >>> line.startswith("stream interrupted after 3 characters (ConnectionResetError: reset)")
        True
    """
    lang = language(lang)
    kept = localized("stream.characters", lang, count=len(result.text))
    if result.tool_uses or result.thinking:
        kept = localized("stream.and_more", lang, kept=kept)
    import anthropic

    if isinstance(error, anthropic.APIStatusError):  # an SSE ``error`` event: the server gave up mid-reply
        cause = describe_error(error, lang=lang)
    else:
        cause = f"{type(error).__name__}: {error}"
    return one_line(localized("stream.interrupted", lang, kept=kept, cause=cause))


def message_from_result(result: StreamResult) -> Message:
    """Rebuild an ``anthropic.types.Message`` from a complete stream's :class:`StreamResult`.

    For servers that skip ``message_start`` (llama.cpp's server does when a reply begins with a character split
    across tokens, e.g. an emoji): the SDK then cannot build the final message although ``message_stop``
    arrived. ``id`` and ``usage.input_tokens`` are unknown there and stay ``None``.

    Example:
        >>> message = message_from_result(StreamResult(text="👍", stop_reason="end_turn", output_tokens=1))
        >>> message.content[0].text, message.stop_reason, message.id
        ('👍', 'end_turn', None)
    """
    from anthropic.types import Message, TextBlock, ThinkingBlock, ToolUseBlock, Usage

    content: list[Any] = []
    if result.thinking:
        content.append(ThinkingBlock.model_construct(type="thinking", thinking=result.thinking, signature=""))
    if result.text:
        content.append(TextBlock.model_construct(type="text", text=result.text, citations=None))
    content += [ToolUseBlock.model_construct(type="tool_use", id=tool["id"], name=tool["name"], input=tool["input"])
                for tool in result.tool_uses]
    return Message.model_construct(id=result.message_id, type="message", role="assistant", model=result.model,
                                   content=content, stop_reason=result.stop_reason, stop_sequence=None,
                                   usage=Usage.model_construct(input_tokens=result.input_tokens,
                                                               output_tokens=result.output_tokens))
