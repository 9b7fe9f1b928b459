"""The Ollama double's own logic (tests/ollama_double.py), without a model server.

The converter is held to the Ollama transcripts in tests/recordings (ollama_*.json: recorded from a real Ollama
v0.34.4 by record_real_ollama.py, except ollama_stream_xss, constructed by build_ollama_transcripts.py): fed the same
pieces, it must write the same bytes. Requests that Ollama refuses before any model runs are sent over HTTP to a
double whose upstream is a closed port, so these tests need no engine; what needs one is in
tests/live/test_ollama_double_live.py, and the comparison with the real Ollama in tests/ollama/test_conformance.py.
"""

from __future__ import annotations

import doctest
import http.client
import json
import re
import urllib.error
import urllib.request

import anthropic
import pytest

from tests import ollama_double
from tests.ollama_double import (
    AnthropicStream,
    ChatRequest,
    Chunk,
    OllamaDouble,
    OllamaError,
    OpenAIStream,
    Runner,
    accumulate,
    canonical_model,
    estimate_input_tokens,
    from_chat_request,
    from_messages_request,
    generate_id,
    go_json,
    map_stop_reason,
    reasoning_tokens,
    to_chat_completion,
    to_messages_response,
    tool_call_id,
)
from tests.replay import load_recording

STREAM_TRANSCRIPTS = ["ollama_stream_thinking_text", "ollama_stream_tool_use", "ollama_stream_xss"]
DONE_REASONS = {"end_turn": "stop", "tool_use": "stop", "max_tokens": "length"}  # Ollama's done_reason behind each
HELLO = [{"role": "user", "content": "hi"}]


def sse_events(body: str) -> list[tuple[str, dict]]:
    """``event: NAME\\ndata: JSON`` frames as (name, data) pairs."""
    events = []
    for frame in body.strip().split("\n\n"):
        name, data = frame.split("\n", 1)
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def chunks_behind(events: list[tuple[str, dict]]) -> list[Chunk]:
    """The api.ChatResponse chunks Ollama's runner would have produced for a transcript: one per delta."""
    chunks, call = [], {}
    for name, data in events:
        if name == "content_block_start" and data["content_block"]["type"] == "tool_use":
            call = {"id": data["content_block"]["id"], "name": data["content_block"]["name"]}
        elif name == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "thinking_delta":
                chunks.append(Chunk(thinking=delta["thinking"]))
            elif delta["type"] == "text_delta":
                chunks.append(Chunk(content=delta["text"]))
            else:
                chunks.append(Chunk(tool_calls=[{**call, "arguments": json.loads(delta["partial_json"])}]))
        elif name == "message_delta":
            usage = data["usage"]
            cached = usage.get("cache_read_input_tokens")  # the prompt's cached part, counted on its own
            chunks.append(Chunk(done=True, done_reason=DONE_REASONS[data["delta"]["stop_reason"]],
                                prompt_eval_count=usage["input_tokens"] + (cached or 0),
                                prompt_eval_cached_count=cached, eval_count=usage["output_tokens"]))
    return chunks


@pytest.mark.parametrize("name", STREAM_TRANSCRIPTS)
def test_stream_converter_writes_the_transcripts_bytes(name):
    (exchange,) = load_recording(name)["exchanges"]
    request, body = exchange["request"]["json"], exchange["response"]["body"]
    events = sse_events(body)
    message = events[0][1]["message"]
    assert estimate_input_tokens(request) == message["usage"]["input_tokens"]  # the byte-based estimate
    converter = AnthropicStream(message["id"], request["model"], estimate_input_tokens(request))
    written = "".join(f"event: {event}\ndata: {go_json(data)}\n\n"
                      for chunk in chunks_behind(events) for event, data in converter.process(chunk))
    assert written == body
    assert "ping" not in {event for event, _ in events} and "signature" not in body


def test_not_streamed_reply_has_the_blocks_in_ollamas_order_and_no_stop_sequence_key():
    (exchange,) = load_recording("ollama_stream_tool_use")["exchanges"]
    reply = accumulate(iter(chunks_behind(sse_events(exchange["response"]["body"]))), keep_tool_calls=True)
    response = to_messages_response("msg_0", "qwen3", reply)
    assert [block["type"] for block in response["content"]] == ["thinking", "tool_use"]
    assert response["content"][0].keys() == {"type", "thinking"}  # Ollama sends no signature
    assert response["content"][1]["input"] == {"city": "Paris"}
    assert list(response) == ["id", "type", "role", "model", "content", "stop_reason", "usage"]
    assert response["stop_reason"] == "tool_use"
    assert list(response["usage"]) == ["input_tokens", "cache_read_input_tokens", "output_tokens"]
    nothing = to_messages_response("msg_0", "qwen3", accumulate(iter([Chunk(done=True, done_reason="stop")]), False))
    assert nothing["content"] is None  # a nil Go slice


