"""Slow replays for the chat's Stop tests and benchmarks/bench_chat.py: recorded real traffic, served at a pace.

``paced_async_client`` is a real ``AsyncAnthropic`` whose HTTP traffic is a list of recorded exchanges (as
``tests.replay.replay_client``); the exchanges named in ``paced`` send their SSE body one frame at a time,
``interval`` seconds apart, like a server generating a long reply. Each paced body records when the client closed
it (``body.closed_at``) and how many frames it had sent by then, which is how a test sees that Stop closed the
HTTP response instead of reading it to the end.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2
from anthropic import AsyncAnthropic

from tests.replay import KEPT_HEADERS, Replayer
from tests.stream_samples import sse_frames


class PacedBody(httpx2.AsyncByteStream):
    """An SSE body sent frame by frame, ``interval`` seconds apart (the first after ``first_delay``)."""

    def __init__(self, frames: list[str], interval: float, first_delay: float = 0.0):
        self.frames, self.interval, self.first_delay = frames, interval, first_delay
        self.sent = 0
        self.closed_at: float | None = None

    async def __aiter__(self):
        await asyncio.sleep(self.first_delay)
        for frame in self.frames:
            yield frame.encode("utf-8")
            self.sent += 1
            await asyncio.sleep(self.interval)

    async def aclose(self) -> None:
        if self.closed_at is None:
            self.closed_at = time.perf_counter()

    @property
    def finished(self) -> bool:
        return self.sent == len(self.frames)


def paced_async_client(exchanges: list[dict[str, Any]], *, paced: set[int] = frozenset({0}), interval: float = 0.02,
                       first_delay: float = 0.0) -> tuple[AsyncAnthropic, Replayer, list[PacedBody]]:
    """``(client, replayer, bodies)``: exchanges in order; those at the indexes in ``paced`` are sent slowly.

    ``replayer.requests`` holds what the SDK sent; ``bodies`` the paced bodies served so far.
    """
    replayer = Replayer(exchanges)
    bodies: list[PacedBody] = []

    def respond(request: httpx2.Request) -> httpx2.Response:
        index = len(replayer.requests)
        response = replayer(request)
        if index not in paced:
            return response
        recorded = exchanges[index]["response"]
        body = PacedBody(sse_frames(recorded["body"]), interval, first_delay)
        bodies.append(body)
        headers = {k: v for k, v in recorded.get("headers", {}).items() if k.lower() in KEPT_HEADERS}
        return httpx2.Response(recorded["status"], headers=headers, stream=body)

    client = AsyncAnthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(respond)))
    return client, replayer, bodies
