"""Lesson 08's exercises: total the tokens of many replies on any server; is a model on the server's list?"""

from __future__ import annotations

from typing import Any

from . import replies
from .core import Context, Exercise, Incorrect, call, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "For each reply, the prompt is `usage.input_tokens` plus `usage.cache_read_input_tokens` and "
              "`usage.cache_creation_input_tokens`, each `or 0` (Ollama sends neither: they are None). Sum those, and "
              "`usage.output_tokens`, over the list.",
        "zh": "每条回复的提示词 token 数是 `usage.input_tokens` 加上 `usage.cache_read_input_tokens` 和 "
              "`usage.cache_creation_input_tokens`，后两个都要写成 `or 0`（Ollama 不发送它们，值是 None）。把它们和 "
              "`usage.output_tokens` 分别在整个列表上求和。",
    },
    "ex2": {
        "en": "Ollama's `/api/tags` lists `{\"models\": [{\"name\": \"llama3.2:latest\"}, ...]}`; an OpenAI-style "
              "`/v1/models` lists `{\"data\": [{\"id\": ...}, ...]}`. Collect the names from both keys "
              "(`listing.get(...)`), and compare whole names: a name without a tag means `:latest`.",
        "zh": "Ollama 的 `/api/tags` 返回 `{\"models\": [{\"name\": \"llama3.2:latest\"}, ...]}`；OpenAI 风格的 "
              "`/v1/models` 返回 `{\"data\": [{\"id\": ...}, ...]}`。从两个键里收集名称（用 `listing.get(...)`），"
              "比较完整的名称：不带标签的名称就是 `:latest`。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.not_pair": {
        "en": "For {case}, `token_totals` returned {got}; it should return a pair of ints (prompt, output).",
        "zh": "对 {case}，`token_totals` 返回了 {got}；它应该返回一个整数二元组（提示词，输出）。",
    },
    "ex1.none_cache": {
        "en": "`token_totals` raised {error} on {case}: Ollama sends no cache fields, so they are None. Count a None "
              "as 0 (`usage.cache_read_input_tokens or 0`).",
        "zh": "`token_totals` 处理 {case} 时抛出了 {error}：Ollama 不发送缓存字段，它们的值是 None。把 None 当作 0"
              "（`usage.cache_read_input_tokens or 0`）。",
    },
    "ex1.cache_left_out": {
        "en": "For {case}, the prompt total is {got}, the sum of input_tokens alone; with the {cached} tokens "
              "llama.cpp reused from its cache (cache_read_input_tokens) it is {want}.",
        "zh": "对 {case}，提示词总数是 {got}，只加了 input_tokens；加上 llama.cpp 从缓存复用的 {cached} 个 token"
              "（cache_read_input_tokens）应该是 {want}。",
    },
    "ex1.wrong": {
        "en": "For {case}, `token_totals` returned {got}; the usage of the replies adds up to {want}.",
        "zh": "对 {case}，`token_totals` 返回了 {got}；这些回复的用量加起来是 {want}。",
    },
    "case.engine_replies": {"en": "four replies recorded from llama.cpp's server (with cache fields)",
                            "zh": "四条录制自 llama.cpp 服务器的回复（带缓存字段）"},
    "case.ollama_replies": {"en": "two replies recorded through the Ollama double (no cache fields)",
                            "zh": "两条录制自 Ollama 替身的回复（没有缓存字段）"},
    "case.mixed_replies": {"en": "replies of both servers in one list", "zh": "两种服务的回复混在一个列表里"},
    "case.no_replies": {"en": "an empty list", "zh": "空列表"},
    "ex2.wrong": {
        "en": "For {case} and {name}, `has_model` returned {got}; the listing holds {names}, so the answer is {want}.",
        "zh": "对 {case} 和 {name}，`has_model` 返回了 {got}；列表里有 {names}，所以正确答案是 {want}。",
    },
    "ex2.latest": {
        "en": "For {case}, `has_model(listing, {name})` returned {got}: Ollama lists {tagged}, and a name without a "
              "tag means `:latest`.",
        "zh": "对 {case}，`has_model(listing, {name})` 返回了 {got}：Ollama 列出的是 {tagged}，不带标签的名称就是 "
              "`:latest`。",
    },
    "ex2.prefix": {
        "en": "For {case}, `has_model(listing, {name})` returned True, but no model is called {name}: compare whole "
              "names, not beginnings ({names}).",
        "zh": "对 {case}，`has_model(listing, {name})` 返回了 True，可是没有叫 {name} 的模型：要比较完整的名称，"
              "不能只比较开头（{names}）。",
    },
    "ex2.format": {
        "en": "`has_model` raised {error} on {case}: that listing is in the other format. `/api/tags` has \"models\" "
              "with \"name\"; `/v1/models` has \"data\" with \"id\".",
        "zh": "`has_model` 处理 {case} 时抛出了 {error}：这个列表是另一种格式。`/api/tags` 里是带 \"name\" 的 "
              "\"models\"；`/v1/models` 里是带 \"id\" 的 \"data\"。",
    },
    "case.tags": {"en": "GET /api/tags (recorded through the Ollama double)",
                  "zh": "GET /api/tags（录制自 Ollama 替身）"},
    "case.openai_models": {"en": "GET /v1/models (recorded through the Ollama double)",
                           "zh": "GET /v1/models（录制自 Ollama 替身）"},
    "case.engine_models": {"en": "GET /v1/models (recorded from llama.cpp's server)",
                           "zh": "GET /v1/models（录制自 llama.cpp 服务器）"},
}

