"""Build ``ollama_stream_xss.json``: hostile model output in Ollama's stream format. Constructed, not recorded.

    python tests/recordings/build_ollama_transcripts.py

The other Ollama transcripts are recorded from a real Ollama (``record_real_ollama.py``). This one cannot be: it is
what a prompt-injected model could send (script tags, event handlers, ``javascript:`` links in thinking, text, a
tool's name and its input), and no model of ours writes that. The frames follow a real Ollama v0.34.4 stream (the
recorded ``ollama_stream_tool_use.json``; ``anthropic/anthropic.go`` ``StreamConverter.Process``,
``middleware/anthropic.go`` ``writeSSE``): ``event: NAME\\ndata: JSON\\n\\n`` frames, no ``ping``;
``message_start`` with ``msg_<24 hex>``, the requested model, empty content and the *estimated* input tokens
(``EstimateCountTokens``: UTF-8 **bytes** of roles, texts and tool definitions, divided by 4); a thinking block first,
then text, then tool_use with a ``call_<8 chars>`` id whose arguments arrive in ONE ``input_json_delta``;
``message_delta`` with stop_reason and ``usage`` {input_tokens, cache_read_input_tokens, output_tokens}. JSON is
encoded the way Go's ``encoding/json`` does it (``<``, ``>``, ``&`` as ``\\u003c``...), so the SDK decodes the very
bytes Ollama would send. The texts are written by hand.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ollama_double import go_json  # noqa: E402 - Go's json.Marshal, one home for it
from tests.replay import save_recording  # noqa: E402

SOURCE = ("constructed after Ollama v0.34.4's anthropic/anthropic.go and a stream recorded from it, not recorded: streamed "
          "POST /v1/messages built by tests/recordings/build_ollama_transcripts.py after Ollama's StreamConverter; {what}")
SSE = {"content-type": "text/event-stream"}


def tokens(text: str) -> list[str]:
    """Split like a tokenizer would, roughly: a CJK character, a word with its leading space, or a symbol."""
    return re.findall(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]| ?[A-Za-z0-9']+|\s+|.", text)


class Converter:
    """Emits the SSE frames Ollama's StreamConverter would, for one reply."""

    def __init__(self, message_id: str, model: str, estimated_input_tokens: int):
        self.frames: list[str] = []
        self.index = 0
        self.output_tokens = 0
        self._event("message_start", {"type": "message_start", "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "usage": {"input_tokens": estimated_input_tokens, "output_tokens": 0}}})

    def _event(self, name: str, data: dict) -> None:
        self.frames.append(f"event: {name}\ndata: {go_json(data)}\n\n")

    def _start(self, block: dict) -> None:
        self._event("content_block_start", {"type": "content_block_start", "index": self.index,
                                            "content_block": block})

    def _delta(self, delta: dict) -> None:
        self._event("content_block_delta", {"type": "content_block_delta", "index": self.index, "delta": delta})

    def _stop(self) -> None:
        self._event("content_block_stop", {"type": "content_block_stop", "index": self.index})
        self.index += 1

    def thinking(self, text: str) -> None:
        self._start({"type": "thinking", "thinking": ""})
        for piece in tokens(text):
            self._delta({"type": "thinking_delta", "thinking": piece})
            self.output_tokens += 1
        self._stop()

    def text(self, text: str) -> None:
        self._start({"type": "text", "text": ""})
        for piece in tokens(text):
            self._delta({"type": "text_delta", "text": piece})
            self.output_tokens += 1
        self._stop()

    def tool_use(self, call_id: str, name: str, arguments: dict) -> None:
        self._start({"type": "tool_use", "id": call_id, "name": name, "input": {}})
        self._delta({"type": "input_json_delta", "partial_json": go_json(arguments)})
        self.output_tokens += len(tokens(go_json(arguments)))
        self._stop()

    def finish(self, stop_reason: str, input_tokens: int) -> str:
        usage = {"input_tokens": input_tokens, "cache_read_input_tokens": 0, "output_tokens": self.output_tokens}
        self._event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": usage})
        self._event("message_stop", {"type": "message_stop"})
        return "".join(self.frames)


def estimate(messages: list[dict], tools: list[dict] = ()) -> int:
    """Ollama's ``EstimateCountTokens`` (anthropic/anthropic.go): Go's ``len`` counts UTF-8 bytes, of each role and
    text and of each tool's name, description and raw ``input_schema`` JSON (here compact, as the SDK sends it);
    total / 4, at least 1."""
    size = sum(len(m["role"].encode()) + len(m["content"].encode()) for m in messages)
    size += sum(len(t["name"].encode()) + len(t.get("description", "").encode())
                + len(go_json(t["input_schema"]).encode()) for t in tools)
    return max(1, size // 4)


def exchange(request: dict, status: int, headers: dict, body: str) -> dict:
    return {"request": {"method": "POST", "path": "/v1/messages", "json": request},
            "response": {"status": status, "headers": headers, "body": body}}


def xss() -> None:
    messages = [{"role": "user", "content": "Repeat these strings exactly."}]
    tools = [{"name": "lookup", "input_schema": {"type": "object"}}]
    request = {"max_tokens": 512, "messages": messages, "model": "qwen3", "stream": True, "tools": tools}
    reply = Converter("msg_0c5d7e19a3b4f6082d1e9c4b", "qwen3", estimate(messages, tools))
    reply.thinking("<script>alert('thinking')</script> <img src=x onerror=alert(2)>")
    reply.text("Hello <script>alert(1)</script> and <img src=x onerror=alert(1)> and "
               "<a href=\"#\" onmouseover=\"alert(3)\">hover</a> and [click](javascript:alert(4)) and "
               "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==) and "
               "<iframe src=\"javascript:alert(6)\"></iframe> and ![pixel](http://example.invalid/p.png) and "
               "[fine](https://example.org/ok)")
    reply.tool_use("call_q4z8w1re", "<img src=x onerror=alert('name')>",
                   {"html": "<script>alert('input')</script>", "link": "javascript:alert(7)",
                    "attr": "\" onmouseover=\"alert(8)"})
    save_recording("ollama_stream_xss",
                   SOURCE.format(what="hostile model output: XSS payloads in thinking, text, tool name and tool "
                                      "input (what a prompt-injected model could send); stop_reason tool_use"),
                   [exchange(request, 200, SSE, reply.finish("tool_use", 61))])


if __name__ == "__main__":
    xss()
    print("wrote tests/recordings/ollama_stream_xss.json")
