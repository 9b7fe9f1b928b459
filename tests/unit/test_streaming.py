"""Streaming without a server: recorded engine streams and Ollama-shaped transcripts replayed through the
real SDK (tests/replay.py; each recording names its source), plus the same events as plain dicts.

Recordings: stream_poem, stream_max_tokens, create_hello, error_500_image, error_404_base_url_v1 — real traffic
from the embedded engine (tests/recordings/record_engine.py); ollama_* — recorded from a real Ollama v0.34.4
(tests/recordings/record_real_ollama.py), except ollama_stream_xss, constructed in its wire format
(tests/recordings/build_ollama_transcripts.py).
"""

from __future__ import annotations

import json

import anthropic
import httpx2
import pytest
from ollama_anthropic_widgets.core.messages import prompt_tokens
from ollama_anthropic_widgets.core.streaming import (
    StreamAccumulator,
    StreamInterrupted,
    StreamResult,
    Throttle,
    describe_error,
    interruption_message,
)

from tests.net import closed_port
from tests.replay import LOST_CONNECTION, Replayer, caused_by, load_recording, replay_client
from tests.stream_samples import sse_frames

ASK = {"max_tokens": 200, "messages": [{"role": "user", "content": "写一首诗"}]}


def accumulate(recording: str, **replay_options) -> tuple[StreamAccumulator, anthropic.types.Message]:
    client, _ = replay_client(recording, **replay_options)
    accumulator = StreamAccumulator()
    with client.messages.stream(model="m", **ASK) as stream:
        for event in stream:
            accumulator.feed(event)
        return accumulator, stream.get_final_message()


