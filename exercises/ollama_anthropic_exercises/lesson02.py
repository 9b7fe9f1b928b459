"""Lesson 02's exercises: time a stream to its first text token; read a stream's text and stop reason safely."""

from __future__ import annotations

from typing import Any

from . import replies
from .core import Context, Exercise, Incorrect, call, short

# The paced stream: thinking deltas at once, the first text delta 0.5 s after the request, the end at 1.6 s. A right
# answer lands just after 0.5 s; the 0.7 s between it and the latest accepted time leaves room for a busy machine (CI
# runs two test jobs on two cores), and an answer that waits for the end (1.6 s) is still told apart.
FIRST_TEXT_AT, END_AT = 0.5, 1.6
EARLIEST, LATEST = FIRST_TEXT_AT - 0.05, END_AT - 0.4

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "Note `time.perf_counter()` before the `with`, iterate over the events inside it, and at the first "
              "event with `event.type == \"content_block_delta\"` and `event.delta.type == \"text_delta\"` return the "
              "time since. After the loop (no text came) return None.",
        "zh": "在 `with` 之前记下 `time.perf_counter()`，在 `with` 里遍历事件；遇到第一个 `event.type == "
              "\"content_block_delta\"` 且 `event.delta.type == \"text_delta\"` 的事件时，返回从开始到现在的秒数。"
              "循环结束还没有文本（没有文本到达），就返回 None。",
    },
    "ex2": {
        "en": "Print and collect the pieces of `stream.text_stream`, then take `stream.get_final_message()` for the "
              "stop_reason. Careful: `stream.get_final_text()` raises when no text block came; the text you collected "
              "is \"\" then, which is the right answer.",
        "zh": "打印并收集 `stream.text_stream` 的每一段文本，再用 `stream.get_final_message()` 取得停止原因。注意："
              "没有文本块时 `stream.get_final_text()` 会抛出异常；这时你收集到的文本是 \"\"，这正是正确答案。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.no_number": {
        "en": "On {case}, `seconds_to_first_text` returned {got}: a number of seconds was expected, since text "
              "arrived.",
        "zh": "处理 {case} 时，`seconds_to_first_text` 返回了 {got}；文本到达了，所以应该返回一个秒数。",
    },
    "ex1.too_early": {
        "en": "On {case}, `seconds_to_first_text` returned {got:.2f} s, but the first text delta was sent only "
              "{first:.2f} s after the request. That looks like the time to the first event or token of any kind (a "
              "thinking delta comes first): wait for a `text_delta`.",
        "zh": "处理 {case} 时，`seconds_to_first_text` 返回了 {got:.2f} 秒，可第一个文本增量在请求之后 {first:.2f} "
              "秒才发出。这看起来是到第一个任意事件或 token 的时间（思考增量先到）：要等 `text_delta`。",
    },
    "ex1.too_late": {
        "en": "On {case}, `seconds_to_first_text` returned {got:.2f} s, but the first text delta was sent {first:.2f} "
              "s after the request and the stream ended at {end:.2f} s. That looks like the time to the end: return "
              "as soon as the first text delta arrives.",
        "zh": "处理 {case} 时，`seconds_to_first_text` 返回了 {got:.2f} 秒，但第一个文本增量在请求之后 {first:.2f} "
              "秒就发出了，整个流在 {end:.2f} 秒结束。这看起来是到流结束的时间：第一个文本增量一到就返回。",
    },
    "ex1.not_none": {
        "en": "On {case}, no text arrived at all, so `seconds_to_first_text` should return None; it returned {got}.",
        "zh": "处理 {case} 时根本没有文本到达，所以 `seconds_to_first_text` 应该返回 None，但它返回了 {got}。",
    },
    "ex1.paced": {
        "en": "(the recorded events were served at a set pace: the first text delta {first:.1f} s after the request)",
        "zh": "（录制的事件按固定节奏发出：第一个文本增量在请求之后 {first:.1f} 秒）",
    },
    "ex2.not_pair": {
        "en": "On {case}, `text_and_stop_reason` returned {got}; it should return a pair (text, stop_reason).",
        "zh": "处理 {case} 时，`text_and_stop_reason` 返回了 {got}；它应该返回一个二元组（文本，停止原因）。",
    },
    "ex2.get_final_text": {
        "en": "`text_and_stop_reason` raised {error} on {case}: `get_final_text()` raises when the reply has no text "
              "block. Collect the text from `text_stream` (it is \"\" then), or catch the error.",
        "zh": "`text_and_stop_reason` 处理 {case} 时抛出了 {error}：回复里没有文本块时，`get_final_text()` "
              "会抛出异常。从 `text_stream` 收集文本（这时是 \"\"），或者捕获这个异常。",
    },
    "ex2.thinking_included": {
        "en": "On {case}, the text returned holds the thinking too. `text_stream` gives only the text deltas; when "
              "you iterate over events, keep only `text_delta`.",
        "zh": "处理 {case} 时，返回的文本里把思考内容也算进去了。`text_stream` 只给出文本增量；如果你遍历事件，只保留 "
              "`text_delta`。",
    },
    "ex2.wrong_text": {
        "en": "On {case}, the text returned is {got}, but the reply's text blocks hold {want}.",
        "zh": "处理 {case} 时，返回的文本是 {got}，但回复的文本块是 {want}。",
    },
    "ex2.wrong_reason": {
        "en": "On {case}, the stop reason returned is {got}, but the stream's message_delta said {want}. Take it from "
              "`stream.get_final_message().stop_reason` once the stream has ended.",
        "zh": "处理 {case} 时，返回的停止原因是 {got}，但流里的 message_delta 说的是 {want}。流结束以后，从 "
              "`stream.get_final_message().stop_reason` 取。",
    },
}


