"""Build the Ollama-shaped stream transcripts (``ollama_*.json``): constructed, not recorded.

    python tests/recordings/build_ollama_transcripts.py

The embedded engine cannot think, call tools or answer 404 for an unknown model, so these transcripts are written
from Ollama's converter (``anthropic/anthropic.go`` ``StreamConverter.Process`` and ``middleware/anthropic.go``
``writeSSE``/``writeError``, read at v0.32.15; the format is unchanged since v0.14): ``event: NAME\\ndata:
JSON\\n\\n`` frames, no ``ping``; ``message_start`` with ``msg_<24 hex>``, the requested model, empty content, no
stop_reason/stop_sequence keys and the *estimated* input tokens (``estimateTokens``: UTF-8 **bytes** of roles, texts
and tool definitions, divided by 4); a thinking block first, then text, then tool_use with a
``call_<8 chars>`` id whose arguments arrive in ONE ``input_json_delta``; ``message_delta`` with stop_reason and
``usage`` {input_tokens, output_tokens}; errors as ``{"type":"error","error":{...},"request_id":"req_<24 hex>"}``
with the HTTP status. JSON is encoded the way Go's ``encoding/json`` does it (``<``, ``>``, ``&`` as ``\\u003c``...),
so the SDK decodes the very bytes Ollama would send. The texts themselves are written by hand.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ollama_double import go_json  # noqa: E402 - Go's json.Marshal, one home for it
from tests.replay import save_recording  # noqa: E402

SOURCE = ("constructed after Ollama v0.32.15's anthropic/anthropic.go (wire format of v0.14+), not recorded: streamed POST /v1/messages "
          "built by tests/recordings/build_ollama_transcripts.py after Ollama's StreamConverter; {what}")
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
        self._event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason},
                                      "usage": {"input_tokens": input_tokens, "output_tokens": self.output_tokens}})
        self._event("message_stop", {"type": "message_stop"})
        return "".join(self.frames)


def estimate(messages: list[dict], tools: list[dict] = ()) -> int:
    """Ollama's ``estimateTokens`` (anthropic/anthropic.go): Go's ``len`` counts UTF-8 bytes, of each role and
    text and of each tool's name, description and raw ``input_schema`` JSON (here compact, as the SDK sends it);
    total / 4, at least 1."""
    size = sum(len(m["role"].encode()) + len(m["content"].encode()) for m in messages)
    size += sum(len(t["name"].encode()) + len(t.get("description", "").encode())
                + len(go_json(t["input_schema"]).encode()) for t in tools)
    return max(1, size // 4)


def exchange(request: dict, status: int, headers: dict, body: str) -> dict:
    return {"request": {"method": "POST", "path": "/v1/messages", "json": request},
            "response": {"status": status, "headers": headers, "body": body}}


def thinking_text() -> None:
    messages = [{"role": "user", "content": "写一首关于秋天的短诗"}]
    request = {"max_tokens": 400, "messages": messages, "model": "qwen3", "stream": True}
    reply = Converter("msg_3f9a1c7e52b04d8e6a1f0c27", "qwen3", estimate(messages))
    reply.thinking("The user wants a short poem about autumn, in Chinese. Four lines, simple images: "
                   "leaves, wind, harvest moon.")
    reply.text("**秋**\n\n- 落叶随风舞，\n- 金黄铺满路。\n- 明月照丰收，\n- 清霜点秋暮。\n")
    save_recording("ollama_stream_thinking_text",
                   SOURCE.format(what="qwen3-style reply: thinking block, then a Markdown text block; "
                                      "stop_reason end_turn"),
                   [exchange(request, 200, SSE, reply.finish("end_turn", 18))])


def tool_use() -> None:
    messages = [{"role": "user", "content": "What's the weather in Paris right now?"}]
    tools = [{"name": "get_weather", "description": "Current weather for a city",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"},
                                                                "unit": {"type": "string"}},
                               "required": ["city"]}}]
    request = {"max_tokens": 1024, "messages": messages, "model": "qwen3", "stream": True, "tools": tools}
    reply = Converter("msg_b81e4d0a9c6f2375e0d41a98", "qwen3", estimate(messages, tools))
    reply.thinking("The user asks for the current weather in Paris. I have get_weather; call it with city Paris.")
    reply.text("Let me check the weather in Paris.")
    reply.tool_use("call_x7k2m9qa", "get_weather", {"city": "Paris", "unit": "celsius"})
    save_recording("ollama_stream_tool_use",
                   SOURCE.format(what="qwen3-style tool call: thinking, text, then one tool_use (call_ id, "
                                      "arguments in one input_json_delta); stop_reason tool_use"),
                   [exchange(request, 200, SSE, reply.finish("tool_use", 173))])


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


def unknown_model() -> None:
    request = {"max_tokens": 64, "messages": [{"role": "user", "content": "你好"}], "model": "no-such-model",
               "stream": True}
    body = go_json({"type": "error", "error": {"type": "not_found_error",
                                               "message": "model 'no-such-model' not found"},
                    "request_id": "req_5e2b8c01d9f47a36b0c2e8d1"}) + "\n"  # json.Encoder adds the newline
    save_recording("ollama_error_404_unknown_model",
                   "constructed after Ollama v0.32.15's middleware/anthropic.go, not recorded: streamed request for a "
                   "model that is not pulled; Ollama answers before any event with HTTP 404 and its Anthropic error "
                   "JSON (middleware writeError)",
                   [exchange(request, 404, {"content-type": "application/json"}, body)])


if __name__ == "__main__":
    thinking_text()
    tool_use()
    xss()
    unknown_model()
    print("wrote tests/recordings/ollama_*.json")
