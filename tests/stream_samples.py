"""Long and paced streams built from a real recording, for the throttle tests and benchmarks/bench_stream.py.

``lengthened_exchanges`` is derived, not recorded: it keeps the recorded head (message_start, content_block_start)
and tail (content_block_stop, message_delta, message_stop) of a real engine stream and repeats its real
``text_delta`` events until the stream has the requested number of SSE events; ``usage.output_tokens`` is set to
the number of deltas (llama-server sends one token per delta). ``thinking_exchanges`` is constructed the same way:
a thinking block then a text block, both made of ``stream_poem``'s real deltas. ``paced_client`` serves a body
event by event at a fixed rate, like a server generating that many tokens per second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2
from anthropic import Anthropic

from tests.replay import KEPT_HEADERS, load_recording


def sse_frames(body: str) -> list[str]:
    """The SSE frames of a body, each ending with its blank line."""
    return [frame + "\n\n" for frame in body.split("\n\n") if frame.strip()]


def frame_type(frame: str) -> str:
    for line in frame.splitlines():
        if line.startswith("event:"):
            return line.split(":", 1)[1].strip()
    return ""


def lengthened_exchanges(recording: str = "stream_poem", events: int = 2000) -> tuple[list[dict[str, Any]], str]:
    """``(exchanges, source)``: the recording's one streamed exchange stretched to ``events`` SSE events."""
    exchange = load_recording(recording)["exchanges"][0]
    frames = sse_frames(exchange["response"]["body"])
    deltas = [frame for frame in frames if frame_type(frame) == "content_block_delta"]
    first_delta = frames.index(deltas[0])
    last_delta = len(frames) - 1 - frames[::-1].index(deltas[-1])
    head, tail = frames[:first_delta], frames[last_delta + 1:]
    wanted = events - len(head) - len(tail)
    repeated = [deltas[i % len(deltas)] for i in range(wanted)]
    tail = [_with_output_tokens(frame, wanted) if frame_type(frame) == "message_delta" else frame for frame in tail]
    body = "".join(head + repeated + tail)
    response = {**exchange["response"], "body": body}
    source = (f"derived from the real recording {recording!r} by repeating its {len(deltas)} text_delta events to "
              f"{events} SSE events (output_tokens set to {wanted})")
    return [{"request": exchange["request"], "response": response}], source


def _with_output_tokens(frame: str, output_tokens: int) -> str:
    event_line, data_line = frame.strip().split("\n", 1)
    data = json.loads(data_line.split(":", 1)[1])
    data["usage"]["output_tokens"] = output_tokens
    return f"{event_line}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse_event(event: dict[str, Any]) -> str:
    return f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


def recorded_text_deltas(recording: str = "stream_poem") -> list[str]:
    """The text of every text_delta of a real recorded stream, in order."""
    body = load_recording(recording)["exchanges"][0]["response"]["body"]
    events = (json.loads(frame.split("data:", 1)[1]) for frame in sse_frames(body))
    return [event["delta"]["text"] for event in events if event["type"] == "content_block_delta"]


def constructed_exchanges(thinking: list[str], text: list[str]) -> list[dict[str, Any]]:
    """One streamed reply shaped as Ollama streams it (v0.32.15 anthropic/anthropic.go StreamConverter): a thinking
    block made of the ``thinking``
    deltas (none if empty), then a text block made of the ``text`` deltas."""
    request = load_recording("stream_poem")["exchanges"][0]["request"]
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"id": "msg_constructed", "type": "message", "role": "assistant",
                                              "model": "qwen3", "content": [], "stop_reason": None,
                                              "stop_sequence": None, "usage": {"input_tokens": 9, "output_tokens": 0}}}]
    blocks = [("thinking", thinking), ("text", text)] if thinking else [("text", text)]
    for index, (kind, pieces) in enumerate(blocks):
        empty = {"type": "thinking", "thinking": "", "signature": ""} if kind == "thinking" else {"type": "text",
                                                                                                     "text": ""}
        events.append({"type": "content_block_start", "index": index, "content_block": empty})
        events += [{"type": "content_block_delta", "index": index, "delta": {"type": f"{kind}_delta", kind: piece}}
                   for piece in pieces]
        events.append({"type": "content_block_stop", "index": index})
    events += [{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": len(thinking) + len(text)}},
               {"type": "message_stop"}]
    body = "".join(sse_event(event) for event in events)
    return [{"request": request,
             "response": {"status": 200, "headers": {"content-type": "text/event-stream"}, "body": body}}]


def thinking_exchanges(thinking_deltas: int, text_deltas: int = 40) -> list[dict[str, Any]]:
    """A thinking model's reply — a reasoning of ``thinking_deltas`` tokens, then the answer — constructed from the
    real text deltas of the engine recording ``stream_poem`` (the engine does not think)."""
    pieces = recorded_text_deltas()
    return constructed_exchanges([pieces[i % len(pieces)] for i in range(thinking_deltas)], pieces[:text_deltas])


def one_line_exchanges(text_deltas: int) -> list[dict[str, Any]]:
    """A reply written as one long line (``stream_poem``'s real deltas with their line breaks made spaces)."""
    pieces = [piece.replace("\n", " ") for piece in recorded_text_deltas()]
    return constructed_exchanges([], [pieces[i % len(pieces)] for i in range(text_deltas)])


class _PacedBody(httpx2.SyncByteStream):
    """Sends one SSE frame at a time on a fixed schedule (frame i at start + i / rate)."""

    def __init__(self, frames: list[str], events_per_s: float):
        self.frames, self.events_per_s = frames, events_per_s

    def __iter__(self) -> Iterator[bytes]:
        start = time.perf_counter()
        for index, frame in enumerate(self.frames):
            delay = start + index / self.events_per_s - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            yield frame.encode("utf-8")


def paced_client(exchanges: list[dict[str, Any]], events_per_s: float) -> Anthropic:
    """A real SDK client whose (single, streamed) reply arrives at ``events_per_s`` SSE events per second."""
    recorded = exchanges[0]["response"]
    headers = {k: v for k, v in recorded["headers"].items() if k.lower() in KEPT_HEADERS}
    frames = sse_frames(recorded["body"])

    def respond(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(recorded["status"], headers=headers, stream=_PacedBody(frames, events_per_s))

    return Anthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                     http_client=httpx2.Client(transport=httpx2.MockTransport(respond)))