def _stream_of(client: Any, source: str, name: str) -> Any:
    """``client.messages.stream(...)`` with the recorded request's model, budget and messages (not yet sent)."""
    request = replies.request_json(source, name)
    return client.messages.stream(model=request["model"], max_tokens=request["max_tokens"],
                                  messages=request["messages"])


def _check_seconds_to_first_text(answer: Any, context: Context) -> str:
    for case_key, source, name, has_text in [("case.stream_thinking_text", "ollama", "stream_thinking_text", True),
                                             ("case.stream_text", "llama_cpp", "stream_text", True),
                                             ("case.stream_thinking_only", "ollama", "stream_thinking_only", False)]:
        case = context.text(case_key)
        client, _ = replies.replay(replies.exchanges(source, name), pace=(FIRST_TEXT_AT, END_AT))
        got = call(answer, "seconds_to_first_text", case, _stream_of(client, source, name))
        if not has_text:
            if got is not None:
                raise Incorrect("ex1.not_none", case=case, got=short(got))
            continue
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise Incorrect("ex1.no_number", case=case, got=short(got))
        if got < EARLIEST:
            raise Incorrect("ex1.too_early", case=case, got=got, first=FIRST_TEXT_AT)
        if got > LATEST:
            raise Incorrect("ex1.too_late", case=case, got=got, first=FIRST_TEXT_AT, end=END_AT)
    keys = ["case.stream_thinking_text", "case.stream_text", "case.stream_thinking_only"]
    return f"{context.cases(keys)} {context.text('ex1.paced', first=FIRST_TEXT_AT)}"


def _check_text_and_stop_reason(answer: Any, context: Context) -> str:
    cases = [("case.stream_text", "llama_cpp", "stream_text"), ("case.stream_cut", "llama_cpp", "stream_cut"),
             ("case.stream_thinking_text", "ollama", "stream_thinking_text"),
             ("case.stream_thinking_only", "ollama", "stream_thinking_only")]
    for case_key, source, name in cases:
        case = context.text(case_key)
        client, _ = replies.replay(replies.exchanges(source, name))
        with client.messages.stream(**{key: replies.request_json(source, name)[key]
                                       for key in ("model", "max_tokens", "messages")}) as reference:
            final = reference.get_final_message()
        want_text = "".join(block.text for block in final.content if block.type == "text")
        thinking = "".join(block.thinking for block in final.content if block.type == "thinking")
        client, _ = replies.replay(replies.exchanges(source, name))
        try:
            got = call(answer, "text_and_stop_reason", case, _stream_of(client, source, name))
        except Incorrect as wrong:
            if wrong.values.get("error_type") == "RuntimeError" and not want_text:
                raise Incorrect("ex2.get_final_text", error=wrong.values["error"], case=case) from None
            raise
        if not isinstance(got, tuple) or len(got) != 2:
            raise Incorrect("ex2.not_pair", case=case, got=short(got))
        text, reason = got
        if text != want_text:
            if thinking and isinstance(text, str) and thinking[:40] in text:
                raise Incorrect("ex2.thinking_included", case=case)
            raise Incorrect("ex2.wrong_text", case=case, got=short(text), want=short(want_text))
        if reason != final.stop_reason:
            raise Incorrect("ex2.wrong_reason", case=case, got=short(reason), want=short(final.stop_reason))
    return context.cases([key for key, _, _ in cases])


ex1 = Exercise("02", 1, "seconds_to_first_text", _check_seconds_to_first_text, table=TABLE, hint=HINTS["ex1"],
               solution_code='''
import time


def seconds_to_first_text(stream):
    started = time.perf_counter()
    with stream as events:
        for event in events:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                return time.perf_counter() - started
    return None
''')

ex2 = Exercise("02", 2, "text_and_stop_reason", _check_text_and_stop_reason, table=TABLE, hint=HINTS["ex2"],
               solution_code='''
def text_and_stop_reason(stream):
    text = ""
    with stream as events:
        for piece in events.text_stream:
            print(piece, end="", flush=True)
            text += piece
        stop_reason = events.get_final_message().stop_reason
    print()
    return text, stop_reason
''')

EXERCISES = [ex1, ex2]
