"""Lesson 12's exercises: an Anthropic reply in OpenAI's terms; each SDK's base URL for one server."""

from __future__ import annotations

from typing import Any

from . import replies
from .core import Context, Exercise, Incorrect, call, quietly, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "content: the text blocks joined. finish_reason: end_turn and stop_sequence → \"stop\", max_tokens → "
              "\"length\", tool_use → \"tool_calls\". prompt_tokens: OpenAI counts the whole prompt, so add "
              "`cache_read_input_tokens` and `cache_creation_input_tokens` (`or 0`) to `input_tokens`. "
              "completion_tokens: `output_tokens`.",
        "zh": "content：把文本块拼起来。finish_reason：end_turn 和 stop_sequence → \"stop\"，max_tokens → \"length\"，"
              "tool_use → \"tool_calls\"。prompt_tokens：OpenAI 统计整个提示词，所以要在 `input_tokens` 上加上 "
              "`cache_read_input_tokens` 和 `cache_creation_input_tokens`（都写成 `or 0`）。completion_tokens："
              "`output_tokens`。",
    },
    "ex2": {
        "en": "Strip a trailing \"/\" and a trailing \"/v1\" to get the server root: that is the Anthropic SDK's base "
              "URL (it appends /v1/messages itself). The OpenAI SDK's is the root plus \"/v1\" (it appends "
              "/chat/completions).",
        "zh": "去掉末尾的 \"/\" 和末尾的 \"/v1\"，得到服务器根地址：这就是 Anthropic SDK 的接口地址（它自己会加上 "
              "/v1/messages）。OpenAI SDK 的接口地址是根地址加上 \"/v1\"（它会加上 /chat/completions）。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.not_dict": {
        "en": "For {case}, `openai_fields` returned {got}; it should return a dict with \"content\", "
              "\"finish_reason\", \"prompt_tokens\" and \"completion_tokens\".",
        "zh": "对 {case}，`openai_fields` 返回了 {got}；它应该返回一个带 \"content\"、\"finish_reason\"、"
              "\"prompt_tokens\"、\"completion_tokens\" 的字典。",
    },
    "ex1.finish_reason": {
        "en": "For {case} (stop_reason {reason}), finish_reason is {got}; OpenAI's name for it is {want}.",
        "zh": "对 {case}（stop_reason 为 {reason}），finish_reason 是 {got}；OpenAI 的叫法是 {want}。",
    },
    "ex1.prompt_cache": {
        "en": "For {case}, prompt_tokens is {got}, input_tokens alone; OpenAI's prompt_tokens counts the whole "
              "prompt, including the {cached} tokens the server reused from its cache: {want}.",
        "zh": "对 {case}，prompt_tokens 是 {got}，只算了 input_tokens；OpenAI 的 prompt_tokens 统计整个提示词，"
              "包括服务从缓存复用的 {cached} 个 token：{want}。",
    },
    "ex1.field": {
        "en": "For {case}, {field} is {got}; it should be {want}.",
        "zh": "对 {case}，{field} 是 {got}；应该是 {want}。",
    },
    "ex2.not_pair": {
        "en": "For {server}, `base_urls` returned {got}; it should return a pair (Anthropic's base_url, OpenAI's "
              "base_url).",
        "zh": "对 {server}，`base_urls` 返回了 {got}；它应该返回一个二元组（Anthropic 的 base_url，OpenAI 的 "
              "base_url）。",
    },
    "ex2.unusable": {
        "en": "For {server}, `base_urls` returned {got}, and an SDK client cannot use it: {error}.",
        "zh": "对 {server}，`base_urls` 返回了 {got}，SDK 的客户端用不了它：{error}。",
    },
    "ex2.anthropic": {
        "en": "For {server}, the Anthropic SDK with base_url {got} requests {url}: it must request {want}. Give it "
              "the server root, without /v1 (it appends /v1/messages itself).",
        "zh": "对 {server}，用 base_url {got} 的 Anthropic SDK 请求的是 {url}：它应该请求 {want}。要给它服务器根地址，"
              "不带 /v1（它自己会加上 /v1/messages）。",
    },
    "ex2.openai": {
        "en": "For {server}, the OpenAI SDK with base_url {got} requests {url}: it must request {want}. Give it the "
              "root plus /v1 (it appends /chat/completions).",
        "zh": "对 {server}，用 base_url {got} 的 OpenAI SDK 请求的是 {url}：它应该请求 {want}。要给它根地址加上 /v1"
              "（它会加上 /chat/completions）。",
    },
    "ex2.cases": {
        "en": "Checked the URL each SDK requests, for {servers}.",
        "zh": "检查了两个 SDK 对 {servers} 实际请求的地址。",
    },
}

FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
FIELD_CASES = [("case.text", "llama_cpp", "text"), ("case.cut", "llama_cpp", "cut"),
               ("case.thinking_text", "ollama", "thinking_text"), ("case.tool_call", "tools_single_get_weather", 0),
               ("case.stop_llama_cpp", "stop_sequence_llama_cpp", 1)]


