"""Where the lessons and widgets find their model server: one place, read from the environment.

| variable              | default                   | meaning                                   |
|-----------------------|---------------------------|-------------------------------------------|
| ``OLLAMA_BASE_URL``   | ``http://localhost:11434``| server root, **without** ``/v1``          |
| ``OLLAMA_MODEL``      | ``llama3.2``              | text model                                |
| ``OLLAMA_VISION_MODEL``| ``llava``                | model for image lessons                   |
| ``OLLAMA_KIT_LANG``   | ``en``                    | the kit's messages: ``en`` or ``zh``      |

The API key is ``"ollama"`` (local servers accept any key), except when the base URL is Anthropic's own API:
then it is read from ``ANTHROPIC_API_KEY``, so a real key never has to be written in a notebook and is never
sent to any other server. :func:`api_key_for` makes that decision, for ``settings()`` and the connection check
alike.

Example:
    >>> from anthropic import Anthropic
    >>> from ollama_anthropic_widgets import settings
    >>> config = settings()
    >>> client = Anthropic(base_url=config.base_url, api_key=config.api_key)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..core.i18n import language_setting

if TYPE_CHECKING:  # imported where used: `import ollama_anthropic_widgets` stays cheap
    from anthropic import Anthropic

DEFAULT_BASE_URL = "http://localhost:11434"
DEFAULT_MODEL = "llama3.2"
DEFAULT_VISION_MODEL = "llava"
LOCAL_API_KEY = "ollama"

BASE_URL_VARIABLE = "OLLAMA_BASE_URL"
MODEL_VARIABLE = "OLLAMA_MODEL"
VISION_MODEL_VARIABLE = "OLLAMA_VISION_MODEL"


@dataclass(frozen=True)
class Settings:
    """The server and models the lessons use, and the language of the kit's messages. ``repr`` never shows the
    API key.

    Example:
        >>> Settings("http://localhost:11434", "llama3.2", "llava", api_key="ollama")
        Settings(base_url='http://localhost:11434', model='llama3.2', vision_model='llava', lang='en')
    """

    base_url: str
    model: str
    vision_model: str
    api_key: str = field(repr=False)
    lang: str = "en"

    @property
    def is_anthropic(self) -> bool:
        """True when talking to Anthropic's hosted API rather than a local or self-hosted server."""
        return is_anthropic_url(self.base_url)


def is_anthropic_url(url: str) -> bool:
    """True for Anthropic's own API (``anthropic.com`` and its subdomains), not for look-alike hosts.

    Example:
        >>> is_anthropic_url("https://api.anthropic.com"), is_anthropic_url("http://anthropic.com.evil.example")
        (True, False)
    """
    host = (urlsplit(url).hostname or "").lower()
    return host == "anthropic.com" or host.endswith(".anthropic.com")


def api_key_for(base_url: str, environ: Mapping[str, str] | None = None) -> str:
    """The API key to send to ``base_url``: ``ANTHROPIC_API_KEY`` for Anthropic's API, ``"ollama"`` anywhere else.

    Decided by the URL a request actually goes to, never by the configured one, so a real key is never sent to
    another server (and Anthropic's API never gets the placeholder while a key is set). ``environ`` defaults to
    ``os.environ``.

    Example:
        >>> env = {"ANTHROPIC_API_KEY": "sk-ant-example"}
        >>> api_key_for("https://api.anthropic.com", env), api_key_for("http://localhost:11434", env)
        ('sk-ant-example', 'ollama')
    """
    env = os.environ if environ is None else environ
    if is_anthropic_url(base_url):
        return env.get("ANTHROPIC_API_KEY") or LOCAL_API_KEY
    return LOCAL_API_KEY


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the configuration from ``environ`` (default: ``os.environ``).

    Example:
        >>> settings({"OLLAMA_MODEL": "qwen3"}).model
        'qwen3'
    """
    env = os.environ if environ is None else environ
    base_url = (env.get(BASE_URL_VARIABLE) or DEFAULT_BASE_URL).rstrip("/")
    return Settings(
        base_url=base_url,
        model=env.get(MODEL_VARIABLE) or DEFAULT_MODEL,
        vision_model=env.get(VISION_MODEL_VARIABLE) or DEFAULT_VISION_MODEL,
        api_key=api_key_for(base_url, env),
        lang=language_setting(env),
    )


LOW_EFFORT_ROOM = 256  # tokens added to a budget for gpt-oss's low-effort thinking, which counts against max_tokens


def least_thinking(model: str, max_tokens: int | None = None) -> dict[str, Any]:
    """Request options for an answer with as little thinking as ``model`` allows on Ollama, within ``max_tokens``
    meant for the answer: pass them to ``messages.create`` / ``messages.stream`` with ``**``.

    Most models: ``thinking={"type": "disabled"}``, honoured by Ollama from v0.23.4; a model that cannot think, and
    llama.cpp's server, accept it and change nothing. ``max_tokens`` is passed on as given.

    gpt-oss cannot stop thinking: Ollama ignores think true/false for it, and only the levels low, medium and high
    set how long it thinks (``docs/capabilities/thinking.mdx``, Ollama v0.32.15). So it gets
    ``output_config={"effort": "low"}``, which Ollama's Anthropic API turns into that level, and never a
    ``thinking`` field with it: Ollama reads the effort only when ``thinking`` is absent (``FromMessagesRequest`` in
    ``anthropic/anthropic.go``), and ``{"type": "disabled"}`` beside it would leave gpt-oss at its default level.
    Its thinking still counts against ``max_tokens``, so the budget grows by ``LOW_EFFORT_ROOM`` (256) tokens, a few
    times what a short question's low-effort trace takes; a model that thinks less leaves more room to the answer.

    The model is recognised by its name, as the learner set it (``OLLAMA_MODEL``): ``gpt-oss``, ``gpt-oss:20b``,
    ``gpt-oss:120b``, or any name holding ``gpt-oss``. Without ``max_tokens``, only the thinking options come back.

    Example:
        >>> least_thinking("qwen3", 64)
        {'thinking': {'type': 'disabled'}, 'max_tokens': 64}
        >>> least_thinking("gpt-oss:20b", 64)
        {'output_config': {'effort': 'low'}, 'max_tokens': 320}
        >>> least_thinking("gpt-oss")
        {'output_config': {'effort': 'low'}}
    """
    options: dict[str, Any]
    if "gpt-oss" in model.lower():
        options = {"output_config": {"effort": "low"}}
        if max_tokens is not None:
            options["max_tokens"] = max_tokens + LOW_EFFORT_ROOM
    else:
        options = {"thinking": {"type": "disabled"}}
        if max_tokens is not None:
            options["max_tokens"] = max_tokens
    return options


def make_client(config: Settings | None = None, **client_options: Any) -> Anthropic:
    """An ``anthropic.Anthropic`` client for ``config`` (default: :func:`settings`).

    Example:
        >>> client = make_client(max_retries=0)
    """
    from anthropic import Anthropic

    config = config or settings()
    return Anthropic(base_url=config.base_url, api_key=config.api_key, **client_options)
