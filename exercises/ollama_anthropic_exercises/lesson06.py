"""Lesson 06's exercises: find the tool calls in a reply; answer one call safely; a tool loop that stops after N
rounds. The model's side of every tool call here is constructed in Ollama's wire format (notebooks/data/tools_*.json,
``tests/recordings/build_tool_transcripts.py``): the engine the project records from never calls a tool."""

from __future__ import annotations

import json
from typing import Any

from anthropic.types import ToolUseBlock

from . import replies
from .core import Context, Exercise, Incorrect, call, quietly, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "Keep the blocks with `block.type == \"tool_use\"`, in order, and make a `(block.name, block.input)` "
              "pair of each. A reply with no tool call gives `[]`.",
        "zh": "按顺序保留 `block.type == \"tool_use\"` 的块，每个块组成一个 `(block.name, block.input)` 二元组。"
              "没有工具调用的回复返回 `[]`。",
    },
    "ex2": {
        "en": "Inside `try`: `output = functions[call.name](**call.input)`, then return a tool_result whose content "
              "is `json.dumps(output, ensure_ascii=False)`. In `except Exception as error`: return a tool_result with "
              "`\"is_error\": True` and the error's text as content. Both carry `\"tool_use_id\": call.id`.",
        "zh": "在 `try` 里：`output = functions[call.name](**call.input)`，然后返回一个 tool_result，content 为 "
              "`json.dumps(output, ensure_ascii=False)`。在 `except Exception as error` 里：返回带 `\"is_error\": "
              "True` 的 tool_result，content 写上错误信息。两种都要带 `\"tool_use_id\": call.id`。",
    },
    "ex3": {
        "en": "Loop at most `max_rounds` times: call the model (with `tools`); if the reply has no tool_use block, "
              "return it. Otherwise append `{\"role\": \"assistant\", \"content\": reply.content}` and a user message "
              "with one tool_result per call (exercise 2), and go round again. After the last round, return the last "
              "reply.",
        "zh": "最多循环 `max_rounds` 次：调用模型（带上 `tools`）；回复里没有 tool_use 块就把它返回。否则追加 "
              "`{\"role\": \"assistant\", \"content\": reply.content}`，再追加一条用户消息，每个调用对应一个 "
              "tool_result（练习 2），然后进入下一轮。最后一轮结束后，返回最后一次的回复。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.not_list": {
        "en": "For {case}, `tool_calls_of` returned {got}; it should return a list of (name, input) pairs.",
        "zh": "对 {case}，`tool_calls_of` 返回了 {got}；它应该返回由（名称，输入）二元组组成的列表。",
    },
    "ex1.wrong": {
        "en": "For {case}, `tool_calls_of` returned {got}; the reply's tool_use blocks give {want}.",
        "zh": "对 {case}，`tool_calls_of` 返回了 {got}；回复里的 tool_use 块应该得到 {want}。",
    },
    "ex2.escaped": {
        "en": "`answer_call` let {error} out for {case}. A failing tool must not stop your program: catch the "
              "exception and return a tool_result with `\"is_error\": True` and the error's text.",
        "zh": "`answer_call` 处理 {case} 时让 {error} 抛了出来。工具出错不应该让程序停下：捕获异常，返回一个带 "
              "`\"is_error\": True` 和错误信息的 tool_result。",
    },
    "ex2.not_block": {
        "en": "For {case}, `answer_call` returned {got}; it should return a dict with \"type\": \"tool_result\".",
        "zh": "对 {case}，`answer_call` 返回了 {got}；它应该返回一个带 \"type\": \"tool_result\" 的字典。",
    },
    "ex2.wrong_id": {
        "en": "For {case}, the tool_result's tool_use_id is {got}; it must be the call's id, {want}, or the model "
              "cannot tell which call it answers.",
        "zh": "对 {case}，tool_result 的 tool_use_id 是 {got}；它必须是这次调用的 id，{want}，"
              "否则模型分不清它回答的是哪次调用。",
    },
    "ex2.arguments": {
        "en": "For {case}, the tool was called with {got}, but the call's input is {want}: pass the input as keyword "
              "arguments, `functions[call.name](**call.input)`, and nothing else — never evaluate it.",
        "zh": "对 {case}，工具收到的参数是 {got}，而调用的输入是 {want}：把输入作为关键字参数传进去，"
              "`functions[call.name](**call.input)`，别的什么都不做，绝不要执行它。",
    },
    "ex2.content_not_str": {
        "en": "For {case}, the tool_result's content is {kind}: send a string, `json.dumps(output, "
              "ensure_ascii=False)`.",
        "zh": "对 {case}，tool_result 的 content 是 {kind}：要发送字符串，`json.dumps(output, ensure_ascii=False)`。",
    },
    "ex2.content_not_output": {
        "en": "For {case}, the content {got} is not the tool's output as JSON ({want}).",
        "zh": "对 {case}，content {got} 不是工具输出的 JSON（{want}）。",
    },
    "ex2.flagged_success": {
        "en": "For {case}, the tool worked, yet the tool_result says `is_error` is true.",
        "zh": "对 {case}，工具正常运行了，tool_result 却把 `is_error` 标成了 true。",
    },
    "ex2.no_is_error": {
        "en": "For {case}, the call failed, and the tool_result lacks `\"is_error\": True`.",
        "zh": "对 {case}，调用失败了，但 tool_result 里没有 `\"is_error\": True`。",
    },
    "ex2.error_text": {
        "en": "For {case}, the error result's content {got} does not say what went wrong: put the error's text in it "
              "(Ollama ignores `is_error`; the model only reads the content).",
        "zh": "对 {case}，错误结果的 content {got} 没有说明出了什么错：把错误信息写进去（Ollama 不理会 `is_error`，"
              "模型只读 content）。",
    },
    "case.call_ok": {"en": "a get_weather call for 北京 (constructed in Ollama's format)",
                     "zh": "查询北京天气的 get_weather 调用（按 Ollama 的格式构造）"},
    "case.call_raises": {"en": "a get_weather call for 亚特兰蒂斯, where the tool raises KeyError (constructed)",
                         "zh": "查询亚特兰蒂斯天气的 get_weather 调用，工具会抛出 KeyError（构造的）"},
    "case.call_unknown": {"en": "a call of get_time, a tool missing from `functions` (constructed)",
                          "zh": "调用 get_time，而 `functions` 里没有这个工具（构造的）"},
    "case.call_bad_argument": {"en": "a get_weather call whose input names an argument the tool lacks (constructed)",
                               "zh": "get_weather 调用的输入里有一个工具没有的参数名（构造的）"},
    "case.call_hostile": {"en": "a get_weather call whose city looks like Python code (constructed)",
                          "zh": "城市名看起来像 Python 代码的 get_weather 调用（构造的）"},
    "ex3.no_bound": {
        "en": "With max_rounds={rounds}, `tool_loop` asked the model more than {rounds} times ({count} requests, on a "
              "recording where the model asks for a tool forever). Stop after max_rounds calls.",
        "zh": "max_rounds={rounds} 时，`tool_loop` 调用模型超过了 {rounds} 次（共 {count} 个请求；"
              "这段录制里模型会一直要求调用工具）。调用 max_rounds 次以后就要停下。",
    },
    "ex3.too_few": {
        "en": "For {case}, `tool_loop` made {count} requests; this conversation needs {want}: ask again after sending "
              "the tool results, until a reply has no tool call (or max_rounds is reached).",
        "zh": "对 {case}，`tool_loop` 发了 {count} 个请求；这段对话需要 {want} 个：发出工具结果后要再问一次，"
              "直到某次回复里没有工具调用（或者达到 max_rounds）。",
    },
    "ex3.no_tools": {
        "en": "For {case}, request {index} was sent without `tools`: send them with every request.",
        "zh": "对 {case}，第 {index} 个请求没有带 `tools`：每个请求都要带上。",
    },
    "ex3.assistant_turn": {
        "en": "For {case}, request {index} does not send the assistant's turn back unchanged before the results: "
              "append `{{\"role\": \"assistant\", \"content\": reply.content}}`. Its last messages were {got}.",
        "zh": "对 {case}，第 {index} 个请求没有在工具结果之前把 assistant 那一轮原样发回：追加 `{{\"role\": "
              "\"assistant\", \"content\": reply.content}}`。它最后几条消息是 {got}。",
    },
    "ex3.results": {
        "en": "For {case}, request {index} should end with a user message holding one tool_result per call "
              "(tool_use_id {ids}); it ends with {got}.",
        "zh": "对 {case}，第 {index} 个请求应该以一条用户消息结尾，其中每个调用对应一个 tool_result（tool_use_id 为 "
              "{ids}）；实际结尾是 {got}。",
    },
    "ex3.returned": {
        "en": "For {case}, `tool_loop` returned {got}; it should return the last reply (the `Message` with id {want}).",
        "zh": "对 {case}，`tool_loop` 返回了 {got}；它应该返回最后一次的回复（id 为 {want} 的 `Message`）。",
    },
    "case.loop_one_call": {"en": "one get_weather call, then an answer (constructed in Ollama's format)",
                           "zh": "一次 get_weather 调用，然后作答（按 Ollama 的格式构造）"},
    "case.loop_two_calls": {"en": "two tool calls in one reply, then an answer (constructed)",
                            "zh": "一次回复里有两个工具调用，然后作答（构造的）"},
    "case.loop_forever": {"en": "a model that asks for get_weather forever, with max_rounds=2 (constructed)",
                          "zh": "一直要求调用 get_weather 的模型，max_rounds=2（构造的）"},
}

