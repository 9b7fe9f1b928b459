"""Lesson 03's exercises: build an image message the SDK sends as is; turn Anthropic messages into OpenAI's."""

from __future__ import annotations

import base64
import binascii
import copy
import io
import json
from typing import Any

from . import replies
from .core import Context, Exercise, Incorrect, call, quietly, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "Return `{\"role\": \"user\", \"content\": [text block, image block]}`. The image block is `{\"type\": "
              "\"image\", \"source\": {\"type\": \"base64\", \"media_type\": \"image/png\", \"data\": ...}}`, and "
              "`data` is a str: `base64.b64encode(png_bytes).decode()`.",
        "zh": "返回一条用户消息 `{\"role\": \"user\", \"content\": [...]}`，content 里先放文本块，再放图片块。"
              "图片块是 `{\"type\": \"image\", \"source\": {\"type\": \"base64\", \"media_type\": \"image/png\", "
              "\"data\": ...}}`，`data` 是字符串：`base64.b64encode(png_bytes).decode()`。",
    },
    "ex2": {
        "en": "Start with `[{\"role\": \"system\", \"content\": system}]` when there is a system prompt. A string "
              "content stays as it is. In a list of blocks: join the `text` blocks into one string; each `tool_use` "
              "block becomes an entry of the assistant message's `tool_calls` (`arguments` = "
              "`json.dumps(block[\"input\"])`); each `tool_result` block becomes its own message `{\"role\": "
              "\"tool\", \"tool_call_id\": ..., \"content\": ...}`.",
        "zh": "有系统提示时，以 `[{\"role\": \"system\", \"content\": system}]` 开头。字符串形式的 content 原样保留。"
              "内容块列表里：把 `text` 块拼成一个字符串；每个 `tool_use` 块变成 assistant 消息 `tool_calls` 里的一项"
              "（`arguments` = `json.dumps(block[\"input\"])`）；每个 `tool_result` 块单独变成一条消息 `{\"role\": "
              "\"tool\", \"tool_call_id\": ..., \"content\": ...}`。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.not_message": {
        "en": "`image_message` returned {got}; it should return one message: a dict with \"role\": \"user\" and a "
              "\"content\" list.",
        "zh": "`image_message` 返回了 {got}；它应该返回一条消息：带 \"role\": \"user\" 和 \"content\" 列表的字典。",
    },
    "ex1.no_question": {
        "en": "The content holds no text block with the question {question}: add `{{\"type\": \"text\", \"text\": "
              "question}}`.",
        "zh": "content 里没有内容是问题 {question} 的文本块：加上 `{{\"type\": \"text\", \"text\": question}}`。",
    },
    "ex1.openai_part": {
        "en": "That is OpenAI's image part (`image_url` with a data URL). Anthropic's format wants `{{\"type\": "
              "\"image\", \"source\": {{\"type\": \"base64\", ...}}}}`.",
        "zh": "这是 OpenAI 的图片部分（带 data URL 的 `image_url`）。Anthropic 的格式要的是 `{{\"type\": \"image\", "
              "\"source\": {{\"type\": \"base64\", ...}}}}`。",
    },
    "ex1.no_image": {
        "en": "The content holds no block of type \"image\": it has {types}.",
        "zh": "content 里没有类型为 \"image\" 的块，只有 {types}。",
    },
    "ex1.not_base64_source": {
        "en": "The image's source is {source}. Ollama takes only `{{\"type\": \"base64\", \"media_type\": "
              "\"image/png\", \"data\": ...}}` (a URL source gets a 400).",
        "zh": "图片的 source 是 {source}。Ollama 只接受 `{{\"type\": \"base64\", \"media_type\": \"image/png\", "
              "\"data\": ...}}`（网址来源会得到 400）。",
    },
    "ex1.media_type": {
        "en": "The source's media_type is {got}; a PNG is \"image/png\".",
        "zh": "source 的 media_type 是 {got}；PNG 应该是 \"image/png\"。",
    },
    "ex1.data_not_str": {
        "en": "The source's data is {kind}, not a str: JSON has no bytes. Use `base64.b64encode(png_bytes).decode()`.",
        "zh": "source 的 data 是 {kind}，不是字符串：JSON 里没有字节类型。用 `base64.b64encode(png_bytes).decode()`。",
    },
    "ex1.data_wrong": {
        "en": "The source's data is not the picture in base64: decoded, it does not give the bytes you were given.",
        "zh": "source 的 data 不是这张图片的 base64：解码以后和传进来的字节不一样。",
    },
    "ex1.sdk_refused": {
        "en": "The SDK could not send the message: {error}.",
        "zh": "SDK 发送不了这条消息：{error}。",
    },
    "ex1.cases": {
        "en": "Checked with two PNGs made with Pillow, each message sent through the SDK to a recorded reply.",
        "zh": "用 Pillow 生成的两张 PNG 检查，每条消息都经由 SDK 发出，得到的是一条录制的回复。",
    },
    "ex2.not_list": {
        "en": "`to_openai_messages` returned {got}; it should return a list of messages.",
        "zh": "`to_openai_messages` 返回了 {got}；它应该返回一个消息列表。",
    },
    "ex2.count": {
        "en": "For {case}, OpenAI's format has {want} messages ({roles}); yours has {got} ({got_roles}).",
        "zh": "对 {case}，OpenAI 的格式应该有 {want} 条消息（{roles}），你的有 {got} 条（{got_roles}）。",
    },
    "ex2.arguments": {
        "en": "For {case}, message {index}: a tool call's `arguments` must be a JSON **string** "
              "(`json.dumps(block[\"input\"])`), and it is {got}.",
        "zh": "对 {case}，第 {index} 条消息：工具调用的 `arguments` 必须是 JSON **字符串**"
              "（`json.dumps(block[\"input\"])`），而它是 {got}。",
    },
    "ex2.message": {
        "en": "For {case}, message {index} is {got}; OpenAI's format has {want}.",
        "zh": "对 {case}，第 {index} 条消息是 {got}；OpenAI 的格式应该是 {want}。",
    },
    "case.lesson_exchange": {
        "en": "the lesson's tool exchange (system prompt, question, tool_use turn, tool_result turn)",
        "zh": "本课的工具调用交互（系统提示、问题、tool_use 轮、tool_result 轮）",
    },
    "case.plain_chat": {
        "en": "a plain two-turn chat without a system prompt",
        "zh": "没有系统提示的普通两轮对话",
    },
    "case.text_blocks": {
        "en": "a question written as two text blocks, with a system prompt",
        "zh": "用两个文本块写成的问题，带系统提示",
    },
}

WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _check_image_message(answer: Any, context: Context) -> str:
    for question, png in [("这张图片里有什么?", _png((16, 16), (200, 40, 40))),
                          ("描述这张图片", _png((24, 12), (30, 60, 220)))]:
        got = call(answer, "image_message", question, question, png)
        if not isinstance(got, dict) or got.get("role") != "user" or not isinstance(got.get("content"), list):
            raise Incorrect("ex1.not_message", got=short(got))
        blocks = [block for block in got["content"] if isinstance(block, dict)]
        if not any(block.get("type") == "text" and block.get("text") == question for block in blocks):
            raise Incorrect("ex1.no_question", question=short(question))
        images = [block for block in blocks if block.get("type") == "image"]
        if not images:
            if any(block.get("type") == "image_url" for block in blocks):
                raise Incorrect("ex1.openai_part")
            raise Incorrect("ex1.no_image", types=[block.get("type") for block in blocks])
        source = images[0].get("source") or {}
        if not isinstance(source, dict) or source.get("type") != "base64":
            raise Incorrect("ex1.not_base64_source", source=short(source))
        if source.get("media_type") != "image/png":
            raise Incorrect("ex1.media_type", got=short(source.get("media_type")))
        data = source.get("data")
        if not isinstance(data, str):
            raise Incorrect("ex1.data_not_str", kind=type(data).__name__)
        try:
            decoded = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if decoded != png:
            raise Incorrect("ex1.data_wrong")
        client, replayer = replies.replay(replies.exchanges("llama_cpp", "text"))
        try:
            with quietly():
                client.messages.create(model="llava", max_tokens=16, messages=[got])
        except Exception as error:  # the SDK refusing the learner's message is the finding
            raise Incorrect("ex1.sdk_refused", error=f"{type(error).__name__}: {short(str(error), 120)}") from None
        if replayer.requests[0]["json"]["messages"] != [json.loads(json.dumps(got))]:
            raise Incorrect("ex1.sdk_refused", error="the request sent differs from the message")
    return context.text("ex1.cases")


def _lesson_exchange() -> tuple[str, list[dict[str, Any]]]:
    return "你是一个友好的助手", [
        {"role": "user", "content": "北京今天天气怎么样?"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "北京"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "晴, 25°C"}]},
    ]


