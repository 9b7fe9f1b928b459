"""The kit's own words, in English and Chinese: a table per layer, one lookup.

Every message a learner reads in the widgets and the connection check (a diagnosis and its fix, an error line, a
status line, a label, a button caption) is an entry of a table: a key, then the same sentence in each language of
:data:`LANGUAGES`, with the same ``{placeholders}``. The core's and the widgets' words are :data:`MESSAGES`, here;
the connection check's are ``lessons/doctor.py``'s ``WORDS``, ``%%ask``'s and the terminal view's are in their
modules (a layer's words stay in its layer). :func:`localized` picks one and fills it in (:func:`localized_from` for
another table).

Which language: the ``lang`` argument of the widget or function (``"en"`` or ``"zh"``; a tag such as ``"zh-CN"``
counts as ``"zh"``), else the ``OLLAMA_KIT_LANG`` environment variable (:func:`language_setting`, read at each
lookup; ``settings().lang`` reports the same), else English. The operating system's locale is not consulted: a
notebook server's locale says where it runs, not who reads it (Binder and most containers run in ``C.UTF-8``
whoever opens them).

Not in the table, on purpose: messages of exceptions that point at the calling code (a ``TypeError`` for a wrong
argument, a ``ValueError`` for an invalid history or option), which are about code written in English and are
searched for as such; the field names and values of the API (``stop_reason``, ``end_turn``, ``max_tokens``);
what the server or the operating system says, quoted as it came. Our text is no safer than the model's for being
ours: whoever renders it escapes it like any other text (:mod:`.render`).

Example:
    >>> localized("stream.thinking_title", "zh", count=120)
    '思考（120 个字符）'
    >>> localized("stream.thinking_title", "en", count=120)
    'Thinking (120 characters)'
"""

from __future__ import annotations

import os
import re
import string
import warnings
from collections.abc import Mapping
from typing import Any

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
LANGUAGE_VARIABLE = "OLLAMA_KIT_LANG"  # the one setting the core reads (lessons/config.py lists it with the others)

# Chinese characters and full-width punctuation. Between two of them Chinese puts no space; between one of them and
# a Latin letter or digit the glossary asks for one (`使用 llava 等多模态模型`). Templates are written with that
# space around every placeholder; localized() drops it where the value itself starts or ends in Chinese.
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f]")
_FORMATTER = string.Formatter()