TOOL_CASES = [("case.tool_call", "tools_single_get_weather", 0), ("case.two_tool_calls", "tools_two_tools", 0),
              ("case.text", "llama_cpp", "text"), ("case.thinking_text", "ollama", "thinking_text")]


def _check_tool_calls_of(answer: Any, context: Context) -> str:
    for case_key, source, name in TOOL_CASES:
        reply = replies.message(source, name)
        case = context.text(case_key)
        try:
            got = call(answer, "tool_calls_of", case, reply)
        except Incorrect as wrong:
            if wrong.values.get("error_type") in ("AttributeError", "IndexError"):
                raise Incorrect("by_position", name="tool_calls_of", error=wrong.values["error"], case=case,
                                blocks=[block.type for block in reply.content]) from None
            raise
        if not isinstance(got, list):
            raise Incorrect("ex1.not_list", case=case, got=short(got))
        want = [(block.name, block.input) for block in reply.content if block.type == "tool_use"]
        if [tuple(pair) if isinstance(pair, (list, tuple)) else pair for pair in got] != want:
            raise Incorrect("ex1.wrong", case=case, got=short(got, 160), want=short(want, 160))
    return context.cases([key for key, _, _ in TOOL_CASES])


DEMO_WEATHER = {"北京": {"condition": "晴", "temperature_c": 24}}


