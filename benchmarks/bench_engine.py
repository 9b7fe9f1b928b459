"""Speed of the embedded engine (llama-server + SmolLM2-135M); prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_engine.py [--runs 5] [--port 18480] [--json]

Starts the engine installed in ``$ENGINE_HOME`` (``scripts/engine.py``, one thread unless ``ENGINE_THREADS`` says
otherwise) on its own port and stops it again. Each run sends two completions (no prompt cache, fixed seed):
- prompt: a 262-token prompt with 1 token to generate: prompt tokens per second;
- output: a 14-token prompt and exactly 200 generated tokens (``ignore_eos``): output tokens per second.
Two figures for each: llama-server's own timers (``timings``, wall time), and tokens per CPU second of the server
process (from /proc), which a machine shared with other jobs disturbs far less. Median with the lowest and
highest run; one warm-up run first (page cache, first allocations).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAT = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
LONG_PROMPT = CHAT.format("Tell me about the history of the bicycle, its parts, and how to keep one in good repair. "
                          * 12)
SHORT_PROMPT = CHAT.format("Tell me about bicycles.")
OUTPUT_TOKENS = 200
TICKS = os.sysconf("SC_CLK_TCK")


def load_engine():
    spec = importlib.util.spec_from_file_location("engine_for_bench", ROOT / "scripts" / "engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def complete(port: int, pid: int, prompt: str, tokens: int) -> tuple[dict, float]:
    """One completion; returns the server's timings and the CPU seconds the server spent on it."""
    body = {"prompt": prompt, "n_predict": tokens, "ignore_eos": True, "cache_prompt": False, "seed": 42}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/completion", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    before = cpu_seconds(pid)
    with urllib.request.urlopen(request, timeout=300) as response:
        timings = json.load(response)["timings"]
    return timings, cpu_seconds(pid) - before


def one_run(port: int, pid: int) -> dict:
    prompt, prompt_cpu = complete(port, pid, LONG_PROMPT, 1)
    output, output_cpu = complete(port, pid, SHORT_PROMPT, OUTPUT_TOKENS)
    prompt_rate_cpu = prompt["prompt_n"] / prompt_cpu
    generation_cpu = output_cpu - output["prompt_n"] / prompt_rate_cpu  # less the short prompt, at the rate above
    return {"prompt_tok_s": prompt["prompt_per_second"], "prompt_tok_cpu_s": prompt_rate_cpu,
            "output_tok_s": output["predicted_per_second"], "output_tok_cpu_s": output["predicted_n"] / generation_cpu,
            "prompt_tokens": prompt["prompt_n"], "output_tokens": output["predicted_n"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=int(os.environ.get("ENGINE_BENCH_PORT", "18480")))
    parser.add_argument("--json", action="store_true", help="one JSON line with every run, for scripts")
    args = parser.parse_args()
    engine = load_engine()
    try:
        engine.start(args.port)
    except engine.EngineError as error:
        print(f"engine not available, nothing measured: {error}")
        return 0
    try:
        pid = engine.our_pid(engine.paths(), args.port)
        one_run(args.port, pid)
        runs = [one_run(args.port, pid) for _ in range(args.runs)]
    finally:
        engine.stop(args.port)
    stamp = json.loads(engine.paths()["stamp"].read_text()) if engine.paths()["stamp"].exists() else {}
    if args.json:
        print(json.dumps({"runs": runs, "build": stamp.get("flags")}))
        return 0
    print(f"engine build: {(stamp.get('flags') or ['(no build stamp)'])[-1]}; threads: "
          f"{os.environ.get('ENGINE_THREADS', '1')}; {args.runs} runs; prompt {runs[0]['prompt_tokens']} tokens, "
          f"output {runs[0]['output_tokens']} tokens")
    for label, key in (("output", "output_tok_s"), ("", "output_tok_cpu_s"), ("prompt", "prompt_tok_s"),
                       ("", "prompt_tok_cpu_s")):
        values = [run[key] for run in runs]
        unit = "tok per CPU s" if key.endswith("cpu_s") else "tok/s (wall)"
        print(f"  {label:6} {statistics.median(values):7.1f} {unit:14} (runs {min(values):.1f}-{max(values):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
