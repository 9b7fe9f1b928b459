"""Lesson 01's exercises: read a reply by block type, whatever came; name the error a call raised."""

from __future__ import annotations

from typing import Any

import anthropic

from . import replies
from .core import Context, Exercise, Incorrect, call, short

HELLO = [{"role": "user", "content": "你好"}]

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "`message.content` is a list of blocks. Keep the blocks whose `block.type == \"text\"` and join their "
              "`block.text` with `\"\".join(...)`. A reply without a text block then gives \"\" by itself.",
        "zh": "`message.content` 是一个内容块列表。只保留 `block.type == \"text\"` 的块，再用 `\"\".join(...)` "
              "把它们的 `block.text` 拼起来。没有文本块的回复自然就得到 \"\"。",
    },
    "ex2": {
        "en": "The same selection as exercise 1, with `\"thinking\"` blocks and their `block.thinking` attribute.",
        "zh": "和练习 1 一样的挑选，只是换成 `\"thinking\"` 块和它的 `block.thinking` 属性。",
    },
    "ex3": {
        "en": "Test with `isinstance`, most specific first: `TypeError` (the SDK refused before sending), "
              "`anthropic.APIConnectionError` (nobody answered), `anthropic.NotFoundError` (a 404: look at "
              "`error.message` — does it name a model?), and everything else is \"other\".",
        "zh": "用 `isinstance` 判断，先判断具体的类型：`TypeError`（SDK 在发送之前就拒绝了）、"
              "`anthropic.APIConnectionError`（没有服务响应）、`anthropic.NotFoundError`（404：看看 `error.message` "
              "里有没有提到模型），其余的都是 \"other\"。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "select.not_str": {
        "en": "`{name}` should return a str, and returned {got} for {case}.",
        "zh": "`{name}` 应该返回字符串，但处理 {case} 时返回了 {got}。",
    },
    "select.other_kind_included": {
        "en": "On {case}, the result of `{name}` holds the {other} too. Keep only the blocks of type \"{kind}\".",
        "zh": "处理 {case} 时，`{name}` 的结果里把 {other} 也算进去了。只保留类型为 \"{kind}\" 的块。",
    },
    "select.wrong": {
        "en": "On {case}, `{name}` returned {got}; the {kind} blocks joined give {want}.",
        "zh": "处理 {case} 时，`{name}` 返回了 {got}；把 {kind} 块拼起来应该是 {want}。",
    },
    "word.thinking": {"en": "thinking", "zh": "思考内容"},
    "word.text": {"en": "answer's text", "zh": "回答的文本"},
    "ex3.not_label": {
        "en": "For {case}, `what_went_wrong` returned {got}; it should return one of \"max_tokens\", \"server\", "
              "\"model\", \"url\", \"other\".",
        "zh": "处理 {case} 时，`what_went_wrong` 返回了 {got}；它应该返回 \"max_tokens\"、\"server\"、\"model\"、"
              "\"url\"、\"other\" 之一。",
    },
    "ex3.wrong_label": {
        "en": "For {case} ({error}) it returned {got}, but this one is {want}: {why}",
        "zh": "处理 {case}（{error}）时返回了 {got}，但这个应该是 {want}：{why}",
    },
    "why.max_tokens": {
        "en": "the SDK raises TypeError, before sending anything, when a required argument such as max_tokens is "
              "missing.",
        "zh": "缺少 max_tokens 这样的必需参数时，SDK 在发送任何内容之前就抛出 TypeError。",
    },
    "why.server": {
        "en": "APIConnectionError means no server answered (it is not running, or the URL points elsewhere).",
        "zh": "APIConnectionError 表示没有服务响应（服务没启动，或者地址指向了别处）。",
    },
    "why.model": {
        "en": "a 404 whose message names the model: this server does not have it.",
        "zh": "这个 404 的信息里提到了模型：这个服务上没有这个模型。",
    },
    "why.url": {
        "en": "a 404 whose message names no model (\"page not found\", \"File Not Found\"): the path is wrong, for "
              "example a base_url ending in /v1.",
        "zh": "这个 404 的信息里没有提到模型（“page not found”“File Not Found”）：是路径错了，比如接口地址以 /v1 "
              "结尾。",
    },
    "why.other": {
        "en": "any other error of the server (a 400, a 500, ...) is none of the four.",
        "zh": "模型服务返回的其他错误（400、500 等）不属于前四种。",
    },
    "case.missing_max_tokens": {
        "en": "a call without max_tokens (the SDK's own TypeError, nothing sent)",
        "zh": "漏了 max_tokens 的调用（SDK 自己抛出的 TypeError，什么也没发送）"},
    "case.refused": {
        "en": "a call to a port of this machine where nothing listens (a real refused connection)",
        "zh": "发往本机一个没有任何服务监听的端口的调用（真实的连接被拒绝）"},
    "case.unknown_model": {
        "en": "a model the server does not have (404, recorded through the Ollama double)",
        "zh": "服务上没有的模型（404，录制自 Ollama 替身）"},
    "case.url_v1_ollama": {
        "en": "a base_url ending in /v1 (404, recorded through the Ollama double)",
        "zh": "以 /v1 结尾的接口地址（404，录制自 Ollama 替身）"},
    "case.url_v1_llama_cpp": {
        "en": "a base_url ending in /v1 (404, recorded from llama.cpp's server)",
        "zh": "以 /v1 结尾的接口地址（404，录制自 llama.cpp 服务器）"},
    "case.bad_request": {
        "en": "max_tokens=0 (400, recorded through the Ollama double)",
        "zh": "max_tokens=0（400，录制自 Ollama 替身）"},
    "case.server_error": {
        "en": "an image sent to a model without vision (500, recorded from llama.cpp's server)",
        "zh": "把图片发给没有视觉能力的模型（500，录制自 llama.cpp 服务器）"},
}

