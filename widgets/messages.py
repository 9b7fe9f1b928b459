"""Small helpers for reading Anthropic ``Message`` objects safely.

Thinking models (qwen3, deepseek-r1, ...) put a ``thinking`` block *before* the text, so
``message.content[0].text`` raises ``AttributeError`` there. Select blocks by ``type`` instead.
"""

from __future__ import annotations

from typing import Any


def _get(block: Any, name: str, default: Any = None) -> Any:
    return block.get(name, default) if isinstance(block, dict) else getattr(block, name, default)


def blocks_of_type(message_or_content: Any, block_type: str) -> list[Any]:
    """The content blocks of one type, in order; accepts a Message, a content list, or dicts.

    Example:
        >>> blocks_of_type([{"type": "text", "text": "hi"}], "text")
        [{'type': 'text', 'text': 'hi'}]
    """
    content = _get(message_or_content, "content", message_or_content)
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    return [block for block in content or [] if _get(block, "type") == block_type]


def text_of(message_or_content: Any) -> str:
    """All ``text`` blocks joined: the answer, without thinking or tool calls.

    Example:
        >>> text_of([{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "你好"}])
        '你好'
    """
    return "".join(_get(block, "text", "") for block in blocks_of_type(message_or_content, "text"))
