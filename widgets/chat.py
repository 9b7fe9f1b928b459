"""A notebook-native chat: history view, text box, send button, optional images, streamed replies, usage panel.

The Messages API is stateless, so a chat is a list of turns that grows by one ``user`` and one ``assistant``
turn per exchange and is sent whole with every request. That bookkeeping lives in :class:`Conversation`, plain
Python that tests (and your own scripts) use without a browser; :class:`ChatWidget` puts it on screen.

Rules the history always keeps (Anthropic's format; Ollama and llama.cpp follow it):

* it starts with ``user`` and alternates ``user`` / ``assistant``; every turn's ``content`` is a list of blocks;
* an assistant turn keeps only the reply's non-empty **text** blocks. ``thinking`` blocks are dropped (Anthropic
  wants them back only with their signature, Ollama and llama.cpp do not need them, and they would make every
  later prompt longer); ``tool_use`` blocks are dropped too (a ``tool_use`` must be followed by a
  ``tool_result`` turn, which a chat does not send: use :func:`~.run_tool_loop` for tools);
* a turn that fails is rolled back: the history is exactly what it was before, and the typed text is handed
  back (the widget puts it into the text box again). A reply without any text counts as a failure
  (:class:`EmptyReply`) because an empty assistant turn would make the next request invalid.

Example:
    >>> from ollama_anthropic_widgets.chat import Conversation
    >>> conversation = Conversation()
    >>> _ = conversation.start_turn("Hi, I am Ming.")
    >>> conversation.request(model="llama3.2", max_tokens=100, system="Be brief.")["messages"]
    [{'role': 'user', 'content': [{'type': 'text', 'text': 'Hi, I am Ming.'}]}]
    >>> _ = conversation.finish_turn({"content": [{"type": "text", "text": "Hello Ming!"}]})
    >>> [turn["role"] for turn in conversation.messages]
    ['user', 'assistant']
"""

from __future__ import annotations

import copy
import html
import time
from collections.abc import Iterable, Sequence
from typing import Any

import ipywidgets
import traitlets

from .images import user_message
from .messages import field_of as _get
from .render import footer_text, render_error, render_text

RESERVED_REQUEST_KEYS = frozenset({"model", "max_tokens", "system", "messages", "stream"})
_ROLE_LABELS = {"user": "You", "assistant": "Assistant"}


class EmptyReply(RuntimeError):
    """The server answered, but the reply has no text to add to the history (so the turn was rolled back).

    Typical causes: a thinking model spent all of ``max_tokens`` on its thinking, or the model asked for a tool.
    ``message`` is the reply as received, ``str(error)`` says what to do.

    Example:
        >>> error = EmptyReply({"stop_reason": "max_tokens", "content": [{"type": "thinking", "thinking": "…"}]})
        >>> str(error).split(":")[0]
        'The model sent no text (stop_reason max_tokens, 1 thinking block)'
    """

    def __init__(self, message: Any):
        self.message = message
        stop_reason = _get(message, "stop_reason")
        kinds = [_get(block, "type") for block in _get(message, "content", None) or []]
        found = ", ".join(f"{kinds.count(kind)} {kind} block{'s' if kinds.count(kind) > 1 else ''}"
                          for kind in dict.fromkeys(kinds) if kind)
        if stop_reason == "max_tokens" and "thinking" in kinds:
            hint = "it used all of max_tokens on thinking — raise max_tokens and send again."
        elif stop_reason == "max_tokens":
            hint = "max_tokens ran out before any text — raise max_tokens and send again."
        elif "tool_use" in kinds or stop_reason == "tool_use":
            hint = "it asked for a tool, and a chat runs no tools — use run_tool_loop, or rephrase."
        else:
            hint = "send it again or rephrase."
        details = ", ".join(part for part in (f"stop_reason {stop_reason}", found) if part)
        super().__init__(f"The model sent no text ({details}): {hint}")


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