# The replies exercises 1 and 2 run on, in this order (a mistake shows on the first reply that exposes it).
SELECTION_CASES = [("case.text", "llama_cpp", "text"), ("case.thinking_text", "ollama", "thinking_text"),
                   ("case.two_tool_calls", "tools_two_tools", 0), ("case.tool_call", "tools_single_get_weather", 0),
                   ("case.thinking_only", "ollama", "thinking_only")]


def check_selection(answer: Any, context: Context, name: str, kind: str, other: str,
                    cases: list[tuple[str, str, str | int]] = SELECTION_CASES) -> str:
    """The learner's ``name(message)`` must return the ``kind`` blocks of each reply, joined (shared by the
    exercises that select blocks by type)."""
    attribute = {"text": "text", "thinking": "thinking"}
    for case_key, source, recorded in cases:
        reply = replies.message(source, recorded)
        case = context.text(case_key)
        blocks = [block.type for block in reply.content]
        try:
            got = call(answer, name, case, reply)
        except Incorrect as wrong:
            if wrong.values.get("error_type") in ("AttributeError", "IndexError"):
                raise Incorrect("by_position", name=name, error=wrong.values["error"], case=case,
                                blocks=blocks) from None
            raise
        want = "".join(getattr(block, attribute[kind]) for block in reply.content if block.type == kind)
        if not isinstance(got, str):
            raise Incorrect("select.not_str", name=name, got=short(got), case=case)
        if got != want:
            unwanted = "".join(getattr(block, attribute[other], "") for block in reply.content if block.type == other)
            if unwanted and unwanted[:40] in got:
                raise Incorrect("select.other_kind_included", name=name, case=case, kind=kind,
                                other=context.text(f"word.{other}"))
            raise Incorrect("select.wrong", name=name, case=case, got=short(got), want=short(want),
                            kind=kind)
    return context.cases([key for key, _, _ in cases])


def _check_reply_text(answer: Any, context: Context) -> str:
    return check_selection(answer, context, "reply_text", "text", "thinking")


def _check_thinking_text(answer: Any, context: Context) -> str:
    return check_selection(answer, context, "thinking_text", "thinking", "text")


def _errors() -> list[tuple[str, str, BaseException]]:
    """(case, the right label, a real exception of that case), each raised by the SDK here and now."""
    found: list[tuple[str, str, BaseException]] = []
    client, _ = replies.replay([])
    try:
        client.messages.create(model="llama3.2", messages=HELLO)
    except TypeError as error:
        found.append(("case.missing_max_tokens", "max_tokens", error))
    refused, holder = replies.refused_client()
    try:
        refused.messages.create(model="llama3.2", max_tokens=16, messages=HELLO)
    except anthropic.APIConnectionError as error:
        found.append(("case.refused", "server", error))
    finally:
        holder.close()
    for case, label, source, name, base_url in [
            ("case.unknown_model", "model", "ollama", "unknown_model_404", replies.REPLAY_URL),
            ("case.url_v1_ollama", "url", "ollama", "url_v1_404", replies.REPLAY_URL + "/v1"),
            ("case.url_v1_llama_cpp", "url", "llama_cpp", "url_v1_404", replies.REPLAY_URL + "/v1"),
            ("case.bad_request", "other", "ollama", "bad_request_400", replies.REPLAY_URL),
            ("case.server_error", "other", "llama_cpp", "image_500", replies.REPLAY_URL)]:
        client, _ = replies.replay(replies.exchanges(source, name), base_url=base_url)
        request = replies.request_json(source, name)
        try:
            client.messages.create(model=request["model"], max_tokens=request["max_tokens"],
                                   messages=request["messages"])
        except anthropic.APIStatusError as error:
            found.append((case, label, error))
    if len(found) != 7:
        raise RuntimeError(f"only {len(found)} of the 7 errors came")
    return found


def _check_what_went_wrong(answer: Any, context: Context) -> str:
    labels = {"max_tokens", "server", "model", "url", "other"}
    errors = _errors()
    for case_key, want, error in errors:
        case = context.text(case_key)
        got = call(answer, "what_went_wrong", case, error)
        if not isinstance(got, str) or got not in labels:
            raise Incorrect("ex3.not_label", case=case, got=short(got))
        if got != want:
            raise Incorrect("ex3.wrong_label", case=case, error=f"{type(error).__name__}: {short(str(error), 70)}",
                            got=short(got), want=short(want), why=context.text(f"why.{want}"))
    return context.cases([case for case, _, _ in errors])


ex1 = Exercise("01", 1, "reply_text", _check_reply_text, table=TABLE, hint=HINTS["ex1"], solution_code='''
def reply_text(message):
    return "".join(block.text for block in message.content if block.type == "text")
''')

ex2 = Exercise("01", 2, "thinking_text", _check_thinking_text, table=TABLE, hint=HINTS["ex2"], solution_code='''
def thinking_text(message):
    return "".join(block.thinking for block in message.content if block.type == "thinking")
''')

ex3 = Exercise("01", 3, "what_went_wrong", _check_what_went_wrong, table=TABLE, hint=HINTS["ex3"],
               solution_code='''
import anthropic


def what_went_wrong(error):
    if isinstance(error, TypeError):
        return "max_tokens"
    if isinstance(error, anthropic.APIConnectionError):
        return "server"
    if isinstance(error, anthropic.NotFoundError):
        return "model" if "model" in error.message else "url"
    return "other"
''')

EXERCISES = [ex1, ex2, ex3]