def test_a_budget_spent_on_thinking_streams_no_text_block():
    converter = AnthropicStream("msg_0", "qwen3", 3)
    events = [event for chunk in (Chunk(thinking="Let"), Chunk(thinking=" me"),
                                  Chunk(done=True, done_reason="length", prompt_eval_count=9, eval_count=2))
              for event in converter.process(chunk)]
    assert [name for name, _ in events] == ["message_start", "content_block_start", "content_block_delta",
                                            "content_block_delta", "content_block_stop", "message_delta",
                                            "message_stop"]
    assert events[-2][1] == {"type": "message_delta", "delta": {"stop_reason": "max_tokens"},
                             "usage": {"input_tokens": 9, "output_tokens": 2}}


def test_stop_reasons():
    assert [map_stop_reason(reason, False) for reason in ("stop", "length", "", "unload")] == [
        "end_turn", "max_tokens", "", "stop_sequence"]
    assert map_stop_reason("stop", True) == "tool_use"


def test_docstring_examples_run():
    assert doctest.testmod(ollama_double).failed == 0


def test_ids_and_json_look_like_ollamas():
    assert re.fullmatch(r"msg_[0-9a-f]{24}", generate_id("msg"))
    assert re.fullmatch(r"call_[a-z0-9]{8}", tool_call_id())
    escaped = '{"t":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e\\u2028"}'
    assert go_json({"t": "<a href='x'>&</a>\u2028"}) == escaped


def test_anthropic_request_is_converted_like_from_messages_request():
    request, stream = from_messages_request({
        "model": "qwen3", "max_tokens": 64, "stream": True, "stop_sequences": ["。"], "temperature": 0.2,
        "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": " Be kind."}],
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "text", "text": ""}]},  # empty: dropped
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "20°C", "is_error": True},
                {"type": "document", "source": {"type": "text", "data": "x"}},  # dropped
                {"type": "text", "text": "and now?"}]},
        ]})
    assert stream and request.think is None and request.relax_thinking
    assert request.options == {"num_predict": 64, "temperature": 0.2, "stop": ["。"]}
    assert [(m["role"], m["content"]) for m in request.messages] == [
        ("system", "Be brief. Be kind."), ("user", "hi"), ("tool", "20°C"), ("user", "and now?")]
    assert "is_error" not in request.messages[2]


@pytest.mark.parametrize(("thinking", "expected"), [(None, None), ({"type": "enabled", "budget_tokens": 9}, True),
                                                    ({"type": "disabled"}, False)])
def test_thinking_field(thinking, expected):
    body = {"model": "qwen3", "max_tokens": 8, "messages": HELLO}
    if thinking:
        body["thinking"] = thinking
    assert from_messages_request(body)[0].think is expected


@pytest.mark.parametrize(("body", "message"), [
    ({"model": "qwen3", "max_tokens": 0, "messages": HELLO}, "max_tokens is required and must be positive"),
    ({"model": "qwen3", "messages": HELLO}, "max_tokens is required and must be positive"),
    ({"max_tokens": 8, "messages": HELLO}, "model is required"),
    ({"model": "qwen3", "max_tokens": 8, "messages": []}, "messages is required"),
    ({"model": "qwen3", "max_tokens": 8, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "https://example.org/a.png"}}]}]},
     "invalid image source type: url. Only base64 images are supported."),
    ({"model": "qwen3", "max_tokens": 8, "messages": [{"role": "user", "content": [  # Anthropic's way to ask for them
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"},
         "citations": {"enabled": True}}]}]},
     "json: cannot unmarshal object into Go struct field MessagesRequest.messages.citations of type "
     "[]anthropic.Citation"),
])
def test_anthropic_middleware_refusals(body, message):
    with pytest.raises(OllamaError) as caught:
        from_messages_request(body)
    assert (caught.value.status, caught.value.message) == (400, message)


def test_citations_in_an_earlier_reply_are_read_and_a_document_is_dropped():
    cited = {"type": "char_location", "cited_text": "x", "document_index": 0, "start_char_index": 0,
             "end_char_index": 1}
    request, _ = from_messages_request({"model": "qwen3", "max_tokens": 8, "messages": [
        {"role": "assistant", "content": [{"type": "text", "text": "hi", "citations": [cited]}]},
        {"role": "user", "content": [{"type": "document", "source": {"type": "text", "data": "d"}},
                                     {"type": "text", "text": "ok"}]}]})
    assert [(m["role"], m["content"]) for m in request.messages] == [("assistant", "hi"), ("user", "ok")]