def dict_events(recording: str) -> list[dict]:
    body = load_recording(recording)["exchanges"][0]["response"]["body"]
    return [json.loads(frame.split("data:", 1)[1]) for frame in sse_frames(body)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("recording", ["stream_poem", "stream_max_tokens", "ollama_stream_thinking_text",
                                       "ollama_stream_tool_use", "ollama_stream_xss"])
def test_accumulator_agrees_with_the_sdks_final_message(recording):
    accumulator, message = accumulate(recording)
    result = accumulator.result()
    assert result.text == "".join(b.text for b in message.content if b.type == "text")
    assert result.thinking == "".join(b.thinking for b in message.content if b.type == "thinking")
    assert result.tool_uses == [{"id": b.id, "name": b.name, "input": b.input}
                                for b in message.content if b.type == "tool_use"]
    assert (result.stop_reason, result.input_tokens, result.output_tokens) == (
        message.stop_reason, prompt_tokens(message.usage), message.usage.output_tokens)
    assert (result.model, result.message_id) == (message.model, message.id)
    assert result.complete and result.error is None
    assert result.text or result.tool_uses


def test_derived_events_are_not_counted_twice():
    """MessageStream yields a `text` event next to each text_delta; the text must appear once."""
    accumulator, message = accumulate("stream_poem")
    assert len(accumulator.text) == len(message.content[0].text) > 100


@pytest.mark.parametrize("recording", ["stream_poem", "ollama_stream_tool_use"])
def test_plain_dict_events_give_the_same_result(recording):
    from_sdk, _ = accumulate(recording)
    from_dicts = StreamAccumulator()
    for event in dict_events(recording):
        from_dicts.feed(event)
    expected, got = from_sdk.result(), from_dicts.result()
    assert (got.text, got.thinking, got.tool_uses, got.stop_reason, got.output_tokens) == (
        expected.text, expected.thinking, expected.tool_uses, expected.stop_reason, expected.output_tokens)


def test_recorded_engine_stream_shape():
    result = accumulate("stream_max_tokens")[0].result()
    assert result.stop_reason == "max_tokens" and result.output_tokens == 12
    poem = accumulate("stream_poem")[0].result()
    assert poem.output_tokens == 200 and poem.model == "smollm2-135m"


def test_thinking_then_tool_use():
    result = accumulate("ollama_stream_tool_use")[0].result()
    assert result.thinking.startswith("The user asks")
    assert result.text == ""
    (call,) = result.tool_uses
    assert call["name"] == "get_weather" and call["input"] == {"city": "Paris"}
    assert call["id"].startswith("call_") and call["id"] in load_recording("ollama_stream_tool_use")["exchanges"][0][
        "response"]["body"]
    assert result.stop_reason == "tool_use"


def test_timing_with_an_injected_clock():
    clock = FakeClock()
    accumulator = StreamAccumulator(clock=clock)
    events = dict_events("stream_max_tokens")
    for event in events:
        if event["type"] == "content_block_delta":
            clock.now += 0.01
        if event["type"] == "message_stop":
            clock.now += 0.5
        accumulator.feed(event)
    result = accumulator.result()
    deltas = sum(e["type"] == "content_block_delta" for e in events)
    assert result.ttft_s == pytest.approx(0.01)
    assert result.duration_s == pytest.approx(0.01 * deltas + 0.5)
    assert result.output_tokens_per_s == pytest.approx(12 / (0.01 * (deltas - 1) + 0.5))


def test_snapshot_before_the_end_is_partial():
    clock = FakeClock()
    accumulator = StreamAccumulator(clock=clock)
    for event in dict_events("stream_poem")[:10]:
        accumulator.feed(event)
    clock.now += 2.0
    result = accumulator.result()
    assert not result.complete and result.stop_reason is None
    assert result.text and result.duration_s == pytest.approx(2.0)


def test_tool_json_in_several_pieces_shows_partial_then_parsed():
    accumulator = StreamAccumulator()
    accumulator.feed({"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {}}})
    accumulator.feed({"type": "content_block_start", "index": 0,
                      "content_block": {"type": "tool_use", "id": "call_1", "name": "f", "input": {}}})
    accumulator.feed({"type": "content_block_delta", "index": 0,
                      "delta": {"type": "input_json_delta", "partial_json": '{"a": '}})
    assert accumulator.tool_uses[0]["input"] == '{"a": '
    accumulator.feed({"type": "content_block_delta", "index": 0,
                      "delta": {"type": "input_json_delta", "partial_json": "[1, 2]}"}})
    accumulator.feed({"type": "content_block_stop", "index": 0})
    assert accumulator.tool_uses[0]["input"] == {"a": [1, 2]}


def test_invalid_tool_json_is_kept_as_text_never_evaluated():
    accumulator = StreamAccumulator()
    accumulator.feed({"type": "content_block_start", "index": 0,
                      "content_block": {"type": "tool_use", "id": "call_1", "name": "f", "input": {}}})
    accumulator.feed({"type": "content_block_delta", "index": 0,
                      "delta": {"type": "input_json_delta", "partial_json": "__import__('os').system('x')"}})
    accumulator.feed({"type": "content_block_stop", "index": 0})
    assert accumulator.tool_uses[0]["input"] == "__import__('os').system('x')"


@pytest.mark.parametrize("cut_after", [1500, 6000, 15000])
def test_cut_stream_keeps_the_partial_text(cut_after):
    client, _ = replay_client("stream_poem", cut_after=cut_after)
    accumulator = StreamAccumulator()
    with pytest.raises(LOST_CONNECTION) as caught:
        with client.messages.stream(model="m", **ASK) as stream:
            for event in stream:
                accumulator.feed(event)
    assert caused_by(caught.value, httpx2.RemoteProtocolError)
    full = accumulate("stream_poem")[0].text
    assert accumulator.text and full.startswith(accumulator.text) and accumulator.text != full
    assert accumulator.stop_reason is None


def test_from_message_on_a_recorded_create():
    client, _ = replay_client("create_hello")
    message = client.messages.create(model="m", max_tokens=64, messages=[{"role": "user", "content": "你好"}])
    result = StreamResult.from_message(message)
    assert result.text == message.content[0].text and result.text
    assert (result.input_tokens, result.output_tokens, result.stop_reason) == (
        prompt_tokens(message.usage), message.usage.output_tokens, message.stop_reason)


def test_throttle_charges_one_interval_per_update():
    clock = FakeClock()
    throttle = Throttle(0.05, clock=clock)
    assert throttle.ready()
    throttle.spent(3)
    clock.now += 0.149
    assert not throttle.ready()
    clock.now += 0.002
    assert throttle.ready()
    throttle.spent(0)
    assert throttle.ready()


def test_throttle_bounds_updates_per_second_whatever_the_event_rate():
    clock = FakeClock()
    throttle = Throttle(0.06, clock=clock)
    pushed = 0
    for _ in range(5000):  # 5000 events in one simulated second
        clock.now += 0.0002
        if throttle.ready():
            throttle.spent(1)
            pushed += 1
    assert 15 <= pushed <= 17


def test_describe_error_no_server_at_all():
    port = closed_port()
    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="ollama", max_retries=0, timeout=5)
    with pytest.raises(anthropic.APIConnectionError) as caught:
        client.messages.create(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    line = describe_error(caught.value)
    assert f"127.0.0.1:{port}" in line and "cannot reach" in line and "ollama serve" in line
    assert "\n" not in line


def test_describe_error_server_reached_then_dropped():
    """A server that answered and then closed the connection is not "down": the line says so and does not send the
    learner to `ollama serve`. Real transport, real SDK: the replay cuts the body before its first event."""
    client, _ = replay_client("stream_poem", cut_after=0)
    with pytest.raises(LOST_CONNECTION) as caught:
        with client.messages.stream(model="m", **ASK) as stream:
            stream.until_done()
    line = describe_error(caught.value)
    assert "peer closed connection" in line and "\n" not in line
    assert "cannot reach" not in line and "ollama serve" not in line
    if isinstance(caught.value, anthropic.APIConnectionError):  # anthropic >= 2.17: the kit names what happened
        assert line.startswith("the model server at http://replay.invalid closed the connection before the reply")
        assert "run it again" in line.lower()


@pytest.mark.parametrize(("recording", "base_url", "expected"), [
    ("error_500_image", "http://replay.invalid", ["HTTP 500", "image input is not supported"]),
    ("ollama_error_404_unknown_model", "http://replay.invalid", ["HTTP 404", "model 'no-such-model' not found",
                                                                 "ollama list"]),
    ("error_404_base_url_v1", "http://replay.invalid/v1", ["HTTP 404", "no /v1"]),
])
def test_describe_error_for_recorded_http_errors(recording, base_url, expected):
    replayer = Replayer(load_recording(recording)["exchanges"])
    client = anthropic.Anthropic(base_url=base_url, api_key="ollama", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(replayer)))
    with pytest.raises(anthropic.APIStatusError) as caught:
        with client.messages.stream(model="no-such-model", **ASK):
            pass
    line = describe_error(caught.value)
    for part in expected:
        assert part in line
    assert "\n" not in line and len(line) <= 300


def test_interruption_message_is_one_actionable_line():
    line = interruption_message(httpx2.RemoteProtocolError("peer closed\nconnection"),
                                StreamResult(text="abc", thinking="t"))
    assert "\n" not in line
    assert "3 characters" in line and "RemoteProtocolError" in line and "run it again" in line


def test_stream_interrupted_carries_the_result():
    result = StreamResult(text="partial")
    error = StreamInterrupted("dropped", result)
    assert error.partial_text == "partial" and error.result is result and str(error) == "dropped"


@pytest.mark.parametrize("recording", ["stream_poem", "ollama_stream_thinking_text", "ollama_stream_tool_use"])
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_raw_sse_bytes_give_what_the_sdks_events_give(recording, chunk):
    """feed_sse (what UsageTracker.watch() meters with) reads the very bytes the SDK parsed, split anywhere."""
    expected = accumulate(recording)[0].result()
    body = load_recording(recording)["exchanges"][0]["response"]["body"].replace("\n", "\r\n").encode()
    accumulator = StreamAccumulator()
    for start in range(0, len(body), chunk):
        accumulator.feed_sse(body[start: start + chunk])
    accumulator.feed_sse(b"", final=True)
    result = accumulator.result()
    for name in ("text", "thinking", "tool_uses", "stop_reason", "input_tokens", "output_tokens", "model"):
        assert getattr(result, name) == getattr(expected, name), name
    assert accumulator.stopped and result.complete


def test_an_error_event_mid_stream_is_kept_as_the_error():
    accumulator = StreamAccumulator()
    accumulator.feed_sse(b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
                         b'"message": "Overloaded"}}\n\n')
    assert accumulator.error == "Overloaded" and not accumulator.result().complete


def test_tokens_per_second_is_one_definition_for_streams_and_usage_rows():
    from ollama_anthropic_widgets.core.streaming import tokens_per_second
    from ollama_anthropic_widgets.core.usage import row_from_message

    clock = FakeClock()
    accumulator = StreamAccumulator(clock=clock)
    clock.now += 0.5
    accumulator.feed({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}})
    accumulator.feed({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 30}})
    clock.now += 1.5
    accumulator.feed({"type": "message_stop"})
    result = accumulator.result()
    row = row_from_message({"usage": {"input_tokens": 1, "output_tokens": 30}}, latency_s=2.0, ttft_s=0.5)
    assert result.output_tokens_per_s == row["output_tokens_per_s"] == tokens_per_second(30, 2.0, 0.5) == 20.0
    assert tokens_per_second(30, 0.5, ttft_s=0.5) is None  # no generation time: no speed, never a division by 0
