"""The replies the checks call a learner's code on, and SDK clients that replay them.

Every reply comes from a file in ``notebooks/data/`` (the folder of what the lessons read), whose ``source`` says
how it was made:

- ``exercise_replies_llama_cpp.json``: recorded from the embedded engine (llama.cpp's ``llama-server``,
  SmolLM2-135M), by ``tests/recordings/record_exercises.py``; each exchange has a ``name``.
- ``exercise_replies_ollama_double.json``: recorded by the same script through the Ollama double
  (``tests/ollama_double.py``): Ollama v0.32.15's interface in front of the same engine, as llama3.2 and as qwen3
  (thinking by default). Not a real Ollama; every word of model text is the engine's.
- ``stop_sequence_llama_cpp.json`` / ``stop_sequence_ollama.json``: lesson 05's recordings (engine / double).
- ``tools_*.json``: tool calls **constructed** in Ollama's wire format (``tests/recordings/build_tool_transcripts.py``):
  the 135M engine never calls a tool, so no recording of one exists. A check that uses them says so.

A client from :func:`replay` is the real ``anthropic`` SDK; only its HTTP transport reads the file, so the SDK parses
the very bytes the server sent. :func:`replay` can also pace a stream, for the exercise that times one.

Example:
    >>> reply = message("ollama", "thinking_text")   # doctest: +SKIP
    >>> [block.type for block in reply.content]        # doctest: +SKIP
    ['thinking', 'text']
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
from anthropic import Anthropic
from anthropic.types import Message
from ollama_anthropic_widgets.lessons.replay import Replayer, load_recording

from .core import DataMissing

ROOT = Path(__file__).resolve().parents[2]  # the repository: exercises/ollama_anthropic_exercises/replies.py
DATA = ROOT / "notebooks" / "data"
NAMED = {"llama_cpp": "exercise_replies_llama_cpp", "ollama": "exercise_replies_ollama_double"}
REPLAY_URL = "http://replay.invalid"

# How a message names the reply a learner's code failed on: what it holds, and where it comes from.
CASES: dict[str, dict[str, str]] = {
    "case.text": {"en": "a reply with one text block (recorded from llama.cpp's server)",
                  "zh": "只有一个文本块的回复（录制自 llama.cpp 服务器）"},
    "case.ollama_text": {"en": "a text reply in Ollama's format (recorded through the Ollama double as llama3.2)",
                         "zh": "Ollama 格式的文本回复（录制自扮演 llama3.2 的 Ollama 替身）"},
    "case.thinking_text": {
        "en": "a thinking model's reply: a thinking block, then a text block (recorded through the Ollama double as "
              "qwen3)",
        "zh": "思考模型的回复：先是思考块，再是文本块（录制自扮演 qwen3 的 Ollama 替身）"},
    "case.thinking_only": {
        "en": "a reply whose whole budget went to thinking: no text block, stop_reason max_tokens (recorded through "
              "the Ollama double as qwen3)",
        "zh": "预算全部用在思考上的回复：没有文本块，停止原因是 max_tokens（录制自扮演 qwen3 的 Ollama 替身）"},
    "case.cut": {"en": "a reply cut off at max_tokens (recorded from llama.cpp's server)",
                 "zh": "在 max_tokens 处被截断的回复（录制自 llama.cpp 服务器）"},
    "case.tool_call": {
        "en": "a tool call after thinking: a thinking block, then a tool_use block (constructed in Ollama's format, "
              "not recorded)",
        "zh": "先思考再调用工具的回复：思考块，然后是 tool_use 块（按 Ollama 的格式构造，不是录制的）"},
    "case.two_tool_calls": {
        "en": "a text block, then two tool_use blocks (constructed in Ollama's format, not recorded)",
        "zh": "一个文本块，然后是两个 tool_use 块（按 Ollama 的格式构造，不是录制的）"},
    "case.stop_llama_cpp": {
        "en": "a stop-sequence hit as llama.cpp reports it: end_turn, with stop_sequence set (recorded, lesson 05)",
        "zh": "llama.cpp 报告的停止序列命中：end_turn，并且填了 stop_sequence（录制，第 05 课）"},
    "case.stop_ollama": {
        "en": "a stop-sequence hit as Ollama's interface reports it: end_turn, no stop_sequence (recorded through the "
              "Ollama double, lesson 05)",
        "zh": "Ollama 接口报告的停止序列命中：end_turn，没有 stop_sequence（录制自 Ollama 替身，第 05 课）"},
    "case.stream_text": {"en": "a streamed text reply (recorded from llama.cpp's server)",
                         "zh": "流式的文本回复（录制自 llama.cpp 服务器）"},
    "case.stream_cut": {"en": "a streamed reply cut off at max_tokens (recorded from llama.cpp's server)",
                        "zh": "在 max_tokens 处被截断的流式回复（录制自 llama.cpp 服务器）"},
    "case.stream_thinking_text": {
        "en": "a thinking model's streamed reply: thinking deltas, then text deltas (recorded through the Ollama "
              "double as qwen3)",
        "zh": "思考模型的流式回复：先是思考增量，再是文本增量（录制自扮演 qwen3 的 Ollama 替身）"},
    "case.stream_thinking_only": {
        "en": "a streamed reply with thinking and no text: the budget ran out (recorded through the Ollama double as "
              "qwen3)",
        "zh": "只有思考、没有文本的流式回复：预算用完了（录制自扮演 qwen3 的 Ollama 替身）"},
}


@functools.cache
def _recording(stem: str) -> dict[str, Any]:
    path = DATA / f"{stem}.json"
    if not path.is_file():
        raise DataMissing(str(path))
    return load_recording(path)


def exchanges(source: str, *names: str | int) -> list[dict[str, Any]]:
    """Exchanges by name from the two exercise files (``source`` ``"llama_cpp"`` or ``"ollama"``), or by index from
    another file of ``notebooks/data`` (``source`` its stem, e.g. ``"tools_two_tools"``); all of them if no name."""
    recorded = _recording(NAMED.get(source, source))["exchanges"]
    if not names:
        return [dict(exchange) for exchange in recorded]
    if source in NAMED:
        picked = [exchange for name in names for exchange in recorded if exchange["name"] == name]
        if len(picked) != len(names):
            raise KeyError(f"{names} not all in {NAMED[source]}.json")
        return picked
    return [recorded[int(index)] for index in names]


def body(source: str, name: str | int) -> Any:
    """The parsed JSON body of one recorded response."""
    (exchange,) = exchanges(source, name)
    return json.loads(exchange["response"]["body"])


def message(source: str, name: str | int) -> Message:
    """One recorded non-streamed reply, as the ``Message`` the SDK's ``messages.create`` makes of it (the SDK
    parses the recorded bytes itself: Ollama's thinking blocks, for one, carry no ``signature``)."""
    recorded = exchanges(source, name)
    client, _ = replay(recorded)
    request = recorded[0]["request"]["json"]
    return client.messages.create(model=request["model"], max_tokens=request["max_tokens"],
                                  messages=request["messages"])


