"""Lesson 10's exercises: a chat turn that never leaves an unanswered question in the history; keep the last N
exchanges of a long history."""

from __future__ import annotations

import copy
from typing import Any

import anthropic

from . import replies
from .core import Context, Exercise, Incorrect, quietly, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "Append the user turn, then call the model inside `try`; in `except BaseException:` take the turn back "
              "out (`messages.pop()`) and `raise`. After the call: if the reply's text is empty, take the turn back "
              "out too; otherwise append `{\"role\": \"assistant\", \"content\": text}`. Return the text.",
        "zh": "先追加用户这一轮，然后在 `try` 里调用模型；在 `except BaseException:` 里把这一轮撤回"
              "（`messages.pop()`）再 `raise`。调用成功后：回复的文本为空，也把这一轮撤回；否则追加 `{\"role\": "
              "\"assistant\", \"content\": text}`。返回文本。",
    },
    "ex2": {
        "en": "One exchange is two messages (user, assistant), so n exchanges are the last `2 * n` messages: "
              "`messages[len(messages) - 2 * n:]`, with `max(0, ...)` for a short history. Watch n = 0: "
              "`messages[-0:]` is the whole list.",
        "zh": "一轮是两条消息（用户、助手），所以 n 轮就是最后 `2 * n` 条消息：`messages[len(messages) - 2 * n:]`，"
              "历史较短时用 `max(0, ...)`。注意 n = 0：`messages[-0:]` 是整个列表。",
    },
}

# The history rules, shared with lesson 11's streaming chat (check_history_rules).
HISTORY_TABLE: dict[str, dict[str, str]] = {
    "history.after_two": {
        "en": "After two successful turns, the history should be user, assistant, user, assistant, with the replies' "
              "texts; it is {got}.",
        "zh": "两轮都成功以后，对话历史应该是用户、助手、用户、助手，助手的内容是回复的文本；实际是 {got}。",
    },
    "history.whole": {
        "en": "The second request sent {got}: it should send the whole history so far (the first question, its "
              "answer, the new question). The server keeps nothing between requests.",
        "zh": "第二个请求发出的是 {got}：它应该把目前为止的全部对话历史都发出去（第一个问题、它的回答、新的问题）。"
              "服务在两次请求之间什么也不保存。",
    },
    "history.returned": {
        "en": "For {case}, `{name}` returned {got}; it should return the reply's text, {want}.",
        "zh": "对 {case}，`{name}` 返回了 {got}；它应该返回回复的文本 {want}。",
    },
    "history.failed_call": {
        "en": "After {case}, the history is {got}: the question that got no answer is still in it. Take it back out "
              "when the call fails (and let the error through).",
        "zh": "{case} 之后，对话历史是 {got}：没有得到回答的问题还留在里面。调用失败时要把它撤回（并让异常继续抛出）。",
    },
    "history.empty_reply": {
        "en": "After {case}, the history is {got}: a reply without text adds no turn, and its question comes back out "
              "too.",
        "zh": "{case} 之后，对话历史是 {got}：没有文本的回复不增加任何一轮，它对应的问题也要撤回。",
    },
    "history.raised": {
        "en": "`{name}` raised {error} on {case}, where the reply came back fine.",
        "zh": "`{name}` 处理 {case} 时抛出了 {error}，而这次回复是正常返回的。",
    },
    "case.chat_two_turns": {"en": "two chat turns (replies recorded from llama.cpp's server)",
                            "zh": "两轮对话（录制自 llama.cpp 服务器的回复）"},
    "case.chat_refused": {"en": "a turn sent to a port where nothing listens (a real refused connection)",
                          "zh": "发往一个没有任何服务监听的端口的一轮（真实的连接被拒绝）"},
    "case.chat_thinking_only": {
        "en": "a turn whose reply has no text: its budget went to thinking (recorded through the Ollama double as "
              "qwen3)",
        "zh": "回复没有文本的一轮：预算全用在了思考上（录制自扮演 qwen3 的 Ollama 替身）"},
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    **HISTORY_TABLE,
    "ex2.not_list": {
        "en": "For n = {n}, `last_exchanges` returned {got}; it should return a list of messages.",
        "zh": "n = {n} 时，`last_exchanges` 返回了 {got}；它应该返回一个消息列表。",
    },
    "ex2.wrong": {
        "en": "For a history of {total} messages and n = {n}, `last_exchanges` returned {count} messages ({roles}); "
              "the last {n} exchanges are the last {want} messages, starting with a user turn.",
        "zh": "对一段 {total} 条消息的对话历史，n = {n} 时，`last_exchanges` 返回了 {count} 条消息（{roles}）；最后 "
              "{n} 轮就是最后 {want} 条消息，并且以用户的一轮开头。",
    },
    "ex2.minus_zero": {
        "en": "For n = 0, `last_exchanges` returned the whole history: `messages[-0:]` is `messages[0:]`, since -0 is "
              "0. Count from the front: `messages[len(messages) - 2 * n:]`.",
        "zh": "n = 0 时，`last_exchanges` 返回了整段对话历史：因为 -0 就是 0，`messages[-0:]` 等于 `messages[0:]`。"
              "改为从前面数：`messages[len(messages) - 2 * n:]`。",
    },
    "ex2.mutated": {
        "en": "For n = {n}, the history you were given was changed: return a new list and leave the original alone "
              "(the chat still needs it).",
        "zh": "n = {n} 时，传进来的对话历史被修改了：返回一个新列表，不要动原来的（对话还要用它）。",
    },
    "ex2.cases": {
        "en": "Checked with a history of 4 exchanges, for n = 2, 1, 0 and 10.",
        "zh": "用一段 4 轮的对话历史检查了 n = 2、1、0、10 四种情况。",
    },
}