class Conversation:
    """A chat history that stays valid: alternating turns, and at most one turn in flight that can be undone.

    ``start_turn`` adds the user's turn (text plus optional images), ``request`` gives the keyword arguments for
    ``client.messages.create``/``stream`` (the whole history, system prompt separate), then either
    ``finish_turn`` (adds the reply) or ``abandon_turn`` (removes the user turn, returns the typed text).

    Example:
        >>> conversation = Conversation()
        >>> _ = conversation.start_turn("Hello")
        >>> conversation.abandon_turn()          # the call failed: take the question back
        'Hello'
        >>> conversation.messages
        []
    """

    def __init__(self, messages: Iterable[dict[str, Any]] = ()):
        turns = [copy.deepcopy(dict(turn)) for turn in messages]
        check_history(turns)
        self._turns: list[dict[str, Any]] = turns
        self._pending: dict[str, Any] | None = None
        self._pending_text = ""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The answered turns (a deep copy: editing it does not change the conversation)."""
        return copy.deepcopy(self._turns)

    @property
    def pending(self) -> dict[str, Any] | None:
        """The user turn waiting for its reply (a copy), or ``None``."""
        return copy.deepcopy(self._pending)

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
            raise ValueError("Nothing to send: type a message (or attach an image) first.")
        # Whitespace-only text becomes no text block: the API refuses blank text blocks.
        turn = user_message(text if text.strip() else "", images)
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

    def finish_turn(self, message: Any) -> dict[str, Any]:
        """Add the reply to the pending turn and return the stored assistant turn (text blocks only).

        Raises :class:`EmptyReply` when the reply has no text; the turn then stays pending (call
        ``abandon_turn``), because an assistant turn without content would break the next request.

        Example:
            >>> conversation = Conversation()
            >>> _ = conversation.start_turn("Hi")
            >>> conversation.finish_turn({"content": [{"type": "text", "text": "Hello!"}]})["role"]
            'assistant'
        """
        if self._pending is None:
            raise ValueError("no turn is waiting for a reply: call start_turn first")
        turn = reply_turn(message)
        if turn is None:
            raise EmptyReply(message)
        self._turns += [self._pending, turn]
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


def _describe_block(block: Any, *, markdown: bool) -> str:
    kind = _get(block, "type")
    if kind == "text":
        text = str(_get(block, "text", "") or "")
        if markdown:
            return render_text(text, markdown=True)
        return f'<div class="chat-text" style="white-space: pre-wrap">{html.escape(text)}</div>'
    if kind == "image":
        source = _get(block, "source", None) or {}
        media_type = _get(source, "media_type") or _get(source, "type") or "image"
        data = _get(source, "data") or ""
        size = f", {len(data) * 3 // 4 / 1000:.0f} KB" if data else ""
        return f'<div class="chat-image">🖼 {html.escape(f"image ({media_type}{size})")}</div>'
    return f'<div class="chat-block" style="opacity: 0.7">{html.escape(f"[{kind} block]")}</div>'


def render_turn(turn: dict[str, Any], *, markdown: bool = True, pending: bool = False) -> str:
    """One turn as safe HTML: a role label, then each block (text as safe Markdown, images as a caption).

    The user's own text is shown escaped as typed; the model's text is Markdown through ``render.render_text``
    (raw HTML escaped, no images, only http(s)/mailto links). Nothing from the model becomes live HTML.

    Example:
        >>> "&lt;img" in render_turn({"role": "assistant", "content": [{"type": "text", "text": "<img src=x>"}]})
        True
    """
    role = str(_get(turn, "role") or "?")
    label = _ROLE_LABELS.get(role, role)
    if pending:
        label += " · sending…"
    as_markdown = markdown and role == "assistant"
    body = "".join(_describe_block(block, markdown=as_markdown) for block in _content_blocks(_get(turn, "content")))
    background = "var(--jp-layout-color2, #f3f3f3)" if role == "user" else "transparent"
    return (f'<div class="chat-turn chat-{html.escape(role)}" style="margin: 4px 0; padding: 4px 8px; '
            f'border-radius: 6px; background: {background}{"; opacity: 0.6" if pending else ""}">'
            f'<div style="font-weight: bold; font-size: 0.85em; opacity: 0.7">{html.escape(label)}</div>'
            f"{body}</div>")


def render_history(messages: Sequence[dict[str, Any]], *, markdown: bool = True,
                   pending: dict[str, Any] | None = None) -> str:
    """The whole conversation as safe HTML (``pending``: a user turn still waiting, shown dimmed).

    Example:
        >>> render_history([])
        '<div class="chat-history"><div style="opacity: 0.6">No messages yet.</div></div>'
    """
    turns = [render_turn(turn, markdown=markdown) for turn in messages]
    if pending is not None:
        turns.append(render_turn(pending, markdown=markdown, pending=True))
    if not turns:
        turns = ['<div style="opacity: 0.6">No messages yet.</div>']
    return f'<div class="chat-history">{"".join(turns)}</div>'


class ChatWidget(ipywidgets.VBox):
    """A chat with a model: history view, text box + Send button, optional image upload, live replies, usage.

    Arguments: an ``anthropic.Anthropic`` client (synchronous), the model name, and

    * ``system`` — system prompt, sent separately with every request; editable in the collapsed
      "System prompt" section (a change applies from the next message on);
    * ``max_tokens`` — per reply; ``stream`` — show the reply as it is generated in a ``StreamView``
      (``False``: the reply appears when complete); ``images`` — add an ``ImageUpload`` whose images go with the
      next message; ``tracker`` — a ``UsageTracker``: every reply is recorded and its live panel is shown;
    * ``markdown`` — render the model's text as safe Markdown (``False``: escaped plain text);
      ``request_options`` — extra keyword arguments for every request, e.g.
      ``{"extra_body": {"temperature": 0.2}}`` or ``{"thinking": {"type": "disabled"}}``.

    ``chat.messages`` is the conversation in Anthropic's format (a copy; assign a valid history to replace it).
    ``chat.send(text, images=())`` sends from code and returns the ``Message``; the Send button does the same
    with the text box. Images attached in the upload widget go with the next message (code or button) and are
    cleared once it succeeds.

    **When a turn fails** (server down, unknown model, HTTP 500, a stream cut midway, a reply with no text, an
    image rejected, Stop pressed): the history is left exactly as before, the typed text is put back into the
    text box (if the box is empty), attached images stay, ``chat.error`` holds a one-line message that is also
    shown, a streamed reply's partial text stays visible in the reply area (never added to the history), and
    ``send()`` **re-raises** the error (``anthropic.APIError``, ``StreamInterrupted``, :class:`EmptyReply`,
    ``ImageRejected``/``ValueError``) — code never mistakes a failure for a reply. The Send button catches it:
    the message on screen is the report.

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
    """

    model = traitlets.Unicode(help="the model every request names")
    max_tokens = traitlets.Int(1024, help="max_tokens of every request")
    system = traitlets.Unicode("", help="system prompt ('' sends none); editable in the widget")
    stream = traitlets.Bool(True, help="show replies as they stream (StreamView) or only when complete")
    markdown = traitlets.Bool(True, help="render the model's text as safe Markdown instead of plain text")
    busy = traitlets.Bool(False, read_only=True, help="True while a message is being sent")
    error = traitlets.Unicode("", help="one line about the last failed turn ('' after a success)")
    turns = traitlets.Int(0, read_only=True, help="number of answered exchanges in the history")

    def __init__(self, client: Any, model: str, *, system: str | None = None, max_tokens: int = 1024,
                 stream: bool = True, images: bool = False, tracker: Any = None, markdown: bool = True,
                 request_options: dict[str, Any] | None = None, **kwargs: Any):
        if _is_async_client(client):
            raise TypeError("ChatWidget needs a synchronous client (anthropic.Anthropic), not AsyncAnthropic")
        if int(max_tokens) < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        clash = RESERVED_REQUEST_KEYS & set(request_options or {})
        if clash:
            raise ValueError(f"request_options cannot set {sorted(clash)}: use the ChatWidget arguments instead")
        self.client = client
        self.tracker = tracker
        self.request_options = dict(request_options or {})
        self._conversation = Conversation()
        self.reply_view: Any = None  # the StreamView of the latest streamed reply (kept after a failure)

        self.system_box = ipywidgets.Textarea(value=system or "", placeholder="No system prompt",
                                              layout=ipywidgets.Layout(width="100%"))
        self.system_section = ipywidgets.Accordion(children=[self.system_box], selected_index=None)
        self.system_section.set_title(0, "System prompt")
        self.history_view = ipywidgets.HTML(layout=ipywidgets.Layout(max_height="480px", overflow="auto"))
        self.live_area = ipywidgets.VBox(layout=ipywidgets.Layout(display="none"))
        self.error_view = ipywidgets.HTML()
        self.status_view = ipywidgets.HTML()
        self.text_box = ipywidgets.Textarea(placeholder="Type a message, then press Send",
                                            layout=ipywidgets.Layout(flex="1 1 auto", width="auto"))
        self.send_button = ipywidgets.Button(description="Send", icon="paper-plane", button_style="primary",
                                             layout=ipywidgets.Layout(width="auto"))
        self.upload = None
        if images:
            from .images import ImageUpload

            self.upload = ImageUpload()
        self.usage_panel = tracker.widget() if tracker is not None else None

        children = [self.system_section, self.history_view, self.live_area, self.error_view, self.status_view,
                    ipywidgets.HBox([self.text_box, self.send_button])]
        children += [part for part in (self.upload, self.usage_panel) if part is not None]
        super().__init__(children=children, model=model, max_tokens=max_tokens, system=system or "",
                         stream=stream, markdown=markdown, **kwargs)
        traitlets.link((self, "system"), (self.system_box, "value"))
        self.send_button.on_click(self._on_send_click)
        self._refresh_history()

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
        self._conversation = Conversation(history)
        self.set_trait("turns", len(self._conversation.messages) // 2)
        self._refresh_history()

    def clear(self) -> None:
        """Start a new conversation (the system prompt stays).

        Example:
            >>> chat.clear()                                    # doctest: +SKIP
        """
        self.messages = []
        self.error = ""
        self.status_view.value = ""
        self._show_live(None)

    def send(self, text: str, images: Iterable[Any] = ()) -> Any:
        """Send one user message (plus ``images`` and any images attached in the widget); returns the ``Message``.

        On failure the history is unchanged and the error is re-raised (see the class docstring).

        Example:
            >>> reply = chat.send("What did I just say?")      # doctest: +SKIP
            >>> reply.stop_reason                              # doctest: +SKIP
            'end_turn'
        """
        if not isinstance(text, str):
            raise TypeError(f"send() takes the message text (a str), not {type(text).__name__}")
        if self.busy:
            raise RuntimeError("a message is already being sent: wait for its reply")
        attachments = [*images, *(self.upload.blocks if self.upload is not None else [])]
        self.error = ""
        self._show_live(None)  # a failed turn's partial reply stays on screen only until the next send
        try:
            pending = self._conversation.start_turn(text, attachments)
        except ValueError as error:  # nothing to send, or an image rejected: no request was made
            self._fail(error, text)
            raise
        self.set_trait("busy", True)
        self._refresh_history(pending=pending)
        try:
            message, result = self._ask()
            self._conversation.finish_turn(message)
        except BaseException as error:  # Stop (KeyboardInterrupt) included: never leave a dangling user turn
            self._fail(error, self._conversation.abandon_turn())
            raise
        finally:
            self.set_trait("busy", False)
        self.set_trait("turns", len(self._conversation.messages) // 2)
        if self.upload is not None:
            self.upload.clear()
        self.status_view.value = (f'<div style="opacity: 0.7; font-size: 0.85em">'
                                  f"{html.escape(footer_text(result))}</div>")
        self._show_live(None)
        self._refresh_history()
        return message

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

    def _request(self) -> dict[str, Any]:
        return self._conversation.request(model=self.model, max_tokens=self.max_tokens, system=self.system,
                                          **self.request_options)

    def _ask(self) -> tuple[Any, Any]:
        """One request for the pending turn: returns ``(Message, StreamResult)`` or raises."""
        from .streaming import StreamResult

        request = self._request()
        if self.stream:
            from .stream_view import StreamView

            view = StreamView(markdown=self.markdown, tracker=self.tracker)
            self._show_live(view)
            message = view.consume(self.client.messages.stream(**request))
            return message, view.result
        self.status_view.value = '<div style="opacity: 0.7; font-size: 0.85em">waiting for the reply…</div>'
        started = time.perf_counter()
        message = self.client.messages.create(**request)
        latency = time.perf_counter() - started
        if self.tracker is not None:
            self.tracker.record(message, latency_s=latency)
        return message, StreamResult.from_message(message, duration_s=latency)

    def _fail(self, error: BaseException, typed: str) -> None:
        self.error = _one_line_error(error)
        self.status_view.value = ""
        if typed and not self.text_box.value.strip():
            self.text_box.value = typed
        view = self.reply_view
        if view is None or not (view.text or view.thinking):
            self._show_live(None)  # nothing partial to show: the error line says it all
        self._refresh_history()

    def _show_live(self, view: Any) -> None:
        previous = self.reply_view
        if previous is not None and previous is not view:
            previous.close()
        self.reply_view = view
        self.live_area.children = (view,) if view is not None else ()
        self.live_area.layout.display = None if view is not None else "none"

    def _refresh_history(self, pending: dict[str, Any] | None = None) -> None:
        self.history_view.value = render_history(self._conversation.messages, markdown=self.markdown,
                                                  pending=pending)

    def _on_send_click(self, _button: Any) -> None:
        text = self.text_box.value
        if not text.strip() and not (self.upload is not None and self.upload.blocks):
            self.error = "Nothing to send: type a message (or attach an image) first."
            return
        self.text_box.value = ""  # it comes back if the turn fails
        try:
            self.send(text)
        except Exception:
            pass  # already reported: self.error is on screen and the text is back in the box

    @traitlets.observe("busy")
    def _busy_changed(self, change: dict[str, Any]) -> None:
        busy = change["new"]
        self.send_button.disabled = busy
        self.text_box.disabled = busy
        self.send_button.description = "Sending…" if busy else "Send"

    @traitlets.observe("error")
    def _error_changed(self, change: dict[str, Any]) -> None:
        self.error_view.value = render_error(change["new"]) if change["new"] else ""

    @traitlets.observe("markdown")
    def _markdown_changed(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "_conversation"):
            self._refresh_history()

    def __repr__(self) -> str:
        return f"ChatWidget(model={self.model!r}, turns={self.turns}, stream={self.stream})"


def _is_async_client(client: Any) -> bool:
    from anthropic import AsyncAnthropic  # here, not at import time: keeps `import ollama_anthropic_widgets` cheap

    return isinstance(client, AsyncAnthropic)


def _one_line_error(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "Stopped: nothing was added to the history; your text is back in the box."
    if isinstance(error, (EmptyReply, ValueError)):
        return " ".join(str(error).split())
    from .streaming import describe_error

    return describe_error(error)
