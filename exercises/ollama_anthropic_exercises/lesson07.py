"""Lesson 07's exercises: an image's type from its first bytes; one request that reports a server error in a line."""

from __future__ import annotations

import io
from typing import Any

from . import replies
from .core import Context, Exercise, Incorrect, call, quietly, short

HINTS: dict[str, dict[str, str]] = {
    "ex1": {
        "en": "Compare the first bytes: PNG starts with `b\"\\x89PNG\\r\\n\\x1a\\n\"`, JPEG with "
              "`b\"\\xff\\xd8\\xff\"`, GIF with `b\"GIF87a\"` or `b\"GIF89a\"`, and WebP is `b\"RIFF\"`, four bytes "
              "of size, then `b\"WEBP\"` (`data[8:12]`). Anything else: None.",
        "zh": "比较开头的几个字节：PNG 以 `b\"\\x89PNG\\r\\n\\x1a\\n\"` 开头，JPEG 以 `b\"\\xff\\xd8\\xff\"` 开头，"
              "GIF 以 `b\"GIF87a\"` 或 `b\"GIF89a\"` 开头；WebP 是 `b\"RIFF\"`，接着 4 个字节的长度，再是 `b\"WEBP\"`"
              "（`data[8:12]`）。其他情况返回 None。",
    },
    "ex2": {
        "en": "Call `client.with_options(max_retries=0).messages.create(...)` inside `try`; return the text of the "
              "reply's text blocks. In `except anthropic.APIStatusError as error`, return one line such as `f\"HTTP "
              "{error.status_code}: {error.message}\"`.",
        "zh": "在 `try` 里调用 `client.with_options(max_retries=0).messages.create(...)`，返回回复里文本块的文本。在 "
              "`except anthropic.APIStatusError as error` 里返回一行字，比如 `f\"HTTP {error.status_code}: "
              "{error.message}\"`。",
    },
}

TABLE: dict[str, dict[str, str]] = {
    **replies.CASES,
    "ex1.wrong": {
        "en": "For {case} (it starts with {head}), `image_media_type` returned {got}; the answer is {want}.",
        "zh": "对 {case}（开头的字节是 {head}），`image_media_type` 返回了 {got}；正确答案是 {want}。",
    },
    "case.png": {"en": "a PNG made with Pillow", "zh": "用 Pillow 生成的 PNG"},
    "case.jpeg": {"en": "a JPEG made with Pillow", "zh": "用 Pillow 生成的 JPEG"},
    "case.gif": {"en": "a GIF made with Pillow", "zh": "用 Pillow 生成的 GIF"},
    "case.webp": {"en": "a WebP made with Pillow", "zh": "用 Pillow 生成的 WebP"},
    "case.shapes": {"en": "the lesson's notebooks/data/shapes.png", "zh": "本课的 notebooks/data/shapes.png"},
    "case.text_file": {"en": "a text file named holiday.png", "zh": "名叫 holiday.png 的文本文件"},
    "case.empty": {"en": "an empty file", "zh": "空文件"},
    "ex2.escaped": {
        "en": "`ask_once` let {error} out for {case}. Catch `anthropic.APIStatusError` and return one line with the "
              "HTTP status and the server's message.",
        "zh": "`ask_once` 处理 {case} 时让 {error} 抛了出来。捕获 `anthropic.APIStatusError`，返回一行包含 HTTP "
              "状态码和服务返回信息的文字。",
    },
    "ex2.retried": {
        "en": "For {case}, `ask_once` made {count} requests: the SDK retries a 5xx twice by default (with a "
              "back-off). For an error you expect, call `client.with_options(max_retries=0)`.",
        "zh": "对 {case}，`ask_once` 发了 {count} 个请求：SDK 默认会把 5xx 错误重试两次（中间稍作等待）。"
              "预料之中的错误，就用 `client.with_options(max_retries=0)`。",
    },
    "ex2.no_status": {
        "en": "For {case}, `ask_once` returned {got}: the line should name the HTTP status, {status}.",
        "zh": "对 {case}，`ask_once` 返回了 {got}：这一行应该写出 HTTP 状态码 {status}。",
    },
    "ex2.one_line": {
        "en": "For {case}, `ask_once` returned {got}: one line (a str without line breaks) is enough.",
        "zh": "对 {case}，`ask_once` 返回了 {got}：一行字（不含换行的字符串）就够了。",
    },
    "ex2.wrong_text": {
        "en": "For {case}, `ask_once` returned {got}; the reply's text blocks hold {want}.",
        "zh": "对 {case}，`ask_once` 返回了 {got}；回复的文本块是 {want}。",
    },
    "case.image_500": {
        "en": "an image sent to a model without vision (HTTP 500, recorded from llama.cpp's server)",
        "zh": "把图片发给没有视觉能力的模型（HTTP 500，录制自 llama.cpp 服务器）"},
}

