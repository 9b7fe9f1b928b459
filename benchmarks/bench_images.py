"""Benchmarks for the image and usage parts of the kit; prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_images.py

1. A 4000×3000 photo-like JPEG (generated here) turned into an image block — goal ≤ 300 ms (median).
2. ``import ollama_anthropic_widgets`` over ``import ipywidgets`` — goal ≤ 150 ms: in fresh interpreters, the time
   of ``import ollama_anthropic_widgets`` right after ``import ipywidgets`` (median). Also shown: the first use of
   ``ImageUpload``, ``UsageTracker`` and ``StreamView`` (their modules load then), for information.
3. ``UsageTracker.chart()`` rendered to PNG for 50 calls: what one throttled redraw of the live panel costs.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ollama_anthropic_widgets import UsageTracker  # noqa: E402
from ollama_anthropic_widgets.core.images import image_block  # noqa: E402
from ollama_anthropic_widgets.ui.usage_chart import figure_png  # noqa: E402

RUNS = 7
IMPORT_RUNS = 5


def photo_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    rng = np.random.default_rng(0)
    red = np.broadcast_to(np.linspace(0, 200, width, dtype=np.float32), (height, width))
    green = np.broadcast_to(np.linspace(0, 200, height, dtype=np.float32)[:, None], (height, width))
    pixels = np.stack([red, green, (red + green) / 2], axis=-1).astype(np.int16)
    pixels += rng.integers(-25, 26, pixels.shape, dtype=np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def timed(function, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds per run (CPU time is the steadier figure on a busy, shared machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


IMPORT_PROBE = """
import time
t0 = time.perf_counter(); import ipywidgets; t1 = time.perf_counter()
{statement}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def import_times(statement: str) -> tuple[float, float]:
    """(``import ipywidgets``, then ``statement``) in seconds, in one fresh interpreter."""
    code = IMPORT_PROBE.format(statement=statement)
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    base, extra = output.stdout.split()
    return float(base), float(extra)


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"


def main() -> None:
    data = photo_jpeg()
    block = image_block(data)
    out = Image.open(io.BytesIO(__import__("base64").b64decode(block["source"]["data"])))
    print(f"input: 4000×3000 JPEG, {len(data) / 1e6:.1f} MB -> block: {out.size[0]}×{out.size[1]} "
          f"{block['source']['media_type']}, {len(block['source']['data']) / 1e6:.2f} MB base64")
    wall, cpu = timed(lambda: image_block(data), RUNS)
    print(f"4000×3000 JPEG -> image block, median of {RUNS}: {median_ms(wall)} wall, {median_ms(cpu)} CPU"
          "   goal <= 300 ms")

    kit = "ollama_anthropic_widgets"
    for statement in (f"import {kit}", f"from {kit} import ImageUpload", f"from {kit} import UsageTracker",
                      f"from {kit} import StreamView"):
        label = statement
        runs = [import_times(statement) for _ in range(IMPORT_RUNS)]
        goal = "   goal <= 150 ms" if statement == f"import {kit}" else ""
        print(f"{label} after import ipywidgets, median of {IMPORT_RUNS} fresh interpreters: "
              f"{median_ms([extra for _, extra in runs])}{goal}   (import ipywidgets itself: "
              f"{median_ms([base for base, _ in runs])})")

    usage = UsageTracker()
    for call in range(50):
        usage.record({"usage": {"input_tokens": 30 + call, "output_tokens": 60 + call % 7}}, latency_s=0.8,
                     ttft_s=0.1)
    figure_png(usage.chart())  # the first one pays for importing matplotlib
    wall, cpu = timed(lambda: figure_png(usage.chart()), 5)
    print(f"usage chart for 50 calls -> PNG (one live-panel redraw), median of 5: {median_ms(wall)} wall, "
          f"{median_ms(cpu)} CPU")


if __name__ == "__main__":
    main()
