"""One turn of a chat against a client, with no widgets: request, stream, stop, then keep or roll back.

:class:`TurnRunner` runs the turns of a :class:`~.conversation.Conversation`: ``start`` adds the user's turn,
``run`` (blocking) or ``await arun`` (on the event loop, where :meth:`~TurnRunner.stop` can end it) asks the model
and ends the turn one of three ways, each reported once to ``on_end`` as a :class:`TurnEnd`:

* **kept**: the reply is added to the history (a reply without text raises :class:`~.conversation.EmptyReply` and
  is rolled back instead);
* **stopped** (``stop()``, or an interrupt of ``run``): the text that arrived is kept as a stopped turn; stopped
  before any text, the turn is rolled back;
* **rolled back** (the request failed, the stream broke, the call was cancelled): the history is as it was, and
  the typed text is handed back; the error is re-raised.

A failure after the turn is in the history never undoes it: a usage tracker that fails to record the call gives a
warning. ``ui.chat.ChatWidget`` is a view over one runner: it draws what ``on_end`` reports.

The client is used as given. Where the other flavour is needed (``Anthropic`` for ``run``, ``AsyncAnthropic`` for
``arun``), :func:`twin_client` builds it to send the same requests: base URL, key or token, headers, query,
timeout, retries and middleware.

Example:
    >>> from ollama_anthropic_widgets import make_client
    >>> runner = TurnRunner(make_client(), on_end=lambda end: print("kept" if end.kept else "rolled back"))
    >>> _ = runner.start("Hello!")
    >>> message = runner.run({"model": "llama3.2", "max_tokens": 100})     # doctest: +SKIP
    kept
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .conversation import Conversation, EmptyReply
from .streaming import StreamResult, message_from_result

if TYPE_CHECKING:  # pragma: no cover
    from anthropic.types import Message

    from .recorder import UsageRecorder


class ReplyView(Protocol):
    """What shows a streamed reply while a turn runs (``StreamView``, or :class:`QuietView`): it consumes the
    stream, returns the final ``Message``, and keeps the reply so far in ``result`` (kept on a stop)."""

    @property
    def result(self) -> StreamResult: ...

    def consume(self, stream: Any) -> Message: ...

    async def aconsume(self, stream: Any) -> Message: ...


class QuietView:
    """A :class:`ReplyView` that shows nothing: the SDK's ``MessageStream`` keeps the reply (``result`` is its
    snapshot), for a turn run without a screen. Servers that skip ``message_start`` need ``StreamView``.

    Example:
        >>> QuietView().result.text
        ''
    """

    def __init__(self) -> None:
        self._stream: Any = None
        self._started = 0.0
        self._message: Message | None = None

    @property
    def result(self) -> StreamResult:
        duration = time.perf_counter() - self._started if self._started else None
        if self._message is not None:
            return StreamResult.from_message(self._message, duration_s=duration)
        try:
            snapshot = self._stream.current_message_snapshot if self._stream is not None else None
        except AssertionError:  # no message_start yet
            snapshot = None
        return StreamResult.from_message(snapshot, duration_s=duration) if snapshot is not None else StreamResult()

    def consume(self, stream: Any) -> Message:
        self._started, self._message = time.perf_counter(), None
        with stream as self._stream:
            self._message = self._stream.get_final_message()
        return self._message

    async def aconsume(self, stream: Any) -> Message:
        self._started, self._message = time.perf_counter(), None
        async with stream as self._stream:
            self._message = await self._stream.get_final_message()
        return self._message


@dataclasses.dataclass
class TurnEnd:
    """How a turn ended: what ``on_end`` receives, once per turn.

    Example:
        >>> TurnEnd(error=TimeoutError("no reply"), typed="Hello").kept
        False
    """

    message: Any = None  # the reply now in the history (complete, or stopped with its partial text); None if none
    result: StreamResult | None = None  # what arrived: text, tokens, timing; None when nothing is known
    stopped: bool = False  # ended by stop() or an interrupt
    error: BaseException | None = None  # why the turn was rolled back (None when kept, or stopped before any text)
    typed: str = ""  # the user's text, handed back when the turn was rolled back

    @property
    def kept(self) -> bool:
        """True when the turn is in the history."""
        return self.message is not None


# The SDK's own description of the client it runs in: the twin sends its own (its flavour, its retry count).
_SDK_TELEMETRY = "x-stainless-"


def twin_client(client: Any, *, asynchronous: bool) -> Any:
    """The other flavour of ``client`` (``Anthropic`` ⇄ ``AsyncAnthropic``), sending what ``client`` sends.

    Copied from the client's public settings: base URL, API key, auth token or credentials, the headers it sends
    (``default_headers``, yours included: a proxy's token, say; not the SDK's ``X-Stainless-*`` description of
    itself, which the twin gives for itself), ``default_query``, timeout, retries and middleware (so
    ``UsageTracker.watch`` keeps counting). Not copied: a custom ``http_client`` (a transport belongs to one
    flavour): give the widget the flavour whose transport matters.

    Example:
        >>> from anthropic import Anthropic
        >>> sync = Anthropic(base_url="http://localhost:11434", api_key="ollama", default_query={"tenant": "t1"})
        >>> twin = twin_client(sync, asynchronous=True)
        >>> type(twin).__name__, twin.default_query
        ('AsyncAnthropic', {'tenant': 't1'})
    """
    from anthropic import Anthropic, AsyncAnthropic  # here: importing the core stays cheap without a call

    options: dict[str, Any] = {"base_url": client.base_url, "timeout": client.timeout,
                               "max_retries": client.max_retries, "default_query": dict(client.default_query),
                               "default_headers": {name: value for name, value in client.default_headers.items()
                                                   if not name.lower().startswith(_SDK_TELEMETRY)}}
    for credential in ("api_key", "auth_token", "credentials"):  # the SDK takes at most one of them
        if getattr(client, credential, None) is not None:
            options[credential] = getattr(client, credential)
            break
    middleware = tuple(getattr(client, "middleware", ()) or ())
    if middleware:
        options["middleware"] = middleware
    return (AsyncAnthropic if asynchronous else Anthropic)(**options)


def is_async_client(client: Any) -> bool:
    from anthropic import AsyncAnthropic

    return isinstance(client, AsyncAnthropic)


class TurnRunner:
    """Runs the turns of ``conversation`` against ``client`` (``Anthropic`` or ``AsyncAnthropic``); see the module
    docstring. ``tracker`` (a ``UsageTracker``, or anything with its ``record``) records every complete reply;
    ``on_end(TurnEnd)`` hears how each turn ended, before ``run``/``arun`` return or raise.

    ``request`` (for ``run``/``arun``) holds the request's fields other than the history: ``model``,
    ``max_tokens``, and ``system``, ``thinking``, ``extra_body``... as wanted (the history is added by
    ``Conversation.request``); ``stream=False`` asks with ``messages.create``.

    Example:
        >>> from ollama_anthropic_widgets import make_client
        >>> runner = TurnRunner(make_client())
        >>> runner.busy, runner.stop()
        (False, False)
    """

    def __init__(self, client: Any, conversation: Conversation | None = None, *,
                 tracker: UsageRecorder | None = None, on_end: Callable[[TurnEnd], Any] | None = None):
        self.client = client
        self.conversation = conversation if conversation is not None else Conversation()
        self.tracker = tracker
        self.on_end = on_end
        self._clients: dict[bool, Any] = {is_async_client(client): client}  # asynchronous? -> client
        self._busy = False
        self._on_loop = False
        self._stop_requested = False
        self._reply: asyncio.Future[Message] | None = None  # the request in flight on the loop (stop() cancels it)

    @property
    def busy(self) -> bool:
        """True from :meth:`start` until the turn ended."""
        return self._busy

    def start(self, text: str, images: Iterable[Any] = (), *, on_loop: bool = False) -> dict[str, Any]:
        """Add the user's turn (``text`` plus image blocks, paths or bytes) and return it; ``on_loop``: the turn will
        run with :meth:`arun`, so :meth:`stop` may end it from now on.

        Raises (and changes nothing): ``TypeError`` for text that is not a ``str``, ``RuntimeError`` while a turn
        runs, ``ValueError`` when there is nothing to send or an image is rejected (``ImageRejected``).
        """
        if not isinstance(text, str):
            raise TypeError(f"send_message() takes the message text (a str), not {type(text).__name__}")
        if self._busy:
            raise RuntimeError("a message is already being sent: wait for its reply (or press Stop)")
        pending = self.conversation.start_turn(text, images)
        self._busy, self._on_loop, self._stop_requested = True, on_loop, False
        return pending

    def run(self, request: Mapping[str, Any], *, stream: bool = True, view: ReplyView | None = None) -> Message:
        """The rest of the turn, blocking: returns the reply's ``Message``; a ``KeyboardInterrupt`` stops it (the
        text so far is kept, then the interrupt is re-raised), any other failure rolls it back and is re-raised."""
        self._check_started()
        view = (view if view is not None else QuietView()) if stream else None
        started = time.perf_counter()
        try:
            client, payload = self._client(asynchronous=False), self.conversation.request(**request)
            if view is not None:
                message = view.consume(client.messages.stream(**payload))
            else:
                message = client.messages.create(**payload)
        except KeyboardInterrupt:
            self._keep_stopped(view)
            raise
        except BaseException as error:
            self._roll_back(error, view)
            raise
        return self._conclude(message, view, time.perf_counter() - started)

    async def arun(self, request: Mapping[str, Any], *, stream: bool = True,
                   view: ReplyView | None = None) -> Message | None:
        """The rest of the turn, on the event loop: returns the ``Message``, after :meth:`stop` the stopped one
        (``stop_reason`` None), or None when it was stopped before any text. A cancellation from outside (not a
        stop) rolls the turn back and is re-raised, as is any failure."""
        self._check_started()
        view = (view if view is not None else QuietView()) if stream else None
        started = time.perf_counter()
        try:
            if self._stop_requested:  # stop() came before the request was even made
                raise asyncio.CancelledError
            client, payload = self._client(asynchronous=True), self.conversation.request(**request)
            work = view.aconsume(client.messages.stream(**payload)) if view is not None else (
                client.messages.create(**payload))
            self._reply = asyncio.ensure_future(work)
            message = await self._reply
        except asyncio.CancelledError:
            if not self._stop_requested:  # cancelled from outside (the task awaiting arun): not a stop
                self._roll_back(asyncio.CancelledError(), view)
                raise
            return self._keep_stopped(view)
        except BaseException as error:
            self._roll_back(error, view)
            raise
        finally:
            self._reply = None
        return self._conclude(message, view, time.perf_counter() - started)

    def stop(self) -> bool:
        """End the turn running on the event loop (:meth:`arun`) now: the stream stops, its HTTP response is
        closed, what arrived is kept. False when no such turn runs (a blocking ``run`` is stopped by an interrupt).
        """
        if not (self._busy and self._on_loop):
            return False
        self._stop_requested = True
        if self._reply is not None and not self._reply.done():
            self._reply.cancel()
        return True

    # -- how a turn ends -----------------------------------------------------------------------------------------

    def _check_started(self) -> None:
        if not self._busy:
            raise RuntimeError("no turn to run: call start() first")

    def _client(self, *, asynchronous: bool) -> Any:
        if asynchronous not in self._clients:
            self._clients[asynchronous] = twin_client(self.client, asynchronous=asynchronous)
        return self._clients[asynchronous]

    def _conclude(self, message: Message, view: ReplyView | None, latency_s: float) -> Message:
        try:
            self.conversation.finish_turn(message)
        except EmptyReply as error:
            self._roll_back(error, view)
            raise
        result = view.result if view is not None else StreamResult.from_message(message, duration_s=latency_s)
        self._end(TurnEnd(message=message, result=result))
        self._record(message, result)
        return message

    def _keep_stopped(self, view: ReplyView | None) -> Message | None:
        result = view.result if view is not None else None
        if result is None or not result.text.strip():
            self._roll_back(None, view, stopped=True)
            return None
        # stop_reason None: the server never said why the reply ended (the user ended it)
        message = message_from_result(dataclasses.replace(result, stop_reason=None))
        self.conversation.finish_turn(message, stopped=True)
        self._end(TurnEnd(message=message, result=result, stopped=True))
        return message

    def _roll_back(self, error: BaseException | None, view: ReplyView | None, *, stopped: bool = False) -> None:
        typed = self.conversation.abandon_turn()
        self._end(TurnEnd(result=view.result if view is not None else None, stopped=stopped, error=error,
                          typed=typed))

    def _end(self, end: TurnEnd) -> None:
        self._busy = self._on_loop = False
        if self.on_end is not None:
            self.on_end(end)

    def _record(self, message: Message, result: StreamResult) -> None:
        """Record the call; the reply is already in the history, so a tracker that fails only warns."""
        if self.tracker is None:
            return
        try:
            self.tracker.record(message, latency_s=result.duration_s, ttft_s=result.ttft_s)
        except Exception as error:
            warnings.warn(f"the usage tracker could not record this reply ({error!r}); the reply is kept", stacklevel=3)
