"""Lesson 09's exercises: use count_tokens where the server has it; check that a "thinking off" was honoured."""

from __future__ import annotations

from typing import Any

from . import replies
from .core import Context, Exercise, Incorrect, quietly, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "`client.messages.count_tokens(model=..., messages=...)` returns an object with `.input_tokens`. Where "
              "the route does not exist (Ollama) the SDK raises `anthropic.NotFoundError`: catch it and return None.",
        "zh": "`client.messages.count_tokens(model=..., messages=...)` 返回一个带 `.input_tokens` 的对象。"
              "没有这个路由时（Ollama），SDK 抛出 `anthropic.NotFoundError`：捕获它，返回 None。",
    },
    "ex2": {
        "en": "Ask with `thinking={\"type\": \"disabled\"}`. Then look at what came back: no text block but a "
              "thinking block means the switch was ignored — ask once more with a larger `max_tokens` and return that "
              "text. Otherwise return the text at once.",
        "zh": "带上 `thinking={\"type\": \"disabled\"}` 发请求。然后看看返回了什么：没有文本块、却有思考块，"
              "说明开关被忽略了，就用更大的 `max_tokens` 再问一次，返回那次的文本。否则直接返回文本。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.escaped": {
        "en": "`count_or_none` let {error} out for {case}. On a server without the route, catch "
              "`anthropic.NotFoundError` and return None.",
        "zh": "`count_or_none` 处理 {case} 时让 {error} 抛了出来。服务没有这个路由时，捕获 "
              "`anthropic.NotFoundError`，返回 None。",
    },
    "ex1.wrong_route": {
        "en": "For {case}, `count_or_none` sent {paths}; it should ask `client.messages.count_tokens(...)` once (POST "
              "/v1/messages/count_tokens), and generate nothing.",
        "zh": "对 {case}，`count_or_none` 发出的是 {paths}；它应该只调用一次 `client.messages.count_tokens(...)`"
              "（POST /v1/messages/count_tokens），不生成任何内容。",
    },
    "ex1.wrong": {
        "en": "For {case}, `count_or_none` returned {got}; the answer is {want}.",
        "zh": "对 {case}，`count_or_none` 返回了 {got}；正确答案是 {want}。",
    },
    "case.count_llama_cpp": {"en": "llama.cpp's server, which has count_tokens (recorded)",
                             "zh": "有 count_tokens 的 llama.cpp 服务器（录制）"},
    "case.count_ollama": {
        "en": "Ollama's interface, which has no such route and answers 404 (recorded through the Ollama double)",
        "zh": "没有这个路由、返回 404 的 Ollama 接口（录制自 Ollama 替身）"},
    "ex2.too_many": {
        "en": "For {case}, `answer_text` made {count} requests; this case needs {want}. Ask again only when the first "
              "reply had no text but a thinking block, and only once.",
        "zh": "对 {case}，`answer_text` 发了 {count} 个请求；这种情况只需要 {want} 个。只有第一次回复没有文本、"
              "却有思考块时才再问，而且只再问一次。",
    },
    "ex2.no_switch": {
        "en": "For {case}, the first request has thinking {got}: ask with `thinking={{\"type\": \"disabled\"}}`.",
        "zh": "对 {case}，第一个请求的 thinking 是 {got}：要带上 `thinking={{\"type\": \"disabled\"}}`。",
    },
    "ex2.no_retry": {
        "en": "For {case}, the first reply held only thinking (the server ignored the switch, as Ollama before 0.23.4 "
              "does) and `answer_text` returned {got} after {count} request(s). Ask once more with a larger "
              "max_tokens.",
        "zh": "对 {case}，第一次回复里只有思考（服务忽略了开关，0.23.4 之前的 Ollama 就是这样），而 `answer_text` "
              "发了 {count} 个请求后返回了 {got}。要用更大的 max_tokens 再问一次。",
    },
    "ex2.same_budget": {
        "en": "For {case}, the second request's max_tokens ({second}) is not larger than the first's ({first}): the "
              "thinking would use it up again.",
        "zh": "对 {case}，第二个请求的 max_tokens（{second}）没有比第一个（{first}）大：思考还会把它用光。",
    },
    "ex2.wrong": {
        "en": "For {case}, `answer_text` returned {got}; the text of the reply to use is {want}.",
        "zh": "对 {case}，`answer_text` 返回了 {got}；应该用的那次回复的文本是 {want}。",
    },
    "case.switch_honoured": {"en": "a server that answers with text at once (a reply recorded from llama.cpp)",
                             "zh": "直接用文本作答的服务（录制自 llama.cpp 的回复）"},
    "case.switch_ignored": {
        "en": "a server that ignores the switch: a thinking-only reply, then thinking and text (replies recorded "
              "through the Ollama double as qwen3, thinking on)",
        "zh": "忽略开关的服务：先是只有思考的回复，然后是思考加文本（录制自开着思考、扮演 qwen3 的 Ollama 替身）"},
    "case.switch_ignored_twice": {
        "en": "a server that ignores the switch twice: two thinking-only replies (recorded through the Ollama double)",
        "zh": "两次都忽略开关的服务：两次都是只有思考的回复（录制自 Ollama 替身）"},
}