def request_json(source: str, name: str | int) -> Any:
    """What the recorded request sent (its JSON body)."""
    (exchange,) = exchanges(source, name)
    return exchange["request"]["json"]


class CountingReplayer(Replayer):
    """The kit's replayer, also counting the requests it could not serve (``attempts`` > ``len(requests)`` means the
    code under check asked for more than the recording holds: more rounds, or a retry)."""

    def __init__(self, exchanges: list[dict[str, Any]], cut_after: int | None = None):
        super().__init__(exchanges, cut_after=cut_after)
        self.attempts = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.attempts += 1
        return super().__call__(request)


class _PacedBody(httpx2.SyncByteStream):
    """A recorded SSE body served event by event: the first text delta not before ``first_text_at`` seconds after
    the request, ``message_stop`` not before ``end_at``; everything else at once."""

    def __init__(self, body: bytes, started: float, first_text_at: float, end_at: float):
        self.body, self.started, self.first_text_at, self.end_at = body, started, first_text_at, end_at

    def __iter__(self) -> Iterator[bytes]:
        text_seen = False
        for event in self.body.split(b"\n\n"):
            if not event.strip():
                continue
            data = next((line[5:] for line in event.split(b"\n") if line.startswith(b"data:")), b"{}")
            parsed = json.loads(data)
            if not text_seen and parsed.get("delta", {}).get("type") == "text_delta":
                text_seen = True
                self._wait_until(self.first_text_at)
            if parsed.get("type") == "message_stop":
                self._wait_until(self.end_at)
            yield event + b"\n\n"

    def _wait_until(self, offset: float) -> None:
        delay = self.started + offset - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def replay(recorded: list[dict[str, Any]], *, base_url: str = REPLAY_URL, max_retries: int = 0,
           cut_after: int | None = None, pace: tuple[float, float] | None = None
           ) -> tuple[Anthropic, CountingReplayer]:
    """A real SDK client whose HTTP traffic is ``recorded``; ``replayer.requests`` holds what the SDK sent, and
    ``replayer.attempts`` counts every request, served or not.

    ``max_retries`` as the SDK's own (its default is 2: a check that wants the learner to turn retries off keeps
    it); ``cut_after`` ends each body after that many bytes like a dropped connection; ``pace`` =
    ``(first_text_at, end_at)`` serves a stream at that pace (seconds after the request).
    """
    replayer = CountingReplayer(recorded, cut_after=cut_after)

    def handle(request: httpx2.Request) -> httpx2.Response:
        started = time.perf_counter()
        response = replayer(request)
        if pace is None:
            return response
        return httpx2.Response(response.status_code, headers=response.headers,
                               stream=_PacedBody(response.read(), started, *pace))

    client = Anthropic(base_url=base_url, api_key="ollama", max_retries=max_retries,
                       http_client=httpx2.Client(transport=httpx2.MockTransport(handle)))
    return client, replayer


def refused_client(max_retries: int = 0) -> tuple[Anthropic, Any]:
    """A real client pointed at a port of this machine where nothing listens (bound, never listening: the connection
    is refused at once). Returns ``(client, socket)``; close the socket afterwards."""
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    return Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="ollama", max_retries=max_retries), holder
