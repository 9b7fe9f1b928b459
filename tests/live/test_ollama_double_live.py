"""The Ollama double in front of the real engine, through the real SDKs (anthropic 2.14, openai).

Every model token here is the engine's (SmolLM2-135M): only structure is checked, never wording. The shapes are
held to the Ollama transcripts in tests/recordings (recorded from a real Ollama v0.34.4, tests/recordings/
record_real_ollama.py); tests/ollama/test_conformance.py compares the double with that Ollama request by request.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import urllib.parse
from pathlib import Path

import anthropic
import openai
import pytest

from tests.ollama_double import GPT_OSS_TRACE, THINKING_TOKENS
from tests.replay import load_recording
from tests.unit.test_ollama_double import sse_events

POEM = [{"role": "user", "content": "写一首诗"}]
IMAGE = base64.b64encode((Path(__file__).parents[2] / "notebooks" / "data" / "shapes.png").read_bytes()).decode()


@pytest.fixture()
def client(ollama_double):
    return anthropic.Anthropic(base_url=ollama_double.base_url, api_key="ollama", max_retries=0, timeout=120)


def raw_post(base_url: str, body: dict) -> tuple[int, str]:
    """The bytes the double sends, as the SDK would receive them."""
    parts = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    connection.request("POST", "/v1/messages", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    try:
        return response.status, response.read().decode()
    finally:
        connection.close()


def skeleton(events: list[tuple[str, dict]]) -> list[str]:
    """Event names with the block or delta type, repeats collapsed: the shape of a stream."""
    shape = []
    for name, data in events:
        kind = (data.get("content_block") or data.get("delta") or {}).get("type", "")
        step = f"{name}:{kind}" if name.startswith("content_block_") else name
        if not shape or shape[-1] != step:
            shape.append(step)
    return shape


def keys_by_step(events: list[tuple[str, dict]]) -> dict[str, set]:
    """For each kind of event, the keys of the event, its message/block/delta and its usage."""
    keys: dict[str, set] = {}
    for name, data in events:
        kind = (data.get("content_block") or data.get("delta") or {}).get("type", "")
        inner = data.get("message") or data.get("content_block") or data.get("delta") or {}
        usage = inner.get("usage") or data.get("usage") or {}
        keys.setdefault(f"{name}:{kind}", set()).update(
            {f"event.{k}" for k in data} | {f"inner.{k}" for k in inner} | {f"usage.{k}" for k in usage})
    return keys


def test_qwen3_stream_has_the_transcripts_shape_and_real_thinking(ollama_double):
    (exchange,) = load_recording("ollama_stream_thinking_text")["exchanges"]
    recorded = sse_events(exchange["response"]["body"])
    before = ollama_double.stats.thinking_tokens
    status, body = raw_post(ollama_double.base_url, {**exchange["request"]["json"], "max_tokens": 400})
    events = sse_events(body)
    assert status == 200 and skeleton(events) == skeleton(recorded)
    assert keys_by_step(events) == keys_by_step(recorded)
    assert ollama_double.stats.thinking_tokens - before == THINKING_TOKENS
    start, (_, delta) = events[0][1]["message"], events[-2]
    assert re.fullmatch(r"msg_[0-9a-f]{24}", start["id"]) and start["model"] == "qwen3"
    thinking = "".join(d["delta"]["thinking"] for n, d in events if d.get("delta", {}).get("type") == "thinking_delta")
    assert thinking.strip() and THINKING_TOKENS < delta["usage"]["output_tokens"] <= 400
    # On the parsed events, not the raw body: the model's own text may hold "ping" (it wrote "helping" in CI).
    assert "ping" not in [name for name, _ in events]
    assert not {"signature", "stop_sequence"} & set().union(*(keys_anywhere(data) for _, data in events))


def keys_anywhere(value) -> set[str]:
    """Every key of every dict nested in ``value``."""
    if isinstance(value, dict):
        return set(value).union(*(keys_anywhere(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_anywhere(item) for item in value))
    return set()


def test_thinking_is_on_by_default_and_comes_first(client):
    message = client.messages.create(model="qwen3", max_tokens=400, messages=POEM)
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking.strip() and message.content[1].text.strip()
    assert message.stop_reason in ("end_turn", "max_tokens") and message.usage.output_tokens > THINKING_TOKENS


def test_thinking_disabled_gives_text_only(client):
    message = client.messages.create(model="qwen3", max_tokens=64, messages=POEM, thinking={"type": "disabled"})
    assert [block.type for block in message.content] == ["text"] and message.usage.output_tokens <= 64


def test_a_budget_spent_on_thinking_gives_no_text(client):
    message = client.messages.create(model="qwen3", max_tokens=32, messages=POEM)
    assert [block.type for block in message.content] == ["thinking"]
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 32
    with client.messages.stream(model="qwen3", max_tokens=32, messages=POEM) as stream:
        kinds = {event.content_block.type for event in stream if event.type == "content_block_start"}
        final = stream.get_final_message()
    assert kinds == {"thinking"} and final.stop_reason == "max_tokens" and final.usage.output_tokens == 32


def test_gpt_oss_thinks_even_with_thinking_disabled(client):
    message = client.messages.create(model="gpt-oss", max_tokens=64, messages=POEM, thinking={"type": "disabled"})
    assert [block.type for block in message.content] == ["thinking"]  # medium: longer than the whole budget
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 64


def test_gpt_oss_at_low_effort_thinks_briefly_then_answers(ollama_double, client):
    before = ollama_double.stats.thinking_tokens
    message = client.messages.create(model="gpt-oss", max_tokens=GPT_OSS_TRACE["low"] + 64, messages=POEM,
                                     output_config={"effort": "low"})
    assert [block.type for block in message.content] == ["thinking", "text"] and message.content[1].text.strip()
    assert ollama_double.stats.thinking_tokens - before == GPT_OSS_TRACE["low"]
    assert GPT_OSS_TRACE["low"] < message.usage.output_tokens <= GPT_OSS_TRACE["low"] + 64


def test_not_streamed_reply_is_shaped_like_ollamas(ollama_double):
    status, body = raw_post(ollama_double.base_url, {"model": "qwen3", "max_tokens": 300, "messages": POEM})
    reply = json.loads(body)
    assert status == 200 and body.endswith("}\n")
    assert list(reply) == ["id", "type", "role", "model", "content", "stop_reason", "usage"]
    assert [sorted(block) for block in reply["content"]] == [["thinking", "type"], ["text", "type"]]
    assert reply["model"] == "qwen3"
    assert list(reply["usage"]) == ["input_tokens", "cache_read_input_tokens", "output_tokens"]  # Ollama 0.34


def test_llama32_does_not_think_and_a_stop_sequence_hit_is_end_turn(client):
    request = {"model": "llama3.2", "max_tokens": 48, "messages": [{"role": "user", "content": "Tell me a story."}]}
    plain = client.messages.create(**request)
    assert [block.type for block in plain.content] == ["text"] and plain.model == "llama3.2"
    text = plain.content[0].text
    assert "e" in text, "the engine's seeded reply is expected to contain the letter e"
    stopped = client.messages.create(**request, stop_sequences=["e"])
    assert stopped.stop_reason == "end_turn" and stopped.stop_sequence is None
    assert stopped.content[0].text == text[: text.index("e")]


def test_unknown_model_is_ollamas_404(client):
    with pytest.raises(anthropic.NotFoundError, match="model 'qwen3:8b' not found") as caught:
        client.messages.create(model="qwen3:8b", max_tokens=16, messages=POEM)
    assert caught.value.body["error"]["type"] == "not_found_error"


def test_a_v1_base_url_and_count_tokens_get_gins_plain_404(ollama_double, client):
    wrong = anthropic.Anthropic(base_url=ollama_double.base_url + "/v1", api_key="ollama", max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as caught:
        wrong.messages.create(model="qwen3", max_tokens=16, messages=POEM)
    assert caught.value.response.text == "404 page not found"
    assert caught.value.response.headers["content-type"] == "text/plain"
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.count_tokens(model="qwen3", messages=POEM)
    assert caught.value.response.text == "404 page not found"


@pytest.mark.parametrize(("model", "source", "message"), [
    ("llava", {"type": "url", "url": "https://example.org/shapes.png"},
     "invalid image source type: url. Only base64 images are supported."),
    # no projector behind any name: the engine refuses the image itself, and Ollama relays its body verbatim
    ("llama3.2", {"type": "base64", "media_type": "image/png", "data": IMAGE},
     "Multimodal data provided, but model does not support multimodal requests."),
])
def test_images_refused_with_ollamas_400(client, model, source, message):
    content = [{"type": "image", "source": source}, {"type": "text", "text": "What is this?"}]
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model=model, max_tokens=16, messages=[{"role": "user", "content": content}])
    assert message in caught.value.body["error"]["message"] and caught.value.body["request_id"].startswith("req_")


def test_tools_to_a_model_without_tools_is_a_400(client):
    tools = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}]
    with pytest.raises(anthropic.BadRequestError, match="llava:latest does not support tools"):
        client.messages.create(model="llava", max_tokens=16, messages=POEM, tools=tools)


def test_openai_sdk_gets_reasoning_then_content(ollama_double):
    client = openai.OpenAI(base_url=ollama_double.base_url + "/v1", api_key="ollama", max_retries=0)
    completion = client.chat.completions.create(model="qwen3", max_tokens=300, messages=POEM)
    message = completion.choices[0].message
    assert message.model_extra["reasoning"].strip() and message.content.strip()
    assert re.fullmatch(r"chatcmpl-\d+", completion.id) and completion.system_fingerprint == "fp_ollama"
    chunks = list(client.chat.completions.create(model="qwen3", max_tokens=300, messages=POEM, stream=True,
                                                 stream_options={"include_usage": True}))
    kinds = [("reasoning" if (c.choices[0].delta.model_extra or {}).get("reasoning") else
              "content" if c.choices[0].delta.content else "finish" if c.choices[0].finish_reason else "empty")
             if c.choices else "usage" for c in chunks]
    assert kinds[0] == "reasoning" and kinds[-2:] == ["finish", "usage"]
    assert kinds.index("content") > max(i for i, kind in enumerate(kinds) if kind == "reasoning")
    assert chunks[-1].usage.completion_tokens == completion.usage.completion_tokens > THINKING_TOKENS
