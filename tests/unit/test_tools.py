"""run_tool_loop replayed through the real SDK.

Transcripts: ``tools_*.json`` in ``tests/recordings/`` and, for the three lesson 06 replays, ``notebooks/data/``.
All but one are constructed by hand in Ollama's wire format (the embedded 135M model never calls tools);
``tools_engine_get_weather`` is recorded from the embedded engine.
The assertions look at what the loop SENT (``replayer.requests``), not only at what it returned.
"""

from __future__ import annotations

import json
from pathlib import Path

import anthropic
import pytest
from ollama_anthropic_widgets.lessons.tools import (
    ToolCall,
    block_to_param,
    format_output,
    run_tool,
    run_tool_loop,
    tool_result_block,
)

from tests.replay import LESSON_DATA, RECORDINGS, load_recording, replay_client

USER = {"role": "user", "content": "北京今天天气怎么样?"}


def get_weather(city: str) -> dict:
    return {"city": city, "forecast": "晴", "temperature_c": 24}


def get_time(city: str) -> str:
    return "14:05"


def get_weather_or_raise(city: str) -> dict:
    """Lesson 06's demo function for a city it lacks, as in tools_tool_raises.json (recorded from a real Ollama)."""
    if city == "亚特兰蒂斯":
        raise KeyError(f"no demo weather for {city!r}; known cities: 北京, 上海, 广州")
    return get_weather(city)


def _run(name: str, functions: dict, **kwargs):
    recording = load_recording(name)
    first_request = recording["exchanges"][0]["request"]["json"]
    client, replayer = replay_client(recording["exchanges"])
    kwargs.setdefault("messages", first_request["messages"])
    kwargs.setdefault("max_tokens", first_request["max_tokens"])
    result = run_tool_loop(client, model=first_request["model"], tools=first_request["tools"], functions=functions,
                           **kwargs)
    return result, replayer, recording


def _tool_results(request: dict) -> list[dict]:
    last = request["json"]["messages"][-1]
    assert last["role"] == "user"
    return [block for block in last["content"] if block["type"] == "tool_result"]


def _assert_every_tool_use_answered(messages: list[dict]) -> None:
    """The conversation is valid to send: each assistant tool_use is answered in the next user message."""
    for index, message in enumerate(messages):
        content = message["content"] if isinstance(message["content"], list) else []
        use_ids = [block["id"] for block in content if block["type"] == "tool_use"]
        if message["role"] == "assistant" and use_ids:
            answer = messages[index + 1]
            assert answer["role"] == "user"
            assert [block["tool_use_id"] for block in answer["content"] if block["type"] == "tool_result"] == use_ids


def test_every_transcript_says_where_it_came_from():
    names = sorted(path.stem for folder in (RECORDINGS, LESSON_DATA) for path in folder.glob("tools_*.json"))
    assert len(names) >= 8
    for name in names:
        source = load_recording(name)["source"]
        assert source.startswith(("constructed by hand", "recorded")), name


def test_single_call_then_answer_sends_the_expected_requests():
    result, replayer, recording = _run("tools_single_get_weather", {"get_weather": get_weather})

    assert [request["json"] for request in replayer.requests] == [
        exchange["request"]["json"] for exchange in recording["exchanges"]]
    (sent,) = _tool_results(replayer.requests[1])
    assert sent == {"type": "tool_result", "tool_use_id": "call_k3v9x2qa",
                    "content": '{"city": "北京", "forecast": "晴", "temperature_c": 24}'}
    assert "is_error" not in sent
    assert result.stopped_because == "answered"
    assert result.iterations == 2
    assert result.answered_in_text is False
    assert result.text == "北京今天晴，气温 24°C。"
    assert result.calls == [ToolCall("call_k3v9x2qa", "get_weather", {"city": "北京"},
                                     '{"city": "北京", "forecast": "晴", "temperature_c": 24}', False)]
    assert result.final_message.stop_reason == "end_turn"
    assert result.messages == replayer.requests[1]["json"]["messages"]