def _check_openai_fields(answer: Any, context: Context) -> str:
    for case_key, source, name in FIELD_CASES:
        reply = replies.message(source, name)
        case = context.text(case_key)
        got = call(answer, "openai_fields", case, reply)
        usage = reply.usage
        cached = (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
        want = {"content": "".join(block.text for block in reply.content if block.type == "text"),
                "finish_reason": FINISH[reply.stop_reason], "prompt_tokens": usage.input_tokens + cached,
                "completion_tokens": usage.output_tokens}
        if not isinstance(got, dict) or not set(want) <= set(got):
            raise Incorrect("ex1.not_dict", case=case, got=short(got))
        if got["finish_reason"] != want["finish_reason"]:
            raise Incorrect("ex1.finish_reason", case=case, reason=short(reply.stop_reason),
                            got=short(got["finish_reason"]), want=short(want["finish_reason"]))
        if got["prompt_tokens"] != want["prompt_tokens"] and got["prompt_tokens"] == usage.input_tokens:
            raise Incorrect("ex1.prompt_cache", case=case, got=got["prompt_tokens"], cached=cached,
                            want=want["prompt_tokens"])
        for field in ("content", "prompt_tokens", "completion_tokens"):
            mine = got[field] if not (field == "content" and got[field] is None) else ""
            if mine != want[field]:
                raise Incorrect("ex1.field", case=case, field=field, got=short(got[field]), want=short(want[field]))
    return context.cases([key for key, _, _ in FIELD_CASES])


SERVERS = [("http://localhost:11434", "localhost:11434"), ("http://localhost:11434/", "localhost:11434"),
           ("http://localhost:11434/v1", "localhost:11434"), ("http://127.0.0.1:18434", "127.0.0.1:18434")]


def _requested_urls(anthropic_url: str, openai_url: str) -> tuple[str, str]:
    """The URL each SDK requests with these base URLs (a transport that records it and answers 404)."""
    import anthropic
    import httpx
    import httpx2
    import openai

    seen: list[str] = []

    def anthropic_side(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        return httpx2.Response(404, text="404 page not found")

    def openai_side(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(404, text="404 page not found")

    claude = anthropic.Anthropic(base_url=anthropic_url, api_key="ollama", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(anthropic_side)))
    gpt = openai.OpenAI(base_url=openai_url, api_key="ollama", max_retries=0,
                        http_client=httpx.Client(transport=httpx.MockTransport(openai_side)))
    with quietly():
        try:
            claude.messages.create(model="llama3.2", max_tokens=8, messages=[{"role": "user", "content": "你好"}])
        except anthropic.APIStatusError:
            pass
        try:
            gpt.chat.completions.create(model="llama3.2", max_tokens=8, messages=[{"role": "user", "content": "你好"}])
        except openai.APIStatusError:
            pass
    return seen[0], seen[1]


def _check_base_urls(answer: Any, context: Context) -> str:
    for server, host in SERVERS:
        got = call(answer, "base_urls", short(server), server)
        if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(url, str) for url in got):
            raise Incorrect("ex2.not_pair", server=short(server), got=short(got))
        try:
            anthropic_url, openai_url = _requested_urls(*got)
        except Exception as error:  # the SDKs refusing the learner's URLs is the finding
            raise Incorrect("ex2.unusable", server=short(server), got=short(got),
                            error=f"{type(error).__name__}: {short(str(error), 120)}") from None
        if anthropic_url != f"http://{host}/v1/messages":
            raise Incorrect("ex2.anthropic", server=short(server), got=short(got[0]), url=anthropic_url,
                            want=f"http://{host}/v1/messages")
        if openai_url != f"http://{host}/v1/chat/completions":
            raise Incorrect("ex2.openai", server=short(server), got=short(got[1]), url=openai_url,
                            want=f"http://{host}/v1/chat/completions")
    return context.text("ex2.cases", servers=context.text("list_separator").join(server for server, _ in SERVERS))


ex1 = Exercise("12", 1, "openai_fields", _check_openai_fields, table=TABLE, hint=HINTS["ex1"], solution_code='''
FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def openai_fields(message):
    usage = message.usage
    return {
        "content": "".join(block.text for block in message.content if block.type == "text"),
        "finish_reason": FINISH_REASONS[message.stop_reason],
        "prompt_tokens": (usage.input_tokens + (usage.cache_read_input_tokens or 0)
                          + (usage.cache_creation_input_tokens or 0)),
        "completion_tokens": usage.output_tokens,
    }
''')

ex2 = Exercise("12", 2, "base_urls", _check_base_urls, table=TABLE, hint=HINTS["ex2"], solution_code='''
def base_urls(server):
    root = server.rstrip("/").removesuffix("/v1")
    return root, root + "/v1"
''')

EXERCISES = [ex1, ex2]
