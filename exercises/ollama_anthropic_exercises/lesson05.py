"""Lesson 05's exercises: a request with sampling values the SDK accepts; how a reply ended, on any server."""

from __future__ import annotations

from typing import Any

from anthropic.types import Message

from . import replies
from .core import Context, Exercise, Incorrect, call, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "Since SDK 1.0, `temperature` and `top_k` are no longer keyword arguments of `messages.create`. Pass "
              "them in `extra_body={\"temperature\": temperature, \"top_k\": top_k}`: the SDK merges that dict into "
              "the JSON body. Return what `messages.create` returns.",
        "zh": "从 SDK 1.0 起，`temperature` 和 `top_k` 不再是 `messages.create` 的关键字参数。把它们放进 "
              "`extra_body={\"temperature\": temperature, \"top_k\": top_k}`：SDK 会把这个字典合并进 JSON 请求体。"
              "返回 `messages.create` 的返回值。",
    },
    "ex2": {
        "en": "`max_tokens` and `tool_use` can be read from `message.stop_reason`. A stop-sequence hit is "
              "`stop_reason == \"stop_sequence\"` on Anthropic's API, but llama.cpp says \"end_turn\" and fills "
              "`message.stop_sequence`: test both. (Ollama gives no sign at all, so \"end_turn\" is all you can say.)",
        "zh": "`max_tokens` 和 `tool_use` 从 `message.stop_reason` 就能读出来。停止序列命中时，Anthropic 官方 API "
              "给出 `stop_reason == \"stop_sequence\"`，但 llama.cpp 说的是 \"end_turn\"，同时填上 "
              "`message.stop_sequence`：两个都要看。（Ollama 什么迹象都不给，所以只能说 \"end_turn\"。）",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.keyword": {
        "en": "`sampled_reply` raised {error}: since SDK 1.0, temperature, top_p and top_k are not keyword arguments "
              "of `messages.create`. Pass them in `extra_body={{...}}`.",
        "zh": "`sampled_reply` 抛出了 {error}：从 SDK 1.0 起，temperature、top_p、top_k 不再是 `messages.create` "
              "的关键字参数。把它们放进 `extra_body={{...}}`。",
    },
    "ex1.request_count": {
        "en": "For temperature {temperature} and top_k {top_k}, `sampled_reply` made {count} requests; one is enough.",
        "zh": "temperature 为 {temperature}、top_k 为 {top_k} 时，`sampled_reply` 发了 {count} 个请求；一个就够了。",
    },
    "ex1.not_top_level": {
        "en": "The request sent {sent}: the server reads temperature and top_k at the top level of the JSON body, as "
              "`extra_body={{\"temperature\": ..., \"top_k\": ...}}` puts them.",
        "zh": "发出的请求是 {sent}：服务在 JSON 请求体的最外层读取 temperature 和 top_k，"
              "`extra_body={{\"temperature\": ..., \"top_k\": ...}}` 正是把它们放在那里。",
    },
    "ex1.wrong_values": {
        "en": "Asked for temperature {temperature} and top_k {top_k}, the request sent temperature {sent_temperature} "
              "and top_k {sent_top_k}.",
        "zh": "要求的是 temperature {temperature}、top_k {top_k}，请求里发出的却是 temperature {sent_temperature}、"
              "top_k {sent_top_k}。",
    },
    "ex1.no_prompt": {
        "en": "The request's messages are {sent}: they should hold one user message with the prompt {prompt}.",
        "zh": "请求的 messages 是 {sent}：里面应该有一条内容为提示词 {prompt} 的用户消息。",
    },
    "ex1.not_message": {
        "en": "`sampled_reply` returned {got}; return the reply, the `Message` that `messages.create` returned.",
        "zh": "`sampled_reply` 返回了 {got}；应该返回回复本身，也就是 `messages.create` 返回的 `Message`。",
    },
    "ex1.cases": {
        "en": "Checked what the SDK sent for (temperature 0.2, top_k 40) and (1.0, 1), each answered by a reply "
              "recorded from llama.cpp's server.",
        "zh": "检查了（temperature 0.2，top_k 40）和（1.0，1）两次调用时 SDK 发出的内容，每次得到的都是一条录制自 "
              "llama.cpp 服务器的回复。",
    },
    "ex2.not_label": {
        "en": "For {case}, `how_it_ended` returned {got}; it should return \"end_turn\", \"max_tokens\", "
              "\"stop_sequence\" or \"tool_use\".",
        "zh": "对 {case}，`how_it_ended` 返回了 {got}；它应该返回 \"end_turn\"、\"max_tokens\"、\"stop_sequence\" 或 "
              "\"tool_use\"。",
    },
    "ex2.wrong": {
        "en": "For {case} (stop_reason {reason}, stop_sequence {sequence}) it returned {got}; the answer is {want}.",
        "zh": "对 {case}（stop_reason 为 {reason}，stop_sequence 为 {sequence}），返回了 {got}；正确答案是 {want}。",
    },
    "ex2.llama_cpp_hit": {
        "en": "For {case}, it returned {got}: llama.cpp reports a hit as stop_reason \"end_turn\" and fills "
              "`stop_sequence` ({sequence}). Look at `message.stop_sequence` too.",
        "zh": "对 {case}，返回了 {got}：llama.cpp 把命中报告为 stop_reason \"end_turn\"，同时填上 `stop_sequence`"
              "（{sequence}）。也要看 `message.stop_sequence`。",
    },
}


