"""Benchmark for the ``%%ask`` magic; prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_magic.py [--rounds 31]

Overhead: one ``%%ask`` cell, run by a real IPython ``InteractiveShell`` (``shell.run_cell_magic``: option parsing,
settings, the conversation's request, the view, the tracker, the turn added), vs a bare
``for t in stream.text_stream: pass`` over the same replayed 2,000-event stream through the real SDK (goal
≤ 1.10×). The stream is derived from the real engine recording ``stream_poem`` (tests/stream_samples.py), the
same as benchmarks/bench_stream.py. Both outputs are measured:

- ``widget``: the reply streams into a StreamView (what a notebook gets; outside a kernel the widget messages go
  to a dummy comm, and ``display`` prints the widget's repr);
- ``text``: the reply is printed as it arrives (IPython in a terminal), here into ``/dev/null``.

Every ``%%ask`` starts a new conversation (``--new``), so each round sends the same one-turn request. Rounds
alternate bare / widget / text; the figure is the median of the per-round ratios (each run over the bare run of its
round, on this thread's CPU time), with the middle half of the rounds as the spread.

Then the fixed cost of a cell, measured the same way on a 20-event stream: what ``%%ask`` adds however short the
reply (for widget output it is mostly building and displaying the StreamView: 14 widget models).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from ollama_anthropic_widgets.extension.magic import ask_session  # noqa: E402

from tests.replay import replay_client  # noqa: E402
from tests.stream_samples import lengthened_exchanges  # noqa: E402

ASK = {"model": "smollm2-135m", "max_tokens": 2000, "messages": [{"role": "user", "content": "写一首诗"}]}
PROMPT = ASK["messages"][0]["content"]
OPTIONS = f"--new --model {ASK['model']} --max-tokens {ASK['max_tokens']}"
EVENTS = 2000


def bare_loop(exchanges) -> float:
    client, _ = replay_client(exchanges)
    cpu = time.thread_time()
    with client.messages.stream(**ASK) as stream:
        for _ in stream.text_stream:
            pass
    return time.thread_time() - cpu


def ask_cell(shell, exchanges, output: str) -> float:
    magics = shell.magics_manager.registry["AskMagics"]
    magics.output = output
    session = ask_session(shell)
    session.client, _ = replay_client(exchanges)
    cpu = time.thread_time()
    shell.run_cell_magic("ask", OPTIONS, PROMPT)
    elapsed = time.thread_time() - cpu
    assert session.exchanges == 1 and session.last_message.stop_reason, "the replayed turn did not complete"
    return elapsed


def paired_rounds(shell, exchanges, rounds: int) -> tuple[list[float], dict[str, list[float]]]:
    """CPU seconds of ``rounds`` alternating bare / %%ask-widget / %%ask-text runs over ``exchanges``."""
    outputs = ("widget", "text")
    bare: list[float] = []
    runs: dict[str, list[float]] = {output: [] for output in outputs}
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        bare_loop(exchanges), [ask_cell(shell, exchanges, output) for output in outputs]  # warm up
        for _ in range(rounds):
            bare.append(bare_loop(exchanges))
            for output in outputs:
                runs[output].append(ask_cell(shell, exchanges, output))
    return bare, runs


def main() -> int:
    parser = argparse.ArgumentParser(description="%%ask benchmark")
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "ollama_anthropic_widgets")

    exchanges, source = lengthened_exchanges("stream_poem", EVENTS)
    bare, runs = paired_rounds(shell, exchanges, args.rounds)
    print(f"1. %%ask overhead on a {EVENTS}-event stream ({source}); {args.rounds} alternating rounds")
    print(f"   {'bare text_stream loop':34s}: CPU {statistics.median(bare) * 1000:6.1f} ms (median)")
    for output, values in runs.items():
        ratios = [value / base for value, base in zip(values, bare, strict=True)]
        quartiles = statistics.quantiles(ratios, n=4)
        print(f"   {f'%%ask, {output} output':34s}: CPU {statistics.median(values) * 1000:6.1f} ms, "
              f"ratio {statistics.median(ratios):.3f}x (middle half {quartiles[0]:.3f}-{quartiles[2]:.3f})"
              f"   goal <= 1.10x")

    short, _ = lengthened_exchanges("stream_poem", 20)
    bare, runs = paired_rounds(shell, short, 3 * args.rounds)
    print(f"2. fixed cost of one cell: the same on a 20-event stream, {3 * args.rounds} rounds")
    print(f"   {'bare text_stream loop':34s}: CPU {statistics.median(bare) * 1000:6.2f} ms (median)")
    for output, values in runs.items():
        added = [value - base for value, base in zip(values, bare, strict=True)]
        print(f"   {f'%%ask, {output} output':34s}: + {statistics.median(added) * 1000:5.2f} ms per cell")
    print(f"   ({ask_session(shell).tracker.calls} replies recorded by the shell's tracker; CPU = this thread's CPU "
          "time, the fair figure on a shared machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
