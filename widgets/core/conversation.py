"""A conversation with a model as data: the history a chat sends, kept valid turn by turn.

The Messages API is stateless, so a chat is a list of turns that grows by one ``user`` and one ``assistant``
turn per exchange and is sent whole with every request. That bookkeeping is :class:`Conversation`, plain
Python that tests (and your own scripts) use without a browser; ``core.turn.TurnRunner`` runs a turn of it against
a client, and ``ui.chat.ChatWidget`` puts it on screen.

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
    >>> from ollama_anthropic_widgets.core.conversation import Conversation
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
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import OneLineTraceback
from .i18n import language, localized
from .images import user_message
from .messages import field_of as _get
from .render import chat_role_label


class EmptyReply(OneLineTraceback, RuntimeError):
    """The server answered, but the reply has no text to add to the history (so the turn was rolled back).

    Typical causes: a thinking model spent all of ``max_tokens`` on its thinking, or the model asked for a tool.
    ``message`` is the reply as received, ``str(error)`` says what to do, in ``lang``. A notebook cell that raises it
    (``chat.send_message(...)``) shows that one line, not a traceback: the reply was the model's, the cell is fine.

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
        """The answered turns (a deep copy: editing it does not change the conversation; to count them, or to read
        one, :attr:`turns` and :meth:`turn` copy nothing or one turn)."""
        return copy.deepcopy(self._turns)

    @property
    def turns(self) -> int:
        """How many exchanges (a user turn and its reply) the history holds; nothing is copied.

        Example:
            >>> Conversation([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]).turns
            1
        """
        return len(self._turns) // 2

    def turn(self, index: int) -> dict[str, Any]:
        """``messages[index]`` alone (a copy of that one turn).

        Example:
            >>> Conversation([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]).turn(-1)
            {'role': 'assistant', 'content': 'Hello'}
        """
        return copy.deepcopy(self._turns[index])

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

    def save(self, path: str | Path, *, title: str | None = None, system: str | None = None) -> Path:
        """Write the conversation to ``path``: Markdown (:meth:`to_markdown`) for ``.md``, JSON (``messages``) for
        ``.json``; returns the path written.

        The JSON is exactly what the API takes (no thinking, no "stopped" marks: the Markdown shows both), so
        ``Conversation(json.load(f))`` or ``ChatWidget(client, model, messages=json.load(f))`` continues it. Any other
        suffix raises ``ValueError`` and writes nothing.

        Example:
            >>> Conversation().save("chat.txt")
            Traceback (most recent call last):
            ...
            ValueError: cannot save a chat as 'chat.txt': use a .md file (Markdown, to read) or a .json file ...
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".md":
            text = self.to_markdown(title=title, system=system)
        elif suffix == ".json":
            text = json.dumps(self._turns, ensure_ascii=False, indent=1) + "\n"
        else:
            raise ValueError(f"cannot save a chat as {path.name!r}: use a .md file (Markdown, to read) or a .json "
                             "file (the messages, to load back with ChatWidget(..., messages=json.load(f)))")
        path.write_text(text, encoding="utf-8")
        return path
