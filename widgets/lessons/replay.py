"""Record real HTTP exchanges with a model server, and replay them through the real ``anthropic`` SDK.

Useful for offline demos (lesson 06 replays tool-use transcripts) and for tests. A recording is a JSON file::

    {"source": "where and how it was recorded",
     "exchanges": [{"request": {"method": "POST", "path": "/v1/messages", "json": {...}},
                    "response": {"status": 200, "headers": {...}, "body": "event: message_start\\n..."}}]}

Replaying serves the recorded responses in order through an ``httpx2.MockTransport``, so the SDK parses the
very bytes the server sent (SSE included). ``cut_after`` truncates a streamed body mid-way to simulate a
dropped connection.

Example:
    >>> client, replayer = replay_client("../data/tools_single_get_weather.json")  # doctest: +SKIP
    >>> client.messages.create(model="qwen3", max_tokens=64, messages=[...])       # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
from anthropic import Anthropic, AsyncAnthropic

KEPT_HEADERS = {"content-type"}


def load_recording(path: str | Path) -> dict[str, Any]:
    """Read a recording file: ``{"source": ..., "exchanges": [...]}``."""
    recording: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return recording


def save_recording(path: str | Path, source: str, exchanges: list[dict[str, Any]]) -> Path:
    """Write a recording; ``source`` says where and how it was recorded (server, model, seed, date)."""
    path = Path(path)
    path.write_text(json.dumps({"source": source, "exchanges": exchanges}, ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
    return path


class _CutStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A body that sends ``keep`` bytes and then fails like a dropped connection."""

    def __init__(self, body: bytes, keep: int):
        self.body, self.keep = body, keep

    def __iter__(self) -> Iterator[bytes]:
        yield self.body[: self.keep]
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body[: self.keep]
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")


def _response_for(recorded: dict[str, Any], cut_after: int | None) -> httpx2.Response:
    body = recorded["body"].encode("utf-8")
    headers = {k: v for k, v in recorded.get("headers", {}).items() if k.lower() in KEPT_HEADERS}
    if cut_after is not None:
        return httpx2.Response(recorded["status"], headers=headers, stream=_CutStream(body, cut_after))
    return httpx2.Response(recorded["status"], headers=headers, content=body)


class Replayer:
    """Serves recorded responses in order; ``requests`` keeps what the SDK actually sent.

    Example:
        >>> Replayer([]).requests
        []
    """

    def __init__(self, exchanges: list[dict[str, Any]], cut_after: int | None = None):
        self.exchanges = list(exchanges)
        self.cut_after = cut_after
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if len(self.requests) >= len(self.exchanges):
            raise AssertionError(f"unexpected extra request {request.method} {request.url.path}")
        expected = self.exchanges[len(self.requests)]
        sent = json.loads(request.content) if request.content else None
        self.requests.append({"method": request.method, "path": request.url.path, "json": sent})
        assert request.url.path == expected["request"]["path"], (request.url.path, expected["request"]["path"])
        return _response_for(expected["response"], self.cut_after)


def replay_client(exchanges: list[dict[str, Any]] | str | Path, *, cut_after: int | None = None,
                  asynchronous: bool = False) -> tuple[Anthropic | AsyncAnthropic, Replayer]:
    """A real SDK client whose HTTP traffic is the recording; returns ``(client, replayer)``.

    ``exchanges`` is a list of exchanges or a recording file's path. ``max_retries=0`` so a recorded 500 is seen
    once. ``replayer.requests`` holds what the SDK sent, for checking.
    """
    if isinstance(exchanges, (str, Path)):
        exchanges = list(load_recording(exchanges)["exchanges"])
    replayer = Replayer(exchanges, cut_after=cut_after)
    transport = httpx2.MockTransport(replayer)
    client: Anthropic | AsyncAnthropic
    if asynchronous:
        client = AsyncAnthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                                http_client=httpx2.AsyncClient(transport=transport))
    else:
        client = Anthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                           http_client=httpx2.Client(transport=transport))
    return client, replayer


class Recorder(httpx2.BaseTransport):
    """Wraps a real transport and keeps every exchange, so a live session can be saved as a recording.

    Example:
        >>> Recorder().exchanges
        []
    """

    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()
        self.exchanges: list[dict[str, Any]] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        body = response.read()
        self.exchanges.append({
            "request": {"method": request.method, "path": request.url.path,
                        "json": json.loads(request.content) if request.content else None},
            "response": {"status": response.status_code,
                         "headers": {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS},
                         "body": body.decode("utf-8")},
        })
        return httpx2.Response(response.status_code, headers=response.headers, content=body)


def recording_client(base_url: str) -> tuple[Anthropic, Recorder]:
    """A real client against ``base_url`` that records what it exchanges.

    Example:
        >>> client, recorder = recording_client("http://localhost:11434")
        >>> recorder.exchanges
        []
    """
    recorder = Recorder()
    client = Anthropic(base_url=base_url, api_key="ollama", max_retries=0,
                       http_client=httpx2.Client(transport=recorder))
    return client, recorder

