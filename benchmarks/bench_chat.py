"""Benchmarks for ChatWidget; prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_chat.py [--rounds 20]

1. Stop latency (goal ≤ 0.5 s): a reply streams through the real ``AsyncAnthropic`` SDK from a paced replay (the
   engine's recorded ``stream_poem`` reply, lengthened to 400 SSE events by repeating its real deltas, one event
   every 20 ms: ~50 tokens/s, a long reply); 0.1–0.7 s after its first text, ``chat.stop()`` (what the Stop button
   calls). Latency: from ``stop()`` until ``await chat.asend(...)`` has returned with the partial turn kept. Also
   checked each round: the HTTP response was closed before its end.
2. Bytes per chat turn at the widget comm (goal: a turn sends that turn, not the history): a 10-turn chat whose
   replies are ~300 tokens (the same recorded reply, lengthened to 300 text deltas; replies are served unpaced),
   counted as the JSON of every comm message (widget creation and updates) sent while each turn is sent, at
   turn 1 and turn 10; with ``stream=False`` (history only) and ``stream=True`` (plus the live StreamView).

Outside a kernel the widgets' messages go to a comm that only counts them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import comm  # noqa: E402
from comm import DummyComm  # noqa: E402

from tests.chat_samples import paced_async_client  # noqa: E402
from tests.replay import replay_client  # noqa: E402
from tests.stream_samples import lengthened_exchanges  # noqa: E402

MODEL = "smollm2-135m"
TURNS = 10


class CountingComm(DummyComm):
    """A comm that sends nothing and counts the bytes it would send (JSON of the data, plus binary buffers)."""

    sent_bytes = 0

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        CountingComm.sent_bytes += len(json.dumps(data, default=str, ensure_ascii=False).encode("utf-8"))
        CountingComm.sent_bytes += sum(len(buffer) for buffer in buffers or ())


comm.create_comm = CountingComm


def stop_latency(rounds: int) -> None:
    from ollama_anthropic_widgets import ChatWidget

    long_reply, _ = lengthened_exchanges("stream_poem", 400)
    latencies, closed, kept = [], 0, 0

    async def one(delay: float) -> float:
        client, _, bodies = paced_async_client(long_reply, interval=0.02)
        chat = ChatWidget(client, MODEL, max_tokens=2000)
        turn = asyncio.create_task(chat.asend("写一首诗"))
        while not (chat.reply_view is not None and chat.reply_view.text):  # mid-reply: after the first text
            await asyncio.sleep(0.005)
        await asyncio.sleep(delay)
        began = time.perf_counter()
        chat.stop()
        message = await turn
        latency = time.perf_counter() - began
        nonlocal closed, kept
        closed += bodies[0].closed_at is not None and not bodies[0].finished
        kept += message is not None and chat.stopped_turns == [1]
        return latency

    for index in range(rounds):
        latencies.append(asyncio.run(one(0.1 + 0.6 * index / max(rounds - 1, 1))))
    print(f"1. Stop latency over {rounds} rounds (replayed reply at ~50 tokens/s, stopped 0.1-0.7 s after its "
          "first text)")
    median_ms, max_ms = statistics.median(latencies) * 1000, max(latencies) * 1000
    print(f"   median {median_ms:.1f} ms, max {max_ms:.1f} ms   goal <= 500 ms")
    print(f"   HTTP response closed early: {closed}/{rounds}; partial reply kept as a stopped turn: {kept}/{rounds}")


def _ten_turn_exchanges(stream: bool) -> list[dict]:
    """Ten replies of ~300 tokens: the recorded reply lengthened; for create, the same reply as one Message."""
    exchanges, _ = lengthened_exchanges("stream_poem", 306)
    if stream:
        return exchanges * TURNS
    client, _ = replay_client(exchanges)
    with client.messages.stream(model=MODEL, max_tokens=300, messages=[{"role": "user", "content": "x"}]) as reply:
        message = reply.get_final_message()
    created = {"request": {"method": "POST", "path": "/v1/messages", "json": None},
               "response": {"status": 200, "headers": {"content-type": "application/json"},
                            "body": message.model_dump_json()}}
    return [created] * TURNS


def turn_bytes(stream: bool) -> tuple[list[int], int]:
    """Bytes sent per turn, and the reply's text length."""
    from ollama_anthropic_widgets import ChatWidget

    client, _ = replay_client(_ten_turn_exchanges(stream))
    chat = ChatWidget(client, MODEL, system="You are a friendly assistant.", max_tokens=300, stream=stream)
    per_turn = []
    for turn in range(1, TURNS + 1):
        before = CountingComm.sent_bytes
        chat.send_message(f"Question {turn}: tell me more.")
        per_turn.append(CountingComm.sent_bytes - before)
    return per_turn, len(chat.messages[-1]["content"][0]["text"])


def chat_turn_bytes() -> None:
    print(f"2. bytes sent at the widget comm per chat turn ({TURNS} turns, ~300-token replies)")
    for stream in (False, True):
        per_turn, text_length = turn_bytes(stream)
        growth = per_turn[-1] / per_turn[0]
        print(f"   stream={stream!s:5}: turn 1 {per_turn[0] / 1000:.1f} KB, turn 10 {per_turn[-1] / 1000:.1f} KB "
              f"(x{growth:.2f}); reply text {text_length:,} characters; all turns: "
              + " ".join(f"{size / 1000:.1f}" for size in per_turn))


def main() -> int:
    parser = argparse.ArgumentParser(description="ChatWidget benchmarks")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    stop_latency(args.rounds)
    chat_turn_bytes()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
