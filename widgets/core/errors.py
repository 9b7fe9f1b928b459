"""Errors as one line of text: what the server (or the SDK) said, and what to try.

Every widget and report in the kit shows a failure the same way, from here:

- :func:`server_message`: what the server said in an ``anthropic.APIStatusError``, without the SDK's wrapping;
- :func:`error_summary`: who failed and why, in one line (``HTTP 404: model 'x' not found``, ``cannot reach the
  model server at http://localhost:11434 (ConnectError: ...)``), no advice: for tables such as the probe's;
- :func:`describe_error`: the summary plus what to try, for a learner looking at a failed call;
- :func:`one_line`: any text on one line (whitespace runs collapsed), cut to a length;
- :class:`ExplainedError`: a base for errors whose message already says what to do;
- :class:`OneLineTraceback`: a mixin for the kit's exceptions that IPython should show as one line, not a stack.

``anthropic`` is imported only when an error is described, so importing this module stays cheap. ``lang`` (``"en"``
or ``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting) is the language of the kit's words; what the server said is
quoted as it came.

Example:
    >>> describe_error(ValueError("bad\\n value"))
    'ValueError: bad value'
"""

from __future__ import annotations

from typing import Any

from .i18n import language, localized

ONE_LINE_LIMIT = 300

_STATUS_HINTS = {400: "errors.hint_400", 404: "errors.hint_404", 500: "errors.hint_500"}


class OneLineTraceback:
    """Mixin for an exception whose cause is the server's or the model's, not a bug in the cell: IPython and Jupyter
    show :meth:`traceback_line` instead of a traceback (``_render_traceback_``). The stack is kept: ``%debug`` opens
    it, ``traceback.print_exception(sys.last_value)`` prints it (``%tb`` shows the one line too).

    Example:
        >>> class NoText(OneLineTraceback, RuntimeError):
        ...     pass
        >>> NoText("the model sent no text")._render_traceback_()
        ['NoText: the model sent no text']
    """

    def traceback_line(self) -> str:
        return f"{type(self).__name__}: {self}"

    def _render_traceback_(self) -> list[str]:
        return [self.traceback_line()]


class ExplainedError(Exception):
    """An error whose message already says what happened and what to do (``StreamInterrupted`` is one):
    :func:`error_summary` and :func:`describe_error` show it as it is, on one line.

    Example:
        >>> describe_error(ExplainedError("stream interrupted after 3 characters: send it again"))
        'stream interrupted after 3 characters: send it again'
    """


def one_line(text: Any, limit: int = ONE_LINE_LIMIT) -> str:
    """``text`` on one line (every run of whitespace, newlines included, becomes one space), cut to ``limit``.

    Example:
        >>> one_line("first line\\n  second line")
        'first line second line'
        >>> one_line("x" * 10, limit=5)
        'xxxx…'
    """
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def server_message(error: Any) -> str:
    """What the server said in an ``anthropic.APIStatusError``, without the SDK's wrapping.

    Reads Anthropic's error JSON (``{"error": {"message": ...}}``, which Ollama and llama.cpp also send), a plain
    text body (Ollama's ``404 page not found``), or falls back to the SDK's own message.

    Example:
        >>> class Refused:  # stands in for anthropic.BadRequestError
        ...     body = {"type": "error", "error": {"type": "invalid_request_error",
        ...                                        "message": "Only base64 images are supported."}}
        >>> server_message(Refused())
        'Only base64 images are supported.'
    """
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if body.get("message"):
            return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body.strip()
    try:
        text = error.response.text
    except Exception:  # no response, or a streamed response that was never read
        text = ""
    return text or str(getattr(error, "message", "") or error)


def error_summary(error: BaseException, limit: int = ONE_LINE_LIMIT, *, lang: str | None = None) -> str:
    """One line saying who failed and why, without advice.

    Example:
        >>> error_summary(TimeoutError("no reply"))
        'TimeoutError: no reply'
    """
    import anthropic  # here, not at module level: keeps `import ollama_anthropic_widgets` cheap

    if isinstance(error, anthropic.APIStatusError):
        return one_line(f"HTTP {error.status_code}: {server_message(error)}", limit)
    if isinstance(error, anthropic.APIConnectionError):
        request = error.request  # public on every anthropic.APIError since 0.x
        lang = language(lang)
        cause = error.__cause__ or error.__context__
        why = localized("errors.cause", lang, cause=f"{type(cause).__name__}: {cause}") if cause is not None else ""
        timed_out = isinstance(error, anthropic.APITimeoutError)
        if request is None:
            return one_line(localized("errors.timed_out" if timed_out else "errors.unreachable", lang, cause=why),
                            limit)
        url = f"{request.url.scheme}://{request.url.netloc.decode()}"
        key = "errors.timed_out_at" if timed_out else "errors.dropped_at" if connection_dropped(error) else \
            "errors.unreachable_at"
        return one_line(localized(key, lang, url=url, cause=why), limit)
    if isinstance(error, ExplainedError):
        return one_line(str(error), limit)
    return one_line(f"{type(error).__name__}: {error}", limit)


def describe_error(error: BaseException, limit: int = ONE_LINE_LIMIT, *, lang: str | None = None) -> str:
    """One line: what went wrong talking to the model server (:func:`error_summary`) and what to try.

    Example:
        >>> describe_error(KeyError("model"))
        "KeyError: 'model'"
    """
    import anthropic

    lang = language(lang)
    if isinstance(error, anthropic.APIStatusError):
        hint = localized(_STATUS_HINTS.get(error.status_code, "errors.hint_other"), lang)
        return one_line(localized("errors.http_status", lang, status=error.status_code,
                                  message=server_message(error), hint=hint), limit)
    summary = error_summary(error, limit, lang=lang)
    if isinstance(error, anthropic.APIConnectionError):
        hint = "errors.dropped_hint" if connection_dropped(error) else "errors.connection_hint"
        return one_line(localized(hint, lang, summary=summary), limit)
    return summary


def connection_dropped(error: BaseException) -> bool:
    """True when the server was reached and then closed the connection: an ``anthropic.APIConnectionError`` whose
    cause is the HTTP client's protocol or read error ("Server disconnected", a body cut short), not a refused
    connection. Worth one more try; a server that is down is not.

    Example:
        >>> import anthropic, httpx2
        >>> error = anthropic.APIConnectionError(request=httpx2.Request("POST", "http://127.0.0.1:9/v1/messages"))
        >>> error.__cause__ = httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        >>> connection_dropped(error), connection_dropped(anthropic.APIConnectionError(request=error.request))
        (True, False)
    """
    import httpx2

    return isinstance(error.__cause__, (httpx2.RemoteProtocolError, httpx2.ReadError))
