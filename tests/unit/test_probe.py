"""probe() against replayed responses, through the real SDK.

The Ollama responses here are constructed in Ollama's wire format (v0.32.15 anthropic/anthropic.go; behaviour table
in tests/ollama_double.py); not recorded: ids msg_…,
tool ids call_…, content in order thinking/text/tool_use, usage with only input/output tokens (as before Ollama 0.34,
which adds cache_read_input_tokens), no stop_sequence
key, SSE without ping, errors as {"type":"error","error":{…},"request_id":"req_…"} with the HTTP status kept, and
a plain-text "404 page not found" for routes Ollama lacks. ``probe_engine`` is recorded from the embedded engine.
"""

from __future__ import annotations

import hashlib
import json

import anthropic
import httpx2
import pytest
from ollama_anthropic_widgets.lessons.probe import (
    FEATURES,
    OUTCOMES,
    PROBE_MAX_TOKENS,
    TOOL_MAX_TOKENS,
    ProbeReport,
    probe,
)

from tests.replay import load_recording, replay_client

MESSAGES = "/v1/messages"
JSON = {"content-type": "application/json; charset=utf-8"}
_ids = iter(range(1, 10_000))


def _msg_id() -> str:
    return "msg_" + hashlib.sha256(f"probe-{next(_ids)}".encode()).hexdigest()[:24]


def _exchange(status: int, body: str, headers: dict[str, str], path: str = MESSAGES) -> dict:
    return {"request": {"method": "POST", "path": path, "json": None},
            "response": {"status": status, "headers": headers, "body": body}}


def reply(content: list[dict], stop_reason: str = "end_turn", input_tokens: int = 12, output_tokens: int = 4,
          model: str = "qwen3") -> dict:
    body = {"id": _msg_id(), "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}
    return _exchange(200, json.dumps(body, ensure_ascii=False), JSON)


def text(value: str) -> dict:
    return {"type": "text", "text": value}


def thinking(value: str) -> dict:
    return {"type": "thinking", "thinking": value}


def stream(blocks: list[dict], stop_reason: str = "end_turn", input_tokens: int = 12, model: str = "qwen3") -> dict:
    """An Ollama-shaped SSE body: one delta per text/thinking block, tool arguments in one input_json_delta."""
    def event(kind: str, data: dict) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data}, ensure_ascii=False)}\n\n"

    start = {"id": _msg_id(), "type": "message", "role": "assistant", "model": model, "content": [],
             "usage": {"input_tokens": input_tokens, "output_tokens": 0}}
    parts = [event("message_start", {"message": start})]
    for index, block in enumerate(blocks):
        if block["type"] == "tool_use":
            parts.append(event("content_block_start", {"index": index, "content_block": {**block, "input": {}}}))
            parts.append(event("content_block_delta", {"index": index, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(block["input"], ensure_ascii=False)}}))
        else:
            kind = block["type"]
            parts.append(event("content_block_start", {"index": index, "content_block": {"type": kind, kind: ""}}))
            parts.append(event("content_block_delta", {"index": index,
                                                       "delta": {"type": f"{kind}_delta", kind: block[kind]}}))
        parts.append(event("content_block_stop", {"index": index}))
    parts.append(event("message_delta", {"delta": {"stop_reason": stop_reason},
                                         "usage": {"input_tokens": input_tokens, "output_tokens": 9}}))
    parts.append(event("message_stop", {}))
    return _exchange(200, "".join(parts), {"content-type": "text/event-stream"})


def error(status: int, message: str, kind: str = "invalid_request_error", path: str = MESSAGES) -> dict:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_6c1f0b9e2d4a7f3e5b8c0a1d"}
    return _exchange(status, json.dumps(body), JSON, path)


def plain(status: int, body: str, path: str) -> dict:
    return _exchange(status, body, {"content-type": "text/plain"}, path)


def counts(warm: int, baseline: int) -> list[dict]:
    """The two same-shape requests before a comparison (max_tokens=1)."""
    return [reply([text("Hi")], "max_tokens", warm, 1), reply([text("Hi")], "max_tokens", baseline, 1)]


