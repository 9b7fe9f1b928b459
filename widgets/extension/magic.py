"""``%%ask``: ask the configured model from any notebook cell (or IPython in a terminal), one conversation per kernel.

    %load_ext ollama_anthropic_widgets

    %%ask
    写一首关于秋天的短诗

    %%ask --new --model qwen3 --thinking off --system "Answer in one sentence."
    What is a Python list?

    %ask_usage

The cell body is the prompt. Every ``%%ask`` cell continues the same conversation (the model sees the earlier
questions and answers) until ``--new`` starts another. The options stick to the conversation: give ``--model``,
``--system``, ``--max-tokens`` or ``--thinking`` once and the following cells keep them; ``--new`` goes back to
the defaults (then applies the options on its own line). ``%%ask?`` shows the options.

Where the reply goes: with a widget front-end (JupyterLab, Notebook 7, VS Code, Colab: anything running
``ipykernel``) it streams into a :class:`~.stream_view.StreamView`; in IPython in a terminal, or with ``--text``,
it is printed as plain text while it arrives (:class:`~.terminal_view.TerminalView`). The server, model and key
come from :func:`~.config.settings` (``OLLAMA_BASE_URL``, ``OLLAMA_MODEL``), read again at every cell.

Every reply is recorded in one :class:`~.usage.UsageTracker` per IPython shell; ``%ask_usage`` shows its live
panel (a text summary in a terminal). A failed turn (server down, unknown model, a ``/v1`` base URL, a stream
cut midway, a reply with no text) leaves the conversation exactly as it was and fails the cell with one line.

The conversation, tracker and options belong to the extension's :class:`AskMagics` instance, bound to one shell;
:func:`ask_session` returns them for code.

Example:
    >>> from ollama_anthropic_widgets.extension.magic import AskSession
    >>> session = AskSession()
    >>> session.configure(model="qwen3", thinking="off")
    >>> session.request_options(max_tokens_default=4096)
    {'model': 'qwen3', 'max_tokens': 4096, 'thinking': {'type': 'disabled'}}
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics
from traitlets import CaselessStrEnum, Int

from ..core.conversation import Conversation, EmptyReply
from ..core.errors import OneLineTraceback
from ..core.i18n import language, localized, localized_from
from ..core.messages import blocks_of_type
from ..core.streaming import describe_error
from ..lessons.config import make_client, settings
from ..ui.usage_tracker import UsageTracker

if TYPE_CHECKING:  # pragma: no cover
    from anthropic import Anthropic
    from anthropic.types import Message

    from ..lessons.config import Settings
    from ..ui.stream_view import StreamView
    from .terminal_view import TerminalView

    # IPython's magic decorators have no type hints (magic_arguments' at no version, the others not at the floor,
    # 7.23): each returns the function (or class) it is given, marked for IPython. Declared so for the checker.
    _Function = TypeVar("_Function", bound=Callable[..., Any])
    _Class = TypeVar("_Class", bound=type)

    def magics_class(cls: _Class) -> _Class: ...
    def line_magic(func: _Function) -> _Function: ...
    def line_cell_magic(func: _Function) -> _Function: ...
    def no_var_expand(magic_func: _Function) -> _Function: ...
    def magic_arguments(name: str | None = None) -> Callable[[_Function], _Function]: ...
    def kwds(**kwds: Any) -> Callable[[_Function], _Function]: ...
    def argument(*args: Any, **kwds: Any) -> Callable[[_Function], _Function]: ...
else:
    from IPython.core.magic import line_cell_magic, line_magic, magics_class, no_var_expand
    from IPython.core.magic_arguments import argument, kwds, magic_arguments

__all__ = ["AskFailed", "AskMagics", "AskSession", "AskStopped", "ReplyView", "ask_session", "load_ipython_extension",
           "thinking_option", "unload_ipython_extension"]

DEFAULT_MAX_TOKENS = 4096  # room for a thinking model: Ollama thinks by default and counts thinking in max_tokens
MIN_THINKING_BUDGET = 1024  # Anthropic's floor for thinking.budget_tokens, which must also stay below max_tokens
THINKING_CHOICES = ("on", "off", "default")
# argparse %-formats the usage and IPython prefixes one "%": "%%ask" shows as %%ask, "%%%%ask" would be needed for
# a literal "%%" anywhere after the first word.
ASK_USAGE = """%%ask [-m MODEL] [-s SYSTEM] [-t N] [--thinking on|off|default] [-n] [--text]
  your question, on the following lines of the cell

  %%ask [options]   (as a line magic: applies the options; without any, shows where the conversation stands)"""


# %%ask's words, in the kit's format (core/i18n.py): a key, then the same sentence in each language.
WORDS: dict[str, dict[str, str]] = {
    "ask.failed": {"en": "%%ask failed: {error}", "zh": "%%ask 失败：{error}"},
    "ask.stopped": {"en": "%%ask stopped: {error}", "zh": "%%ask 已停止：{error}"},
    "ask.failed_detail": {"en": "{error}{hint} ({unchanged})", "zh": "{error}{hint}（{unchanged}）"},
    "ask.stopped_detail": {"en": "the partial reply is not kept; {unchanged}", "zh": "未保留这部分回复；{unchanged}"},
    "ask.thinking_hint": {"en": " Or ask with --thinking off.", "zh": "也可以加上 --thinking off 再问。"},
    "ask.unchanged_one": {
        "en": "nothing was added to the conversation: {count} exchange",
        "zh": "对话没有变化：仍是 {count} 轮",
    },
    "ask.unchanged_many": {
        "en": "nothing was added to the conversation: {count} exchanges",
        "zh": "对话没有变化：仍是 {count} 轮",
    },
    "ask.empty_cell": {
        "en": "%%ask: the cell is empty — write the question below the %%ask line",
        "zh": "%%ask：单元格是空的——请在 %%ask 这一行下面写下问题",
    },
    "ask.text_needs_cell": {
        "en": "%ask: --text goes with a question: put it on a %%ask cell's first line",
        "zh": "%ask：--text 要和问题一起用：请把它写在 %%ask 单元格的第一行",
    },
    "ask.describe": {
        "en": "%%ask: {where} · model {model} · max_tokens {max_tokens} · thinking: {thinking} · {system}",
        "zh": "%%ask：{where} · 模型 {model} · max_tokens {max_tokens} · 思考：{thinking} · {system}",
    },
    "ask.new_conversation": {"en": "new conversation", "zh": "新对话"},
    "ask.exchanges_one": {"en": "{count} exchange so far", "zh": "已有 {count} 轮"},
    "ask.exchanges_many": {"en": "{count} exchanges so far", "zh": "已有 {count} 轮"},
    "ask.thinking_on": {"en": "on", "zh": "开"},
    "ask.thinking_off": {"en": "off", "zh": "关"},
    "ask.thinking_default": {"en": "server default", "zh": "由服务决定"},
    "ask.system": {"en": "system: {system!r}", "zh": "系统提示：{system!r}"},
    "ask.no_system": {"en": "no system prompt", "zh": "没有系统提示"},
    "ask.no_usage": {"en": "no %%ask replies recorded yet", "zh": "还没有记录到 %%ask 的回复"},
    "ask.usage_calls_one": {
        "en": "{count} call · {input} in{unknown} / {output} out tokens ({total} in all)",
        "zh": "{count} 次调用 · 输入 {input}{unknown} / 输出 {output} token（共 {total}）",
    },
    "ask.usage_calls_many": {
        "en": "{count} calls · {input} in{unknown} / {output} out tokens ({total} in all)",
        "zh": "{count} 次调用 · 输入 {input}{unknown} / 输出 {output} token（共 {total}）",
    },
    "ask.usage_mean_ttft": {"en": "mean TTFT {seconds:.2f} s", "zh": "平均首 token 延迟 {seconds:.2f} 秒"},
    "ask.usage_mean_rate": {"en": "mean {rate:.1f} tok/s", "zh": "平均 {rate:.1f} tok/s"},
    "ask.usage_stop_reasons": {"en": "stop reasons: {reasons}", "zh": "停止原因：{reasons}"},
}


def _say(key: str, lang: str | None = None, /, **values: Any) -> str:
    return localized_from(WORDS, key, lang, **values)


def thinking_option(choice: str, max_tokens: int) -> dict[str, Any]:
    """The request fields for ``--thinking on|off|default``.

    ``default`` sends nothing (the server decides: Ollama thinks on a thinking model, ollama/ollama#15287);
    ``off`` sends ``{"type": "disabled"}`` (Ollama ≥ 0.23.4); ``on`` enables it with half of ``max_tokens`` as the
    budget (Anthropic requires ≥ 1024 and below ``max_tokens``; Ollama ignores the budget).

    Example:
        >>> thinking_option("on", 4096)
        {'thinking': {'type': 'enabled', 'budget_tokens': 2048}}
        >>> thinking_option("default", 4096)
        {}
    """
    if choice == "default":
        return {}
    if choice == "off":
        return {"thinking": {"type": "disabled"}}
    if choice != "on":
        raise ValueError(f"--thinking takes on, off or default, not {choice!r}")
    if max_tokens <= MIN_THINKING_BUDGET:
        raise ValueError(f"--thinking on needs --max-tokens above {MIN_THINKING_BUDGET} (the thinking budget alone "
                         f"is at least {MIN_THINKING_BUDGET} tokens, and the answer needs some too)")
    return {"thinking": {"type": "enabled", "budget_tokens": max(MIN_THINKING_BUDGET, max_tokens // 2)}}


@dataclass(frozen=True)
class AskOptions:
    """What a conversation keeps between cells; ``None`` means "the default of the moment".

    Example:
        >>> AskOptions().thinking
        'default'
    """

    model: str | None = None  # None: settings().model, read at every cell
    system: str | None = None
    max_tokens: int | None = None  # None: DEFAULT_MAX_TOKENS
    thinking: str = "default"


class _AskEndedEarly(OneLineTraceback, BaseException):
    """The two ways a ``%%ask`` cell ends early: IPython shows one localized line (``LINE_KEY`` in the message
    table), in the language the cell ran in."""

    LINE_KEY = ""

    def __init__(self, message: str, lang: str = "en"):
        super().__init__(message)
        self.lang = lang  # of the line IPython shows

    def traceback_line(self) -> str:
        return _say(self.LINE_KEY, self.lang, error=self)


class AskFailed(_AskEndedEarly, Exception):
    """A ``%%ask`` turn failed; ``str(error)`` is one line, the conversation is as it was before the cell.

    ``__cause__`` is the original error (``anthropic.APIConnectionError``, ``StreamInterrupted``, ...). IPython
    shows only the line (``_render_traceback_``), not a traceback: the failure is the server's or the model's,
    not a bug in the cell; ``%debug`` or ``traceback.print_exception(sys.last_value)`` still reach the stack.

    Example:
        >>> str(AskFailed("HTTP 404 from the server: model 'x' not found"))
        "HTTP 404 from the server: model 'x' not found"
    """

    LINE_KEY = "ask.failed"


class AskStopped(_AskEndedEarly, KeyboardInterrupt):
    """A ``%%ask`` reply stopped by an interrupt (the kernel's stop button, Ctrl+C); still a ``KeyboardInterrupt``.

    IPython shows one line instead of the interrupted stack; the partial reply stays on screen, the conversation is
    as it was before the cell.

    Example:
        >>> isinstance(AskStopped("stopped"), KeyboardInterrupt)
        True
    """

    LINE_KEY = "ask.stopped"


class ReplyView(Protocol):
    """Where :meth:`AskSession.ask` shows a reply: a StreamView, a TerminalView, or your own class with ``consume``.

    ``consume`` takes what ``client.messages.stream(...)`` returns and gives back the final ``Message``.

    Example:
        >>> from ollama_anthropic_widgets.extension.terminal_view import TerminalView
        >>> view: ReplyView = TerminalView()
    """

    def consume(self, stream: Any) -> Message: ...


class AskSession:
    """One conversation, its options and its usage tracker: what ``%%ask`` keeps for one IPython shell.

    Plain Python (no IPython needed): ``ask(prompt, view)`` sends the whole conversation plus ``prompt``, shows the
    reply in ``view`` (a StreamView or TerminalView, anything with ``consume(stream)``), and adds the turn, or,
    when anything fails, leaves the conversation unchanged and re-raises. ``client=None`` builds the client from
    :func:`~.config.settings` (again when the settings change); give one to use your own. ``lang`` (``"en"`` or
    ``"zh"``) is the language of what ``%%ask`` says; ``None`` (the default) follows the ``OLLAMA_KIT_LANG`` setting
    at each use, so setting it in a notebook after ``%load_ext`` takes effect.

    Example:
        >>> session = AskSession()
        >>> session.configure(system="Be brief.", max_tokens=300)
        >>> sorted(session.request_options(max_tokens_default=4096))
        ['max_tokens', 'model', 'system']
        >>> session.exchanges
        0
    """

    def __init__(self, client: Anthropic | None = None, *, tracker: UsageTracker | None = None,
                 lang: str | None = None):
        self.lang = None if lang is None else language(lang)
        self.client = client
        self.tracker = tracker if tracker is not None else UsageTracker()
        self.conversation = Conversation()
        self.options = AskOptions()
        self.last_message: Message | None = None
        self._made_client: tuple[tuple[str, str], Anthropic] | None = None

    @property
    def current_lang(self) -> str:
        """The language ``%%ask`` speaks now: ``lang``, else the ``OLLAMA_KIT_LANG`` setting."""
        return language(self.lang)

    @property
    def exchanges(self) -> int:
        """Answered questions in the conversation."""
        return len(self.conversation.messages) // 2

    def new(self) -> None:
        """Forget the conversation and the options (the tracker keeps counting).

        Example:
            >>> session = AskSession()
            >>> session.configure(model="qwen3"); session.new(); session.options.model is None
            True
        """
        self.conversation = Conversation()
        self.options = AskOptions()
        self.last_message = None

    def configure(self, *, model: str | None = None, system: str | None = None, max_tokens: int | None = None,
                  thinking: str | None = None, new: bool = False) -> None:
        """Change the options given (``None``: keep); ``new=True`` first starts a new conversation with defaults.

        Options that do not fit raise ``ValueError`` and change nothing (not even ``new``).

        Example:
            >>> AskSession().configure(max_tokens=0)
            Traceback (most recent call last):
            ...
            ValueError: --max-tokens must be at least 1, not 0
        """
        kept = AskOptions() if new else self.options
        options = AskOptions(model=kept.model if model is None else model,
                             system=kept.system if system is None else system,
                             max_tokens=kept.max_tokens if max_tokens is None else max_tokens,
                             thinking=kept.thinking if thinking is None else thinking)
        if options.max_tokens is not None and options.max_tokens < 1:
            raise ValueError(f"--max-tokens must be at least 1, not {options.max_tokens}")
        if model is not None and not model.strip():
            raise ValueError("--model needs a model name (`ollama list` shows them)")
        thinking_option(options.thinking, options.max_tokens or DEFAULT_MAX_TOKENS)  # raises if it cannot work
        if new:
            self.new()
        self.options = options

    def request_options(self, *, max_tokens_default: int = DEFAULT_MAX_TOKENS,
                        config: Settings | None = None) -> dict[str, Any]:
        """``model``, ``max_tokens``, ``system`` and ``thinking`` as the next request will send them.

        Example:
            >>> AskSession().request_options(config=settings({"OLLAMA_MODEL": "llama3.2"}))
            {'model': 'llama3.2', 'max_tokens': 4096}
        """
        options = self.options
        max_tokens = options.max_tokens or max_tokens_default
        request: dict[str, Any] = {"model": options.model or (config or settings()).model, "max_tokens": max_tokens}
        if options.system and options.system.strip():
            request["system"] = options.system
        request.update(thinking_option(options.thinking, max_tokens))
        return request

    def describe(self) -> str:
        """One line: how long the conversation is and what the next request will use.

        Example:
            >>> AskSession().describe()  # doctest: +ELLIPSIS
            '%%ask: new conversation · model ... · max_tokens 4096 · thinking: server default · no system prompt'
        """
        request = self.request_options()
        lang, count = self.current_lang, self.exchanges
        if count:
            where = _say("ask.exchanges_one" if count == 1 else "ask.exchanges_many", lang, count=count)
        else:
            where = _say("ask.new_conversation", lang)
        thinking = _say({"on": "ask.thinking_on", "off": "ask.thinking_off"}.get(self.options.thinking,
                                                                                      "ask.thinking_default"), lang)
        system = (_say("ask.system", lang, system=request["system"]) if "system" in request else
                  _say("ask.no_system", lang))
        return _say("ask.describe", lang, where=where, model=request["model"], max_tokens=request["max_tokens"],
                         thinking=thinking, system=system)

    def ask(self, prompt: str, view: ReplyView) -> Message:
        """Send ``prompt`` as the next user turn, show the reply in ``view``, return the ``Message``.

        On any failure (``KeyboardInterrupt`` included) the conversation is left as it was and the error re-raised.
        The view records the reply into the tracker it was given (the magic gives it ``self.tracker``).

        Example:
            >>> from ollama_anthropic_widgets.extension.terminal_view import TerminalView
            >>> session = AskSession()
            >>> message = session.ask("你好", TerminalView(tracker=session.tracker))    # doctest: +SKIP
        """
        config = settings()
        client = self._client_for(config)
        request = self.request_options(config=config)
        self.conversation.lang = self.current_lang
        self.conversation.start_turn(prompt)
        try:
            message = view.consume(client.messages.stream(**self.conversation.request(**request)))
            self.conversation.finish_turn(message)
        except BaseException:
            self.conversation.abandon_turn()
            raise
        self.last_message = message
        return message

    def _client_for(self, config: Settings) -> Anthropic:
        if self.client is not None:
            return self.client
        key = (config.base_url, config.api_key)
        if self._made_client is None or self._made_client[0] != key:
            self._made_client = (key, make_client(config))
        return self._made_client[1]


def usage_text(summary: dict[str, Any], lang: str | None = None) -> str:
    """A usage summary (``UsageTracker.summary()``) as a few lines of plain text, for a terminal.

    Example:
        >>> print(usage_text({"calls": 2, "input_tokens": 40, "output_tokens": 90, "total_tokens": 130,
        ...                   "mean_ttft_s": 0.125, "mean_output_tokens_per_s": 95.25,
        ...                   "stop_reasons": {"end_turn": 2}, "calls_without_input_count": 0, "errors": 0}))
        2 calls · 40 in / 90 out tokens (130 in all)
        mean TTFT 0.12 s · mean 95.2 tok/s · stop reasons: end_turn 2
    """
    lang = language(lang)
    calls = summary["calls"]
    if not calls:
        return _say("ask.no_usage", lang)
    unknown = summary.get("calls_without_input_count")
    unknown_note = localized("usage.unknown_input", lang, count=unknown) if unknown else ""
    lines = [_say("ask.usage_calls_one" if calls == 1 else "ask.usage_calls_many", lang, count=calls,
                       input=f"{summary['input_tokens']:,}", unknown=unknown_note,
                       output=f"{summary['output_tokens']:,}", total=f"{summary['total_tokens']:,}")]
    details = []
    if summary.get("mean_ttft_s") is not None:
        details.append(_say("ask.usage_mean_ttft", lang, seconds=summary["mean_ttft_s"]))
    if summary.get("mean_output_tokens_per_s") is not None:
        details.append(_say("ask.usage_mean_rate", lang, rate=summary["mean_output_tokens_per_s"]))
    reasons = ", ".join(f"{reason} {count}" for reason, count in summary.get("stop_reasons", {}).items())
    if reasons:
        details.append(_say("ask.usage_stop_reasons", lang, reasons=reasons))
    if details:
        lines.append(" · ".join(details))
    return "\n".join(lines)


def has_widget_frontend(shell: Any) -> bool:
    """True when ``shell`` runs in a kernel (Jupyter, VS Code, Colab), where widgets can be shown.

    IPython in a terminal has no kernel and no comm channel: a widget would print as its ``repr``.

    Example:
        >>> has_widget_frontend(None)
        False
    """
    return getattr(shell, "kernel", None) is not None


@magics_class
class AskMagics(Magics):
    """``%%ask`` (a cell magic; as a line magic, options only) and ``%ask_usage``, with one shell's state.

    ``output`` chooses where replies go: ``auto`` (widgets in a kernel, text in a terminal), ``widget`` or
    ``text``; set it in a profile with ``c.AskMagics.output = "text"``. ``last_view`` is the view that showed the
    latest reply.

    Example:
        >>> from IPython.core.interactiveshell import InteractiveShell
        >>> shell = InteractiveShell.instance()                        # doctest: +SKIP
        >>> shell.run_line_magic("load_ext", "ollama_anthropic_widgets")  # doctest: +SKIP
    """

    output = CaselessStrEnum(("auto", "widget", "text"), default_value="auto", config=True,
                             help="where %%ask shows replies: auto (widgets in a kernel, else text), widget, text")
    thinking_chars = Int(200, config=True, help="text output: how much of the thinking is printed before dots")

    def __init__(self, shell: Any = None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        self.session = AskSession()
        self.last_view: StreamView | TerminalView | None = None

    @magic_arguments()
    @kwds(usage=ASK_USAGE)
    @argument("-m", "--model", help="model name (default: OLLAMA_MODEL)")
    @argument("-s", "--system", help='system prompt ("" for none)')
    @argument("-t", "--max-tokens", type=int, metavar="N",
              help=f"most tokens per reply, thinking included (default {DEFAULT_MAX_TOKENS})")
    @argument("--thinking", choices=THINKING_CHOICES, metavar="on|off|default",
              help="think before answering; default: the server decides (Ollama thinks on thinking models)")
    @argument("-n", "--new", action="store_true", help="start a new conversation, with default options")
    @argument("--text", action="store_true", help="print the reply as plain text, even where widgets work")
    @no_var_expand  # a system prompt is prose: "$5" or "{name}" must reach the model as typed
    @line_cell_magic
    def ask(self, line: str, cell: str | None = None) -> None:
        """Ask the model: the cell is the question. Every %%ask cell continues one conversation until --new.

        Options stick to the conversation: give them once, the following cells keep them (--new resets them).
        As a line magic, %ask only applies its options (%ask --new starts over) or, without any, says where the
        conversation stands. %ask_usage shows the tokens used.
        """
        args = _parse(self.ask, line, "%%ask")
        session = self.session
        lang = session.current_lang
        if cell is None and args.text:
            raise UsageError(_say("ask.text_needs_cell", lang))
        try:
            session.configure(model=args.model, system=args.system, max_tokens=args.max_tokens,
                              thinking=args.thinking, new=args.new)
        except ValueError as error:
            raise UsageError(f"%%ask: {error}") from None
        if cell is None:
            print(session.describe())
            return
        if not cell.strip():
            raise UsageError(_say("ask.empty_cell", lang))
        view = self._view(text=args.text, lang=lang)
        try:
            session.ask(cell.strip("\n"), view)
        except KeyboardInterrupt as error:
            raise AskStopped(_say("ask.stopped_detail", lang, unchanged=_unchanged(session, lang)),
                             lang) from error
        except Exception as error:
            raise AskFailed(_say("ask.failed_detail", lang, error=describe_error(error, lang=lang),
                                      hint=_thinking_hint(error, lang), unchanged=_unchanged(session, lang)),
                            lang) from error

    @magic_arguments()
    @argument("--text", action="store_true", help="a plain-text summary, even where widgets work")
    @line_magic
    def ask_usage(self, line: str) -> None:
        """Token usage of every %%ask reply in this kernel: the live panel (chart + table; one panel per kernel,
        shown again), or text in a terminal."""
        args = _parse(self.ask_usage, line, "%ask_usage")
        tracker, lang = self.session.tracker, self.session.current_lang
        if self._uses_widgets(args.text):
            from IPython.display import display

            display(tracker.widget(lang=lang))
        else:
            print(usage_text(tracker.summary(), lang))

    def _uses_widgets(self, text: bool) -> bool:
        if text or self.output == "text":
            return False
        return self.output == "widget" or has_widget_frontend(self.shell)

    def _view(self, *, text: bool, lang: str) -> StreamView | TerminalView:
        tracker = self.session.tracker
        view: StreamView | TerminalView
        if self._uses_widgets(text):
            from IPython.display import display

            from ..ui.stream_view import StreamView

            view = StreamView(tracker=tracker, lang=lang)
            display(view)
        else:
            from .terminal_view import TerminalView

            view = TerminalView(tracker=tracker, thinking_chars=self.thinking_chars, lang=lang)
        self.last_view = view
        return view


def _thinking_hint(error: Exception, lang: str) -> str:
    """A reply that was all thinking (Ollama lets thinking models think unless told not to): name the switch."""
    reply = getattr(error, "message", None) if isinstance(error, EmptyReply) else None
    return _say("ask.thinking_hint", lang) if reply is not None and blocks_of_type(reply, "thinking") else ""


def _unchanged(session: AskSession, lang: str) -> str:
    count = session.exchanges
    return _say("ask.unchanged_one" if count == 1 else "ask.unchanged_many", lang, count=count)


def _parse(magic: Any, line: str, name: str) -> argparse.Namespace:
    """The options of ``line``, quoted the shell's way (``parse_argstring`` would keep the quotes in values)."""
    parser: argparse.ArgumentParser = magic.parser  # what @magic_arguments attached to the magic method
    try:
        return parser.parse_args(shlex.split(line))
    except (UsageError, ValueError) as error:  # ValueError: an unclosed quote
        raise UsageError(f"{name}: {error} — `{name}?` lists the options") from None


def ask_session(shell: Any = None) -> AskSession:
    """The :class:`AskSession` of ``%%ask`` in ``shell`` (default: the running one): conversation, tracker, options.

    Example:
        >>> session = ask_session()                       # doctest: +SKIP
        >>> session.conversation.messages, session.tracker.to_csv()   # doctest: +SKIP
    """
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    magics: AskMagics | None = None if shell is None else shell.magics_manager.registry.get(AskMagics.__name__)
    if magics is None:
        raise RuntimeError("%%ask is not loaded in this shell: run `%load_ext ollama_anthropic_widgets` first")
    return magics.session


def load_ipython_extension(shell: Any) -> None:
    """Register ``%%ask`` and ``%ask_usage`` in ``shell`` (what ``%load_ext ollama_anthropic_widgets`` calls).

    Loading again keeps the shell's conversation and tracker.

    Example:
        >>> load_ipython_extension(get_ipython())             # doctest: +SKIP
    """
    if AskMagics.__name__ not in shell.magics_manager.registry:
        shell.register_magics(AskMagics)


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext ollama_anthropic_widgets``: close the usage panel of ``%ask_usage`` (the conversation and the
    rows stay, so loading again goes on where it was).

    Example:
        >>> unload_ipython_extension(get_ipython())           # doctest: +SKIP
    """
    magics: AskMagics | None = shell.magics_manager.registry.get(AskMagics.__name__)
    if magics is not None:
        magics.session.tracker.close()