class _Tools:
    """The tools a check hands the learner: they record how they were called."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_weather(self, city: str) -> dict[str, Any]:
        self.calls.append({"city": city})
        if city not in DEMO_WEATHER:
            raise KeyError(f"no demo weather for {city!r}")
        return {"city": city, **DEMO_WEATHER[city]}

    def get_time(self, city: str) -> str:
        self.calls.append({"city": city})
        return "14:05"


def _tool_use(source: str, index: int = 0) -> ToolUseBlock:
    return [block for block in replies.message(source, 0).content if block.type == "tool_use"][index]


def _calls() -> list[tuple[str, ToolUseBlock, bool]]:
    hostile = "__import__('os').getcwd()"  # code-shaped, harmless if a wrong answer evaluates it
    return [
        ("case.call_ok", _tool_use("tools_single_get_weather"), False),
        ("case.call_raises", _tool_use("tools_tool_raises"), True),
        ("case.call_unknown", _tool_use("tools_two_tools", 1), True),
        ("case.call_bad_argument",
         ToolUseBlock(type="tool_use", id="call_ex06bad", name="get_weather", input={"town": "北京"}), True),
        ("case.call_hostile", ToolUseBlock(type="tool_use", id="call_ex06evil", name="get_weather",
                                           input={"city": hostile}), True),
    ]


def _check_answer_call(answer: Any, context: Context) -> str:
    for case_key, tool_call, fails in _calls():
        case = context.text(case_key)
        tools = _Tools()
        functions = {"get_weather": tools.get_weather}  # get_time is missing on purpose
        try:
            got = call(answer, "answer_call", case, tool_call, functions)
        except Incorrect as wrong:
            if wrong.key == "raised":
                raise Incorrect("ex2.escaped", error=wrong.values["error"], case=case) from None
            raise
        if case_key in ("case.call_ok", "case.call_hostile") and tools.calls != [tool_call.input]:
            raise Incorrect("ex2.arguments", case=case, got=short(tools.calls), want=short([tool_call.input]))
        if not isinstance(got, dict) or got.get("type") != "tool_result":
            raise Incorrect("ex2.not_block", case=case, got=short(got))
        if got.get("tool_use_id") != tool_call.id:
            raise Incorrect("ex2.wrong_id", case=case, got=short(got.get("tool_use_id")), want=short(tool_call.id))
        content = got.get("content")
        if not isinstance(content, str):
            raise Incorrect("ex2.content_not_str", case=case, kind=type(content).__name__)
        if not fails:
            if got.get("is_error"):
                raise Incorrect("ex2.flagged_success", case=case)
            output = tools.get_weather(tool_call.input["city"])
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = None
            if parsed != output:
                raise Incorrect("ex2.content_not_output", case=case, got=short(content),
                                want=short(json.dumps(output, ensure_ascii=False)))
            continue
        if got.get("is_error") is not True:
            raise Incorrect("ex2.no_is_error", case=case)
        if not content.strip():
            raise Incorrect("ex2.error_text", case=case, got=short(content))
    return context.cases([key for key, _, _ in _calls()])


LOOPS = [("case.loop_one_call", "tools_single_get_weather", 3, 2),
         ("case.loop_two_calls", "tools_two_tools", 3, 2),
         ("case.loop_forever", "tools_loops_forever", 2, 2)]


def _check_tool_loop(answer: Any, context: Context) -> str:
    for case_key, source, rounds, want_requests in LOOPS:
        case = context.text(case_key)
        recorded = replies.exchanges(source)
        first = recorded[0]["request"]["json"]
        client, replayer = replies.replay(recorded)
        tools = _Tools()
        functions = {"get_weather": tools.get_weather, "get_time": tools.get_time}
        try:
            with quietly():
                got = answer(client, first["model"], list(first["messages"]), first["tools"], functions, rounds)
        except Exception as error:  # more requests than the recording holds ends here, as a connection error
            if replayer.attempts > len(recorded) or replayer.attempts > rounds:
                raise Incorrect("ex3.no_bound", rounds=rounds, count=replayer.attempts) from None
            detail = " ".join(str(error).split())
            raise Incorrect("raised", name="tool_loop", error=f"{type(error).__name__}: {detail}"[:300],
                            case=case) from None
        if replayer.attempts > rounds:
            raise Incorrect("ex3.no_bound", rounds=rounds, count=replayer.attempts)
        if replayer.attempts < want_requests:
            raise Incorrect("ex3.too_few", case=case, count=replayer.attempts, want=want_requests)
        for index, sent in enumerate(replayer.requests, start=1):
            if not sent["json"].get("tools"):
                raise Incorrect("ex3.no_tools", case=case, index=index)
            if index == 1:
                continue
            previous = json.loads(recorded[index - 2]["response"]["body"])
            messages = sent["json"]["messages"]
            ids = [block["id"] for block in previous["content"] if block["type"] == "tool_use"]
            assistant = messages[-2] if len(messages) >= 2 else {}
            sent_ids = [block.get("id") for block in assistant.get("content", []) if isinstance(block, dict)
                        and block.get("type") == "tool_use"] if isinstance(assistant.get("content"), list) else []
            if assistant.get("role") != "assistant" or sent_ids != ids:
                raise Incorrect("ex3.assistant_turn", case=case, index=index, got=short(messages[-2:], 200))
            results = messages[-1]
            result_ids = [block.get("tool_use_id") for block in results.get("content", []) if isinstance(block, dict)
                          and block.get("type") == "tool_result"] if isinstance(results.get("content"), list) else []
            if results.get("role") != "user" or sorted(map(str, result_ids)) != sorted(ids):
                raise Incorrect("ex3.results", case=case, index=index, ids=ids, got=short(results, 200))
        last = json.loads(recorded[replayer.attempts - 1]["response"]["body"])
        if getattr(got, "id", None) != last["id"]:
            raise Incorrect("ex3.returned", case=case, got=short(got), want=last["id"])
    return context.cases([key for key, _, _, _ in LOOPS])


ex1 = Exercise("06", 1, "tool_calls_of", _check_tool_calls_of, table=TABLE, hint=HINTS["ex1"], solution_code='''
def tool_calls_of(message):
    return [(block.name, block.input) for block in message.content if block.type == "tool_use"]
''')

ex2 = Exercise("06", 2, "answer_call", _check_answer_call, table=TABLE, hint=HINTS["ex2"], solution_code='''
import json


def answer_call(call, functions):
    try:
        output = functions[call.name](**call.input)
    except Exception as error:
        return {"type": "tool_result", "tool_use_id": call.id, "content": f"Error: {type(error).__name__}: {error}",
                "is_error": True}
    return {"type": "tool_result", "tool_use_id": call.id, "content": json.dumps(output, ensure_ascii=False)}
''')

ex3 = Exercise("06", 3, "tool_loop", _check_tool_loop, table=TABLE, hint=HINTS["ex3"], solution_code='''
import json


def tool_loop(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    for _ in range(max_rounds):
        reply = client.messages.create(model=model, max_tokens=1024, tools=tools, messages=messages)
        calls = [block for block in reply.content if block.type == "tool_use"]
        if not calls:
            return reply
        results = []
        for call in calls:
            try:
                content = json.dumps(functions[call.name](**call.input), ensure_ascii=False)
                results.append({"type": "tool_result", "tool_use_id": call.id, "content": content})
            except Exception as error:
                results.append({"type": "tool_result", "tool_use_id": call.id,
                                "content": f"Error: {type(error).__name__}: {error}", "is_error": True})
        messages += [{"role": "assistant", "content": reply.content}, {"role": "user", "content": results}]
    return reply
''')

EXERCISES = [ex1, ex2, ex3]
