"""builds the tools_*.json transcripts, in Ollama's wire format: tests/recordings/, and notebooks/data/ for those a
lesson reads (the unit tests read them from there: one copy): lesson 06's tools_loops_forever.json, a model that keeps
calling a tool, which no small model of ours does (tried on the real Ollama with earlier turns that show it), and the
two its exercises check a learner's code on. Lesson 06's other two, tools_tool_raises.json and
tools_no_tool_support.json, are recorded from a real Ollama by record_real_ollama.py."""
import hashlib
import json
import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))  # the repo root
from ollama_anthropic_widgets.lessons import replay  # noqa: E402

from tests.replay import LESSON_DATA, save_recording  # noqa: E402

SOURCE = ("constructed by hand in Ollama's wire format (anthropic/anthropic.go ToMessagesResponse and NewError, "
          "v0.14 to v0.32.15), not recorded: non-streamed POST /v1/messages; "
          "ids msg_<24 hex> and call_<8 chars>; content in order thinking, text, tool_use; model echoes the request; "
          "no stop_sequence key; usage has only input_tokens and output_tokens")
READ_BY_LESSONS = {"tools_loops_forever",  # lesson 06; its other two are recorded by record_real_ollama.py
                   "tools_single_get_weather", "tools_two_tools"}  # the exercises (exercises/)
MODEL = "qwen3"
USER = {"role": "user", "content": "北京今天天气怎么样?"}
WEATHER = {"name": "get_weather", "description": "获取指定城市的天气",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string", "description": "城市名称"}},
                            "required": ["city"]}}
TIME = {"name": "get_time", "description": "Get the local time in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}

_counter = [0]


def msg_id():
    _counter[0] += 1
    return "msg_" + hashlib.sha256(f"tools-{_counter[0]}".encode()).hexdigest()[:24]


def response(content, stop_reason, input_tokens, output_tokens):
    body = {"id": msg_id(), "type": "message", "role": "assistant", "model": MODEL, "content": content,
            "stop_reason": stop_reason, "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}
    return {"status": 200, "headers": {"content-type": "application/json; charset=utf-8"},
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}


def error(status, etype, message):
    body = {"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_3f9a0c1e5b7d2a4c6e8f0a1b"}
    return {"status": status, "headers": {"content-type": "application/json; charset=utf-8"},
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}


def request(messages, tools, max_tokens=1024):
    return {"method": "POST", "path": "/v1/messages",
            "json": {"max_tokens": max_tokens, "messages": messages, "model": MODEL, "tools": tools}}


def thinking(text):
    return {"type": "thinking", "thinking": text}


def text(t):
    return {"type": "text", "text": t}


def tool_use(call_id, name, arguments):
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def result(call_id, content, is_error=False):
    block = {"type": "tool_result", "tool_use_id": call_id, "content": content}
    if is_error:
        block["is_error"] = True
    return block


def single():
    call = tool_use("call_k3v9x2qa", "get_weather", {"city": "北京"})
    turn1 = [thinking("The user asks about the weather in Beijing. I should call get_weather."), call]
    m2 = [USER, {"role": "assistant", "content": turn1},
          {"role": "user", "content": [result("call_k3v9x2qa", '{"city": "北京", "forecast": "晴", "temperature_c": 24}')]}]
    return [
        {"request": request([USER], [WEATHER]), "response": response(turn1, "tool_use", 182, 41)},
        {"request": request(m2, [WEATHER]),
         "response": response([thinking("The tool says sunny, 24 °C."), text("北京今天晴，气温 24°C。")], "end_turn", 251, 38)},
    ]


def two_tools():
    user = {"role": "user", "content": "北京现在几点，天气怎么样?"}
    turn1 = [text("I'll look up both."), tool_use("call_7h2m4p0z", "get_weather", {"city": "北京"}),
             tool_use("call_q8r1t6wd", "get_time", {"city": "北京"})]
    m2 = [user, {"role": "assistant", "content": turn1},
          {"role": "user", "content": [result("call_7h2m4p0z", '{"city": "北京", "forecast": "晴", "temperature_c": 24}'),
                                       result("call_q8r1t6wd", "14:05")]}]
    return [
        {"request": request([user], [WEATHER, TIME]), "response": response(turn1, "tool_use", 240, 58)},
        {"request": request(m2, [WEATHER, TIME]),
         "response": response([text("北京现在 14:05，天气晴，24°C。")], "end_turn", 322, 21)},
    ]


def unknown_and_untrusted():
    user = {"role": "user", "content": "北京今天天气怎么样?"}
    hostile = "__import__('os').system('touch /tmp/tool_loop_pwned')"
    turn1 = [tool_use("call_a1s2d3f4", "run_shell", {"command": "rm -rf /"}),
             tool_use("call_g5h6j7k8", "get_weather", {"city": hostile})]
    m2 = [user, {"role": "assistant", "content": turn1},
          {"role": "user", "content": [
              result("call_a1s2d3f4", "Error: unknown tool 'run_shell'. Available tools: get_weather.", is_error=True),
              result("call_g5h6j7k8", json.dumps({"city": hostile, "forecast": "晴", "temperature_c": 24},
                                                 ensure_ascii=False))]}]
    return [
        {"request": request([user], [WEATHER]), "response": response(turn1, "tool_use", 182, 52)},
        {"request": request(m2, [WEATHER]), "response": response([text("I could not run that.")], "end_turn", 260, 9)},
    ]


def loops_forever():
    exchanges, conversation = [], [USER]
    for n, call_id in enumerate(["call_p4w8e2rt", "call_y6u1i9op", "call_m3n5b7vc"]):
        turn = [tool_use(call_id, "get_weather", {"city": "北京"})]
        exchanges.append({"request": request(list(conversation), [WEATHER]),
                          "response": response(turn, "tool_use", 182 + 60 * n, 24)})
        conversation += [{"role": "assistant", "content": turn},
                         {"role": "user", "content": [
                             result(call_id, '{"city": "北京", "forecast": "晴", "temperature_c": 24}')]}]
    return exchanges


def answers_in_text():
    return [{"request": request([USER], [WEATHER]),
             "response": response([thinking("I can answer without tools."), text("我无法获取实时天气，请查看天气预报。")],
                                  "end_turn", 182, 30)}]


for name, build in [("tools_single_get_weather", single), ("tools_two_tools", two_tools),
                    ("tools_unknown_and_untrusted", unknown_and_untrusted),
                    ("tools_loops_forever", loops_forever), ("tools_answers_in_text", answers_in_text)]:
    if name in READ_BY_LESSONS:
        print(replay.save_recording(LESSON_DATA / f"{name}.json", SOURCE, build()))
    else:
        print(save_recording(name, SOURCE, build()))