def ollama_qwen3_exchanges() -> list[dict]:
    """What Ollama with qwen3 (thinking + tools, no vision) and llava for images answers, in probe order."""
    return [
        reply([thinking("Okay, the user says hi")], "max_tokens", 12, 16),                      # basic create
        stream([thinking("The user greets me."), text("Hi!")]),                                  # streaming
        *counts(14, 9), reply([text("hi")], "end_turn", 45, 2),                                  # system blocks
        reply([text("Th")], "end_turn", 18, 1),                                                  # stop_sequences
        reply([text("Whiskers")]), reply([text("Pumpkin Spice")]), reply([text("Whiskers")]),    # sampling
        reply([thinking("17 + 25 = 42"), text("42")]),                                           # thinking enabled
        reply([thinking("17 + 25 = 42"), text("42")]), reply([text("42")]),                      # thinking disabled
        *counts(16, 11), reply([text("I don't know.")], "end_turn", 11, 5),                      # citations
        reply([text("hi")], "end_turn", 40, 2),                                                  # cache_control
        plain(404, "404 page not found", "/v1/messages/count_tokens"),                           # count_tokens
        stream([tool_use("call_0p3kq7zt", "get_weather", {"city": "北京"})], "tool_use"),         # tool_choice
        stream([tool_use("call_8vx2m1ls", "get_weather", {"city": "北京"})], "tool_use"),         # tools
        reply([text("Red")], "max_tokens", 590, 1, model="llava"),                               # base64 image
        *counts(20, 13), reply([text("Red")], "end_turn", 589, 2, model="llava"),
        error(400, "invalid image source type: url. Only base64 images are supported."),         # URL image
        reply([text("Hi")], "max_tokens", 12, 1),                                                # metadata
    ]


def tool_use(call_id: str, name: str, arguments: dict) -> dict:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def test_every_feature_gets_one_row_with_an_observed_outcome():
    client, replayer = replay_client(ollama_qwen3_exchanges())
    report = probe(client, "qwen3", vision_model="llava")

    assert [row["feature"] for row in report.rows] == list(FEATURES)
    assert len(replayer.requests) == len(ollama_qwen3_exchanges())  # every constructed answer was asked for
    assert all(row["outcome"] in OUTCOMES and row["detail"] for row in report.rows)
    outcomes = {row["feature"]: row["outcome"] for row in report.rows}
    assert outcomes == {
        "basic create": "works",
        "streaming": "works",
        "system as text blocks": "works",
        "stop_sequences": "partial",
        "sampling via extra_body": "works",
        "temperature= keyword": "error",
        "thinking enabled": "works",
        "thinking disabled": "works",
        "citations (document block)": "ignored",
        "cache_control": "ignored",
        "count_tokens": "error",
        "tool_choice": "ignored",
        "tools": "works",
        "base64 image": "works",
        "URL image": "error",
        "metadata": "ignored",
    }


def test_details_report_what_the_server_said():
    client, _ = replay_client(ollama_qwen3_exchanges())
    report = probe(client, "qwen3", vision_model="llava")

    assert report["count_tokens"]["detail"] == "HTTP 404: 404 page not found"
    assert report["URL image"]["detail"] == (
        "HTTP 400: invalid image source type: url. Only base64 images are supported.")
    assert "stop_reason='end_turn', stop_sequence=None" in report["stop_sequences"]["detail"]
    assert "TypeError" in report["temperature= keyword"]["detail"]
    assert "'temperature'" in report["temperature= keyword"]["detail"]
    assert "called get_weather, not the forced get_time" in report["tool_choice"]["detail"]
    assert report["tools"]["detail"] == 'tool call get_weather({"city": "北京"})'
    assert "11 prompt tokens with and without it" in report["citations (document block)"]["detail"]
    assert "prompt tokens 13 → 589" in report["base64 image"]["detail"]
    assert "cache_creation_input_tokens=None" in report["cache_control"]["detail"]
    assert report["streaming"]["detail"] == (
        "events in order of first appearance: message_start, content_block_start×2, content_block_delta×2, "
        "content_block_stop×2, message_delta, message_stop")
    assert "ping" not in report["streaming"]["detail"]


def test_requests_are_small_and_the_sampling_params_go_in_the_body():
    client, replayer = replay_client(ollama_qwen3_exchanges())
    probe(client, "qwen3", vision_model="llava")

    sent = [request["json"] for request in replayer.requests if request["path"] == MESSAGES]
    for body in sent:
        limit = TOOL_MAX_TOKENS if "tools" in body else PROBE_MAX_TOKENS
        assert body["max_tokens"] <= limit
    sampling = [body for body in sent if "temperature" in body]
    assert [body["temperature"] for body in sampling] == [0.0, 1.0, 0.0]
    assert {body["model"] for body in sent if any(
        block.get("type") == "image" for m in body["messages"] if isinstance(m["content"], list)
        for block in m["content"])} == {"llava"}
    forced = [body for body in sent if "tool_choice" in body]
    assert forced[0]["tool_choice"] == {"type": "tool", "name": "get_time"}


