"""Lesson 11's exercises: the streaming chat turn under lesson 10's history rules; a stream's thinking and text kept
apart."""

from __future__ import annotations

import copy
from typing import Any

from . import replies
from .core import Context, Exercise, Incorrect, call, quietly, short
from .lesson10 import HISTORY_TABLE, check_history_rules

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "Lesson 10's rules with `client.messages.stream(...)`: append the user turn; inside `try`, print and "
              "collect the pieces of `stream.text_stream`; in `except BaseException:` pop the turn and `raise`. "
              "Afterwards, append the assistant turn only if the collected text is not empty (else pop).",
        "zh": "第 10 课的规则，换成 `client.messages.stream(...)`：先追加用户这一轮；在 `try` 里打印并收集 "
              "`stream.text_stream` 的每一段；在 `except BaseException:` 里撤回这一轮再 `raise`。之后，"
              "只有收集到的文本不为空时才追加助手这一轮（否则撤回）。",
    },
    "ex2": {
        "en": "`text_stream` skips the thinking. Iterate over the stream's events instead: for `event.type == "
              "\"content_block_delta\"`, add `event.delta.thinking` when `event.delta.type == \"thinking_delta\"` and "
              "`event.delta.text` when it is `\"text_delta\"`.",
        "zh": "`text_stream` 会跳过思考。改为遍历流的事件：遇到 `event.type == \"content_block_delta\"` 时，"
              "`event.delta.type == \"thinking_delta\"` 就累加 `event.delta.thinking`，是 `\"text_delta\"` 就累加 "
              "`event.delta.text`。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    **HISTORY_TABLE,
    "ex1.cut": {
        "en": "After {case}, the history is {got}: a stream that breaks midway leaves no complete answer, so its "
              "question comes back out (and the error goes through). The text already printed stays on screen.",
        "zh": "{case} 之后，对话历史是 {got}：中途断开的流没有完整的回答，所以它的问题要撤回（异常继续抛出）。"
              "已经打印出来的文本留在屏幕上。",
    },
    "ex1.not_streamed": {
        "en": "The request had no `\"stream\": true`: use `client.messages.stream(...)`, so the reply shows as it "
              "comes.",
        "zh": "请求里没有 `\"stream\": true`：要用 `client.messages.stream(...)`，让回复一边生成一边显示。",
    },
    "case.stream_cut_midway": {
        "en": "a turn whose stream breaks after 600 bytes (a recorded llama.cpp stream, cut like a dropped connection)",
        "zh": "流在 600 个字节后断开的一轮（录制自 llama.cpp 的流，像连接掉线那样截断）"},
    "ex2.not_pair": {
        "en": "For {case}, `thinking_and_text` returned {got}; it should return a pair (thinking, text).",
        "zh": "对 {case}，`thinking_and_text` 返回了 {got}；它应该返回一个二元组（思考，文本）。",
    },
    "ex2.no_thinking": {
        "en": "For {case}, the thinking returned is {got}, but the stream carried {count} characters of thinking: "
              "`text_stream` skips them. Iterate over the events and keep the `thinking_delta`s.",
        "zh": "对 {case}，返回的思考是 {got}，但流里有 {count} 个字符的思考：`text_stream` 会跳过它们。遍历事件，保留 "
              "`thinking_delta`。",
    },
    "ex2.wrong": {
        "en": "For {case}, `thinking_and_text` returned ({thinking}, {text}); the stream's blocks hold "
              "({want_thinking}, {want_text}).",
        "zh": "对 {case}，`thinking_and_text` 返回了（{thinking}，{text}）；流里的块是（{want_thinking}，{want_text}）"
              "。",
    },
}


def _check_safe_stream_chat(answer: Any, context: Context) -> str:
    cases = check_history_rules(answer, context, "safe_stream_chat", "stream")
    history = [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！"}]
    kept = copy.deepcopy(history)
    client, replayer = replies.replay(replies.exchanges("llama_cpp", "chat_stream_turn_2"), cut_after=600)
    case = context.text("case.stream_cut_midway")
    try:
        with quietly():
            answer(history, "我叫小明", client, "llama3.2")
    except Exception:  # the break itself: letting it through is right, and what is checked is the history
        pass
    if replayer.requests and not replayer.requests[0]["json"].get("stream"):
        raise Incorrect("ex1.not_streamed")
    if history != kept:
        raise Incorrect("ex1.cut", case=case, got=short([turn.get("role") for turn in history]))
    return context.cases([*cases, "case.stream_cut_midway"])


def _check_thinking_and_text(answer: Any, context: Context) -> str:
    cases = [("case.stream_thinking_text", "ollama", "stream_thinking_text"),
             ("case.stream_text", "llama_cpp", "stream_text"),
             ("case.stream_thinking_only", "ollama", "stream_thinking_only")]
    for case_key, source, name in cases:
        case = context.text(case_key)
        request = replies.request_json(source, name)
        arguments = {key: request[key] for key in ("model", "max_tokens", "messages")}
        client, _ = replies.replay(replies.exchanges(source, name))
        with client.messages.stream(**arguments) as reference:
            final = reference.get_final_message()
        want_thinking = "".join(block.thinking for block in final.content if block.type == "thinking")
        want_text = "".join(block.text for block in final.content if block.type == "text")
        client, _ = replies.replay(replies.exchanges(source, name))
        got = call(answer, "thinking_and_text", case, client.messages.stream(**arguments))
        if not isinstance(got, tuple) or len(got) != 2:
            raise Incorrect("ex2.not_pair", case=case, got=short(got))
        if want_thinking and not got[0]:
            raise Incorrect("ex2.no_thinking", case=case, got=short(got[0]), count=len(want_thinking))
        if got != (want_thinking, want_text):
            raise Incorrect("ex2.wrong", case=case, thinking=short(got[0], 50), text=short(got[1], 50),
                            want_thinking=short(want_thinking, 50), want_text=short(want_text, 50))
    return context.cases([key for key, _, _ in cases])


ex1 = Exercise("11", 1, "safe_stream_chat", _check_safe_stream_chat, table=TABLE, hint=HINTS["ex1"],
               solution_code='''
def safe_stream_chat(messages, user_input, client, model):
    messages.append({"role": "user", "content": user_input})
    text = ""
    try:
        with client.messages.stream(model=model, max_tokens=100, messages=messages) as stream:
            for piece in stream.text_stream:
                print(piece, end="", flush=True)
                text += piece
    except BaseException:
        messages.pop()
        raise
    print()
    if text.strip():
        messages.append({"role": "assistant", "content": text})
    else:
        messages.pop()
    return text
''')

ex2 = Exercise("11", 2, "thinking_and_text", _check_thinking_and_text, table=TABLE, hint=HINTS["ex2"],
               solution_code='''
def thinking_and_text(stream):
    thinking = text = ""
    with stream as events:
        for event in events:
            if event.type == "content_block_delta" and event.delta.type == "thinking_delta":
                thinking += event.delta.thinking
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
    return thinking, text
''')

EXERCISES = [ex1, ex2]