def _recorded_text(exchange: dict[str, Any], kind: str) -> str:
    """The text of a recorded reply, read by the SDK from the recorded bytes (a stream's events, or a body)."""
    client, _ = replies.replay([exchange])
    request = exchange["request"]["json"]
    arguments = {key: request[key] for key in ("model", "max_tokens", "messages")}
    if kind == "stream":
        with client.messages.stream(**arguments) as stream:
            reply = stream.get_final_message()
    else:
        reply = client.messages.create(**arguments)
    return "".join(block.text for block in reply.content if block.type == "text")


def _content_text(content: Any) -> Any:
    """A turn's content as text, whether it was stored as a string or as text blocks."""
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content if isinstance(block, dict))
    return content


def check_history_rules(answer: Any, context: Context, name: str, kind: str) -> list[str]:
    """``answer(messages, user_input, client, model)`` must keep ``messages`` strictly user/assistant pairs, for a
    call made with ``messages.create`` (``kind`` "create") or ``messages.stream`` ("stream"). Returns the cases."""
    recorded = replies.exchanges("llama_cpp", f"chat_{kind}_turn_1", f"chat_{kind}_turn_2")
    client, replayer = replies.replay(recorded)
    texts = [_recorded_text(exchange, kind) for exchange in recorded]
    history: list[dict[str, Any]] = []
    case = context.text("case.chat_two_turns")
    for question, text in zip(["你好", "我叫小明"], texts, strict=True):
        try:
            with quietly():
                got = answer(history, question, client, "llama3.2")
        except Exception as error:  # the learner's code failed on a reply that came back fine
            detail = " ".join(str(error).split())
            raise Incorrect("history.raised", error=f"{type(error).__name__}: {detail}"[:200], case=case,
                            name=name) from None
        if got != text:
            raise Incorrect("history.returned", case=case, got=short(got), want=short(text), name=name)
    shape = [(turn.get("role"), _content_text(turn.get("content"))) for turn in history]
    if shape != [("user", "你好"), ("assistant", texts[0]), ("user", "我叫小明"), ("assistant", texts[1])]:
        raise Incorrect("history.after_two", got=short(shape, 200), name=name)
    second = [(turn.get("role"), _content_text(turn.get("content")))
              for turn in replayer.requests[1]["json"]["messages"]]
    if second != shape[:3]:
        raise Incorrect("history.whole", got=short(second, 200), name=name)
    kept = copy.deepcopy(history)

    refused, holder = replies.refused_client()
    case = context.text("case.chat_refused")
    try:
        with quietly():
            answer(history, "我喜欢蓝色", refused, "llama3.2")
    except anthropic.APIError:
        pass  # letting the error through is right; swallowing it is allowed too, as long as the history is intact
    except Exception as error:  # another exception: the learner's own code failed
        detail = " ".join(str(error).split())
        raise Incorrect("raised", name=name, error=f"{type(error).__name__}: {detail}"[:200], case=case) from None
    finally:
        holder.close()
    if history != kept:
        raise Incorrect("history.failed_call", case=case, got=short([turn.get("role") for turn in history]))

    thinking_only = "thinking_only" if kind == "create" else "stream_thinking_only"
    client, _ = replies.replay(replies.exchanges("ollama", thinking_only))
    case = context.text("case.chat_thinking_only")
    try:
        with quietly():
            got = answer(history, "写一首诗", client, "qwen3")
    except Exception as error:  # an empty reply is no reason to raise, but the history rule is what is checked
        got = error
    if history != kept:
        raise Incorrect("history.empty_reply", case=case, got=short([turn.get("role") for turn in history]))
    if got not in ("", None) and not isinstance(got, Exception):
        raise Incorrect("history.returned", case=case, got=short(got), want=short(""), name=name)
    return ["case.chat_two_turns", "case.chat_refused", "case.chat_thinking_only"]


