"""A notebook-native chat: history, a text box where Enter sends, Send and Stop, optional images, live replies.

The Messages API is stateless, so a chat is a list of turns that grows by one ``user`` and one ``assistant``
turn per exchange and is sent whole with every request. That bookkeeping lives in :class:`Conversation`, plain
Python that tests (and your own scripts) use without a browser; :class:`ChatWidget` puts it on screen.

Rules the history always keeps (Anthropic's format; Ollama and llama.cpp follow it):

* it starts with ``user`` and alternates ``user`` / ``assistant``; every turn's ``content`` is a non-empty list of
  blocks (Ollama drops an empty assistant turn, which would break the alternation);
* an assistant turn keeps only the reply's non-empty **text** blocks. ``thinking`` blocks are not sent back
  (Anthropic wants them back only with their signature, Ollama and llama.cpp do not need them, and they would make
  every later prompt longer): the conversation remembers them beside the history, to show them collapsed and to
  export them. ``tool_use`` blocks are dropped too (a ``tool_use`` must be followed by a ``tool_result`` turn,
  which a chat does not send: use :func:`~.run_tool_loop` for tools);
* a reply **stopped** by the user keeps its partial text as an ordinary assistant turn (the next request sends
  it); the conversation remembers that it was stopped. A reply stopped before any text adds nothing;
* a turn that fails is rolled back: the history is exactly what it was before, and the typed text is handed
  back (the widget puts it into the text box again). A reply without any text counts as a failure
  (:class:`EmptyReply`) because an empty assistant turn would make the next request invalid.

Example:
    >>> from ollama_anthropic_widgets.ui.chat import Conversation
    >>> conversation = Conversation()
    >>> _ = conversation.start_turn("Hi, I am Ming.")
    >>> conversation.request(model="llama3.2", max_tokens=100, system="Be brief.")["messages"]
    [{'role': 'user', 'content': [{'type': 'text', 'text': 'Hi, I am Ming.'}]}]
    >>> _ = conversation.finish_turn({"content": [{"type": "text", "text": "Hello Ming!"}]})
    >>> [turn["role"] for turn in conversation.messages]
    ['user', 'assistant']
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets
import traitlets
from ipywidgets.widgets.widget_string import HTMLStyle

from ..core.errors import OneLineTraceback, describe_error, one_line
from ..core.i18n import LANGUAGES, language, localized
from ..core.images import user_message
from ..core.messages import field_of as _get
from ..core.render import (
    chat_role_label,
    footer_text,
    render_chat_empty,
    render_chat_status,
    render_chat_turn,
    render_error,
)
from .chat_input import ChatInput
from .stylesheet import Stylesheet

if TYPE_CHECKING:  # pragma: no cover
    from anthropic import Anthropic, AsyncAnthropic
    from anthropic.types import Message

    from ..core.streaming import StreamResult
    from .stream_view import StreamView
    from .usage_tracker import UsageTracker

RESERVED_REQUEST_KEYS = frozenset({"model", "max_tokens", "system", "messages", "stream", "thinking"})
EXPORT_SUFFIXES = (".md", ".json")


class EmptyReply(OneLineTraceback, RuntimeError):
    """The server answered, but the reply has no text to add to the history (so the turn was rolled back).

    Typical causes: a thinking model spent all of ``max_tokens`` on its thinking, or the model asked for a tool.
    ``message`` is the reply as received, ``str(error)`` says what to do, in ``lang``. A notebook cell that raises it
    (``chat.send(...)``) shows that one line, not a traceback: the reply was the model's, the cell is fine.

    Example:
        >>> error = EmptyReply({"stop_reason": "max_tokens", "content": [{"type": "thinking", "thinking": "…"}]})
        >>> str(error).split(":")[0]
        'The model sent no text (stop_reason max_tokens, 1 thinking block)'
    """

    def __init__(self, message: Any, lang: str | None = None):
        self.message = message
        lang = language(lang)
        stop_reason = _get(message, "stop_reason")
        kinds = [_get(block, "type") for block in _get(message, "content", None) or []]
        separator = localized("chat.list_separator", lang)
        found = separator.join(
            localized("chat.block_count_many" if kinds.count(kind) > 1 else "chat.block_count_one", lang,
                      count=kinds.count(kind), kind=kind)
            for kind in dict.fromkeys(kinds) if kind)
        if stop_reason == "max_tokens" and "thinking" in kinds:
            hint = "chat.hint_thinking_used_all"
        elif stop_reason == "max_tokens":
            hint = "chat.hint_max_tokens"
        elif "tool_use" in kinds or stop_reason == "tool_use":
            hint = "chat.hint_tool"
        else:
            hint = "chat.hint_again"
        details = separator.join(part for part in (localized("chat.no_text_stop_reason", lang, reason=stop_reason),
                                                   found) if part)
        super().__init__(localized("chat.no_text", lang, details=details, hint=localized(hint, lang)))


def _content_blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content or [])


def check_history(messages: Sequence[dict[str, Any]]) -> None:
    """Raise ``ValueError`` unless ``messages`` starts with ``user``, alternates roles and ends with ``assistant``.

    Ending with ``assistant`` (or being empty) is what lets the next ``user`` turn follow.

    Example:
        >>> check_history([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
        >>> check_history([{"role": "assistant", "content": "hello"}])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: turn 1 has role 'assistant', expected 'user': ...
    """
    if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, Sequence):
        raise ValueError(f"a chat history is a list of turns, not {type(messages).__name__}")
    for index, turn in enumerate(messages):
        expected = "user" if index % 2 == 0 else "assistant"
        role = _get(turn, "role")
        if role != expected:
            raise ValueError(f"turn {index + 1} has role {role!r}, expected {expected!r}: a chat history starts "
                             "with a user turn and then alternates user/assistant")
        if not _content_blocks(_get(turn, "content")):
            raise ValueError(f"turn {index + 1} ({role}) has no content: every turn needs at least one block")
    if len(messages) % 2:
        raise ValueError("the history ends with a user turn that has no answer: remove it (or add the assistant's "
                         "reply) so the next user turn can follow")


def reply_turn(message: Any) -> dict[str, Any] | None:
    """The assistant turn to keep for a reply: its non-empty text blocks only, or ``None`` if it has none.

    ``message`` is an ``anthropic`` ``Message`` or its dict form. See the module docstring for why thinking and
    tool_use blocks are not kept.

    Example:
        >>> reply_turn({"content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "Hi!"}]})
        {'role': 'assistant', 'content': [{'type': 'text', 'text': 'Hi!'}]}
    """
    blocks = [{"type": "text", "text": str(_get(block, "text", ""))}
              for block in _get(message, "content", None) or []
              if _get(block, "type") == "text" and str(_get(block, "text", "") or "").strip()]
    return {"role": "assistant", "content": blocks} if blocks else None


def _thinking_of(message: Any) -> str:
    return "".join(str(_get(block, "thinking", "") or "") for block in _get(message, "content", None) or []
                   if _get(block, "type") == "thinking")


class Conversation:
    """A chat history that stays valid: alternating turns, and at most one turn in flight that can be undone.

    ``start_turn`` adds the user's turn (text plus optional images), ``request`` gives the keyword arguments for
    ``client.messages.create``/``stream`` (the whole history, system prompt separate), then either
    ``finish_turn`` (adds the reply; ``stopped=True`` for a reply the user stopped) or ``abandon_turn`` (removes
    the user turn, returns the typed text). Beside the history it remembers which replies were stopped
    (``stopped_turns``) and each reply's thinking (``thinking_of``): shown and exported, never sent. ``lang``
    (``"en"`` or ``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting) is the language of what it tells a learner
    (nothing to send, a reply without text) and of its Markdown export; an attribute, changeable.

    Example:
        >>> conversation = Conversation()
        >>> _ = conversation.start_turn("Hello")
        >>> conversation.abandon_turn()          # the call failed: take the question back
        'Hello'
        >>> conversation.messages
        []
    """

    def __init__(self, messages: Iterable[dict[str, Any]] = (), *, lang: str | None = None):
        self.lang = language(lang)
        turns = [copy.deepcopy(dict(turn)) for turn in messages]
        check_history(turns)
        self._turns: list[dict[str, Any]] = turns
        self._pending: dict[str, Any] | None = None
        self._pending_text = ""
        self._stopped: set[int] = set()
        self._thinking: dict[int, str] = {}

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The answered turns (a deep copy: editing it does not change the conversation)."""
        return copy.deepcopy(self._turns)

    @property
    def pending(self) -> dict[str, Any] | None:
        """The user turn waiting for its reply (a copy), or ``None``."""
        return copy.deepcopy(self._pending)

    @property
    def stopped_turns(self) -> list[int]:
        """Indexes in ``messages`` of the assistant turns whose reply was stopped (their text is partial)."""
        return sorted(self._stopped)

    def thinking_of(self, index: int) -> str:
        """The thinking the model sent with the assistant turn ``messages[index]`` ('' if none).

        Example:
            >>> conversation = Conversation()
            >>> _ = conversation.start_turn("2+2?")
            >>> _ = conversation.finish_turn({"content": [{"type": "thinking", "thinking": "add"},
            ...                                           {"type": "text", "text": "4"}]})
            >>> conversation.thinking_of(1)
            'add'
        """
        return self._thinking.get(index, "")

    def start_turn(self, text: str, images: Iterable[Any] = ()) -> dict[str, Any]:
        """Add the user's turn and return it; images are blocks, paths or bytes (see ``user_message``).

        Raises ``ValueError`` (nothing changes) when there is nothing to send, an image is rejected
        (``ImageRejected``), or the previous turn is still in flight.

        Example:
            >>> Conversation().start_turn("What is this?", [])["content"]
            [{'type': 'text', 'text': 'What is this?'}]
        """
        if self._pending is not None:
            raise ValueError("a turn is already waiting for its reply: finish or abandon it first")
        text = "" if text is None else str(text)
        images = list(images)
        if not text.strip() and not images:
            raise ValueError(localized("chat.nothing_to_send", self.lang))
        # Whitespace-only text becomes no text block: the API refuses blank text blocks.
        turn = user_message(text if text.strip() else "", images, lang=self.lang)
        self._pending, self._pending_text = turn, text
        return copy.deepcopy(turn)

    def request(self, *, model: str, max_tokens: int, system: str | None = None,
                **options: Any) -> dict[str, Any]:
        """Keyword arguments for ``client.messages.create(**...)``: every turn so far plus the pending one.

        ``system`` is sent as the separate ``system`` field (left out when empty). ``options`` are passed as given
        (e.g. ``extra_body={"temperature": 0.2}``).

        Example:
            >>> conversation = Conversation()
            >>> _ = conversation.start_turn("Hi")
            >>> sorted(conversation.request(model="m", max_tokens=50, system="Be kind."))
            ['max_tokens', 'messages', 'model', 'system']
        """
        messages = self._turns + ([self._pending] if self._pending is not None else [])
        request: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": copy.deepcopy(messages)}
        if system and str(system).strip():
            request["system"] = str(system)
        request.update(options)
        return request

    def finish_turn(self, message: Any, *, stopped: bool = False) -> dict[str, Any]:
        """Add the reply to the pending turn and return the stored assistant turn (text blocks only).

        ``stopped=True``: the reply was stopped by the user; its partial text is kept all the same, and the turn
        is listed in ``stopped_turns``. Raises :class:`EmptyReply` when the reply has no text; the turn then stays
        pending (call ``abandon_turn``), because an assistant turn without content would break the next request.

        Example:
            >>> conversation = Conversation()
            >>> _ = conversation.start_turn("Tell me a long story")
            >>> conversation.finish_turn({"content": [{"type": "text", "text": "Once upon"}]}, stopped=True)["role"]
            'assistant'
            >>> conversation.stopped_turns
            [1]
        """
        if self._pending is None:
            raise ValueError("no turn is waiting for a reply: call start_turn first")
        turn = reply_turn(message)
        if turn is None:
            raise EmptyReply(message, self.lang)
        self._turns += [self._pending, turn]
        index = len(self._turns) - 1
        if stopped:
            self._stopped.add(index)
        thinking = _thinking_of(message)
        if thinking:
            self._thinking[index] = thinking
        self._pending, self._pending_text = None, ""
        return copy.deepcopy(turn)

    def abandon_turn(self) -> str:
        """Remove the pending user turn (its call failed) and return the text that was typed for it.

        Example:
            >>> conversation = Conversation()
            >>> _ = conversation.start_turn("Hi")
            >>> conversation.abandon_turn(), conversation.pending
            ('Hi', None)
        """
        text = self._pending_text
        self._pending, self._pending_text = None, ""
        return text

    def to_markdown(self, *, title: str | None = None, system: str | None = None) -> str:
        """The conversation as a Markdown document: one section per turn, thinking quoted, stopped replies marked.

        The text is written as it was typed and received (a Markdown reply stays Markdown); an image is named
        with its type and size, not embedded.

        Example:
            >>> conversation = Conversation([{"role": "user", "content": "Hi"},
            ...                              {"role": "assistant", "content": "Hello!"}])
            >>> print(conversation.to_markdown(system="Be brief."))
            # Chat
            <BLANKLINE>
            **System prompt:** Be brief.
            <BLANKLINE>
            ## You
            <BLANKLINE>
            Hi
            <BLANKLINE>
            ## Assistant
            <BLANKLINE>
            Hello!
            <BLANKLINE>
        """
        lang = self.lang
        parts = [f"# {title or localized('chat.export_title', lang)}", ""]
        if system and system.strip():
            parts += [localized("chat.export_system", lang, system=system.strip()), ""]
        for index, turn in enumerate(self._turns):
            heading = chat_role_label(str(_get(turn, "role")), lang)
            if index in self._stopped:
                heading = localized("chat.export_stopped", lang, role=heading)
            parts += [f"## {heading}", ""]
            thinking = self._thinking.get(index, "")
            if thinking:
                parts += [f"> **{localized('chat.export_thinking', lang)}**", ">",
                          *[f"> {line}".rstrip() for line in thinking.splitlines()], ""]
            for block in _content_blocks(_get(turn, "content")):
                kind = _get(block, "type")
                if kind == "text":
                    parts += [str(_get(block, "text", "")), ""]
                elif kind == "image":
                    source = _get(block, "source", None) or {}
                    data = _get(source, "data") or ""
                    size = f", {len(data) * 3 // 4 / 1000:.0f} KB" if data else ""
                    image = localized("chat.export_image", lang, media_type=_get(source, "media_type") or "image",
                                      size=size)
                    parts += [f"*[{image}]*", ""]
                else:
                    parts += [f"*{localized('chat.block_caption', lang, kind=kind)}*", ""]
        return "\n".join(parts)


def _twin_client(client: Any, *, asynchronous: bool) -> Any:
    """The other flavour (``Anthropic`` ⇄ ``AsyncAnthropic``) of ``client``, with its public settings.

    Copied: base URL, API key or auth token, timeout, retries and middleware (so ``UsageTracker.watch`` keeps
    counting). Not copied: a custom ``http_client`` (its transport cannot be shared between sync and async).
    """
    from anthropic import Anthropic, AsyncAnthropic

    options: dict[str, Any] = {"api_key": client.api_key, "auth_token": client.auth_token,
                               "base_url": client.base_url, "timeout": client.timeout,
                               "max_retries": client.max_retries}
    middleware = tuple(getattr(client, "middleware", ()) or ())
    if middleware:
        options["middleware"] = middleware
    return (AsyncAnthropic if asynchronous else Anthropic)(**options)


def _is_async_client(client: Any) -> bool:
    from anthropic import AsyncAnthropic  # here, not at import time: keeps `import ollama_anthropic_widgets` cheap

    return isinstance(client, AsyncAnthropic)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class ChatWidget(ipywidgets.VBox):
    """A chat with a model: history, a text box (Enter sends, Shift+Enter adds a line), Send / Stop, optional
    images, live replies, usage.

    Arguments: an ``anthropic.Anthropic`` client (or an ``AsyncAnthropic``: the widget builds the other flavour
    from its settings when it needs it), the model name, and

    * ``system`` — system prompt, sent separately with every request; editable in the collapsed
      "System prompt" section (a change applies from the next message on);
    * ``max_tokens`` — per reply; ``stream`` — show the reply as it is generated in a ``StreamView``
      (``False``: the reply appears when complete); ``images`` — add an ``ImageUpload`` whose images go with the
      next message; ``tracker`` — a ``UsageTracker``: every reply is recorded and its live panel is shown;
    * ``thinking`` — sent as the request's ``thinking`` field: ``{"type": "enabled", "budget_tokens": 1024}``,
      ``{"type": "disabled"}``, or ``None`` (default: not sent, so the server decides; Ollama then lets a
      thinking model think). The model's thinking is shown collapsed above its reply, never sent back;
    * ``messages`` — a history to continue (e.g. ``json.load`` of a file written by ``chat.save("chat.json")``);
    * ``markdown`` — render the model's text as safe Markdown (``False``: escaped plain text);
      ``request_options`` — extra keyword arguments for every request, e.g. ``{"extra_body": {"temperature": 0.2}}``;
    * ``lang`` — the language of the widget's own words (buttons, labels, status and error lines, the Markdown
      export): ``"en"`` or ``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting, else English. A trait: changing it
      relabels the widget.

    **Sending.** Enter in the text box or the Send button starts the reply **on the kernel's event loop**, so the
    kernel stays free while it streams: a **Stop** button appears, and ``chat.stop()`` (what it calls) ends the
    stream within a fraction of a second and closes the HTTP response. ``await chat.asend(text)`` does the same
    from code; ``chat.send(text)`` blocks until the reply is complete (scripts, tests; a kernel interrupt stops it
    like Stop). All three return the ``Message``.

    **Stop** keeps what arrived: the partial reply stays on screen and becomes an ordinary assistant turn in
    ``chat.messages`` (so the next request sends it), listed in ``chat.stopped_turns`` and marked "stopped" in
    the history. A reply stopped before any text adds nothing, and the typed text goes back into the box.

    **When a turn fails** (server down, unknown model, HTTP 500, a stream cut midway, a reply with no text, an
    image rejected): the history is left exactly as before, the typed text is put back into the text box (if the
    box is empty), attached images stay, ``chat.error`` holds a one-line message that is also shown, a streamed
    reply's partial text stays visible in the reply area (never added to the history), and ``send()`` /
    ``asend()`` **re-raise** the error (``anthropic.APIError``, ``StreamInterrupted``, :class:`EmptyReply`,
    ``ImageRejected``/``ValueError``) — code never mistakes a failure for a reply. Enter and Send catch it: the
    message on screen is the report.

    **Export.** ``chat.to_markdown()``; ``chat.save("chat.md")`` or ``chat.save("chat.json")`` (the JSON is
    ``chat.messages``, which ``ChatWidget(client, model, messages=json.load(f))`` continues).

    Example:
        >>> from anthropic import Anthropic
        >>> from ollama_anthropic_widgets import ChatWidget, settings
        >>> config = settings()
        >>> chat = ChatWidget(Anthropic(base_url=config.base_url, api_key=config.api_key), config.model,
        ...                   system="Answer briefly.", max_tokens=200)
        >>> chat                                              # doctest: +SKIP
        >>> reply = chat.send("Hello!")                       # doctest: +SKIP
        >>> [turn["role"] for turn in chat.messages]          # doctest: +SKIP
        ['user', 'assistant']
        >>> chat.save("hello.md")                             # doctest: +SKIP
    """

    model = traitlets.Unicode(help="the model every request names")
    max_tokens = traitlets.Int(1024, help="max_tokens of every request")
    system = traitlets.Unicode("", help="system prompt ('' sends none); editable in the widget")
    stream = traitlets.Bool(True, help="show replies as they stream (StreamView) or only when complete")
    markdown = traitlets.Bool(True, help="render the model's text as safe Markdown instead of plain text")
    thinking = traitlets.Dict(default_value=None, allow_none=True, help="the request's thinking field (None: not sent)")
    busy = traitlets.Bool(False, read_only=True, help="True while a message is being sent")
    error = traitlets.Unicode("", help="one line about the last failed turn ('' after a success)")
    turns = traitlets.Int(0, read_only=True, help="number of answered exchanges in the history")
    lang = traitlets.Enum(LANGUAGES, default_value="en", help="language of the widget's own words")

    def __init__(self, client: Anthropic | AsyncAnthropic, model: str, *, system: str | None = None,
                 max_tokens: int = 1024, stream: bool = True, images: bool = False,
                 tracker: UsageTracker | None = None, markdown: bool = True,
                 thinking: dict[str, Any] | None = None, messages: Iterable[dict[str, Any]] = (),
                 request_options: dict[str, Any] | None = None, lang: str | None = None, **kwargs: Any):
        if int(max_tokens) < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        clash = RESERVED_REQUEST_KEYS & set(request_options or {})
        if clash:
            raise ValueError(f"request_options cannot set {sorted(clash)}: use the ChatWidget arguments instead")
        self.client = client
        self._clients: dict[bool, Any] = {_is_async_client(client): client}  # asynchronous? -> client
        self.tracker = tracker
        self.request_options = dict(request_options or {})
        lang = language(lang)
        self._conversation = Conversation(messages, lang=lang)
        self.reply_view: StreamView | None = None  # shows replies live: one per chat, reused by every turn
        self._live_this_turn = False  # reply_view shows the turn in flight (not an earlier one)
        self._reply_task: asyncio.Future[Message] | None = None  # the request in flight on the loop (Stop cancels it)
        self._turn_task: asyncio.Task[None] | None = None  # a turn started by Enter / Send on the event loop
        self._stop_requested = False
        self._on_loop = False  # the turn in flight runs on the event loop (Stop can reach it)

        self.system_box = ipywidgets.Textarea(value=system or "", layout=ipywidgets.Layout(width="100%"))
        self.system_section = ipywidgets.Accordion(children=[self.system_box], selected_index=None)
        self.history_box = ipywidgets.VBox(layout=ipywidgets.Layout(max_height="480px", overflow="auto"))
        self.history_box.add_class("oaw-chat-history")
        self._exchanges: list[ipywidgets.VBox] = []  # one box per answered exchange: a new turn sends only itself
        self._pending_exchange: ipywidgets.VBox | None = None  # the exchange whose reply is awaited
        # Every turn shares one Layout and one style: ipywidgets would otherwise send two more widgets per turn.
        # flex 0 0 auto: in the scrolling history (a flex column) a turn keeps its height instead of being squeezed.
        self._turn_layout, self._turn_style = ipywidgets.Layout(flex="0 0 auto"), HTMLStyle()
        self._empty_view = ipywidgets.HTML()
        self.live_area = ipywidgets.VBox(layout=ipywidgets.Layout(display="none"))
        self.error_view = ipywidgets.HTML()
        self.status_view = ipywidgets.HTML()
        self.text_box = ChatInput()
        self.send_button = ipywidgets.Button(icon="paper-plane", button_style="primary",
                                             layout=ipywidgets.Layout(width="auto"))
        self.stop_button = ipywidgets.Button(icon="stop", button_style="warning",
                                             layout=ipywidgets.Layout(width="auto", display="none"))
        self.upload = None
        if images:
            from .image_upload import ImageUpload

            self.upload = ImageUpload(stylesheet=False, lang=lang)
        self.usage_panel = tracker.widget(stylesheet=False, lang=lang) if tracker is not None else None
        self._label(lang)

        # One copy of the kit's stylesheet (the chat's rules included) for the whole chat and all its parts.
        children = [Stylesheet(), self.system_section, self.history_box, self.live_area, self.error_view,
                    self.status_view,
                    ipywidgets.HBox([self.text_box, self.send_button, self.stop_button],
                                    layout=ipywidgets.Layout(align_items="flex-start"))]
        children += [part for part in (self.upload, self.usage_panel) if part is not None]
        super().__init__(children=children, model=model, max_tokens=max_tokens, system=system or "",
                         stream=stream, markdown=markdown, thinking=thinking, lang=lang, **kwargs)
        self.add_class("oaw-chat")
        traitlets.link((self, "system"), (self.system_box, "value"))
        self.send_button.on_click(lambda _button: self._send_from_box())
        self.text_box.on_submit(lambda _text: self._send_from_box())
        self.stop_button.on_click(lambda _button: self.stop())
        self.set_trait("turns", len(self._conversation.messages) // 2)
        self._rebuild_history()

    # -- the conversation --------------------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation in Anthropic's format: alternating user/assistant turns (a copy).

        Assigning a history replaces the conversation; it must start with ``user``, alternate and end with
        ``assistant`` (``ValueError`` otherwise).

        Example:
            >>> chat.messages = [{"role": "user", "content": "Hi"},            # doctest: +SKIP
            ...                  {"role": "assistant", "content": "Hello!"}]
        """
        return self._conversation.messages

    @messages.setter
    def messages(self, history: Iterable[dict[str, Any]]) -> None:
        if self.busy:
            raise RuntimeError("cannot replace the history while a message is being sent")
        self._conversation = Conversation(history, lang=self.lang)
        self.set_trait("turns", len(self._conversation.messages) // 2)
        self._drop_pending()
        self._rebuild_history()

    @property
    def stopped_turns(self) -> list[int]:
        """Indexes in ``messages`` of the replies that were stopped (kept with their partial text).

        Example:
            >>> chat.stopped_turns                             # doctest: +SKIP
            [3]
        """
        return self._conversation.stopped_turns

    def thinking_of(self, index: int) -> str:
        """The thinking the model sent with the reply ``messages[index]`` ('' if none): shown collapsed, never sent
        back to the model, so ``messages`` does not hold it.

        Example:
            >>> chat.thinking_of(1)[:40]                       # doctest: +SKIP
            'Okay, the user wants a short poem about '
        """
        return self._conversation.thinking_of(index)

    def clear(self) -> None:
        """Start a new conversation (the system prompt stays).

        Example:
            >>> chat.clear()                                    # doctest: +SKIP
        """
        self.messages = []
        self.error = ""
        self.status_view.value = ""
        self._show_live(False)

    def to_markdown(self) -> str:
        """The conversation as Markdown: the model name, system prompt, every turn; stopped replies marked.

        Example:
            >>> print(chat.to_markdown())                      # doctest: +SKIP
            # Chat with llama3.2
            ...
        """
        return self._conversation.to_markdown(title=localized("chat.export_title_model", self.lang, model=self.model),
                                              system=self.system)

    def save(self, path: str | Path) -> Path:
        """Write the conversation to ``path``: Markdown for ``.md``, JSON (``chat.messages``) for ``.json``.

        The JSON file loads back with ``ChatWidget(client, model, messages=json.load(f))``; being exactly what the
        API takes, it holds no thinking and no "stopped" marks (the Markdown shows both). Any other suffix raises
        ``ValueError`` and writes nothing. Returns the path written.

        Example:
            >>> chat.save("chat.md"), chat.save("chat.json")    # doctest: +SKIP
            (PosixPath('chat.md'), PosixPath('chat.json'))
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".md":
            text = self.to_markdown()
        elif suffix == ".json":
            text = json.dumps(self.messages, ensure_ascii=False, indent=1) + "\n"
        else:
            raise ValueError(f"cannot save a chat as {path.name!r}: use a .md file (Markdown, to read) or a .json "
                             "file (the messages, to load back with ChatWidget(..., messages=json.load(f)))")
        path.write_text(text, encoding="utf-8")
        return path

    # -- sending -----------------------------------------------------------------------------------------------

    def send(self, text: str, images: Iterable[Any] = ()) -> Message:
        """Send one user message (plus ``images`` and any images attached in the widget) and wait for the reply.

        Returns the ``Message``. Blocks the kernel until the reply is complete: in a notebook, Enter / Send (or
        ``await chat.asend(text)``) keep it free and can be stopped. A kernel interrupt stops this one: the partial
        reply is kept as with Stop, then ``KeyboardInterrupt`` is re-raised so a script stops too. On failure the
        history is unchanged and the error is re-raised (see the class docstring).

        Example:
            >>> reply = chat.send("What did I just say?")      # doctest: +SKIP
            >>> reply.stop_reason                              # doctest: +SKIP
            'end_turn'
        """
        self._start(text, images, on_loop=False)
        return self._finish_blocking()

    async def asend(self, text: str, images: Iterable[Any] = ()) -> Message | None:
        """Send one user message without blocking the kernel: ``await chat.asend("Hello")``.

        Returns the ``Message``; after ``chat.stop()`` the partial one (``stop_reason`` ``None``), or ``None`` if
        it was stopped before any text. Failures are re-raised as with :meth:`send`.

        Example:
            >>> reply = await chat.asend("Tell me a story")    # doctest: +SKIP
        """
        self._start(text, images, on_loop=True)
        return await self._finish_on_loop()

    def stop(self) -> bool:
        """Stop the reply in flight (started by Enter, Send or ``asend``); returns ``False`` if there was none.

        The stream ends at once and its HTTP response is closed; the partial reply is kept (see the class
        docstring). A blocking ``send()`` is stopped by interrupting the kernel instead.

        Example:
            >>> chat.stop()                                    # doctest: +SKIP
            True
        """
        if not (self.busy and self._on_loop):
            return False
        self._stop_requested = True
        task = self._reply_task
        if task is not None and not task.done():
            task.cancel()
        return True

    # ``send`` shadows ipywidgets' ``Widget.send`` (custom comm messages), which a Box never needs;
    # DOMWidget's focus()/blur() are its only callers, so they are redirected to the text box.
    def focus(self) -> None:
        """Put the cursor into the text box.

        Example:
            >>> chat.focus()                                   # doctest: +SKIP
        """
        self.text_box.focus()

    def blur(self) -> None:
        """Take the focus away from the text box.

        Example:
            >>> chat.blur()                                    # doctest: +SKIP
        """
        self.text_box.blur()

    # -- internals ---------------------------------------------------------------------------------------------

    def _client(self, *, asynchronous: bool) -> Any:
        if asynchronous not in self._clients:
            self._clients[asynchronous] = _twin_client(self.client, asynchronous=asynchronous)
        return self._clients[asynchronous]

    def _request(self) -> dict[str, Any]:
        options = dict(self.request_options)
        if self.thinking is not None:
            options["thinking"] = dict(self.thinking)
        return self._conversation.request(model=self.model, max_tokens=self.max_tokens, system=self.system,
                                          **options)

    def _start(self, text: str, images: Iterable[Any], *, on_loop: bool) -> None:
        """The synchronous start of a turn: checks, the pending user turn on screen, ``busy`` set."""
        if not isinstance(text, str):
            raise TypeError(f"send() takes the message text (a str), not {type(text).__name__}")
        if self.busy:
            raise RuntimeError("a message is already being sent: wait for its reply (or press Stop)")
        attachments = [*images, *(self.upload.blocks if self.upload is not None else [])]
        self.error = ""
        self.status_view.value = ""
        self._show_live(False)  # a failed turn's partial reply stays on screen only until the next send
        self._live_this_turn = False
        try:
            pending = self._conversation.start_turn(text, attachments)
        except ValueError as error:  # nothing to send, or an image rejected: no request was made
            self._abandon(error, typed=text)
            raise
        self._stop_requested = False
        self._on_loop = on_loop
        self.stop_button.layout.display = None if on_loop else "none"
        self.set_trait("busy", True)
        self._show_pending(pending)

    def _finish_blocking(self) -> Message:
        """The rest of a turn started by ``_start``, blocking; a kernel interrupt counts as Stop."""
        try:
            message = self._ask()
        except KeyboardInterrupt:
            self._keep_stopped()
            raise
        except BaseException as error:
            self._abandon(error)
            raise
        return self._conclude(message)

    def _ask(self) -> Message:
        """One blocking request for the pending turn: returns the ``Message`` or raises."""
        request = self._request()
        client = self._client(asynchronous=False)
        if self.stream:
            view = self._new_reply_view()
            return view.consume(client.messages.stream(**request))
        self.status_view.value = render_chat_status(localized("chat.waiting", self.lang))
        started = time.perf_counter()
        message: Message = client.messages.create(**request)  # not a stream: request_options cannot set "stream"
        self._record(message, time.perf_counter() - started)
        return message

    async def _finish_on_loop(self) -> Message | None:
        """The rest of a turn started by ``_start``, on the event loop, where ``stop()`` can cancel it."""
        try:
            if self._stop_requested:  # Stop came before the request was even made
                raise asyncio.CancelledError
            request, streaming = self._request(), self.stream
            client = self._client(asynchronous=True)
            if streaming:
                work = self._new_reply_view().aconsume(client.messages.stream(**request))
            else:
                self.status_view.value = render_chat_status(localized("chat.waiting", self.lang))
                work = client.messages.create(**request)
            started = time.perf_counter()
            self._reply_task = asyncio.ensure_future(work)
            message = await self._reply_task
            if not streaming:
                self._record(message, time.perf_counter() - started)
        except asyncio.CancelledError:
            if not self._stop_requested:  # cancelled from outside (the task awaiting asend): not a Stop
                self._abandon(asyncio.CancelledError())
                raise
            return self._keep_stopped()
        except BaseException as error:
            self._abandon(error)
            raise
        finally:
            self._reply_task = None
        return self._conclude(message)

    def _new_reply_view(self) -> StreamView:
        """The live view, emptied for this turn's reply. One StreamView serves every turn: a new one per turn
        would send its five widgets to the browser again each time."""
        if self.reply_view is None:
            from .stream_view import StreamView

            self.reply_view = StreamView(markdown=self.markdown, tracker=self.tracker, stylesheet=False,
                                         lang=self.lang)
            self.live_area.children = (self.reply_view,)
        self.reply_view.markdown = self.markdown
        self._live_this_turn = True
        self._show_live(True)
        return self.reply_view

    def _live_result(self) -> StreamResult | None:
        """This turn's reply as the live view has it (a StreamResult), or None if it did not stream."""
        if not self._live_this_turn or self.reply_view is None:
            return None
        return self.reply_view.result

    def _record(self, message: Message, latency_s: float) -> None:
        if self.tracker is not None:
            self.tracker.record(message, latency_s=latency_s)

    def _conclude(self, message: Message) -> Message:
        """A complete reply: into the history, or (no text) rolled back with :class:`EmptyReply` raised."""
        try:
            self._conversation.finish_turn(message)
        except EmptyReply as error:
            self._abandon(error)
            raise
        from ..core.streaming import StreamResult

        result = self._live_result() or StreamResult.from_message(message)
        self._settle(render_chat_status(footer_text(result, self.lang)))
        if self.upload is not None:
            self.upload.clear()
        return message

    def _keep_stopped(self) -> Message | None:
        """After a stop: keep the partial reply as a stopped turn and return it as a ``Message``; ``None`` (and
        the turn rolled back) when no text had arrived."""
        from ..core.streaming import message_from_result

        result = self._live_result()
        if result is None or not result.text.strip():
            self._abandon(None, line=localized("chat.stopped_before_text", self.lang))
            return None
        # stop_reason None: the server never said why the reply ended (the user ended it)
        message = message_from_result(dataclasses.replace(result, stop_reason=None))
        self._conversation.finish_turn(message, stopped=True)
        self._settle(render_chat_status(localized("chat.stopped_after", self.lang, count=len(result.text))))
        if self.upload is not None:
            self.upload.clear()
        return message

    def _settle(self, status_html: str) -> None:
        """The turn is in the history: show it as a turn of its own, then leave the busy state."""
        self.set_trait("turns", len(self._conversation.messages) // 2)
        self._show_live(False)
        self._commit_pending()
        self.status_view.value = status_html
        self._end_busy()

    def _abandon(self, error: BaseException | None, *, typed: str | None = None, line: str = "") -> None:
        """Roll the pending turn back: the typed text returns to the box, the error (or ``line``) is shown."""
        typed = self._conversation.abandon_turn() if typed is None else typed
        if error is not None:
            self.error = _one_line_error(error, self.lang)
        self.status_view.value = render_chat_status(line)
        if typed and not self.text_box.value.strip():
            self.text_box.value = typed
        partial = self._live_result()
        if partial is None or not (partial.text or partial.thinking):
            self._show_live(False)  # nothing partial to show: the error line says it all
        self._drop_pending()
        self._end_busy()

    def _end_busy(self) -> None:
        self.stop_button.layout.display = "none"
        self.set_trait("busy", False)

    def _show_live(self, visible: bool) -> None:
        self.live_area.layout.display = None if visible else "none"

    # The history is a box of exchanges, each a box of one HTML widget per turn. Sending a turn adds one exchange
    # (the history's list of children grows by one widget id, ~45 bytes) and that exchange's own HTML; the HTML of
    # earlier turns is never sent again.

    def _turn_view(self, index: int, turn: dict[str, Any]) -> ipywidgets.HTML:
        conversation = self._conversation
        return ipywidgets.HTML(render_chat_turn(turn, markdown=self.markdown,
                                                stopped=index in conversation.stopped_turns,
                                                thinking=conversation.thinking_of(index), lang=self.lang),
                               layout=self._turn_layout, style=self._turn_style)

    def _exchange(self, *views: ipywidgets.HTML) -> ipywidgets.VBox:
        return ipywidgets.VBox(views, layout=self._turn_layout)

    def _rebuild_history(self) -> None:
        """Draw every answered turn anew (a new history, or Markdown switched); a pending turn stays."""
        for exchange in self._exchanges:
            for view in exchange.children:
                view.close()
            exchange.close()
        messages = self._conversation.messages
        self._exchanges = [self._exchange(self._turn_view(index, messages[index]),
                                          self._turn_view(index + 1, messages[index + 1]))
                           for index in range(0, len(messages), 2)]
        self._show_exchanges()

    def _show_exchanges(self) -> None:
        shown = [*self._exchanges, *([self._pending_exchange] if self._pending_exchange is not None else [])]
        self.history_box.children = tuple(shown) if shown else (self._empty_view,)
        self.text_box.scroll_history()

    def _show_pending(self, pending: dict[str, Any]) -> None:
        user_view = ipywidgets.HTML(render_chat_turn(pending, markdown=self.markdown, lang=self.lang),
                                    layout=self._turn_layout, style=self._turn_style)
        user_view.add_class("oaw-chat-pending")
        self._pending_exchange = self._exchange(user_view)
        self._show_exchanges()

    def _drop_pending(self) -> None:
        exchange, self._pending_exchange = self._pending_exchange, None
        self._show_exchanges()
        if exchange is not None:
            for view in exchange.children:
                view.close()
            exchange.close()

    def _commit_pending(self) -> None:
        """The pending user turn is answered: it stays as it is (only its mark goes) and the reply joins it."""
        messages = self._conversation.messages
        exchange, self._pending_exchange = self._pending_exchange, None
        reply_view = self._turn_view(len(messages) - 1, messages[-1])
        if exchange is None:
            exchange = self._exchange(self._turn_view(len(messages) - 2, messages[-2]), reply_view)
            self._exchanges.append(exchange)
            self._show_exchanges()
            return
        exchange.children[0].remove_class("oaw-chat-pending")
        exchange.children = (exchange.children[0], reply_view)
        self._exchanges.append(exchange)  # already on screen: the history's list of children stays as it is
        self.text_box.scroll_history()

    def _send_from_box(self) -> None:
        """Enter or Send: start a turn with the text box's text; on the event loop when there is one."""
        if self.busy:
            return  # a reply is streaming: the text stays in the box until it is done (or stopped)
        text = self.text_box.value
        if not text.strip() and not (self.upload is not None and self.upload.blocks):
            self.error = localized("chat.nothing_to_send", self.lang)
            return
        self.text_box.value = ""  # it comes back if the turn fails
        loop = _running_loop()
        try:
            self._start(text, (), on_loop=loop is not None)
            if loop is None:  # a script or test calling .click(): no loop to run on, so block as send() does
                self._finish_blocking()
        except Exception:
            return  # already reported: self.error is on screen and the text is back in the box
        if loop is not None:
            self._turn_task = loop.create_task(self._finish_quietly())

    async def _finish_quietly(self) -> None:
        try:
            await self._finish_on_loop()
        except Exception:
            pass  # already reported on screen (self.error), like a click on Send

    @traitlets.observe("busy")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _busy_changed(self, change: dict[str, Any]) -> None:
        busy = change["new"]
        self.send_button.disabled = busy
        self.send_button.description = localized("chat.sending_button" if busy else "chat.send_button", self.lang)

    def _label(self, lang: str) -> None:
        """Put the widget's own words in ``lang``: captions, placeholders, the empty history's line."""
        self.system_box.placeholder = localized("chat.system_placeholder", lang)
        self.system_section.set_title(0, localized("chat.system_title", lang))
        self._empty_view.value = render_chat_empty(lang)
        self.text_box.placeholder = localized("chat.input_placeholder", lang)
        self.send_button.description = localized("chat.sending_button" if self.busy else "chat.send_button", lang)
        self.stop_button.description = localized("chat.stop_button", lang)
        self.stop_button.tooltip = localized("chat.stop_tooltip", lang)

    @traitlets.observe("lang")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _lang_changed(self, change: dict[str, Any]) -> None:
        lang = change["new"]
        if not hasattr(self, "_conversation") or self._conversation.lang == lang:
            return  # in __init__, which labels the widget itself
        self._label(lang)
        self._conversation.lang = lang
        for part in (self.reply_view, self.upload, self.usage_panel):
            if part is not None:
                part.lang = lang
        self._rebuild_history()

    @traitlets.observe("error")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _error_changed(self, change: dict[str, Any]) -> None:
        self.error_view.value = render_error(change["new"]) if change["new"] else ""

    @traitlets.observe("markdown")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _markdown_changed(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "_conversation"):
            self._rebuild_history()

    @traitlets.validate("thinking")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _valid_thinking(self, proposal: dict[str, Any]) -> dict[str, Any] | None:
        value: dict[str, Any] | None = proposal["value"]
        if value is not None and value.get("type") not in ("enabled", "disabled", "adaptive"):
            raise traitlets.TraitError(f"thinking must be None, {{'type': 'disabled'}} or {{'type': 'enabled', "
                                       f"'budget_tokens': N}}, not {value!r}")
        return value

    def __repr__(self) -> str:
        return f"ChatWidget(model={self.model!r}, turns={self.turns}, stream={self.stream})"


def _one_line_error(error: BaseException, lang: str) -> str:
    if isinstance(error, asyncio.CancelledError):
        return localized("chat.cancelled", lang)
    if isinstance(error, (EmptyReply, ValueError)):
        return one_line(error)
    return describe_error(error, lang=lang)
