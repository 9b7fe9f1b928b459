"""Lesson 04's exercises: move OpenAI-style system messages into ``system``; what Ollama makes of system blocks."""

from __future__ import annotations

import copy
from typing import Any

from . import replies
from .core import Context, Exercise, Incorrect, call, quietly, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "Collect the `content` of the messages whose role is \"system\" into one string, keep the other "
              "messages in order, and return `{\"system\": ..., \"messages\": ...}` (leave \"system\" out when there "
              "was none). Build new lists rather than removing items from the one you were given.",
        "zh": "把 role 为 \"system\" 的消息的 `content` 合成一个字符串，其余消息按原顺序保留，返回 `{\"system\": ..., "
              "\"messages\": ...}`（没有系统消息时不要 \"system\"）。新建列表，不要从传进来的列表里删。",
    },
    "ex2": {
        "en": "A str stays as it is. A list of blocks: `\"\".join(block[\"text\"] for block in system)` — Ollama "
              "joins the texts with nothing between them, and `cache_control` changes nothing.",
        "zh": "字符串原样返回。内容块列表：`\"\".join(block[\"text\"] for block in system)`。Ollama "
              "把各段文本直接拼接，中间不加任何分隔符，`cache_control` 不起任何作用。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.not_request": {
        "en": "`from_openai_messages` returned {got}; it should return a dict with \"messages\" (and \"system\" when "
              "there is one), ready for `client.messages.create(model=..., max_tokens=..., **request)`.",
        "zh": "`from_openai_messages` 返回了 {got}；它应该返回一个带 \"messages\"（有系统提示时还有 \"system\"）"
              "的字典，可以直接这样用：`client.messages.create(model=..., max_tokens=..., **request)`。",
    },
    "ex1.sdk_refused": {
        "en": "For {case}, `client.messages.create(model=..., max_tokens=..., **request)` failed: {error}.",
        "zh": "对 {case}，`client.messages.create(model=..., max_tokens=..., **request)` 失败了：{error}。",
    },
    "ex1.system_role_left": {
        "en": "For {case}, `messages` still holds a message with role \"system\". Anthropic's API refuses it (400); "
              "it belongs in the `system` parameter.",
        "zh": "对 {case}，`messages` 里仍然有 role 为 \"system\" 的消息。Anthropic 官方 API 会拒绝它（400）；"
              "它应该放进 `system` 参数。",
    },
    "ex1.wrong_system": {
        "en": "For {case}, the request's system is {got}; it should be {want}.",
        "zh": "对 {case}，请求的 system 是 {got}；应该是 {want}。",
    },
    "ex1.wrong_messages": {
        "en": "For {case}, the request's messages are {got}; they should be the dialogue alone, in order: {want}.",
        "zh": "对 {case}，请求的 messages 是 {got}；应该只有对话本身，并保持原顺序：{want}。",
    },
    "ex1.mutated": {
        "en": "For {case}, the list you were given was changed. Build new lists: the caller may still need the "
              "original.",
        "zh": "对 {case}，传进来的列表被修改了。请新建列表：调用者可能还要用原来的列表。",
    },
    "ex2.not_str": {
        "en": "For {case}, `system_as_ollama_sees_it` returned {got}; it should return a str.",
        "zh": "对 {case}，`system_as_ollama_sees_it` 返回了 {got}；它应该返回字符串。",
    },
    "ex2.separator": {
        "en": "For {case}, it returned {got}, but Ollama joins the blocks with nothing between them: {want}.",
        "zh": "对 {case}，返回了 {got}；但 Ollama 拼接各个块时中间什么也不加：{want}。",
    },
    "ex2.wrong": {
        "en": "For {case}, it returned {got}; Ollama makes {want} of it.",
        "zh": "对 {case}，返回了 {got}；Ollama 得到的是 {want}。",
    },
    "case.openai_with_system": {"en": "an OpenAI-style list with a system message first",
                                "zh": "开头是一条系统消息的 OpenAI 风格列表"},
    "case.openai_without_system": {"en": "an OpenAI-style list with no system message",
                                   "zh": "没有系统消息的 OpenAI 风格列表"},
    "case.openai_three_turns": {"en": "a system message, then three turns",
                                "zh": "一条系统消息，然后是三轮对话"},
    "case.system_string": {"en": "a system prompt given as a string", "zh": "字符串形式的系统提示"},
    "case.system_blocks": {"en": "the lesson's two system blocks (the second with cache_control)",
                           "zh": "本课的两个系统提示块（第二个带 cache_control）"},
    "case.system_three_blocks": {"en": "three blocks that carry their own spaces and line break",
                                 "zh": "自带空格和换行的三个块"},
}

