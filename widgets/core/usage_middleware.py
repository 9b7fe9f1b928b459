"""Client instrumentation: an SDK middleware that records every Messages call of a client into a usage tracker.

``UsageTracker.watch(client)`` returns ``client.with_middleware(UsageMiddleware(tracker))``: a copy of the client
(same connection pool, same settings) carrying this middleware — the SDK's public hook (``anthropic.Middleware``,
2.x), which sees every HTTP attempt of every call and its ``APIResponse``.

- A plain ``messages.create`` is recorded from ``response.parse()``, the parsed ``Message``; the SDK caches the
  parse, so the caller gets that same object and nothing is parsed twice.
- A stream (``messages.stream`` or ``create(stream=True)``) is recorded when its body has been read. The
  middleware puts a pass-through around the body of the SDK's own ``httpx2.Response`` (its ``stream``, the
  attribute the SDK's tracing wraps the same way), and a :class:`~.streaming.StreamAccumulator` — the kit's one
  stream parser — reads the events as the bytes go by to the SDK: first delta (TTFT), usage, ``message_stop``.
  The request asks for an uncompressed body (``Accept-Encoding: identity``), so those bytes are the events. A
  body the transport already read whole (a buffering or test transport) is read at once.

The ``APIResponse`` is handed back as the SDK made it, never rebuilt, and what the caller gets is the SDK's own
object, so ``StreamView`` and every other consumer work unchanged. Why not the alternatives: an ``httpx2`` event
hook sees a streamed response before its body is read and would have to replace the user's ``http_client``; a
wrapper around ``messages`` would have to re-implement ``MessageStream``'s several reading paths. Only successful
attempts are recorded: a call that fails with an HTTP error adds no row (the SDK raises as usual), a retried call
adds one row. Calls made through ``with_streaming_response`` are not recorded (their body belongs to the caller).

Example:
    >>> from anthropic import Anthropic
    >>> from ollama_anthropic_widgets import UsageTracker
    >>> tracker = UsageTracker()
    >>> client = Anthropic(base_url="http://localhost:11434", api_key="ollama")
    >>> watched = client.with_middleware(UsageMiddleware(tracker, label="lesson 08"))
"""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx2
from anthropic import APIRequest, APIResponse, AsyncAPIResponse, AsyncCallNext, CallNext, Middleware

from .errors import one_line
from .streaming import StreamAccumulator, StreamResult

if TYPE_CHECKING:  # pragma: no cover
    from anthropic.types import Message

    from .recorder import UsageRecorder

# The SDK marks `.with_streaming_response` calls with this request header: their body is the caller's to read.
_RAW_RESPONSE_HEADER = "X-Stainless-Raw-Response"


def is_messages_call(request: Any) -> bool:
    """True for ``POST .../v1/messages`` (not ``count_tokens``, not batches).

    Example:
        >>> from types import SimpleNamespace
        >>> is_messages_call(SimpleNamespace(method="post", url="/v1/messages"))
        True
    """
    path = str(request.url).split("?", 1)[0].rstrip("/")
    return str(request.method).lower() == "post" and path.endswith("/v1/messages")


class StreamMeter:
    """What a recorded stream needs beyond parsing: the request's start, and one record when the body ends.

    Example:
        >>> rows = []
        >>> meter = StreamMeter(started_at=0.0, model="m", record=rows.append)
        >>> meter.feed(b'data: {"type": "message_stop"}\\n\\n'); meter.end()
        >>> rows[0].model, rows[0].error
        ('m', None)
    """

    def __init__(self, *, started_at: float, model: str | None, record: Callable[[StreamResult], Any]):
        self.accumulator = StreamAccumulator(started_at=started_at)
        self.model, self.record = model, record
        self._ended = False

    def feed(self, chunk: bytes) -> None:
        self.accumulator.feed_sse(chunk)

    def end(self, failure: BaseException | None = None, *, closed: bool = False) -> None:
        """The body ended: read to the end, closed early (``closed``), or broken (``failure``). Records once."""
        if self._ended:
            return
        self._ended = True
        accumulator = self.accumulator
        accumulator.feed_sse(b"", final=True)
        if failure is not None:
            accumulator.fail(one_line(f"stream broke off: {type(failure).__name__}: {failure}"))
        elif not accumulator.stopped and accumulator.error is None:
            accumulator.fail(f"stream {'closed' if closed else 'ended'} before message_stop")
        result = accumulator.result()
        result.model = result.model or self.model
        self.record(result)


