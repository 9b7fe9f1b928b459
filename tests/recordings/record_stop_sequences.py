"""Record lesson 05's stop-sequence exchange from llama.cpp and from Ollama's interface (real traffic, no editing).

    python tests/recordings/record_stop_sequences.py [--port 18434]

Lesson 05 shows its own server's answer live and these two recordings beside it, so a reader sees both ways a local
server reports a stop-sequence hit. Each file holds the lesson's two requests: 写一首诗 at temperature 0 with
thinking disabled, first free, then with a stop sequence cut from the middle of that free text.

- ``notebooks/data/stop_sequence_llama_cpp.json``: from the embedded engine (llama.cpp's ``llama-server``).
- ``notebooks/data/stop_sequence_ollama.json``: through the Ollama double (``tests/ollama_double.py``) in front of
  the same engine, as model ``llama3.2``. The double answers at Ollama v0.32.15's interface; the text is the
  engine's. Its ``source`` says so: it is not a recording of a real Ollama.

Starts the engine on ``--port`` unless one of ours already runs there, and the double on the next port.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ollama_anthropic_widgets import text_of  # noqa: E402
from ollama_anthropic_widgets.lessons import replay  # noqa: E402

from tests.ollama_double import RELEASE, OllamaDouble  # noqa: E402
from tests.replay import engine_for_recording, recording_client  # noqa: E402

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
    with engine_for_recording("tests/recordings/record_stop_sequences.py", __doc__.splitlines()[0]) as (
            engine, base_url, describe):
        path = replay.save_recording(DATA / "stop_sequence_llama_cpp.json", f"{WHAT}; {describe}",
                                     record(base_url, engine.MODEL_ALIAS))
        print("wrote", path)
        port = int(base_url.rsplit(":", 1)[1]) + 1
        double = OllamaDouble(base_url, port=port)
        try:
            source = (f"{WHAT}; recorded through the project's Ollama double (tests/ollama_double.py), NOT a real "
                      f"Ollama: it answers at Ollama {RELEASE}'s interface (a stop-sequence hit is end_turn with no "
                      f"stop_sequence key: anthropic/anthropic.go mapStopReason, MessagesResponse), here at "
                      f"{double.base_url} as model llama3.2; the text is the engine's behind it: {describe}")
            path = replay.save_recording(DATA / "stop_sequence_ollama.json", source, record(double.base_url, "llama3.2"))
            print("wrote", path)
        finally:
            double.close()


if __name__ == "__main__":
    main()
