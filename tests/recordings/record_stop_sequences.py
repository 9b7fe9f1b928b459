"""Record lesson 05's stop-sequence exchange from llama.cpp and from a real Ollama (real traffic, no editing).

    python tests/recordings/record_stop_sequences.py [--port 18434] [--ollama-port 11444]

Lesson 05 shows its own server's answer live and these two recordings beside it, so a reader sees both ways a local
server reports a stop-sequence hit. Each file holds the lesson's two requests: 写一首诗 at temperature 0 with
thinking disabled, first free, then with a stop sequence cut from the middle of that free text.

- ``notebooks/data/stop_sequence_llama_cpp.json``: from the embedded engine (llama.cpp's ``llama-server``).
- ``notebooks/data/stop_sequence_ollama.json``: from a real Ollama (``scripts/ollama.py``, ``make ollama``) serving
  the same weights as model ``llama3.2``.

Starts the engine on ``--port`` and Ollama on ``--ollama-port`` unless ours already run there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ollama_anthropic_widgets import text_of  # noqa: E402
from ollama_anthropic_widgets.lessons import replay  # noqa: E402

from tests.replay import engine_for_recording, real_ollama_for_recording, recording_client  # noqa: E402

DATA = ROOT / "notebooks" / "data"
QUESTION = [{"role": "user", "content": "写一首诗"}]
REQUEST = {"max_tokens": 48, "thinking": {"type": "disabled"}, "messages": QUESTION, "extra_body": {"temperature": 0}}
WHAT = ("lesson 05's stop-sequence requests: 写一首诗, temperature 0, thinking disabled, max_tokens 48; first free, "
        "then with stop_sequences = three characters from the middle of the free text")


def record(base_url: str, model: str) -> list[dict]:
    client, recorder = recording_client(base_url)
    free_text = text_of(client.messages.create(model=model, **REQUEST))
    middle = len(free_text) // 2
    stop = free_text[middle:middle + 3]
    if not stop.strip():
        raise SystemExit(f"no visible piece to stop at in {free_text!r}")
    stopped = client.messages.create(model=model, stop_sequences=[stop], **REQUEST)
    if stopped.stop_reason == "max_tokens":
        raise SystemExit(f"the stop sequence {stop!r} did not come back; nothing to record")
    return recorder.exchanges


def main() -> None:
    ports = argparse.ArgumentParser(add_help=False)
    ports.add_argument("--ollama-port", type=int, default=None)
    known, sys.argv[1:] = ports.parse_known_args()
    with engine_for_recording("tests/recordings/record_stop_sequences.py", __doc__.splitlines()[0]) as (
            engine, base_url, describe):
        path = replay.save_recording(DATA / "stop_sequence_llama_cpp.json", f"{WHAT}; {describe}",
                                     record(base_url, engine.MODEL_ALIAS))
        print("wrote", path)
    sys.argv[1:] = ["--port", str(known.ollama_port)] if known.ollama_port else []
    with real_ollama_for_recording("tests/recordings/record_stop_sequences.py", __doc__.splitlines()[0]) as (
            ollama, base_url, describe):
        path = replay.save_recording(DATA / "stop_sequence_ollama.json", f"{WHAT}; {describe}, as model "
                                     f"{ollama.TEXT_MODEL}", record(base_url, ollama.TEXT_MODEL))
        print("wrote", path)


if __name__ == "__main__":
    main()
