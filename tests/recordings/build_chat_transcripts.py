"""Build ``chat_xss_create.json``: a ChatWidget transcript in Ollama's wire format. Constructed, not recorded.

    python tests/recordings/build_chat_transcripts.py

No model of ours echoes hostile HTML on demand, so this follows Ollama's wire format as ``build_ollama_transcripts.py``
does: a non-streamed reply whose text carries XSS payloads. (``chat_thinking_only_stream.json``, a reply that spends
all of ``max_tokens`` thinking, is recorded from a real Ollama by ``record_real_ollama.py``.)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.recordings.build_ollama_transcripts import estimate, exchange, go_json  # noqa: E402
from tests.replay import save_recording  # noqa: E402

JSON = {"content-type": "application/json; charset=utf-8"}
XSS_TEXT = ("Hello <script>alert(1)</script> and <img src=x onerror=alert(1)> and "
            "<a href=\"#\" onmouseover=\"alert(3)\">hover</a> and [click](javascript:alert(4)) and "
            "<iframe src=\"javascript:alert(6)\"></iframe> and ![pixel](http://example.invalid/p.png) and "
            "<svg onload=alert(9)></svg>")


def xss_create() -> None:
    messages = [{"role": "user", "content": "Repeat these strings exactly."}]
    request = {"max_tokens": 512, "messages": messages, "model": "qwen3"}
    body = go_json({"id": "msg_7d2e90b4c1a35f68e0b9d4c2", "type": "message", "role": "assistant", "model": "qwen3",
                    "content": [{"type": "thinking", "thinking": "<img src=x onerror=alert('thinking')>"},
                                {"type": "text", "text": XSS_TEXT}],
                    "stop_reason": "end_turn", "usage": {"input_tokens": estimate(messages), "output_tokens": 71}})
    save_recording("chat_xss_create",
                   "constructed in Ollama's wire format (v0.32.15 anthropic/anthropic.go; behaviour table in tests/ollama_double.py), not recorded: non-streamed POST "
                   "/v1/messages built by tests/recordings/build_chat_transcripts.py; hostile model output: a "
                   "thinking block and a text block with XSS payloads (what a prompt-injected model could send)",
                   [exchange(request, 200, JSON, body)])


if __name__ == "__main__":
    xss_create()
    print("wrote tests/recordings/chat_xss_create.json")