def test_comparisons_keep_prompts_distinct_and_same_shaped():
    client, replayer = replay_client([*counts(14, 9), reply([text("hi")], "end_turn", 45, 2)])
    probe(client, "qwen3", features=["system as text blocks"])

    warm, baseline, feature = (request["json"] for request in replayer.requests)
    prompts = [body["messages"][0]["content"][-1]["text"] for body in (warm, baseline, feature)]
    assert len(set(prompts)) == 3
    assert {prompt.split(") ", 1)[1] for prompt in prompts} == {"Say hi."}
    assert "system" not in warm and "system" not in baseline
    assert feature["system"][0]["type"] == "text"


def test_dropped_blocks_are_ignored_and_reaching_blocks_work():
    dropped = [*counts(14, 9), reply([text("hi")], "end_turn", 9, 2)]
    client, _ = replay_client(dropped)
    assert probe(client, "m", features=["system as text blocks"])["system as text blocks"]["outcome"] == "ignored"

    image_dropped = [reply([text("Red")], "max_tokens", 13, 1), *counts(20, 13),
                     reply([text("Red")], "end_turn", 13, 2)]
    client, _ = replay_client(image_dropped)
    row = probe(client, "qwen3", features=["base64 image"])["base64 image"]
    assert row["outcome"] == "ignored"
    assert "the image was dropped" in row["detail"]


