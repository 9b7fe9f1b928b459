"""Widgets and helpers for learning Anthropic's Messages API against local models (Ollama, llama.cpp).

Names are imported on first use, so ``import ollama_anthropic_widgets`` stays cheap (matplotlib loads only for charts).

In IPython or Jupyter, ``%load_ext ollama_anthropic_widgets`` adds the ``%%ask`` cell magic (see ``.magic``).

Example:
    >>> from ollama_anthropic_widgets import StreamView, settings
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Settings": "config",
    "settings": "config",
    "make_client": "config",
    "least_thinking": "config",
    "text_of": "messages",
    "blocks_of_type": "messages",
    "prompt_tokens": "messages",
    "check_connection": "doctor",
    "Diagnosis": "doctor",
    "StreamView": "stream_view",
    "StreamResult": "streaming",
    "StreamInterrupted": "streaming",
    "ImageUpload": "images",
    "ImageRejected": "images",
    "image_block": "images",
    "user_message": "images",
    "sample_image": "images",
    "UsageTracker": "usage",
    "ChatWidget": "chat",
    "run_tool_loop": "tools",
    "probe": "probe",
}

__all__ = [
    "ChatWidget",
    "Diagnosis",
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
    from .chat import ChatWidget
    from .config import Settings, least_thinking, make_client, settings
    from .doctor import Diagnosis, check_connection
    from .images import ImageRejected, ImageUpload, image_block, sample_image, user_message
    from .messages import blocks_of_type, prompt_tokens, text_of
    from .probe import probe
    from .stream_view import StreamView
    from .streaming import StreamInterrupted, StreamResult
    from .tools import run_tool_loop
    from .usage import UsageTracker


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext ollama_anthropic_widgets``: registers ``%%ask`` and ``%ask_usage`` (IPython loads only then)."""
    from .magic import load_ipython_extension as load

    load(shell)


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
