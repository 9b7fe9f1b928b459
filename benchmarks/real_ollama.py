"""The real Ollama of ``make test-ollama`` (scripts/ollama.py): start, model load, memory, speed; prints figures,
asserts nothing. Not a ``bench_*.py``, so ``make bench`` leaves it out: it needs the Go-built Ollama (``make ollama``).

    .venv/bin/python benchmarks/real_ollama.py [--port 11444] [--runs 3]

Starts Ollama on its own port (unless ours runs there) and stops it again if it started it. Figures:
- start: ``ollama serve`` until ``/api/version`` answers, models imported;
- first reply: the first request, which has Ollama start its runner (the engine's llama-server) and load the model;
- resident memory with the model loaded (VmRSS, and the peak VmHWM) of ``ollama serve`` and of its runner;
- a 128-token reply through ``POST /v1/messages`` (temperature 0, a prompt it answers at length): wall seconds and
  output tokens per second, median over ``--runs`` with the lowest and highest.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.lab import child_pids  # noqa: E402
from tests.replay import load_ollama  # noqa: E402

PROMPT = "Tell me a long story about a dragon who learns to cook."


def post(base_url: str, body: dict) -> dict:
    request = urllib.request.Request(f"{base_url}/v1/messages", json.dumps(body).encode(),
                                     {"content-type": "application/json", "x-api-key": "ollama"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ollama = load_ollama()
    parser.add_argument("--port", type=int, default=ollama.DEFAULT_PORT)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    base_url = ollama.base_url(args.port)
    already = ollama.our_pid(ollama.paths(), args.port) is not None and ollama.answers(args.port)
    started = time.perf_counter()
    ollama.start(args.port)
    print(f"Ollama {ollama.release()} at {base_url}: start {time.perf_counter() - started:.1f} s"
          f"{' (already running)' if already else ''}")
    try:
        ask = {"model": ollama.TEXT_MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
        began = time.perf_counter()
        post(base_url, ask)
        print(f"first reply (runner start and model load included): {time.perf_counter() - began:.2f} s")
        server = ollama.our_pid(ollama.paths(), args.port)
        total = 0
        runners = [("runner (llama-server)", child) for child in child_pids(server)]
        for name, pid in [("ollama serve", server), *runners]:
            figures = memory_kb(pid)
            total += figures["VmRSS"]
            print(f"  {name:22} RSS {figures['VmRSS'] / 1024:6.1f} MB  (peak {figures['VmHWM'] / 1024:6.1f} MB)")
        print(f"  {'together':22} RSS {total / 1024:6.1f} MB")
        seconds, rates = [], []
        for _ in range(args.runs):
            began = time.perf_counter()
            reply = post(base_url, {**ask, "max_tokens": 128, "temperature": 0,
                                    "messages": [{"role": "user", "content": PROMPT}]})
            elapsed = time.perf_counter() - began
            seconds.append(elapsed)
            rates.append(reply["usage"]["output_tokens"] / elapsed)
        print(f"128-token reply: {statistics.median(seconds):.2f} s ({min(seconds):.2f}-{max(seconds):.2f}), "
              f"{statistics.median(rates):.0f} output tok/s ({min(rates):.0f}-{max(rates):.0f}), "
              f"{args.runs} runs")
    finally:
        if not already:
            ollama.stop(args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