def _check_count_or_none(answer: Any, context: Context) -> str:
    for case_key, source, name, want in [("case.count_llama_cpp", "llama_cpp", "count_tokens", None),
                                         ("case.count_ollama", "ollama", "count_tokens_404", None)]:
        case = context.text(case_key)
        client, replayer = replies.replay(replies.exchanges(source, name))
        if source == "llama_cpp":
            want = replies.body(source, name)["input_tokens"]
        try:
            with quietly():
                got = answer(client, "llama3.2", [{"role": "user", "content": "你好"}])
        except Exception as error:  # a request the recording does not expect ends here too
            if replayer.attempts != 1 or [r["path"] for r in replayer.requests] != ["/v1/messages/count_tokens"]:
                raise Incorrect("ex1.wrong_route", case=case, paths=short(
                    [request["path"] for request in replayer.requests] or "?")) from None
            detail = " ".join(str(error).split())
            raise Incorrect("ex1.escaped", error=f"{type(error).__name__}: {detail}"[:200], case=case) from None
        if replayer.attempts != 1 or replayer.requests[0]["path"] != "/v1/messages/count_tokens":
            raise Incorrect("ex1.wrong_route", case=case, paths=short([r["path"] for r in replayer.requests]))
        if got != want or isinstance(got, bool):
            raise Incorrect("ex1.wrong", case=case, got=short(got), want=short(want))
    return context.cases(["case.count_llama_cpp", "case.count_ollama"])


SWITCH_CASES = [("case.switch_honoured", [("llama_cpp", "text")], 1),
                ("case.switch_ignored", [("ollama", "thinking_only"), ("ollama", "thinking_text")], 2),
                ("case.switch_ignored_twice", [("ollama", "thinking_only"), ("ollama", "thinking_only")], 2)]


def _check_answer_text(answer: Any, context: Context) -> str:
    for case_key, served, want_requests in SWITCH_CASES:
        case = context.text(case_key)
        recorded = [exchange for source, name in served for exchange in replies.exchanges(source, name)]
        client, replayer = replies.replay(recorded)
        try:
            with quietly():
                got = answer(client, "qwen3", "你好")
        except Exception as error:  # asking more often than this case needs ends here, as a connection error
            if replayer.attempts > want_requests:
                raise Incorrect("ex2.too_many", case=case, count=replayer.attempts, want=want_requests) from None
            detail = " ".join(str(error).split())
            raise Incorrect("raised", name="answer_text", error=f"{type(error).__name__}: {detail}"[:200],
                            case=case) from None
        first = replayer.requests[0]["json"] if replayer.requests else {}
        if first.get("thinking") != {"type": "disabled"}:
            raise Incorrect("ex2.no_switch", case=case, got=short(first.get("thinking")))
        if replayer.attempts < want_requests:
            raise Incorrect("ex2.no_retry", case=case, got=short(got), count=replayer.attempts)
        if replayer.attempts > want_requests:
            raise Incorrect("ex2.too_many", case=case, count=replayer.attempts, want=want_requests)
        if want_requests == 2:
            budgets = [request["json"].get("max_tokens", 0) for request in replayer.requests]
            if budgets[1] <= budgets[0]:
                raise Incorrect("ex2.same_budget", case=case, first=budgets[0], second=budgets[1])
        last = replies.body(*served[-1])
        want = "".join(block["text"] for block in last["content"] if block["type"] == "text")
        if got != want:
            raise Incorrect("ex2.wrong", case=case, got=short(got), want=short(want))
    return context.cases([key for key, _, _ in SWITCH_CASES])


ex1 = Exercise("09", 1, "count_or_none", _check_count_or_none, table=TABLE, hint=HINTS["ex1"], solution_code='''
import anthropic


def count_or_none(client, model, messages):
    try:
        return client.messages.count_tokens(model=model, messages=messages).input_tokens
    except anthropic.NotFoundError:
        return None
''')

ex2 = Exercise("09", 2, "answer_text", _check_answer_text, table=TABLE, hint=HINTS["ex2"], solution_code='''
def answer_text(client, model, prompt):
    budget = 256
    for _ in range(2):
        reply = client.messages.create(model=model, max_tokens=budget, thinking={"type": "disabled"},
                                       messages=[{"role": "user", "content": prompt}])
        text = "".join(block.text for block in reply.content if block.type == "text")
        if text or not any(block.type == "thinking" for block in reply.content):
            return text
        budget *= 4
    return text
''')

EXERCISES = [ex1, ex2]