def _check_safe_chat(answer: Any, context: Context) -> str:
    return context.cases(check_history_rules(answer, context, "safe_chat", "create"))


HISTORY = [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！"},
           {"role": "user", "content": "我叫小明"}, {"role": "assistant", "content": "你好，小明！"},
           {"role": "user", "content": "我喜欢蓝色"}, {"role": "assistant", "content": "蓝色很好看。"},
           {"role": "user", "content": "我叫什么名字?"}, {"role": "assistant", "content": "你叫小明。"}]


def _check_last_exchanges(answer: Any, context: Context) -> str:
    for n in (2, 1, 0, 10):
        given = copy.deepcopy(HISTORY)
        try:
            with quietly():
                got = answer(given, n)
        except Exception as error:  # the learner's code
            detail = " ".join(str(error).split())
            raise Incorrect("raised", name="last_exchanges", error=f"{type(error).__name__}: {detail}"[:200],
                            case=f"n = {n}") from None
        if given != HISTORY:
            raise Incorrect("ex2.mutated", n=n)
        if not isinstance(got, list):
            raise Incorrect("ex2.not_list", n=n, got=short(got))
        want = HISTORY[max(0, len(HISTORY) - 2 * n):]
        if got != want:
            if n == 0 and got == HISTORY:
                raise Incorrect("ex2.minus_zero")
            roles = [turn.get("role") if isinstance(turn, dict) else "?" for turn in got]
            raise Incorrect("ex2.wrong", total=len(HISTORY), n=n, count=len(got), roles=roles, want=len(want))
    return context.text("ex2.cases")


ex1 = Exercise("10", 1, "safe_chat", _check_safe_chat, table=TABLE, hint=HINTS["ex1"], solution_code='''
def safe_chat(messages, user_input, client, model):
    messages.append({"role": "user", "content": user_input})
    try:
        reply = client.messages.create(model=model, max_tokens=100, messages=messages)
    except BaseException:
        messages.pop()
        raise
    text = "".join(block.text for block in reply.content if block.type == "text")
    if text.strip():
        messages.append({"role": "assistant", "content": text})
    else:
        messages.pop()
    return text
''')

ex2 = Exercise("10", 2, "last_exchanges", _check_last_exchanges, table=TABLE, hint=HINTS["ex2"], solution_code='''
def last_exchanges(messages, n):
    return messages[max(0, len(messages) - 2 * n):]
''')

EXERCISES = [ex1, ex2]
