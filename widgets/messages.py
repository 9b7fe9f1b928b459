"""Small helpers for reading Anthropic ``Message`` objects safely.

Thinking models (qwen3, deepseek-r1, ...) put a ``thinking`` block *before* the text, so
``message.content[0].text`` raises ``AttributeError`` there. Select blocks by ``type`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """A field of an SDK object or of its plain-dict form (the kit accepts both everywhere).

    Example:
        >>> field_of({"type": "text"}, "type"), field_of(object(), "type", "?")
        ('text', '?')
    """
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def blocks_of_type(message_or_content: Any, block_type: str) -> list[Any]:
    """The content blocks of one type, in order; accepts a Message, a content list, or dicts.

    Example:
        >>> blocks_of_type([{"type": "text", "text": "hi"}], "text")
        [{'type': 'text', 'text': 'hi'}]
    """
    content = field_of(message_or_content, "content", message_or_content)
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    return [block for block in content or [] if field_of(block, "type") == block_type]


def text_of(message_or_content: Any) -> str:
    """All ``text`` blocks joined: the answer, without thinking or tool calls.

    Example:
        >>> text_of([{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "你好"}])
        '你好'
    """
    return "".join(field_of(block, "text", "") for block in blocks_of_type(message_or_content, "text"))


def prompt_tokens(usage: Any) -> tuple[int | None, int]:
    """``(all prompt tokens, how many of them came from the server's prompt cache)`` from a ``usage`` object.

    Anthropic's usage counts cache reads and writes apart from ``input_tokens``. llama.cpp's server reuses its
    prompt cache on every request, so there ``input_tokens`` alone can be 1 on a long conversation; the sum is
    what the model actually read.

    Example:
        >>> prompt_tokens({"input_tokens": 1, "cache_read_input_tokens": 48, "output_tokens": 9})
        (49, 48)
        >>> prompt_tokens({"input_tokens": 12})
        (12, 0)
    """
    reported = field_of(usage, "input_tokens")
    cached = sum(field_of(usage, name) or 0 for name in ("cache_read_input_tokens", "cache_creation_input_tokens"))
    if reported is None:
        return (cached or None), cached
    return reported + cached, cached


def server_message(error: Any) -> str:
    """What the server said in an ``anthropic.APIStatusError``, without the SDK's wrapping.

    Reads Anthropic's error JSON (``{"error": {"message": ...}}``, which Ollama and llama.cpp also send), a plain
    text body (Ollama's ``404 page not found``), or falls back to the SDK's own message.

    Example:
        >>> class Refused:  # stands in for anthropic.BadRequestError
        ...     body = {"type": "error", "error": {"type": "invalid_request_error",
        ...                                        "message": "Only base64 images are supported."}}
        >>> server_message(Refused())
        'Only base64 images are supported.'
    """
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if body.get("message"):
            return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body.strip()
    try:
        text = error.response.text
    except Exception:  # no response, or a streamed response that was never read
        text = ""
    return text or str(getattr(error, "message", "") or error)