def check(model: str, think=None, tools=(), relax=True) -> ChatRequest:
    request = ChatRequest(model=model, messages=[], tools=list(tools), think=think, relax_thinking=relax)
    Runner(engine=None, stats=None).check(request)
    return request


def test_chat_handler_checks():
    assert check("qwen3").think is True  # thinking on when the request says nothing (ollama#15287)
    assert check("QWEN3:latest", think=False).think is False
    assert check("llama3.2", think=True).think is None  # relax_thinking: the Anthropic API never refuses
    with pytest.raises(OllamaError, match='"llama3.2" does not support thinking'):
        check("llama3.2", think="high", relax=False)  # the OpenAI path does
    with pytest.raises(OllamaError, match="^registry.ollama.ai/library/llava:latest does not support tools$"):
        check("llava", tools=[{"type": "function", "function": {"name": "f"}}])
    with pytest.raises(OllamaError, match="^model 'qwen3:8b' not found$") as caught:
        check("qwen3:8b")
    assert caught.value.status == 404


@pytest.mark.parametrize(("thinking", "effort", "expected"), [
    (None, "low", "low"), (None, " High ", "high"), (None, "xhigh", "high"), (None, "max", "max"),
    (None, "none", None), (None, "", None),
    ({"type": "disabled"}, "low", False),  # the effort is read only while think is still nil
    ({"type": "enabled", "budget_tokens": 2048}, "low", True),
    ({"type": "adaptive"}, "low", "low"),  # neither enabled nor disabled: think stays nil, so the effort counts
])
def test_output_config_effort(thinking, effort, expected):
    body = {"model": "gpt-oss", "max_tokens": 8, "messages": HELLO, "output_config": {"effort": effort}}
    if thinking:
        body["thinking"] = thinking
    assert from_messages_request(body)[0].think == expected


# What a gpt-oss request becomes, request by request: the table under "gpt-oss" in tests/ollama_double.py.
GPT_OSS_TABLE = [
    ({}, 256),
    ({"thinking": {"type": "enabled", "budget_tokens": 2048}, "output_config": {"effort": "low"}}, 256),
    ({"thinking": {"type": "disabled"}}, 256),
    ({"thinking": {"type": "disabled"}, "output_config": {"effort": "low"}}, 256),
    ({"output_config": {"effort": "low"}}, 64),
    ({"output_config": {"effort": "medium"}}, 256),
    ({"output_config": {"effort": "high"}}, 1024),
    ({"output_config": {"effort": "xhigh"}}, 1024),
    ({"output_config": {"effort": "max"}}, 1024),
]


@pytest.mark.parametrize(("fields", "tokens"), GPT_OSS_TABLE)
def test_gpt_oss_always_thinks_and_the_effort_sets_how_long(fields, tokens):
    request, _ = from_messages_request({"model": "gpt-oss", "max_tokens": 8, "messages": HELLO, **fields})
    Runner(engine=None, stats=None).check(request)
    assert reasoning_tokens(canonical_model(request.model), request.think) == tokens


@pytest.mark.parametrize(("effort", "tokens"), [("none", 256), ("minimal", 64), ("low", 64), ("medium", 256),
                                                ("high", 1024), ("xhigh", 1024), ("max", 1024)])
def test_gpt_oss_through_the_openai_api(effort, tokens):
    request, _, _ = from_chat_request({"model": "gpt-oss", "reasoning_effort": effort, "messages": HELLO})
    Runner(engine=None, stats=None).check(request)
    assert reasoning_tokens("gpt-oss", request.think) == tokens


def test_only_gpt_oss_maps_max_to_high_and_ignores_think_false():
    assert check("gpt-oss", think="max").think == "high"  # harmony's Reasoning field knows low/medium/high only
    assert check("qwen3", think="max").think == "max"
    assert check("gpt-oss").think is True and check("gpt-oss", think=False).think is False
    assert reasoning_tokens("qwen3", False) == 0 and reasoning_tokens("qwen3", "low") == 256
    assert reasoning_tokens("llama3.2", None) == 0