class MeteredBody(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body passed on byte for byte, shown to a :class:`StreamMeter` on the way."""

    def __init__(self, body: Any, meter: StreamMeter):
        self.body, self.meter = body, meter
        # The SDK's tracing looks for an observer on the body it reads: keep it reachable from this one.
        observer = getattr(body, "stream_observer", None)
        if observer is not None:
            self.stream_observer = observer

    @property
    def elapsed(self) -> Any:
        """The wrapped body's ``elapsed`` (``httpx2.Response.elapsed`` reads it from its body)."""
        return getattr(self.body, "elapsed", None)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except GeneratorExit:  # the reader stopped early and closed the body
            self.meter.end(closed=True)
            raise
        except BaseException as failure:
            self.meter.end(failure)
            raise
        self.meter.end()

    def __iter__(self) -> Iterator[bytes]:
        with self._reading():
            for chunk in self.body:
                self.meter.feed(chunk)
                yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with self._reading():
            async for chunk in self.body:
                self.meter.feed(chunk)
                yield chunk

    def close(self) -> None:
        self.meter.end(closed=True)
        self.body.close()

    async def aclose(self) -> None:
        self.meter.end(closed=True)
        await self.body.aclose()


class UsageMiddleware(Middleware):
    """Records every successful ``POST /v1/messages`` of the client it is attached to into ``tracker``.

    A tracker that fails to record (a chart that cannot be drawn, say) gives a warning: the call itself, and the
    reply the caller is reading, go on untouched.

    Example:
        >>> from ollama_anthropic_widgets import UsageTracker
        >>> middleware = UsageMiddleware(UsageTracker(), label="demo")
    """

    def __init__(self, tracker: UsageRecorder, label: str = ""):
        self.tracker, self.label = tracker, label

    def _applies(self, request: APIRequest) -> bool:
        return is_messages_call(request) and dict(request.headers).get(_RAW_RESPONSE_HEADER) != "stream"

    @staticmethod
    def _prepared(request: APIRequest) -> APIRequest:
        """A stream is asked for uncompressed: the bytes the meter reads are then the events themselves."""
        if not request.stream:
            return request
        return request.copy(headers={**dict(request.headers), "Accept-Encoding": "identity"})

    def _follow(self, request: APIRequest, response: APIResponse[Any] | AsyncAPIResponse[Any],
                started_at: float) -> bool:
        """Meter a successful stream; True when the response is a successful plain reply, to be parsed."""
        if not response.http_response.is_success:
            return False  # the SDK raises its error for the caller
        if not request.stream:
            return True
        raw = response.http_response
        body = request.json if isinstance(request.json, dict) else {}
        meter = StreamMeter(started_at=started_at, model=body.get("model"), record=self._record)
        encoding = raw.headers.get("content-encoding", "identity").lower()
        if raw.is_closed:  # the transport handed over the whole body at once (a buffering or test transport)
            meter.feed(raw.content)
            meter.end()
            return False
        if encoding not in ("", "identity"):  # the server ignored Accept-Encoding: its bytes are not the events
            meter.accumulator.fail(f"compressed stream ({encoding}): usage not read")
        raw.stream = MeteredBody(raw.stream, meter)
        return False

    def _record(self, result: StreamResult | Message, latency_s: float | None = None) -> None:
        try:
            self.tracker.record(result, latency_s=latency_s, label=self.label)
        except Exception as error:
            warnings.warn(f"UsageTracker.watch: this call could not be recorded ({error!r}); the reply is unaffected",
                          stacklevel=2)

    def handle(self, request: APIRequest, call_next: CallNext) -> APIResponse[Any]:
        if not self._applies(request):
            return call_next(request)
        request, started_at = self._prepared(request), time.perf_counter()
        response = call_next(request)
        if self._follow(request, response, started_at):
            try:
                message = response.parse()  # cached: the SDK's own parse returns this same object
            except Exception:
                return response  # the SDK raises the same error to the caller
            self._record(message, latency_s=time.perf_counter() - started_at)
        return response

    async def handle_async(self, request: APIRequest, call_next: AsyncCallNext) -> AsyncAPIResponse[Any]:
        if not self._applies(request):
            return await call_next(request)
        request, started_at = self._prepared(request), time.perf_counter()
        response = await call_next(request)
        if self._follow(request, response, started_at):
            try:
                message = await response.parse()
            except Exception:
                return response
            self._record(message, latency_s=time.perf_counter() - started_at)
        return response