def test_thinking_block_goes_back_in_history_without_an_invented_signature():
    _, replayer, _ = _run("tools_single_get_weather", {"get_weather": get_weather})
    assistant = replayer.requests[1]["json"]["messages"][1]
    assert [block["type"] for block in assistant["content"]] == ["thinking", "tool_use"]
    assert "signature" not in assistant["content"][0]


def test_two_tools_in_one_turn_get_one_user_message_with_both_results_in_order():
    result, replayer, recording = _run("tools_two_tools", {"get_weather": get_weather, "get_time": get_time})

    assert len(replayer.requests) == 2
    results = _tool_results(replayer.requests[1])
    assert [block["tool_use_id"] for block in results] == ["call_7h2m4p0z", "call_q8r1t6wd"]
    assert [block["content"] for block in results] == [
        '{"city": "北京", "forecast": "晴", "temperature_c": 24}', "14:05"]
    assert replayer.requests[1]["json"] == recording["exchanges"][1]["request"]["json"]
    assert [call.name for call in result.calls] == ["get_weather", "get_time"]
    assert result.text == "北京现在 14:05，天气晴，24°C。"
    _assert_every_tool_use_answered(result.messages)


def test_a_tool_that_raises_is_sent_back_with_is_error():
    result, replayer, recording = _run("tools_tool_raises", {"get_weather": get_weather_or_raise})

    (sent,) = _tool_results(replayer.requests[1])
    assert sent["is_error"] is True
    assert sent["tool_use_id"] == result.calls[0].id and sent["tool_use_id"].startswith("call_")
    assert sent["content"] == "Error: KeyError: \"no demo weather for '亚特兰蒂斯'; known cities: 北京, 上海, 广州\""
    assert replayer.requests[1]["json"] == recording["exchanges"][1]["request"]["json"]  # what the real loop sent
    assert result.calls[0].is_error is True
    assert result.stopped_because == "answered"
    answer = json.loads(recording["exchanges"][1]["response"]["body"])
    assert result.text and result.text == answer["content"][0]["text"]


def test_unknown_tool_is_an_error_result_and_model_input_is_never_executed(tmp_path):
    marker = Path("/tmp/tool_loop_pwned")
    marker.unlink(missing_ok=True)
    received = []

    def recording_weather(city: str) -> dict:
        received.append(city)
        return get_weather(city)

    result, replayer, recording = _run("tools_unknown_and_untrusted", {"get_weather": recording_weather})

    assert received == ["__import__('os').system('touch /tmp/tool_loop_pwned')"]
    assert not marker.exists()
    unknown, weather = _tool_results(replayer.requests[1])
    assert unknown["is_error"] is True
    assert unknown["content"] == "Error: unknown tool 'run_shell'. Available tools: get_weather."
    assert "is_error" not in weather
    assert json.loads(weather["content"])["city"] == received[0]
    assert replayer.requests[1]["json"] == recording["exchanges"][1]["request"]["json"]


def test_a_model_that_loops_forever_stops_at_max_iterations_with_a_consistent_conversation():
    called = []

    def counting_weather(city: str) -> dict:
        called.append(city)
        return get_weather(city)

    result, replayer, recording = _run("tools_loops_forever", {"get_weather": counting_weather}, max_iterations=3)

    assert len(replayer.requests) == 3  # the replayer would fail on a 4th request
    assert [request["json"] for request in replayer.requests] == [
        exchange["request"]["json"] for exchange in recording["exchanges"]]
    assert result.stopped_because == "max_iterations"
    assert result.iterations == 3
    assert called == ["北京", "北京"]  # the third call is not run: its result could never reach the model
    last = result.calls[-1]
    assert last.is_error is True and "max_iterations" in last.output
    assert result.messages[-1]["role"] == "user"
    _assert_every_tool_use_answered(result.messages)


def test_max_iterations_one_makes_a_single_request():
    result, replayer, _ = _run("tools_loops_forever", {"get_weather": get_weather}, max_iterations=1)
    assert len(replayer.requests) == 1
    assert result.stopped_because == "max_iterations"
    _assert_every_tool_use_answered(result.messages)