def _made_with_pillow(format_name: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buffer, format=format_name)
    return buffer.getvalue()


def _images() -> list[tuple[str, bytes, str | None]]:
    from PIL import features

    found = [("case.png", _made_with_pillow("PNG"), "image/png"), ("case.jpeg", _made_with_pillow("JPEG"),
                                                                   "image/jpeg"),
             ("case.gif", _made_with_pillow("GIF"), "image/gif")]
    if features.check("webp"):  # Pillow built without libwebp cannot write one; the other cases still hold
        found.append(("case.webp", _made_with_pillow("WEBP"), "image/webp"))
    shapes = replies.DATA / "shapes.png"
    if shapes.is_file():
        found.append(("case.shapes", shapes.read_bytes(), "image/png"))
    found += [("case.text_file", b"This is a text file wearing a .png name\n", None), ("case.empty", b"", None)]
    return found


def _check_image_media_type(answer: Any, context: Context) -> str:
    images = _images()
    for case_key, data, want in images:
        case = context.text(case_key)
        got = call(answer, "image_media_type", case, data)
        if got != want:
            raise Incorrect("ex1.wrong", case=case, head=short(data[:12]), got=short(got), want=short(want))
    return context.cases([key for key, _, _ in images])


def _check_ask_once(answer: Any, context: Context) -> str:
    # The SDK's default retries stay on in these clients (max_retries=2): turning them off is part of the task.
    case = context.text("case.image_500")
    client, replayer = replies.replay(replies.exchanges("llama_cpp", "image_500") * 3, max_retries=2)
    request = replies.request_json("llama_cpp", "image_500")
    try:
        got = call(answer, "ask_once", case, client, "llava", request["messages"])
    except Incorrect as wrong:
        if replayer.attempts > 1:
            raise Incorrect("ex2.retried", case=case, count=replayer.attempts) from None
        if wrong.key == "raised":
            raise Incorrect("ex2.escaped", error=wrong.values["error"], case=case) from None
        raise
    if replayer.attempts > 1:
        raise Incorrect("ex2.retried", case=case, count=replayer.attempts)
    if not isinstance(got, str) or "500" not in got:
        raise Incorrect("ex2.no_status", case=case, got=short(got), status=500)
    if "\n" in got.strip():
        raise Incorrect("ex2.one_line", case=case, got=short(got))
    for case_key, source, name in [("case.text", "llama_cpp", "text"), ("case.thinking_text", "ollama",
                                                                        "thinking_text")]:
        case = context.text(case_key)
        client, _ = replies.replay(replies.exchanges(source, name), max_retries=2)
        with quietly():
            reply = replies.message(source, name)
        want = "".join(block.text for block in reply.content if block.type == "text")
        got = call(answer, "ask_once", case, client, "llava", replies.request_json(source, name)["messages"])
        if got != want:
            raise Incorrect("ex2.wrong_text", case=case, got=short(got), want=short(want))
    return context.cases(["case.image_500", "case.text", "case.thinking_text"])


ex1 = Exercise("07", 1, "image_media_type", _check_image_media_type, table=TABLE, hint=HINTS["ex1"],
               solution_code='''
def image_media_type(data):
    if data.startswith(b"\\x89PNG\\r\\n\\x1a\\n"):
        return "image/png"
    if data.startswith(b"\\xff\\xd8\\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
''')

ex2 = Exercise("07", 2, "ask_once", _check_ask_once, table=TABLE, hint=HINTS["ex2"], solution_code='''
import anthropic


def ask_once(client, model, messages):
    try:
        reply = client.with_options(max_retries=0).messages.create(model=model, max_tokens=256, messages=messages)
    except anthropic.APIStatusError as error:
        return f"HTTP {error.status_code}: {error.message}"
    return "".join(block.text for block in reply.content if block.type == "text")
''')

EXERCISES = [ex1, ex2]
