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


def prompt_tokens(usage: Any) -> int | None:
    """All the prompt tokens the model read for a reply, from its ``usage`` (an SDK ``Usage`` or its dict form).

    That is ``input_tokens`` plus the prompt-cache reads and writes (``cache_read_input_tokens``,
    ``cache_creation_input_tokens``), which Anthropic's format counts apart from ``input_tokens``. llama.cpp's
    server reuses its prompt cache on every request, so there ``input_tokens`` alone can be 1 on a long
    conversation; the sum is what the model actually read. ``None`` when the server reported no prompt size at
    all (a stream whose ``message_start`` never came). :func:`cached_prompt_tokens` is the cached part.

    Example:
        >>> prompt_tokens({"input_tokens": 1, "cache_read_input_tokens": 48, "output_tokens": 9})
        49
        >>> prompt_tokens({"input_tokens": 12}), prompt_tokens({"output_tokens": 3})
        (12, None)
    """
    reported: int | None = field_of(usage, "input_tokens")
    cached = cached_prompt_tokens(usage)
    if reported is None:
        return cached or None
    return reported + cached


def cached_prompt_tokens(usage: Any) -> int:
    """The part of :func:`prompt_tokens` that went through the server's prompt cache (reads plus writes).

    Example:
        >>> cached_prompt_tokens({"input_tokens": 1, "cache_read_input_tokens": 48})
        48
    """
    return sum(field_of(usage, name) or 0 for name in ("cache_read_input_tokens", "cache_creation_input_tokens"))