def test_openai_request_and_reply():
    request, stream, usage = from_chat_request({"model": "qwen3", "max_tokens": 9, "stream": True,
                                                "stream_options": {"include_usage": True},
                                                "reasoning_effort": "none", "messages": HELLO})
    assert (stream, usage, request.think) == (True, True, False)
    assert request.options == {"num_predict": 9, "temperature": 1.0, "top_p": 1.0}  # Ollama's OpenAI defaults
    with pytest.raises(OllamaError, match="image URLs are not currently supported"):
        from_chat_request({"model": "llava", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}}]}]})

    converter = OpenAIStream("chatcmpl-7", "qwen3", include_usage=True)
    chunks = [data for chunk in (Chunk(thinking="Hm"), Chunk(content="Hi"),
                                 Chunk(done=True, done_reason="stop", prompt_eval_count=5, eval_count=2))
              for data in converter.process(chunk)]
    assert [c["choices"][0]["delta"] if c["choices"] else c["usage"] for c in chunks] == [
        {"role": "assistant", "content": "", "reasoning": "Hm"}, {"content": "Hi"}, {},
        {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}]
    assert chunks[2]["choices"][0]["finish_reason"] == "stop" and chunks[0]["system_fingerprint"] == "fp_ollama"
    completion = to_chat_completion("chatcmpl-7", "qwen3", 0, Chunk(thinking="Hm", content="Hi", done=True,
                                                                     done_reason="length", eval_count=2))
    assert completion["choices"][0] == {"index": 0, "message": {"role": "assistant", "content": "Hi",
                                                                "reasoning": "Hm"}, "finish_reason": "length"}


# -- over HTTP, with nothing behind the double: what Ollama answers before a model runs ---------------------------


@pytest.fixture(scope="module")
def engineless():
    with OllamaDouble("http://127.0.0.1:9") as double:  # port 9: nothing listens, every engine call fails
        yield double


def fetch(double: OllamaDouble, path: str, body: dict | None = None, method: str | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(double.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_routes(engineless):
    assert fetch(engineless, "/") == (200, "text/plain; charset=utf-8", "Ollama is running")
    assert fetch(engineless, "/api/version")[2] == '{"version":"0.34.4"}'
    for path in ("/v1/v1/messages", "/v1/messages/count_tokens", "/api/chat/x"):
        assert fetch(engineless, path, {"model": "qwen3"}) == (404, "text/plain", "404 page not found")
    assert fetch(engineless, "/v1/messages", method="GET") == (405, "text/plain", "405 method not allowed")
    tags = json.loads(fetch(engineless, "/api/tags")[2])["models"]
    assert {m["name"]: m["capabilities"] for m in tags} == {
        "llama3.2:latest": ["completion", "tools"], "llava:latest": ["completion", "vision"],
        "qwen3:latest": ["completion", "tools", "thinking"], "gpt-oss:latest": ["completion", "tools", "thinking"]}
    status, _, body = fetch(engineless, "/api/show", {"model": "qwen3"})
    assert status == 200 and json.loads(body)["capabilities"] == ["completion", "tools", "thinking"]
    assert "thinking" not in json.loads(body)  # no thinking controls: qwen3 is on/off
    shown = json.loads(fetch(engineless, "/api/show", {"model": "gpt-oss"})[2])
    assert shown["thinking"] == {"values": ["low", "medium", "high"], "default": "medium"}  # no false to switch off
    not_found = (404, '{"error":"model \'mistral:latest\' not found"}')
    assert fetch(engineless, "/api/show", {"model": "mistral"})[::2] == not_found
    assert fetch(engineless, "/api/show", method="POST")[::2] == (400, '{"error":"missing request body"}')


def test_a_refused_request_leaves_the_connection_usable(engineless):
    """A 404 is sent without looking at the body; the body must still be read, or it poisons the next request."""
    connection = http.client.HTTPConnection("127.0.0.1", int(engineless.base_url.rsplit(":", 1)[1]), timeout=10)
    try:
        for path, status in (("/v1/messages/count_tokens", 404), ("/api/show", 200), ("/v1/v1/messages", 404)):
            connection.request("POST", path, json.dumps({"model": "qwen3", "messages": HELLO}))
            response = connection.getresponse()
            response.read()
            assert response.status == status
    finally:
        connection.close()


def test_unknown_model_matches_the_transcript(engineless):
    (exchange,) = load_recording("ollama_error_404_unknown_model")["exchanges"]
    status, content_type, body = fetch(engineless, "/v1/messages", exchange["request"]["json"])
    recorded = exchange["response"]
    assert (status, content_type) == (recorded["status"], recorded["headers"]["content-type"])
    ours, theirs = json.loads(body), json.loads(recorded["body"])
    assert re.fullmatch(r"req_[0-9a-f]{24}", ours.pop("request_id")) and theirs.pop("request_id")
    assert ours == theirs and body.endswith("}\n")


def test_a_runner_that_is_gone_is_a_500(engineless):
    client = anthropic.Anthropic(base_url=engineless.base_url, api_key="ollama", max_retries=0)
    with pytest.raises(anthropic.InternalServerError, match="model runner has unexpectedly stopped"):
        client.messages.create(model="llama3.2", max_tokens=8, messages=HELLO)
