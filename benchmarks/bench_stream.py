"""Benchmarks for StreamView; prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_stream.py [--rounds 31]

1. Overhead: ``view.consume(stream)`` vs a bare ``for t in stream.text_stream: pass`` over the same replayed
   2,000-event stream, through the real SDK (goal ≤ 1.05×). The stream is derived from the real engine recording
   ``stream_poem`` by repeating its text_delta events to 2,000 SSE events (tests/stream_samples.py). Rounds
   alternate bare / view; the figure is the median of the per-round ratios (each view run over the bare run just
   before it, on this thread's CPU time), with the middle half of the rounds as the spread.
2. Frontend updates per second while the same stream arrives at 1,000 events (tokens) per second from a paced
   transport (goal ≤ 20): widget values sent to the browser divided by the wall time of the stream, and the most
   sent in any 1-second window. For contrast, the same view with the throttle off (``update_interval=0,
   busy_fraction=0``).

Outside a kernel the widgets' messages go to a dummy comm; in a notebook each sent update also costs one
message on the iopub channel, which the throttle keeps to a few dozen per stream.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ollama_anthropic_widgets.render import render_text  # noqa: E402
from ollama_anthropic_widgets.stream_view import StreamView  # noqa: E402

from tests.replay import replay_client  # noqa: E402
from tests.stream_samples import lengthened_exchanges, paced_client  # noqa: E402

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
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in variants}
    for _ in range(rounds):
        bare.append(bare_loop(exchanges))
        for name, options in variants.items():
            wall, cpu, view = view_consume(exchanges, **options)
            runs[name].append((wall, cpu, view.frontend_updates))
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
              f"ratio {median(ratios):.3f}x (middle half {low:.3f}-{high:.3f}), "
              f"{median(v[2] for v in values):.0f} frontend updates   goal <= 1.05x")
    print(f"   of which one Markdown render of the final {len(text):,}-character reply: {markdown_ms:.2f} ms CPU")
    print("   (CPU = this thread's CPU time: the fair figure on a shared machine)")


def paced(exchanges, interval: float | None) -> tuple[float, int, int]:
    client = paced_client(exchanges, events_per_s=1000)
    view = StreamView() if interval is None else StreamView(update_interval=interval, busy_fraction=0)
    pushes: list[float] = []
    for child in view.children:
        child.observe(lambda change: pushes.append(time.perf_counter()), names="value")
        child.layout.observe(lambda change: pushes.append(time.perf_counter()), names="display")
    began = time.perf_counter()
    view.consume(client.messages.stream(**ASK))
    wall = time.perf_counter() - began
    busiest = max(sum(1 for t in pushes if start <= t < start + 1.0) for start in pushes)
    assert len(pushes) == view.frontend_updates
    return wall, view.frontend_updates, busiest


def updates_per_second() -> None:
    exchanges, _ = lengthened_exchanges("stream_poem", EVENTS)
    wall, updates, busiest = paced(exchanges, None)
    print(f"2. frontend updates while replaying {EVENTS} events at 1,000 tokens/s")
    print(f"   throttled (default)   : {updates} updates in {wall:.2f} s = {updates / wall:.1f} updates/s; "
          f"busiest 1-s window {busiest}   goal <= 20")
    wall, updates, busiest = paced(exchanges, 0.0)
    print(f"   throttle off          : {updates} updates in {wall:.2f} s = {updates / wall:.1f} updates/s; "
          f"busiest 1-s window {busiest}   (for contrast)")


def main() -> int:
    parser = argparse.ArgumentParser(description="StreamView benchmarks")
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    overhead(args.rounds)
    updates_per_second()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