CONVERSIONS: list[tuple[str, str | None, list[dict[str, Any]], list[dict[str, Any]]]] = [
    ("case.lesson_exchange", *_lesson_exchange(), [
        {"role": "system", "content": "你是一个友好的助手"},
        {"role": "user", "content": "北京今天天气怎么样?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "北京"}}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "晴, 25°C"},
    ]),
    ("case.plain_chat", None, [
        {"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！有什么可以帮你的吗？"},
        {"role": "user", "content": "我叫小明"},
    ], [
        {"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！有什么可以帮你的吗？"},
        {"role": "user", "content": "我叫小明"},
    ]),
    ("case.text_blocks", "请用一句话回答。", [
        {"role": "user", "content": [{"type": "text", "text": "你好"},
                                     {"type": "text", "text": " 请介绍一下你自己。"}]},
    ], [
        {"role": "system", "content": "请用一句话回答。"},
        {"role": "user", "content": "你好 请介绍一下你自己。"},
    ]),
]


def _normalized(message: Any) -> Any:
    """A message of OpenAI's format with what may differ harmlessly evened out: an empty content as None, the
    arguments parsed (their spacing is free), no other keys."""
    if not isinstance(message, dict):
        return message
    kept: dict[str, Any] = {"role": message.get("role"), "content": message.get("content") or None}
    if message.get("tool_calls"):
        kept["tool_calls"] = []
        for tool_call in message["tool_calls"]:
            function = dict(tool_call.get("function") or {}) if isinstance(tool_call, dict) else {}
            if isinstance(function.get("arguments"), str):
                try:
                    function["arguments"] = json.loads(function["arguments"])
                except ValueError:
                    pass
            kept["tool_calls"].append({"id": tool_call.get("id"), "type": tool_call.get("type"),
                                       "function": function} if isinstance(tool_call, dict) else tool_call)
    if "tool_call_id" in message:
        kept["tool_call_id"] = message["tool_call_id"]
    return kept


def _check_to_openai_messages(answer: Any, context: Context) -> str:
    for case_key, system, messages, expected in CONVERSIONS:
        case = context.text(case_key)
        got = call(answer, "to_openai_messages", case, system, copy.deepcopy(messages))
        if not isinstance(got, list):
            raise Incorrect("ex2.not_list", got=short(got))
        roles = [message["role"] for message in expected]
        if len(got) != len(expected):
            raise Incorrect("ex2.count", case=case, want=len(expected), roles=roles, got=len(got),
                            got_roles=[message.get("role") if isinstance(message, dict) else "?" for message in got])
        for index, (mine, want) in enumerate(zip(got, expected, strict=True), start=1):
            for tool_call in (mine.get("tool_calls") or []) if isinstance(mine, dict) else []:
                arguments = (tool_call.get("function") or {}).get("arguments") if isinstance(tool_call, dict) else None
                if not isinstance(arguments, str):
                    raise Incorrect("ex2.arguments", case=case, index=index, got=short(arguments))
            if _normalized(mine) != want:
                shown = dict(want)
                for tool_call in shown.get("tool_calls", []):
                    tool_call["function"] = {**tool_call["function"],
                                             "arguments": json.dumps(tool_call["function"]["arguments"],
                                                                     ensure_ascii=False)}
                raise Incorrect("ex2.message", case=case, index=index, got=short(mine, 200), want=short(shown, 200))
    return context.cases([key for key, _, _, _ in CONVERSIONS])


ex1 = Exercise("03", 1, "image_message", _check_image_message, table=TABLE, hint=HINTS["ex1"], solution_code='''
import base64


def image_message(question, png_bytes):
    return {
        "role": "user",
        "content": [
            {"type": "text", "text": question},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": base64.b64encode(png_bytes).decode()}},
        ],
    }
''')

ex2 = Exercise("03", 2, "to_openai_messages", _check_to_openai_messages, table=TABLE, hint=HINTS["ex2"],
               solution_code='''
import json


def to_openai_messages(system, messages):
    converted = [{"role": "system", "content": system}] if system else []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            converted.append({"role": message["role"], "content": content})
            continue
        text = "".join(block["text"] for block in content if block["type"] == "text")
        calls = [{"id": block["id"], "type": "function",
                  "function": {"name": block["name"], "arguments": json.dumps(block["input"], ensure_ascii=False)}}
                 for block in content if block["type"] == "tool_use"]
        if calls:
            converted.append({"role": "assistant", "content": text or None, "tool_calls": calls})
        elif text:
            converted.append({"role": message["role"], "content": text})
        converted += [{"role": "tool", "tool_call_id": block["tool_use_id"], "content": block["content"]}
                      for block in content if block["type"] == "tool_result"]
    return converted
''')

EXERCISES = [ex1, ex2]
