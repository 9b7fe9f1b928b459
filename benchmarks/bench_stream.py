"""Benchmarks for StreamView; prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_stream.py [--rounds 31]

1. Overhead: ``view.consume(stream)`` vs a bare ``for t in stream.text_stream: pass`` over the same replayed
   2,000-event stream, through the real SDK (goal ≤ 1.05×). The stream is derived from the real engine recording
   ``stream_poem`` by repeating its text_delta events to 2,000 SSE events (tests/stream_samples.py). Rounds
   alternate bare / view; the figure is the median of the per-round ratios (each view run over the bare run just
   before it, on this thread's CPU time), with the middle half of the rounds as the spread.
2. Browser updates per second while the same stream arrives at 1,000 events (tokens) per second from a paced
   transport (goal ≤ 20): the messages that change the page (new parts, values, boxes), counted at the comm, over
   the wall time of the stream, and the most in any 1-second window. Closing the parts a finished block replaced
   is shown apart (the page no longer shows them). For contrast, without the interval and the CPU share
   (``update_interval=0, busy_fraction=0``; the byte budget still holds).
3. Bytes of widget state sent per byte of reply text, at 1,000 and 4,000 tokens arriving at 400 tokens/s (the
   issue's measure; goal ≤ 10× at 4,000 and no growth with length): every message the view's widgets send at the
   comm (their opening included), serialized as Jupyter sends it (JSON), over the UTF-8 bytes of the reply. The
   same for a thinking model's reply (a 1,000/4,000-token reasoning, then 40 tokens of answer; built from the
   same real deltas, tests/stream_samples.py), and for a reply written as one long line (nowhere to cut a part: the
   throttle's byte budget keeps it proportional). Also at 50 tokens/s, a slow model: the figure then grows, since
   every update costs its open part whatever little was added, but not with the length of the reply.

Outside a kernel the widgets' messages go to a dummy comm; here ``comm.create_comm`` (its documented replacement
point) is swapped for one that counts (tests/widget_traffic.py). In a notebook each message is one message on
the iopub channel.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ollama_anthropic_widgets.core.render import render_text  # noqa: E402
from ollama_anthropic_widgets.ui.stream_view import StreamView  # noqa: E402

from tests.replay import replay_client  # noqa: E402
from tests.stream_samples import (  # noqa: E402
    lengthened_exchanges,
    one_line_exchanges,
    paced_client,
    thinking_exchanges,
)
from tests.widget_traffic import counting_comms  # noqa: E402

ASK = {"model": "smollm2-135m", "max_tokens": 2000, "messages": [{"role": "user", "content": "写一首诗"}]}
EVENTS = 2000


def bare_loop(exchanges) -> tuple[float, float]:
    client, _ = replay_client(exchanges)
    wall, cpu = time.perf_counter(), time.thread_time()
    with client.messages.stream(**ASK) as stream:
        for _ in stream.text_stream:
            pass
    return time.perf_counter() - wall, time.thread_time() - cpu


def view_consume(exchanges, **options) -> tuple[float, float, StreamView]:
    client, _ = replay_client(exchanges)
    view = StreamView(**options)
    wall, cpu = time.perf_counter(), time.thread_time()
    view.consume(client.messages.stream(**ASK))
    return time.perf_counter() - wall, time.thread_time() - cpu, view


def overhead(rounds: int) -> None:
    exchanges, source = lengthened_exchanges("stream_poem", EVENTS)
    bare_loop(exchanges), view_consume(exchanges)  # warm up: imports, pydantic model building, cmark + nh3
    variants = {"view.consume (markdown=True, default)": {}, "view.consume (markdown=False)": {"markdown": False}}
    bare: list[tuple[float, float]] = []
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(rounds):
        bare.append(bare_loop(exchanges))
        for name, options in variants.items():
            wall, cpu, view = view_consume(exchanges, **options)
            runs[name].append((wall, cpu))
    text = view.text
    cpu = time.thread_time()
    for _ in range(5):
        render_text(text)
    markdown_ms = (time.thread_time() - cpu) / 5 * 1000

    def median(values):
        return statistics.median(values)

    def middle_half(values):
        quartiles = statistics.quantiles(values, n=4)
        return quartiles[0], quartiles[2]

    bare_wall, bare_cpu = median(b[0] for b in bare), median(b[1] for b in bare)
    print(f"1. overhead on a {EVENTS}-event stream ({source}); {rounds} alternating rounds")
    print(f"   {'bare text_stream loop':40s}: CPU {bare_cpu * 1000:6.1f} ms (median), wall {bare_wall * 1000:6.1f} ms")
    for name, values in runs.items():
        ratios = [v[1] / b[1] for v, b in zip(values, bare, strict=True)]
        low, high = middle_half(ratios)
        print(f"   {name:40s}: CPU {median(v[1] for v in values) * 1000:6.1f} ms, "
              f"ratio {median(ratios):.3f}x (middle half {low:.3f}-{high:.3f})   goal <= 1.05x")
    print(f"   of which one Markdown render of the final {len(text):,}-character reply: {markdown_ms:.2f} ms CPU")
    print("   (CPU = this thread's CPU time: the fair figure on a shared machine)")


def paced(exchanges, interval: float | None, tokens_per_s: float = 1000) -> tuple[float, int, int, int, int, int]:
    """(wall s, page updates, busiest 1-s window, closes, bytes sent, reply bytes) for one paced stream."""
    client = paced_client(exchanges, events_per_s=tokens_per_s)
    with counting_comms() as traffic:
        view = StreamView() if interval is None else StreamView(update_interval=interval, busy_fraction=0)
        opened = traffic.messages
        began = time.perf_counter()
        view.consume(client.messages.stream(**ASK))
        wall = time.perf_counter() - began
    updates = [at for at, kind, _, _ in traffic.log[opened:] if kind != "comm_close"]
    closes = sum(1 for _, kind, _, _ in traffic.log[opened:] if kind == "comm_close")
    busiest = max((sum(1 for t in updates if start <= t < start + 1.0) for start in updates), default=0)
    return wall, len(updates), busiest, closes, traffic.bytes, len((view.thinking + view.text).encode("utf-8"))


def updates_per_second() -> None:
    exchanges, _ = lengthened_exchanges("stream_poem", EVENTS)
    print(f"2. browser updates while replaying {EVENTS} events at 1,000 tokens/s (messages that change the page)")
    for label, interval in (("throttled (default)", None), ("no interval, no CPU cap", 0.0)):
        wall, updates, busiest, closes, _, _ = paced(exchanges, interval)
        goal = "   goal <= 20" if interval is None else "   (for contrast)"
        print(f"   {label:23s}: {updates} updates in {wall:.2f} s = {updates / wall:.1f} updates/s; "
              f"busiest 1-s window {busiest}; +{closes} closes of replaced parts{goal}")


def bytes_per_text_byte() -> None:
    print("3. widget state sent at the comm per byte of reply (opening included)")
    for rate in (400, 50):
        for kind, build in (("text", lambda n: lengthened_exchanges("stream_poem", n + 5)[0]),
                            ("thinking", thinking_exchanges), ("one line", one_line_exchanges)):
            figures = []
            for tokens in (1000, 4000) if rate == 400 else (1000,):
                _, _, _, _, sent, reply = paced(build(tokens), None, tokens_per_s=rate)
                figures.append(f"{tokens:,} tokens: {sent / 1000:.1f} KB for {reply / 1000:.1f} KB = "
                               f"{sent / reply:.1f}x")
            goal = "   goal <= 10x at 4,000, no growth" if rate == 400 else ""
            print(f"   {kind:8s} at {rate} tok/s: {'; '.join(figures)}{goal if kind != 'one line' else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description="StreamView benchmarks")
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    overhead(args.rounds)
    updates_per_second()
    bytes_per_text_byte()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
