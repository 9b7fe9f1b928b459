"""ChatWidget: a notebook-native chat (history, a text box where Enter sends, Send and Stop, images, live replies).

A view over a :class:`~..core.turn.TurnRunner`, which runs each turn of a :class:`~..core.conversation.Conversation`
(the history and its rules) with no widgets: this module does the layout and the events.

Example:
    >>> from ollama_anthropic_widgets import ChatWidget, make_client
    >>> chat = ChatWidget(make_client(), "llama3.2", system="Answer briefly.", max_tokens=200)
    >>> chat.turns, chat.busy
    (0, False)
    >>> chat.close()
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets
import traitlets
from ipywidgets.widgets.widget_string import HTMLStyle

from ..core.conversation import Conversation, EmptyReply
from ..core.errors import describe_error, one_line
from ..core.i18n import LANGUAGES, language, localized
from ..core.render import footer_text, render_chat_empty, render_chat_status, render_chat_turn, render_error
from ..core.turn import TurnEnd, TurnRunner
from .chat_input import ChatInput
from .closing import close_all
from .stylesheet import Stylesheet

if TYPE_CHECKING:  # pragma: no cover
    from anthropic import Anthropic, AsyncAnthropic
    from anthropic.types import Message

    from ..core.recorder import UsageSource
    from .image_upload import ImageUpload
    from .stream_view import StreamView
    from .usage_panel import UsagePanel

RESERVED_REQUEST_KEYS = frozenset({"model", "max_tokens", "system", "messages", "stream", "thinking"})


class ChatHistory(ipywidgets.VBox):
    """The chat's history on screen: a box of exchanges, each a box of one HTML widget per turn.

    Sending a turn adds one exchange (the history's list of children grows by one widget id, ~45 bytes) and that
    exchange's own HTML; the HTML of earlier turns is never sent again. Every turn shares one layout and one style.

    Example:
        >>> history = ChatHistory()
        >>> history.show(Conversation([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]))
        >>> len(history.children), history.close()
        (1, None)
    """

    def __init__(self, **kwargs: Any):
        self._exchanges: list[ipywidgets.VBox] = []  # one box per answered exchange
        self._pending: ipywidgets.VBox | None = None  # the exchange whose reply is awaited
        # flex 0 0 auto: in the scrolling history (a flex column) a turn keeps its height instead of being squeezed
        self._shared = (ipywidgets.Layout(flex="0 0 auto"), HTMLStyle())
        self.empty_view = ipywidgets.HTML()
        self.markdown, self.lang = True, "en"
        super().__init__(layout=ipywidgets.Layout(max_height="480px", overflow="auto"), **kwargs)
        self.add_class("oaw-chat-history")

    def show(self, conversation: Conversation) -> None:
        """Draw every answered turn anew (a new history, Markdown switched, another language); a pending turn
        stays."""
        old, self._exchanges = self._exchanges, [
            self._exchange(self._turn(conversation, index), self._turn(conversation, index + 1))
            for index in range(0, 2 * conversation.turns, 2)]
        self._refresh()
        close_all(*old, keep=self._shared)

    def show_pending(self, turn: dict[str, Any]) -> None:
        user = ipywidgets.HTML(render_chat_turn(turn, markdown=self.markdown, lang=self.lang), layout=self._shared[0],
                               style=self._shared[1])
        user.add_class("oaw-chat-pending")
        self._pending = self._exchange(user)
        self._refresh()

    def drop_pending(self) -> None:
        exchange, self._pending = self._pending, None
        self._refresh()
        close_all(exchange, keep=self._shared)

    def commit_pending(self, conversation: Conversation) -> None:
        """The pending user turn is answered: it stays as it is (only its mark goes) and the reply joins it."""
        last = 2 * conversation.turns - 1
        exchange, self._pending = self._pending, None
        reply = self._turn(conversation, last)
        if exchange is None:
            self._exchanges.append(self._exchange(self._turn(conversation, last - 1), reply))
            self._refresh()
            return
        exchange.children[0].remove_class("oaw-chat-pending")
        exchange.children = (exchange.children[0], reply)
        self._exchanges.append(exchange)  # already on screen: the history's list of children stays as it is

    def close(self) -> None:
        close_all(*self._exchanges, self._pending, self.empty_view, *self._shared)
        super().close()
        close_all(self.layout)

    def _turn(self, conversation: Conversation, index: int) -> ipywidgets.HTML:
        markup = render_chat_turn(conversation.turn(index), markdown=self.markdown, lang=self.lang,
                                  stopped=index in conversation.stopped_turns,
                                  thinking=conversation.thinking_of(index))
        return ipywidgets.HTML(markup, layout=self._shared[0], style=self._shared[1])

    def _exchange(self, *views: ipywidgets.HTML) -> ipywidgets.VBox:
        return ipywidgets.VBox(views, layout=self._shared[0])

    def _refresh(self) -> None:
        shown = [*self._exchanges, *([self._pending] if self._pending is not None else [])]
        self.children = tuple(shown) if shown else (self.empty_view,)


class ChatWidget(ipywidgets.VBox):
    """A chat with a model: history, a text box (Enter sends, Shift+Enter adds a line), Send / Stop, optional
    images, live replies, usage.

    Arguments: an ``anthropic.Anthropic`` client (or an ``AsyncAnthropic``), the model name, and

    * ``system`` — system prompt, sent separately with every request; editable in the collapsed
      "System prompt" section (a change applies from the next message on);
    * ``max_tokens`` — per reply (at least 1); ``stream`` — show the reply as it is generated in a ``StreamView``
      (``False``: the reply appears when complete); ``images`` — add an ``ImageUpload`` whose images go with the
      next message; ``tracker`` — a ``UsageTracker``: every reply is recorded and a live usage panel is shown;
    * ``thinking`` — sent as the request's ``thinking`` field: ``{"type": "enabled", "budget_tokens": 1024}``,
      ``{"type": "disabled"}``, or ``None`` (default: not sent, so the server decides; Ollama then lets a
      thinking model think). The model's thinking is shown collapsed above its reply, never sent back;
    * ``messages`` — a history to continue (e.g. ``json.load`` of a file written by ``chat.save("chat.json")``);
    * ``markdown`` — render the model's text as safe Markdown (``False``: escaped plain text);
      ``request_options`` — extra keyword arguments for every request, e.g. ``{"extra_body": {"temperature": 0.2}}``;
    * ``lang`` — the language of the widget's own words (buttons, labels, status and error lines, the Markdown
      export): ``"en"`` or ``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting, else English.

    All but ``images`` and ``tracker`` are traits, checked whenever they change (``max_tokens`` below 1, a
    ``thinking`` of another shape, ``request_options`` naming a field the widget sets: ``TraitError``).

    **The client, as given.** A blocking call uses the client you pass; Enter, Send and ``asend`` run on the
    event loop with an ``AsyncAnthropic`` made from it (``core.turn.twin_client``) that sends the same requests:
    base URL, key or token, headers, query, timeout, retries and middleware (a custom ``http_client`` cannot be
    shared between the two flavours: pass the flavour whose transport matters).

    **What blocks the kernel.** Enter and Send start the reply as a task on the kernel's event loop and return at
    once: the kernel is idle while the reply streams, other cells run, and the **Stop** button (``chat.stop()``)
    ends the stream within a fraction of a second and closes the HTTP response. ``chat.send_message(text)``
    blocks until the reply is complete (a kernel interrupt stops it like Stop). ``await chat.asend(text)`` keeps
    its cell running until the reply ends; Stop during it needs a kernel that handles widget messages while a
    cell awaits (ipykernel 7.4 or later; an older one handles the click once the cell is done).
    ``asyncio.ensure_future(chat.asend(text))`` returns at once, as Enter does. All return the ``Message``.

    **Stop** keeps what arrived: the partial reply stays on screen and becomes an ordinary assistant turn in
    ``chat.messages`` (so the next request sends it), listed in ``chat.stopped_turns`` and marked "stopped" in
    the history. A reply stopped before any text adds nothing, and the typed text goes back into the box.

    **When a turn fails** (server down, unknown model, HTTP 500, a stream cut midway, a reply with no text, an
    image rejected): the history is left exactly as before, the typed text is put back into the text box (if the
    box is empty), attached images stay, ``chat.error`` holds a one-line message that is also shown, a streamed
    reply's partial text stays visible in the reply area (never added to the history), and ``send_message()`` /
    ``asend()`` **re-raise** the error (``anthropic.APIError``, ``StreamInterrupted``, :class:`EmptyReply`,
    ``ImageRejected``/``ValueError``): code never mistakes a failure for a reply. Enter and Send catch it: the
    message on screen is the report. A usage tracker that fails to record a reply gives a warning; the reply stays.

    **Export.** ``chat.to_markdown()``; ``chat.save("chat.md")`` or ``chat.save("chat.json")`` (the JSON is
    ``chat.messages``, which ``ChatWidget(client, model, messages=json.load(f))`` continues).

    **close()** cancels a reply in flight (as Stop does) and closes every widget the chat made, its usage panel
    included, which stops following the tracker.

    Example:
        >>> from anthropic import Anthropic
        >>> from ollama_anthropic_widgets import ChatWidget, settings
        >>> config = settings()
        >>> chat = ChatWidget(Anthropic(base_url=config.base_url, api_key=config.api_key), config.model,
        ...                   system="Answer briefly.", max_tokens=200)
        >>> chat                                              # doctest: +SKIP
        >>> reply = chat.send_message("Hello!")               # doctest: +SKIP
        >>> [turn["role"] for turn in chat.messages]          # doctest: +SKIP
        ['user', 'assistant']
        >>> chat.save("hello.md")                             # doctest: +SKIP
    """

    model = traitlets.Unicode(help="the model every request names")
    max_tokens = traitlets.Int(1024, help="max_tokens of every request (at least 1)")
    system = traitlets.Unicode("", help="system prompt ('' sends none); editable in the widget")
    stream = traitlets.Bool(True, help="show replies as they stream (StreamView) or only when complete")
    markdown = traitlets.Bool(True, help="render the model's text as safe Markdown instead of plain text")
    thinking = traitlets.Dict(default_value=None, allow_none=True, help="the request's thinking field (None: not sent)")
    request_options = traitlets.Dict(help="extra keyword arguments for every request (not the fields set above)")
    busy = traitlets.Bool(False, read_only=True, help="True while a message is being sent")
    error = traitlets.Unicode("", help="one line about the last failed turn ('' after a success)")
    turns = traitlets.Int(0, read_only=True, help="number of answered exchanges in the history")
    lang = traitlets.Enum(LANGUAGES, default_value="en", help="language of the widget's own words")

    def __init__(self, client: Anthropic | AsyncAnthropic, model: str, *, system: str | None = None,
                 max_tokens: int = 1024, stream: bool = True, images: bool = False,
                 tracker: UsageSource | None = None, markdown: bool = True,
                 thinking: dict[str, Any] | None = None, messages: Iterable[dict[str, Any]] = (),
                 request_options: dict[str, Any] | None = None, lang: str | None = None, **kwargs: Any):
        lang = language(lang)
        self._runner = TurnRunner(client, Conversation(messages, lang=lang), tracker=tracker, on_end=self._ended)
        self.tracker = tracker
        self.reply_view: StreamView | None = None  # shows replies live: one per chat, reused by every turn
        self._turn_task: asyncio.Task[None] | None = None  # a turn started by Enter / Send on the event loop
        self._closed = self._ready = False  # _ready: __init__ is done (it labels and draws the widget itself)

        self.system_box = ipywidgets.Textarea(value=system or "", layout=ipywidgets.Layout(width="100%"))
        self.system_section = ipywidgets.Accordion(children=[self.system_box], selected_index=None)
        self.history_box = ChatHistory()
        self.live_area = ipywidgets.VBox(layout=ipywidgets.Layout(display="none"))
        self.error_view = ipywidgets.HTML()
        self.status_view = ipywidgets.HTML()
        self.text_box = ChatInput()
        self.send_button = ipywidgets.Button(icon="paper-plane", button_style="primary",
                                             layout=ipywidgets.Layout(width="auto"))
        self.stop_button = ipywidgets.Button(icon="stop", button_style="warning",
                                             layout=ipywidgets.Layout(width="auto", display="none"))
        self.upload: ImageUpload | None = None
        if images:
            from .image_upload import ImageUpload

            self.upload = ImageUpload(stylesheet=False, lang=lang)
        self.usage_panel: UsagePanel | None = None  # the chat's own view of the tracker, closed with the chat
        if tracker is not None:
            from .usage_panel import UsagePanel

            self.usage_panel = UsagePanel(tracker, stylesheet=False, lang=lang)

        # One copy of the kit's stylesheet (the chat's rules included) for the whole chat and all its parts.
        children = [Stylesheet(), self.system_section, self.history_box, self.live_area, self.error_view,
                    self.status_view, ipywidgets.HBox([self.text_box, self.send_button, self.stop_button],
                                                      layout=ipywidgets.Layout(align_items="flex-start"))]
        children += [part for part in (self.upload, self.usage_panel) if part is not None]
        super().__init__(children=children, model=model, max_tokens=max_tokens, system=system or "",
                         stream=stream, markdown=markdown, thinking=thinking,
                         request_options=dict(request_options or {}), lang=lang, **kwargs)
        self.add_class("oaw-chat")
        self._label(lang)
        traitlets.link((self, "system"), (self.system_box, "value"))
        self.send_button.on_click(lambda _button: self._send_from_box())
        self.text_box.on_submit(lambda _text: self._send_from_box())
        self.stop_button.on_click(lambda _button: self.stop())
        self._show_history()
        self._ready = True

    # -- the conversation --------------------------------------------------------------------------------------

    @property
    def client(self) -> Anthropic | AsyncAnthropic:
        """The client given: every blocking call uses it (see the class docstring for Enter, Send and asend)."""
        client: Anthropic | AsyncAnthropic = self._runner.client
        return client

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation in Anthropic's format: alternating user/assistant turns (a copy).

        Assigning a history replaces the conversation; it must start with ``user``, alternate and end with
        ``assistant`` (``ValueError`` otherwise).

        Example:
            >>> chat.messages = [{"role": "user", "content": "Hi"},            # doctest: +SKIP
            ...                  {"role": "assistant", "content": "Hello!"}]
        """
        return self._runner.conversation.messages

    @messages.setter
    def messages(self, history: Iterable[dict[str, Any]]) -> None:
        if self.busy:
            raise RuntimeError("cannot replace the history while a message is being sent")
        self._runner.conversation = Conversation(history, lang=self.lang)
        self.history_box.drop_pending()
        self._show_history()

    @property
    def stopped_turns(self) -> list[int]:
        """Indexes in ``messages`` of the replies that were stopped (kept with their partial text).

        Example:
            >>> chat.stopped_turns                             # doctest: +SKIP
            [3]
        """
        return self._runner.conversation.stopped_turns

    def thinking_of(self, index: int) -> str:
        """The thinking the model sent with the reply ``messages[index]`` ('' if none): shown collapsed, never sent
        back to the model, so ``messages`` does not hold it.

        Example:
            >>> chat.thinking_of(1)[:40]                       # doctest: +SKIP
            'Okay, the user wants a short poem about '
        """
        return self._runner.conversation.thinking_of(index)

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
        return self._runner.conversation.to_markdown(title=self._export_title(), system=self.system)

    def save(self, path: str | Path) -> Path:
        """Write the conversation to ``path``: Markdown for ``.md``, JSON (``chat.messages``) for ``.json``.

        The JSON file loads back with ``ChatWidget(client, model, messages=json.load(f))``; being exactly what the
        API takes, it holds no thinking and no "stopped" marks (the Markdown shows both). Any other suffix raises
        ``ValueError`` and writes nothing. Returns the path written.

        Example:
            >>> chat.save("chat.md"), chat.save("chat.json")    # doctest: +SKIP
            (PosixPath('chat.md'), PosixPath('chat.json'))
        """
        return self._runner.conversation.save(path, title=self._export_title(), system=self.system)

    # -- sending -----------------------------------------------------------------------------------------------

    def send_message(self, text: str, images: Iterable[Any] = ()) -> Message:
        """Send one user message (plus ``images`` and any images attached in the widget) and wait for the reply.

        Returns the ``Message``. Blocks the kernel until the reply is complete (Enter and Send do not; see the
        class docstring). A kernel interrupt stops it: the partial reply is kept as with Stop, then
        ``KeyboardInterrupt`` is re-raised so a script stops too. On failure the history is unchanged and the
        error is re-raised.

        Example:
            >>> reply = chat.send_message("What did I just say?")   # doctest: +SKIP
            >>> reply.stop_reason                                   # doctest: +SKIP
            'end_turn'
        """
        self._start(text, images, on_loop=False)
        return self._runner.run(self._request(), stream=self.stream, view=self._reply_view())

    async def asend(self, text: str, images: Iterable[Any] = ()) -> Message | None:
        """Send one user message on the event loop, where Stop reaches it: ``await chat.asend("Hello")``.

        Returns the ``Message``; after ``chat.stop()`` the partial one (``stop_reason`` ``None``), or ``None`` if
        it was stopped before any text. Failures are re-raised as with :meth:`send_message`. Awaited in a cell,
        the cell runs until the reply ends (see the class docstring).

        Example:
            >>> reply = await chat.asend("Tell me a story")    # doctest: +SKIP
        """
        self._start(text, images, on_loop=True)
        return await self._runner.arun(self._request(), stream=self.stream, view=self._reply_view())

    def stop(self) -> bool:
        """Stop the reply in flight (started by Enter, Send or ``asend``); returns ``False`` if there was none.

        The stream ends at once and its HTTP response is closed; the partial reply is kept (see the class
        docstring). A blocking ``send_message()`` is stopped by interrupting the kernel instead.

        Example:
            >>> chat.stop()                                    # doctest: +SKIP
            True
        """
        return self._runner.stop()

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

    def close(self) -> None:
        """Stop the reply in flight, and close the chat with every widget it made (its usage panel included).

        Example:
            >>> from ollama_anthropic_widgets import make_client
            >>> ChatWidget(make_client(), "llama3.2").close()
        """
        self._closed = True
        if hasattr(self, "_runner"):  # not when __init__ failed (ipywidgets closes a widget it collects)
            self._runner.stop()
        for name in ("upload", "usage_panel", "reply_view", "history_box"):
            part = getattr(self, name, None)
            if part is not None:
                part.close()  # each closes what it made
        close_all(*self.children)
        super().close()
        close_all(self.layout)

    # -- internals ---------------------------------------------------------------------------------------------

    def _request(self) -> dict[str, Any]:
        request = {**self.request_options, "model": self.model, "max_tokens": self.max_tokens}
        if self.system.strip():
            request["system"] = self.system
        if self.thinking is not None:
            request["thinking"] = dict(self.thinking)
        return request

    def _start(self, text: str, images: Iterable[Any], *, on_loop: bool) -> None:
        """The synchronous start of a turn: checks, the pending user turn on screen, ``busy`` set."""
        attachments = [*images, *(self.upload.blocks if self.upload is not None else [])]
        try:
            pending = self._runner.start(text, attachments, on_loop=on_loop)
        except ValueError as error:  # nothing to send, or an image rejected: no request was made
            self._report(TurnEnd(error=error, typed=text))
            raise
        self.error = ""
        self.status_view.value = ""
        self._show_live(False)  # a failed turn's partial reply stays on screen only until the next send
        self.stop_button.layout.display = None if on_loop else "none"
        self.set_trait("busy", True)
        self.history_box.show_pending(pending)
        self.text_box.scroll_history()
        if not self.stream:
            self.status_view.value = render_chat_status(localized("chat.waiting", self.lang))

    def _reply_view(self) -> StreamView | None:
        """The live view, emptied for this turn's reply (None when not streaming). One StreamView serves every
        turn: a new one per turn would send its widgets to the browser again each time."""
        if not self.stream or self._closed:
            return None
        if self.reply_view is None:
            from .stream_view import StreamView

            self.reply_view = StreamView(markdown=self.markdown, stylesheet=False, lang=self.lang)
            self.live_area.children = (self.reply_view,)
        self.reply_view.markdown = self.markdown
        self._show_live(True)
        return self.reply_view

    def _ended(self, end: TurnEnd) -> None:
        """The runner's report: draw how the turn ended (kept, stopped, or rolled back)."""
        if self._closed:
            return
        if end.kept:
            if end.stopped:
                line = localized("chat.stopped_after", self.lang, count=len(end.result.text if end.result else ""))
            else:
                line = footer_text(end.result, self.lang)
            self.set_trait("turns", self._runner.conversation.turns)
            self._show_live(False)
            self.history_box.commit_pending(self._runner.conversation)
            self.text_box.scroll_history()
            self.status_view.value = render_chat_status(line)
            if self.upload is not None:
                self.upload.clear()
        else:
            self._report(end)
            self.history_box.drop_pending()
        self.stop_button.layout.display = "none"
        self.set_trait("busy", False)

    def _report(self, end: TurnEnd) -> None:
        """A turn that did not make it into the history: say why, and put the typed text back into the box."""
        if end.error is not None:
            self.error = _one_line_error(end.error, self.lang)
        self.status_view.value = render_chat_status(
            localized("chat.stopped_before_text", self.lang) if end.stopped and end.error is None else "")
        if end.typed and not self.text_box.value.strip():
            self.text_box.value = end.typed
        if end.result is None or not (end.result.text or end.result.thinking):
            self._show_live(False)  # nothing partial to show: the error line says it all

    def _send_from_box(self) -> None:
        """Enter or Send: start a turn with the text box's text; on the event loop when there is one."""
        if self.busy:
            return  # a reply is streaming: the text stays in the box until it is done (or stopped)
        text = self.text_box.value
        if not text.strip() and not (self.upload is not None and self.upload.blocks):
            self.error = localized("chat.nothing_to_send", self.lang)
            return
        self.text_box.value = ""  # it comes back if the turn fails
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a script or test calling .click(): no loop to run on, so block as send_message does
            loop = None
        try:
            self._start(text, (), on_loop=loop is not None)
            if loop is None:
                self._runner.run(self._request(), stream=self.stream, view=self._reply_view())
        except Exception:
            return  # already reported: self.error is on screen and the text is back in the box
        if loop is not None:
            self._turn_task = loop.create_task(self._finish_quietly())

    async def _finish_quietly(self) -> None:
        try:
            await self._runner.arun(self._request(), stream=self.stream, view=self._reply_view())
        except Exception:
            pass  # already reported on screen (self.error), like a click on Send

    def _show_history(self) -> None:
        self.set_trait("turns", self._runner.conversation.turns)
        self.history_box.markdown, self.history_box.lang = self.markdown, self.lang
        self.history_box.show(self._runner.conversation)
        self.text_box.scroll_history()

    def _show_live(self, visible: bool) -> None:
        self.live_area.layout.display = None if visible else "none"

    def _export_title(self) -> str:
        return localized("chat.export_title_model", self.lang, model=self.model)

    def _label(self, lang: str) -> None:
        """Put the widget's own words in ``lang``: captions, placeholders, the empty history's line."""
        self.system_box.placeholder = localized("chat.system_placeholder", lang)
        self.system_section.set_title(0, localized("chat.system_title", lang))
        self.history_box.empty_view.value = render_chat_empty(lang)
        self.text_box.placeholder = localized("chat.input_placeholder", lang)
        self.send_button.description = localized("chat.sending_button" if self.busy else "chat.send_button", lang)
        self.stop_button.description = localized("chat.stop_button", lang)
        self.stop_button.tooltip = localized("chat.stop_tooltip", lang)

    @traitlets.observe("busy")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _busy_changed(self, change: dict[str, Any]) -> None:
        self.send_button.disabled = change["new"]
        self._label(self.lang)

    @traitlets.observe("lang")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _lang_changed(self, change: dict[str, Any]) -> None:
        if not self._ready:
            return  # in __init__, which labels the widget itself
        self._label(change["new"])
        self._runner.conversation.lang = change["new"]
        for part in (self.reply_view, self.upload, self.usage_panel):
            if part is not None:
                part.lang = change["new"]
        self._show_history()

    @traitlets.observe("markdown")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _markdown_changed(self, _change: dict[str, Any]) -> None:
        if self._ready:
            self._show_history()

    @traitlets.observe("error")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _error_changed(self, change: dict[str, Any]) -> None:
        self.error_view.value = render_error(change["new"]) if change["new"] else ""

    @traitlets.validate("max_tokens")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _valid_max_tokens(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(f"max_tokens must be at least 1, got {proposal['value']}")
        return int(proposal["value"])

    @traitlets.validate("thinking")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _valid_thinking(self, proposal: dict[str, Any]) -> dict[str, Any] | None:
        value: dict[str, Any] | None = proposal["value"]
        if value is not None and value.get("type") not in ("enabled", "disabled", "adaptive"):
            raise traitlets.TraitError(f"thinking must be None, {{'type': 'disabled'}} or {{'type': 'enabled', "
                                       f"'budget_tokens': N}}, not {value!r}")
        return value

    @traitlets.validate("request_options")  # type: ignore[untyped-decorator, unused-ignore]  # traitlets < 5.10
    def _valid_request_options(self, proposal: dict[str, Any]) -> dict[str, Any]:
        clash = RESERVED_REQUEST_KEYS & set(proposal["value"])
        if clash:
            raise traitlets.TraitError(f"request_options cannot set {sorted(clash)}: use the ChatWidget's own "
                                       "arguments (traits) instead")
        return dict(proposal["value"])

    def __repr__(self) -> str:
        return f"ChatWidget(model={self.model!r}, turns={self.turns}, stream={self.stream})"


def _one_line_error(error: BaseException, lang: str) -> str:
    if isinstance(error, asyncio.CancelledError):
        return localized("chat.cancelled", lang)
    if isinstance(error, (EmptyReply, ValueError)):
        return one_line(error)
    return describe_error(error, lang=lang)