OPENAI_LISTS = [
    ("case.openai_with_system", [{"role": "system", "content": "你是一个友好的助手"},
                                 {"role": "user", "content": "你好"}], "你是一个友好的助手"),
    ("case.openai_without_system", [{"role": "user", "content": "你好"},
                                    {"role": "assistant", "content": "你好！有什么可以帮你的吗？"},
                                    {"role": "user", "content": "我叫小明"}], None),
    ("case.openai_three_turns", [{"role": "system", "content": "只用英语回答。"},
                                 {"role": "user", "content": "你好"},
                                 {"role": "assistant", "content": "Hello!"},
                                 {"role": "user", "content": "我叫什么名字?"}], "只用英语回答。"),
]


def _check_from_openai_messages(answer: Any, context: Context) -> str:
    for case_key, openai_messages, system in OPENAI_LISTS:
        case = context.text(case_key)
        given = copy.deepcopy(openai_messages)
        got = call(answer, "from_openai_messages", case, given)
        if given != openai_messages:
            raise Incorrect("ex1.mutated", case=case)
        if not isinstance(got, dict) or "messages" not in got:
            raise Incorrect("ex1.not_request", got=short(got))
        client, replayer = replies.replay(replies.exchanges("llama_cpp", "text"))
        try:
            with quietly():
                client.messages.create(model="llama3.2", max_tokens=16, **got)
        except Exception as error:  # what the SDK says about the learner's request is the finding
            raise Incorrect("ex1.sdk_refused", case=case, error=f"{type(error).__name__}: {short(str(error), 120)}"
                            ) from None
        sent = replayer.requests[0]["json"]
        if any(isinstance(message, dict) and message.get("role") == "system" for message in sent["messages"]):
            raise Incorrect("ex1.system_role_left", case=case)
        if (sent.get("system") or None) != system:
            raise Incorrect("ex1.wrong_system", case=case, got=short(sent.get("system")), want=short(system))
        dialogue = [message for message in openai_messages if message["role"] != "system"]
        if sent["messages"] != dialogue:
            raise Incorrect("ex1.wrong_messages", case=case, got=short(sent["messages"], 160),
                            want=short(dialogue, 160))
    return context.cases([key for key, _, _ in OPENAI_LISTS])


SYSTEMS = [
    ("case.system_string", "你是一个友好的助手", "你是一个友好的助手"),
    ("case.system_blocks", [{"type": "text", "text": "你是一个友好的助手。"},
                            {"type": "text", "text": "请用一句话回答。", "cache_control": {"type": "ephemeral"}}],
     "你是一个友好的助手。请用一句话回答。"),
    ("case.system_three_blocks", [{"type": "text", "text": "You are friendly."},
                                  {"type": "text", "text": " Answer briefly.", "cache_control": {"type": "ephemeral"}},
                                  {"type": "text", "text": "\nUse English."}],
     "You are friendly. Answer briefly.\nUse English."),
]


def _check_system_as_ollama_sees_it(answer: Any, context: Context) -> str:
    for case_key, system, want in SYSTEMS:
        case = context.text(case_key)
        got = call(answer, "system_as_ollama_sees_it", case, copy.deepcopy(system))
        if not isinstance(got, str):
            raise Incorrect("ex2.not_str", case=case, got=short(got))
        if got != want:
            texts = [block["text"] for block in system] if isinstance(system, list) else [system]
            if got.replace("\n", "").replace(" ", "") == "".join(texts).replace("\n", "").replace(" ", ""):
                raise Incorrect("ex2.separator", case=case, got=short(got), want=short(want))
            raise Incorrect("ex2.wrong", case=case, got=short(got), want=short(want))
    return context.cases([key for key, _, _ in SYSTEMS])


ex1 = Exercise("04", 1, "from_openai_messages", _check_from_openai_messages, table=TABLE, hint=HINTS["ex1"],
               solution_code='''
def from_openai_messages(openai_messages):
    system = "\\n".join(message["content"] for message in openai_messages if message["role"] == "system")
    request = {"messages": [message for message in openai_messages if message["role"] != "system"]}
    if system:
        request["system"] = system
    return request
''')

ex2 = Exercise("04", 2, "system_as_ollama_sees_it", _check_system_as_ollama_sees_it, table=TABLE,
               hint=HINTS["ex2"], solution_code='''
def system_as_ollama_sees_it(system):
    if isinstance(system, str):
        return system
    return "".join(block["text"] for block in system)
''')

EXERCISES = [ex1, ex2]