def _check_sampled_reply(answer: Any, context: Context) -> str:
    for temperature, top_k in [(0.2, 40), (1.0, 1)]:
        client, replayer = replies.replay(replies.exchanges("llama_cpp", "text"))
        try:
            got = call(answer, "sampled_reply", f"temperature={temperature}", client, "llama3.2", "写一首诗",
                       temperature, top_k)
        except Incorrect as wrong:
            if wrong.values.get("error_type") == "TypeError" and "temperature" in wrong.values.get("error", ""):
                raise Incorrect("ex1.keyword", error=wrong.values["error"]) from None
            raise
        if replayer.attempts != 1:
            raise Incorrect("ex1.request_count", temperature=temperature, top_k=top_k, count=replayer.attempts)
        sent = replayer.requests[0]["json"]
        if "temperature" not in sent or "top_k" not in sent:
            shown = {key: value for key, value in sent.items() if key not in ("messages", "model", "max_tokens")}
            raise Incorrect("ex1.not_top_level", sent=short(shown, 160))
        if sent["temperature"] != temperature or sent["top_k"] != top_k:
            raise Incorrect("ex1.wrong_values", temperature=temperature, top_k=top_k,
                            sent_temperature=sent["temperature"], sent_top_k=sent["top_k"])
        texts = [message.get("content") for message in sent.get("messages", []) if message.get("role") == "user"]
        flat = [content if isinstance(content, str) else
                "".join(block.get("text", "") for block in content if isinstance(block, dict)) for content in texts]
        if "写一首诗" not in flat:
            raise Incorrect("ex1.no_prompt", sent=short(sent.get("messages"), 120), prompt=short("写一首诗"))
        if not isinstance(got, Message):
            raise Incorrect("ex1.not_message", got=short(got))
    return context.text("ex1.cases")


ENDINGS = [("case.text", "llama_cpp", "text", "end_turn"), ("case.cut", "llama_cpp", "cut", "max_tokens"),
           ("case.stop_llama_cpp", "stop_sequence_llama_cpp", 1, "stop_sequence"),
           ("case.stop_ollama", "stop_sequence_ollama", 1, "end_turn"),
           ("case.tool_call", "tools_single_get_weather", 0, "tool_use")]


def _check_how_it_ended(answer: Any, context: Context) -> str:
    for case_key, source, name, want in ENDINGS:
        reply = replies.message(source, name)
        case = context.text(case_key)
        got = call(answer, "how_it_ended", case, reply)
        if got not in ("end_turn", "max_tokens", "stop_sequence", "tool_use"):
            raise Incorrect("ex2.not_label", case=case, got=short(got))
        if got != want:
            if case_key == "case.stop_llama_cpp":
                raise Incorrect("ex2.llama_cpp_hit", case=case, got=short(got), sequence=short(reply.stop_sequence))
            raise Incorrect("ex2.wrong", case=case, reason=short(reply.stop_reason),
                            sequence=short(reply.stop_sequence), got=short(got), want=short(want))
    return context.cases([key for key, _, _, _ in ENDINGS])


ex1 = Exercise("05", 1, "sampled_reply", _check_sampled_reply, table=TABLE, hint=HINTS["ex1"], solution_code='''
def sampled_reply(client, model, prompt, temperature, top_k):
    return client.messages.create(
        model=model,
        max_tokens=64,
        messages=[{"role": "user", "content": prompt}],
        extra_body={"temperature": temperature, "top_k": top_k},
    )
''')

ex2 = Exercise("05", 2, "how_it_ended", _check_how_it_ended, table=TABLE, hint=HINTS["ex2"], solution_code='''
def how_it_ended(message):
    if message.stop_reason == "stop_sequence" or message.stop_sequence:
        return "stop_sequence"
    return message.stop_reason
''')

EXERCISES = [ex1, ex2]