MESSAGES: dict[str, dict[str, str]] = {
    # -- errors as one line (errors.py) --------------------------------------------------------------------------
    "errors.http_status": {
        "en": "HTTP {status} from the server: {message} — {hint}",
        "zh": "模型服务返回 HTTP {status}：{message}——{hint}",
    },
    "errors.hint_400": {
        "en": "the server rejected the request: check its fields (max_tokens, content blocks).",
        "zh": "模型服务拒绝了这个请求：检查请求的字段（max_tokens、内容块）。",
    },
    "errors.hint_404": {
        "en": "check the model name (`ollama list`) and that the base URL has no /v1.",
        "zh": "检查模型名称（`ollama list`），并确认接口地址不带 /v1。",
    },
    "errors.hint_500": {
        "en": "the server failed: the model may not support this input (e.g. images on a text-only model).",
        "zh": "模型服务出错：模型可能不支持这种输入（例如给纯文本模型发图片）。",
    },
    "errors.hint_other": {"en": "see the server's log.", "zh": "查看模型服务的日志。"},
    "errors.connection_hint": {
        "en": "{summary}. Is the server running (`ollama serve`)? Is OLLAMA_BASE_URL right (no /v1)?",
        "zh": "{summary}。模型服务在运行吗（`ollama serve`）？OLLAMA_BASE_URL 对吗（不带 /v1）？",
    },
    "errors.timed_out": {"en": "the request timed out{cause}", "zh": "请求超时{cause}"},
    "errors.timed_out_at": {"en": "the request timed out at {url}{cause}", "zh": "请求 {url} 超时{cause}"},
    "errors.unreachable": {"en": "cannot reach the model server{cause}", "zh": "连不上模型服务{cause}"},
    "errors.unreachable_at": {
        "en": "cannot reach the model server at {url}{cause}",
        "zh": "连不上 {url} 上的模型服务{cause}",
    },
    "errors.dropped_at": {
        "en": "the model server at {url} closed the connection before the reply began{cause}",
        "zh": "{url} 上的模型服务在回复开始前断开了连接{cause}",
    },
    "errors.dropped_hint": {
        "en": "{summary}. Run it again; if it keeps happening, see the server's log.",
        "zh": "{summary}。请重新运行；如果反复出现，请查看模型服务的日志。",
    },
    "errors.cause": {"en": " ({cause})", "zh": "（{cause}）"},
    # -- streamed replies (streaming.py, stream_view.py, terminal_view.py, render.py) ----------------------------
    "stream.interrupted": {
        "en": "stream interrupted after {kept} ({cause}); the partial text is kept — run it again to get a complete "
              "reply.",
        "zh": "流在收到 {kept} 后被中断（{cause}）；这部分文本会保留——重新运行即可得到完整回复。",
    },
    "stream.characters": {"en": "{count} characters", "zh": "{count} 个字符"},
    "stream.and_more": {"en": "{kept} (+ thinking/tool calls)", "zh": "{kept}（以及思考/工具调用）"},
    "stream.stopped": {
        "en": "stopped ({error}) after {count} characters",
        "zh": "已停止（{error}），此前已收到 {count} 个字符",
    },
    "stream.stopped_kept": {"en": "{stopped}; the partial text is kept", "zh": "{stopped}；这部分文本会保留"},
    "stream.no_events": {
        "en": "the server closed the stream without sending any event",
        "zh": "模型服务没有发送任何事件就关闭了流",
    },
    "stream.thinking_title": {"en": "Thinking ({count} characters)", "zh": "思考（{count} 个字符）"},
    "stream.tool_call": {"en": "tool call", "zh": "工具调用"},
    "stream.streaming": {"en": "streaming…", "zh": "流式输出中…"},
    "footer.stop_reason": {"en": "stop_reason: {reason}", "zh": "停止原因：{reason}"},
    "footer.tokens": {
        "en": "tokens: {input} in{cached} / {output} out",
        "zh": "token：输入 {input}{cached} / 输出 {output}",
    },
    "footer.cached": {"en": " ({count} cached)", "zh": "（其中 {count} 个来自缓存）"},
    "footer.ttft": {"en": "TTFT {seconds:.2f} s", "zh": "首 token 延迟 {seconds:.2f} 秒"},
    "footer.rate": {"en": "{rate:.1f} tok/s", "zh": "{rate:.1f} tok/s"},
    # -- the usage summary (render.py, magic.py) -----------------------------------------------------------------
    "usage.calls": {"en": "calls", "zh": "调用次数"},
    "usage.input_tokens": {"en": "input tokens", "zh": "输入 token"},
    "usage.unknown_input": {"en": " (+ unknown for {count} calls)", "zh": "（另有 {count} 次调用的输入 token 数未知）"},
    "usage.output_tokens": {"en": "output tokens", "zh": "输出 token"},
    "usage.total_tokens": {"en": "total tokens", "zh": "token 总数"},
    "usage.mean_latency": {"en": "mean latency (s)", "zh": "平均延迟（秒）"},
    "usage.mean_ttft": {"en": "mean TTFT (s)", "zh": "平均首 token 延迟（秒）"},
    "usage.mean_rate": {"en": "mean output tok/s", "zh": "平均输出速度（tok/s）"},
    "usage.stop_reasons": {"en": "stop reasons", "zh": "停止原因"},
    "usage.broken_streams": {"en": "broken streams", "zh": "中断的流"},
    "usage.chart_alt": {
        "en": "Chart of token usage: input and output tokens per call with the running total, and output tokens per "
              "second per call ({calls} calls, {total} tokens in all; the table beside it has the figures)",
        "zh": "token 用量图：每次调用的输入和输出 token 及累计总数，以及每次调用的输出速度（共 {calls} 次调用、"
              "{total} 个 token；数字见旁边的表格）",
    },
    # -- images (images.py, render.py) ---------------------------------------------------------------------------
    "images.this_file": {"en": "This file", "zh": "这个文件"},
    "images.the_block": {"en": "the block", "zh": "这个块"},
    "images.empty": {
        "en": "{name} is empty (0 bytes): choose the file again, or check it was saved",
        "zh": "{name} 是空的（0 字节）：请重新选择文件，或确认它已保存",
    },
    "images.rejected": {"en": "{name} {problem}: {fix}", "zh": "{name} {problem}：{fix}"},
    "images.not_accepted": {
        "en": "is {kind}, which the Messages API does not accept",
        "zh": "是 {kind}，Messages API 不接受这种格式",
    },
    "images.kind_bmp": {"en": "a BMP image", "zh": "BMP 图片"},
    "images.kind_tiff": {"en": "a TIFF image", "zh": "TIFF 图片"},
    "images.kind_heif": {"en": "a HEIC/HEIF photo", "zh": "HEIC/HEIF 照片"},
    "images.kind_avif": {"en": "an AVIF image", "zh": "AVIF 图片"},
    "images.kind_ico": {"en": "an ICO icon", "zh": "ICO 图标"},
    "images.kind_svg": {"en": "an SVG (vector) image", "zh": "SVG（矢量）图片"},
    "images.looks_like": {
        "en": "is not an image (its first bytes look like {kind})",
        "zh": "不是图片（开头的字节看起来是 {kind}）",
    },
    "images.matches_nothing": {
        "en": "is not an image (its first bytes, {head}, match no image format)",
        "zh": "不是图片（开头的字节 {head} 不符合任何图片格式）",
    },
    "images.looks_video": {"en": "an MP4/QuickTime video", "zh": "MP4/QuickTime 视频"},
    "images.looks_pdf": {"en": "a PDF document", "zh": "PDF 文档"},
    "images.looks_zip": {
        "en": "a ZIP archive (or a .docx/.xlsx/.pptx file)",
        "zh": "ZIP 压缩包（或 .docx/.xlsx/.pptx 文件）",
    },
    "images.looks_gzip": {"en": "gzip-compressed data", "zh": "gzip 压缩数据"},
    "images.looks_html_page": {
        "en": "an HTML page, perhaps from a failed download",
        "zh": "网页（HTML），可能是下载失败了",
    },
    "images.looks_markup": {"en": "XML or HTML text", "zh": "XML 或 HTML 文本"},
    "images.looks_text": {"en": "plain text", "zh": "纯文本"},
    "images.convert": {"en": "convert it to PNG or JPEG first", "zh": "请先转换成 PNG 或 JPEG"},
    "images.export_png": {"en": "export it as PNG first", "zh": "请先导出为 PNG"},
    "images.upload_accepted": {"en": "upload a PNG, JPEG, GIF or WebP", "zh": "请上传 PNG、JPEG、GIF 或 WebP 图片"},
    "images.too_many_pixels": {
        "en": "{name} has too many pixels to decode safely: use an image under {limit} megapixels",
        "zh": "{name} 像素太多，无法安全解码：请使用 {limit} 百万像素以下的图片",
    },
    "images.header_incomplete": {"en": "its header is incomplete", "zh": "文件头不完整"},
    "images.damaged": {
        "en": "{name} is a damaged or incomplete {format} file ({detail}): upload it again, or open and re-save it "
              "in an image editor",
        "zh": "{name} 是损坏或不完整的 {format} 文件（{detail}）：请重新上传，或在图片编辑器里打开后重新保存",
    },
    "images.too_large": {
        "en": "{name} is {size} after processing ({width}×{height} {format}), over the {limit} limit: crop it, or "
              "use a smaller or more compressed image",
        "zh": "{name} 处理后仍有 {size}（{width}×{height} {format}），超过了 {limit} 的上限：请裁剪，或换一张更小、"
              "压缩率更高的图片",
    },
    "images.not_image_block": {
        "en": "{name} is a {kind!r} block, not an image block: pass a file path, bytes, or an image block",
        "zh": "{name} 是 {kind!r} 块，不是图片块：请传入文件路径、bytes 或图片块",
    },
    "images.url": {
        "en": "{name} is a URL: Ollama only accepts base64 images, so download the file and pass its path (or bytes) "
              "instead",
        "zh": "{name} 是一个网址：Ollama 只接受 base64 图片，请先下载文件，再传入它的路径（或 bytes）",
    },
    "images.no_file": {
        "en": "no file at {path} (a relative path starts in the working directory, {cwd}): check the path; "
              "sample_image() gives a picture to try",
        "zh": "{path} 处没有文件（相对路径从工作目录 {cwd} 算起）：请检查路径；sample_image() 可以给出一张试用的图片",
    },
    "images.size_bytes": {"en": "{count} bytes", "zh": "{count} 字节"},
    "images.accepted_line": {
        "en": "{name}: {width}×{height} {format}, {size}",
        "zh": "{name}：{width}×{height} {format}，{size}",
    },
    "images.ready_one": {"en": "{count} image ready", "zh": "{count} 张图片已就绪"},
    "images.ready_many": {"en": "{count} images ready", "zh": "{count} 张图片已就绪"},
    "images.add_button": {"en": "Add images", "zh": "添加图片"},
    "images.clear_button": {"en": "Clear", "zh": "清除"},
    "images.clear_tooltip": {"en": "remove all images", "zh": "移除所有图片"},
    "images.preview_alt": {"en": "preview of {name}", "zh": "{name} 的预览"},
    # -- the chat (chat.py, render.py) ---------------------------------------------------------------------------
    "chat.role_user": {"en": "You", "zh": "你"},
    "chat.role_assistant": {"en": "Assistant", "zh": "助手"},
    "chat.stopped_mark": {"en": "stopped", "zh": "已停止"},
    "chat.sending_mark": {"en": "sending…", "zh": "发送中…"},
    "chat.empty_history": {"en": "No messages yet.", "zh": "还没有消息。"},
    "chat.image_caption": {"en": "image ({media_type}{size})", "zh": "图片（{media_type}{size}）"},
    "chat.block_caption": {"en": "[{kind} block]", "zh": "[{kind} 块]"},
    "chat.nothing_to_send": {
        "en": "Nothing to send: type a message (or attach an image) first.",
        "zh": "没有可发送的内容：请先输入消息（或添加图片）。",
    },
    "chat.waiting": {"en": "waiting for the reply…", "zh": "正在等待回复…"},
    "chat.stopped_before_text": {
        "en": "Stopped before any text arrived: nothing was added to the history; your text is back in the box.",
        "zh": "还没收到任何文本就停止了：对话历史没有变化，你输入的文字已放回输入框。",
    },
    "chat.stopped_after": {
        "en": "Stopped after {count:,} characters: the partial reply is kept in the history and goes with the next "
              "message.",
        "zh": "已在收到 {count:,} 个字符后停止：这部分回复留在对话历史里，会随下一条消息一起发送。",
    },
    "chat.cancelled": {
        "en": "Cancelled before the reply was complete: nothing was added; your text is back in the box.",
        "zh": "回复完成前被取消：对话历史没有变化，你输入的文字已放回输入框。",
    },
    "chat.no_text": {"en": "The model sent no text ({details}): {hint}", "zh": "模型没有返回文本（{details}）：{hint}"},
    "chat.no_text_stop_reason": {"en": "stop_reason {reason}", "zh": "停止原因 {reason}"},
    "chat.block_count_one": {"en": "{count} {kind} block", "zh": "{count} 个 {kind} 块"},
    "chat.block_count_many": {"en": "{count} {kind} blocks", "zh": "{count} 个 {kind} 块"},
    "chat.list_separator": {"en": ", ", "zh": "，"},
    "chat.hint_thinking_used_all": {
        "en": "it used all of max_tokens on thinking — raise max_tokens and send again.",
        "zh": "max_tokens 全用在了思考上——调高 max_tokens 再发送一次。",
    },
    "chat.hint_max_tokens": {
        "en": "max_tokens ran out before any text — raise max_tokens and send again.",
        "zh": "还没生成文本，max_tokens 就已用完——调高 max_tokens 再发送一次。",
    },
    "chat.hint_tool": {
        "en": "it asked for a tool, and a chat runs no tools — use run_tool_loop, or rephrase.",
        "zh": "模型请求调用工具，而聊天控件不运行工具——请改用 run_tool_loop，或换个说法。",
    },
    "chat.hint_again": {"en": "send it again or rephrase.", "zh": "再发送一次，或换个说法。"},
    "chat.send_button": {"en": "Send", "zh": "发送"},
    "chat.sending_button": {"en": "Sending…", "zh": "发送中…"},
    "chat.stop_button": {"en": "Stop", "zh": "停止"},
    "chat.stop_tooltip": {"en": "stop the reply; the text so far is kept", "zh": "停止回复；已收到的文本会保留"},
    "chat.input_placeholder": {
        "en": "Type a message: Enter sends, Shift+Enter adds a line",
        "zh": "输入消息：Enter 发送，Shift+Enter 换行",
    },
    "chat.system_title": {"en": "System prompt", "zh": "System 提示"},
    "chat.system_placeholder": {"en": "No system prompt", "zh": "没有系统提示"},
    "chat.export_title": {"en": "Chat", "zh": "对话"},
    "chat.export_title_model": {"en": "Chat with {model}", "zh": "与 {model} 的对话"},
    "chat.export_system": {"en": "**System prompt:** {system}", "zh": "**系统提示：** {system}"},
    "chat.export_stopped": {"en": "{role} (stopped)", "zh": "{role}（已停止）"},
    "chat.export_thinking": {"en": "Thinking", "zh": "思考"},
    "chat.export_image": {"en": "image: {media_type}{size}", "zh": "图片：{media_type}{size}"},
}