def test_prompt_tokens_include_cache_reads_reported_separately():
    # llama-server style: input_tokens counts only uncached tokens, cache_read_input_tokens the rest
    def cached(input_tokens: int, cache_read: int) -> dict:
        body = {"id": "chatcmpl-x", "type": "message", "role": "assistant", "model": "m", "content": [text("Hi")],
                "stop_reason": "max_tokens", "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "cache_read_input_tokens": cache_read, "output_tokens": 1}}
        return _exchange(200, json.dumps(body), JSON)

    client, _ = replay_client([cached(40, 0), cached(2, 38), cached(2, 38)])
    row = probe(client, "m", features=["citations (document block)"])["citations (document block)"]
    assert row["outcome"] == "ignored"
    assert "40 prompt tokens" in row["detail"]


@pytest.mark.parametrize("content, stop_reason, outcome", [
    ([text("The weather is")], "end_turn", "ignored"),
    ([text("Th")], "stop_sequence", "works"),
    ([text("Th")], "end_turn", "partial"),
    ([text("1 2 3 4 5 6 7 8 9 10 11 12 13 14")], "max_tokens", "inconclusive"),
])
def test_stop_sequence_outcome_follows_what_came_back(content, stop_reason, outcome):
    client, _ = replay_client([reply(content, stop_reason)])
    assert probe(client, "m", features=["stop_sequences"])["stop_sequences"]["outcome"] == outcome


def test_sampling_params_with_no_effect_are_ignored():
    client, _ = replay_client([reply([text("Whiskers")]), reply([text("Whiskers")]), reply([text("Whiskers")])])
    row = probe(client, "m", features=["sampling via extra_body"])["sampling via extra_body"]
    assert row["outcome"] == "ignored"


def test_model_without_tool_support_is_an_error_with_the_message():
    message = "registry.ollama.ai/library/gemma3:4b does not support tools"
    client, _ = replay_client([error(400, message), error(400, message)])
    report = probe(client, "gemma3:4b", features=["tools", "tool_choice"])
    assert [row["outcome"] for row in report.rows] == ["error", "error"]
    assert report["tools"]["detail"] == f"HTTP 400: {message}"


def test_text_answer_to_tools_stops_reading_early():
    words = [text(f"w{index} ") for index in range(40)]
    client, replayer = replay_client([stream(words, "max_tokens")])
    row = probe(client, "m", features=["tools"])["tools"]
    assert row["outcome"] == "ignored"
    assert "w15" in row["detail"] and "w16" not in row["detail"]
    assert len(replayer.requests) == 1


def test_server_messages_are_escaped_in_html_and_kept_to_one_line():
    hostile = '<img src=x onerror="alert(1)"> not found\nsecond line <script>alert(2)</script>'
    client, _ = replay_client([plain(404, hostile, "/v1/messages/count_tokens")])
    report = probe(client, "<b>model</b>", features=["count_tokens"])

    page = report._repr_html_()
    assert "<img" not in page and "<script" not in page and "<b>model" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; not found" in page
    detail = report["count_tokens"]["detail"]  # one line, as the server's message is, whitespace collapsed
    assert detail == 'HTTP 404: <img src=x onerror="alert(1)"> not found second line <script>alert(2)</script>'
    assert "\n" not in detail and len(str(report).splitlines()) == 3  # title, header, the one row


def test_long_server_messages_are_truncated():
    client, _ = replay_client([error(500, "x" * 1000, "api_error")])
    detail = probe(client, "m", features=["metadata"])["metadata"]["detail"]
    assert len(detail) <= 160 and detail.endswith("…")


def test_plain_text_table_lists_every_row():
    client, _ = replay_client(ollama_qwen3_exchanges())
    report = probe(client, "qwen3", vision_model="llava")
    lines = str(report).splitlines()
    assert lines[0].startswith("Compatibility probe of qwen3 (images: llava): 16 features in ")
    assert lines[1].split() == ["feature", "outcome", "detail"]
    for line, row in zip(lines[2:], report.rows, strict=True):
        assert line.startswith(row["feature"])
        assert f" {row['outcome']} " in line
    assert report.to_rows() == report.rows and report.to_rows() is not report.rows
    assert set(report.seconds) == set(FEATURES)


def test_no_retries_even_if_the_client_has_them():
    calls = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        return httpx2.Response(500, json={"type": "error", "error": {"type": "api_error", "message": "boom"}})

    client = anthropic.Anthropic(base_url="http://probe.invalid", api_key="ollama", max_retries=2,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    report = probe(client, "m", features=["basic create"])
    assert calls == [MESSAGES]
    assert report.rows == [{"feature": "basic create", "outcome": "error", "detail": "HTTP 500: boom"}]


def test_unreachable_server_is_tried_once():
    calls = []

    def refuse(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        raise httpx2.ConnectError("connection refused")

    client = anthropic.Anthropic(base_url="http://probe.invalid", api_key="ollama",
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(refuse)))
    report = probe(client, "m")
    assert len(calls) == 1
    assert report.rows[0]["outcome"] == "error"
    assert report.rows[0]["detail"].startswith("cannot reach the model server at http://probe.invalid")
    assert all(row["outcome"] == "error" and row["detail"].startswith("not tried:") for row in report.rows[1:])


def test_a_dropped_kept_alive_connection_is_retried_once_not_taken_for_an_unreachable_server():
    # llama-server sometimes closes the connection a stream left open; the next request then fails with
    # "Server disconnected" (httpx2.RemoteProtocolError). Seen in about half of the probe runs against the engine.
    calls = []

    def drop_first(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx2.Response(200, content=reply([text("hi")])["response"]["body"], headers=JSON)

    client = anthropic.Anthropic(base_url="http://probe.invalid", api_key="ollama",
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(drop_first)))
    report = probe(client, "m", features=["basic create", "system as text blocks"])
    assert report["basic create"]["outcome"] == "works", report.rows
    assert not any(row["detail"].startswith("not tried:") for row in report.rows)
    assert len(calls) >= 3  # the dropped request, its retry, then the next feature


def test_unknown_feature_names_are_rejected_before_any_request():
    client, replayer = replay_client([])
    with pytest.raises(ValueError, match="unknown probe feature"):
        probe(client, "m", features=["teleportation"])
    assert replayer.requests == []


def test_report_lookup_of_a_missing_feature_raises_key_error():
    with pytest.raises(KeyError):
        ProbeReport(rows=[])["tools"]


def test_recorded_engine_probe_replays_to_the_same_table():
    recording = load_recording("probe_engine")
    client, replayer = replay_client(recording["exchanges"])
    report = probe(client, "smollm2-135m")
    assert len(replayer.requests) == len(recording["exchanges"])
    assert report.rows == recording["observed_rows"]
    assert report["count_tokens"]["outcome"] == "works"
    assert report["base64 image"]["outcome"] == "error"
    assert "image input is not supported" in report["base64 image"]["detail"]


def test_a_model_still_thinking_at_the_token_limit_is_inconclusive_not_ignored():
    client, _ = replay_client([stream([thinking("Let me think about which tool fits " * 20)], "max_tokens")])
    row = probe(client, "qwen3", features=["tools"])["tools"]
    assert row["outcome"] == "inconclusive"
    assert row["detail"].endswith(
        "no tool call and no text within 256 tokens after 1 thinking deltas (stop_reason=max_tokens)")
