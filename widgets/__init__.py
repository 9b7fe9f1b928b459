"""Widgets and helpers for learning Anthropic's Messages API against local models (Ollama, llama.cpp).

Names are imported on first use, so ``import ollama_anthropic_widgets`` stays cheap (matplotlib loads only for charts).

In IPython or Jupyter, ``%load_ext ollama_anthropic_widgets`` adds the ``%%ask`` cell magic (see ``.extension.magic``).

Example:
    >>> from ollama_anthropic_widgets import StreamView, settings
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS = {
    "Settings": "lessons.config",
    "settings": "lessons.config",
    "make_client": "lessons.config",
    "least_thinking": "lessons.config",
    "text_of": "core.messages",
    "blocks_of_type": "core.messages",
    "prompt_tokens": "core.messages",
    "check_connection": "lessons.doctor",
    "Diagnosis": "lessons.doctor",
    "StreamView": "ui.stream_view",
    "StreamResult": "core.streaming",
    "StreamInterrupted": "core.streaming",
    "ImageUpload": "ui.image_upload",
    "ImageRejected": "core.images",
    "image_block": "core.images",
    "user_message": "core.images",
    "sample_image": "core.images",
    "UsageTracker": "ui.usage_tracker",
    "ChatWidget": "ui.chat",
    "EmptyReply": "core.conversation",
    "run_tool_loop": "lessons.tools",
    "probe": "lessons.probe",
}

__all__ = [
    "ChatWidget",
    "Diagnosis",
    "EmptyReply",
    "ImageRejected",
    "ImageUpload",
    "Settings",
    "StreamInterrupted",
    "StreamResult",
    "StreamView",
    "UsageTracker",
    "blocks_of_type",
    "check_connection",
    "image_block",
    "least_thinking",
    "make_client",
    "probe",
    "prompt_tokens",
    "run_tool_loop",
    "sample_image",
    "settings",
    "text_of",
    "user_message",
]

if TYPE_CHECKING:  # pragma: no cover - for editors and type checkers only
    from .core.conversation import EmptyReply
    from .core.images import ImageRejected, image_block, sample_image, user_message
    from .core.messages import blocks_of_type, prompt_tokens, text_of
    from .core.streaming import StreamInterrupted, StreamResult
    from .lessons.config import Settings, least_thinking, make_client, settings
    from .lessons.doctor import Diagnosis, check_connection
    from .lessons.probe import probe
    from .lessons.tools import run_tool_loop
    from .ui.chat import ChatWidget
    from .ui.image_upload import ImageUpload
    from .ui.stream_view import StreamView
    from .ui.usage_tracker import UsageTracker


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext ollama_anthropic_widgets``: registers ``%%ask`` and ``%ask_usage`` (IPython loads only then)."""
    from .extension.magic import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext ollama_anthropic_widgets``: closes ``%ask_usage``'s panel; the conversation stays."""
    from .extension.magic import unload_ipython_extension as unload

    unload(shell)


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
