"""Build the Ollama-shaped ChatWidget transcripts (``chat_*`` marked "constructed"): written, not recorded.

    python tests/recordings/build_chat_transcripts.py

The embedded engine cannot think and would not echo hostile HTML on demand, so these follow Ollama's wire format
exactly as ``build_ollama_transcripts.py`` does (Ollama's wire format (v0.32.15 anthropic/anthropic.go; behaviour table in tests/ollama_double.py)): a non-streamed reply whose text carries XSS
payloads, and a streamed qwen3-style reply that spends all of ``max_tokens`` thinking (no text block at all).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.recordings.build_ollama_transcripts import SSE, Converter, estimate, exchange, go_json  # noqa: E402
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


def thinking_only_stream() -> None:
    messages = [{"role": "user", "content": "Prove that there are infinitely many primes."}]
    request = {"max_tokens": 24, "messages": messages, "model": "qwen3", "stream": True}
    reply = Converter("msg_4a61f0e8b29c7d35a1e0c6b7", "qwen3", estimate(messages))
    reply.thinking("The user wants Euclid's proof. Suppose finitely many primes p1 ... pn, multiply them, add one")
    save_recording("chat_thinking_only_stream",
                   "constructed in Ollama's wire format (v0.32.15 anthropic/anthropic.go; behaviour table in tests/ollama_double.py), not recorded: streamed POST "
                   "/v1/messages built by tests/recordings/build_chat_transcripts.py after Ollama's StreamConverter; "
                   "a qwen3-style reply that spends max_tokens on its thinking block: no text block, stop_reason "
                   "max_tokens",
                   [exchange(request, 200, SSE, reply.finish("max_tokens", estimate(messages)))])


if __name__ == "__main__":
    xss_create()
    thinking_only_stream()
    print("wrote tests/recordings/chat_xss_create.json, tests/recordings/chat_thinking_only_stream.json")