def normalize_language(lang: str) -> str:
    """``"en"`` or ``"zh"`` for a language name or tag (``"zh-CN"``, ``"zh_CN.UTF-8"``, ``"EN"``).

    Raises ``ValueError`` for a language the kit does not speak.

    Example:
        >>> normalize_language("zh-CN"), normalize_language("en_US.UTF-8")
        ('zh', 'en')
    """
    primary = re.split(r"[-_.@]", str(lang).strip().lower(), maxsplit=1)[0]
    if primary not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(map(repr, LANGUAGES))} (or a tag such as 'zh-CN'), "
                         f"not {lang!r}")
    return primary


def language(lang: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to speak: ``lang`` if given, else the ``OLLAMA_KIT_LANG`` setting, else ``"en"``.

    Example:
        >>> language("zh"), language(None, {"OLLAMA_KIT_LANG": "zh-CN"}), language(None, {})
        ('zh', 'zh', 'en')
    """
    if lang is not None:
        return normalize_language(lang)
    return language_setting(environ)


def language_setting(environ: Mapping[str, str] | None = None) -> str:
    """The ``OLLAMA_KIT_LANG`` setting as ``"en"`` or ``"zh"`` (``environ`` defaults to ``os.environ``).

    Unset means English, and so does a language the kit does not speak, after a warning: a setting must not break
    the connection check it would have to be diagnosed with. Read here, on its own, at every lookup: a notebook may
    set the variable at any time, and no other setting is needed to pick a language.

    Example:
        >>> language_setting({"OLLAMA_KIT_LANG": "zh_CN.UTF-8"}), language_setting({})
        ('zh', 'en')
    """
    value = (os.environ if environ is None else environ).get(LANGUAGE_VARIABLE)
    if not value or not value.strip():
        return DEFAULT_LANGUAGE
    try:
        return normalize_language(value)
    except ValueError as error:
        warnings.warn(f"{LANGUAGE_VARIABLE}={value!r} is ignored: {error}; the kit speaks English", stacklevel=3)
        return DEFAULT_LANGUAGE


def localized(key: str, lang: str | None = None, /, **values: Any) -> str:
    """The message ``key`` in ``lang`` (see :func:`language`), its ``{placeholders}`` filled from ``values``.

    In Chinese, the space written around a placeholder goes away where the value next to it is Chinese too.

    Example:
        >>> localized("images.looks_like", "zh", kind="PDF 文档")
        '不是图片（开头的字节看起来是 PDF 文档）'
        >>> localized("images.looks_like", "zh", kind="网页")
        '不是图片（开头的字节看起来是网页）'
    """
    return localized_from(MESSAGES, key, lang, **values)


def localized_from(table: Mapping[str, Mapping[str, str]], key: str, lang: str | None = None, /,
                   **values: Any) -> str:
    """:func:`localized` for words kept outside this table, in one shaped like :data:`MESSAGES`: another layer's,
    where they are used (the connection check's in ``lessons/doctor.py``, ``%%ask``'s in ``extension/magic.py``),
    or the repository's (the lessons' exercises, which are not part of the kit).

    Example:
        >>> localized_from({"hello": {"en": "Hello {name}", "zh": "你好，{name}"}}, "hello", "zh", name="小明")
        '你好，小明'
    """
    lang = language(lang)
    entry = table[key]
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]  # a missing text fails its table's test, never a call
    if lang != "zh":
        return template.format(**values)
    pieces: list[tuple[str, bool]] = []  # (text, is a value)
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        if literal:
            pieces.append((literal, False))
        if field is not None:
            value = _FORMATTER.convert_field(_FORMATTER.get_field(field, (), values)[0], conversion)
            pieces.append((_FORMATTER.format_field(value, spec or ""), True))
    return _tidy_spaces(pieces)


def _tidy_spaces(pieces: list[tuple[str, bool]]) -> str:
    """Join the pieces, dropping each space of the template that ends up between two Chinese characters."""
    text = "".join(piece for piece, _ in pieces)
    spaces, offset = [], 0
    for piece, is_value in pieces:
        if not is_value:
            spaces += [offset + index for index, character in enumerate(piece) if character == " "]
        offset += len(piece)
    dropped = {at for at in spaces
               if 0 < at < len(text) - 1 and _WIDE.match(text[at - 1]) and _WIDE.match(text[at + 1])}
    return "".join(character for at, character in enumerate(text) if at not in dropped)


def placeholders(template: str) -> set[str]:
    """The names of the ``{placeholders}`` in ``template`` (conversions and formats set aside).

    Example:
        >>> sorted(placeholders("{model!r} at {base_url} in {timeout:g} s"))
        ['base_url', 'model', 'timeout']
    """
    return {field for _, field, _, _ in _FORMATTER.parse(template) if field is not None}


def missing_translations(table: Mapping[str, Mapping[str, str]] = MESSAGES) -> list[str]:
    """What is wrong with a message table: a language missing or empty, an unknown language, placeholders that
    differ between languages, a template that does not parse. Empty when every message is complete.

    Example:
        >>> missing_translations({"greeting": {"en": "Hello {name}", "zh": "你好"}})
        ["greeting: placeholders differ: 'en' has ['name'], 'zh' has []"]
        >>> missing_translations()
        []
    """
    problems = []
    for key, texts in table.items():
        found: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            if not texts.get(lang):
                problems.append(f"{key}: no {lang!r} text")
                continue
            try:
                found[lang] = placeholders(texts[lang])
            except ValueError as error:
                problems.append(f"{key}: the {lang!r} text does not parse ({error})")
        problems += [f"{key}: {lang!r} is not one of {LANGUAGES}" for lang in texts if lang not in LANGUAGES]
        if len(set(map(frozenset, found.values()))) > 1:
            listed = ", ".join(f"{lang!r} has {sorted(names)}" for lang, names in found.items())
            problems.append(f"{key}: placeholders differ: {listed}")
    return problems