REPLY_LISTS = [
    ("case.engine_replies", [("llama_cpp", "text"), ("llama_cpp", "cut"), ("llama_cpp", "chat_create_turn_1"),
                             ("llama_cpp", "chat_create_turn_2")]),
    ("case.ollama_replies", [("ollama", "text"), ("ollama", "thinking_text")]),
    ("case.mixed_replies", [("ollama", "thinking_only"), ("llama_cpp", "cut"), ("ollama", "text")]),
    ("case.no_replies", []),
]


def _prompt(usage: Any) -> int:
    return usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)


def _check_token_totals(answer: Any, context: Context) -> str:
    for case_key, names in REPLY_LISTS:
        case = context.text(case_key)
        replies_ = [replies.message(source, name) for source, name in names]
        want = (sum(_prompt(reply.usage) for reply in replies_), sum(reply.usage.output_tokens for reply in replies_))
        try:
            got = call(answer, "token_totals", case, list(replies_))
        except Incorrect as wrong:
            if wrong.values.get("error_type") == "TypeError" and "NoneType" in wrong.values.get("error", ""):
                raise Incorrect("ex1.none_cache", error=wrong.values["error"], case=case) from None
            raise
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Incorrect("ex1.not_pair", case=case, got=short(got))
        if tuple(got) != want:
            inputs_only = sum(reply.usage.input_tokens for reply in replies_)
            if got[0] == inputs_only and inputs_only != want[0]:
                raise Incorrect("ex1.cache_left_out", case=case, got=got[0], cached=want[0] - inputs_only,
                                want=want[0])
            raise Incorrect("ex1.wrong", case=case, got=short(got), want=short(want))
    return context.cases([key for key, _ in REPLY_LISTS])


LISTINGS = [
    ("case.tags", "ollama", "tags", [("llama3.2", True), ("qwen3:latest", True), ("llava", True), ("llama3", False),
                                     ("mistral", False)]),
    ("case.openai_models", "ollama", "models", [("llava", True), ("llama3.2:latest", True), ("qwen", False)]),
    ("case.engine_models", "llama_cpp", "models", [("smollm2-135m", True), ("smollm2", False)]),
]


def _names(listing: dict[str, Any]) -> list[str]:
    return [model["name"] for model in listing.get("models", [])] + [model["id"] for model in listing.get("data", [])]


def _check_has_model(answer: Any, context: Context) -> str:
    for case_key, source, name, questions in LISTINGS:
        case = context.text(case_key)
        listing = replies.body(source, name)
        names = sorted(set(_names(listing)))
        for model, want in questions:
            try:
                got = call(answer, "has_model", case, listing, model)
            except Incorrect as wrong:
                if wrong.values.get("error_type") in ("KeyError", "TypeError"):
                    raise Incorrect("ex2.format", error=wrong.values["error"], case=case) from None
                raise
            if bool(got) == want:
                continue
            if want and f"{model}:latest" in names:
                raise Incorrect("ex2.latest", case=case, name=short(model), got=short(got),
                                tagged=short(f"{model}:latest"))
            if got and any(candidate.startswith(model) for candidate in names):
                raise Incorrect("ex2.prefix", case=case, name=short(model), names=names)
            raise Incorrect("ex2.wrong", case=case, name=short(model), got=short(got), names=names, want=want)
    return context.cases([key for key, _, _, _ in LISTINGS])


ex1 = Exercise("08", 1, "token_totals", _check_token_totals, table=TABLE, hint=HINTS["ex1"], solution_code='''
def token_totals(replies):
    prompt = output = 0
    for reply in replies:
        usage = reply.usage
        prompt += (usage.input_tokens + (usage.cache_read_input_tokens or 0)
                   + (usage.cache_creation_input_tokens or 0))
        output += usage.output_tokens
    return prompt, output
''')

ex2 = Exercise("08", 2, "has_model", _check_has_model, table=TABLE, hint=HINTS["ex2"], solution_code='''
def has_model(listing, name):
    names = [model["name"] for model in listing.get("models", [])]
    names += [model["id"] for model in listing.get("data", [])]
    return name in names or (":" not in name and f"{name}:latest" in names)
''')

EXERCISES = [ex1, ex2]