def test_max_iterations_below_one_is_rejected():
    client, replayer = replay_client([])
    with pytest.raises(ValueError, match="max_iterations"):
        run_tool_loop(client, model="qwen3", messages=[USER], tools=[], functions={}, max_iterations=0)
    assert replayer.requests == []


def test_a_model_that_answers_in_text_is_handled_cleanly():
    def must_not_run(city: str) -> dict:
        raise AssertionError("no tool should run")

    result, replayer, _ = _run("tools_answers_in_text", {"get_weather": must_not_run})

    assert len(replayer.requests) == 1
    assert result.answered_in_text is True
    assert result.stopped_because == "answered"
    assert result.calls == []
    assert result.text == "我无法获取实时天气，请查看天气预报。"
    assert result.messages == [USER]


def test_recorded_engine_exchange_answers_in_text():
    result, replayer, recording = _run("tools_engine_get_weather", {"get_weather": get_weather}, max_tokens=64)

    assert replayer.requests[0]["json"] == recording["exchanges"][0]["request"]["json"]
    assert result.answered_in_text is True
    assert result.iterations == 1
    assert result.text
    assert result.final_message.stop_reason in {"end_turn", "max_tokens"}


def test_a_model_without_tool_support_raises_the_servers_error():
    recording = load_recording("tools_no_tool_support")
    client, _ = replay_client(recording["exchanges"])
    with pytest.raises(anthropic.BadRequestError) as raised:
        run_tool_loop(client, model="smollm2", messages=[USER], tools=[], functions={})
    assert raised.value.status_code == 400
    assert "does not support tools" in raised.value.body["error"]["message"]


def test_system_and_extra_kwargs_reach_every_request():
    result, replayer, _ = _run("tools_single_get_weather", {"get_weather": get_weather}, system="你是一个友好的助手",
                               extra_body={"temperature": 0})
    for request in replayer.requests:
        assert request["json"]["system"] == "你是一个友好的助手"
        assert request["json"]["temperature"] == 0
    assert result.iterations == 2


def test_callers_messages_are_not_modified():
    messages = [dict(USER)]
    _run("tools_single_get_weather", {"get_weather": get_weather}, messages=messages)
    assert messages == [USER]


@pytest.mark.parametrize("tool_input, expected", [
    (["北京"], "must be a JSON object, got list"),
    ("北京", "must be a JSON object, got str"),
    ({"town": "北京"}, "Error: TypeError:"),
    ({"city": "北京", "extra": 1}, "Error: TypeError:"),
])
def test_bad_input_becomes_an_error_result(tool_input, expected):
    call = run_tool({"type": "tool_use", "id": "call_x", "name": "get_weather", "input": tool_input},
                    {"get_weather": get_weather})
    assert call.is_error is True
    assert expected in call.output
    assert tool_result_block(call) == {"type": "tool_result", "tool_use_id": "call_x", "content": call.output,
                                       "is_error": True}


def test_string_input_is_never_evaluated():
    call = run_tool({"type": "tool_use", "id": "call_x", "name": "get_weather",
                     "input": "__import__('os').system('touch /tmp/tool_loop_pwned')"}, {"get_weather": get_weather})
    assert call.is_error is True
    assert not Path("/tmp/tool_loop_pwned").exists()


def test_outputs_are_strings_or_json():
    assert format_output("已完成") == "已完成"
    assert format_output({"温度": 24}) == '{"温度": 24}'
    assert format_output([1, None, True]) == "[1, null, true]"
    assert format_output(Path("/tmp/x")) == '"/tmp/x"'
    assert format_output(None) == "null"


def test_block_to_param_drops_response_only_fields():
    assert block_to_param({"type": "text", "text": "hi", "citations": None}) == {"type": "text", "text": "hi"}
    assert block_to_param({"type": "thinking", "thinking": "hm", "signature": "sig"}) == {
        "type": "thinking", "thinking": "hm", "signature": "sig"}
