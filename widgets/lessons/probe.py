"""A live compatibility probe: what does *this* server do with each Messages API feature?

Servers that speak Anthropic's Messages API (Ollama, llama.cpp's llama-server, Anthropic itself) differ: some
features work, some are accepted and silently ignored, some are rejected. Documentation goes stale; the probe
asks the server. It sends one small request per feature (a few for features whose effect needs a comparison)
and reports what came back, without any per-server knowledge.

Outcomes:

- ``"works"``: the feature had its observable effect.
- ``"partial"``: part of it happened (e.g. the output stopped at the stop sequence, but ``stop_reason`` says
  ``end_turn``).
- ``"ignored"``: the request was accepted, but the feature changed nothing observable.
- ``"inconclusive"``: accepted, but this run could not tell (e.g. the stop sequence never came up).
- ``"error"``: the server (or the SDK, before sending) rejected it; ``detail`` holds the message.

How effects are observed without trusting the model's wording: a block that should reach the model (system
blocks, a document, an image) must change the prompt's token count compared with the same request without it.
Each comparison is preceded by a warm-up request of the same shape, so servers that report only the
*uncached* prompt tokens (prefix caching) are compared like with like.

Example:
    >>> from anthropic import Anthropic
    >>> from ollama_anthropic_widgets import probe
    >>> client = Anthropic(base_url="http://localhost:11434", api_key="ollama")
    >>> report = probe(client, "qwen3", vision_model="llava")  # doctest: +SKIP
    >>> report  # in a notebook: an HTML table  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    Compatibility probe of qwen3 (images: llava): 16 features in 9.8 s
    feature                     outcome  detail
    basic create                works    stop_reason=max_tokens, usage input_tokens=12 output_tokens=16, ...
    ...
"""

from __future__ import annotations

import base64
import struct
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import anthropic

from ..core.errors import connection_dropped, error_summary, one_line
from ..core.messages import field_of as _get
from ..core.messages import prompt_tokens

OUTCOMES = ("works", "partial", "ignored", "inconclusive", "error")
PROBE_MAX_TOKENS = 16
# Tool rows stream and stop reading as soon as the answer is clearly text, so a generous budget costs nothing
# on a model that answers in text, and lets a thinking model finish thinking before its tool call.
TOOL_MAX_TOKENS = 256
TOOL_TEXT_DELTAS = 16
DETAIL_LIMIT = 160

_WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get today's weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
_TIME_TOOL = {
    "name": "get_time",
    "description": "Get the local time in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
_LONG_SYSTEM = ("You are a compatibility probe. Whatever the user writes, reply with a single short word in "
                "lowercase, without punctuation, without explanation and without greeting.")
_DOCUMENT = ("Planet Zog has a green sky, two purple moons and oceans of warm lemonade. Its people measure time "
             "in songs and greet each other by whistling three notes.")
_URL_IMAGE = "https://example.invalid/probe.png"  # reserved name: nothing is fetched even if a server tries


def _png(width: int = 16, height: int = 16, rgb: tuple[int, int, int] = (220, 30, 30)) -> bytes:
    """A small solid-colour PNG, built without Pillow."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _rejection(error: BaseException) -> str:
    """One line saying who rejected a probe request and why (the server, the SDK before sending, the network)."""
    if isinstance(error, TypeError):  # the SDK checks its keyword arguments before anything is sent
        return f"SDK rejected it before sending: {error_summary(error, lang='en')}"
    return error_summary(error, lang="en")  # the probe's table is English throughout (see the i18n module)


def _types(message: Any) -> str:
    return ", ".join(_get(block, "type", "?") for block in message.content) or "no blocks"


def _generated_text(message: Any) -> str:
    return "".join(_get(block, "text", "") or _get(block, "thinking", "") or "" for block in message.content)


class _Session:
    """One probe run: the client without retries, the models, and a counter that keeps prompts distinct."""

    def __init__(self, client: anthropic.Anthropic, model: str, vision_model: str | None):
        self.client, self.model, self.vision_model = client, model, vision_model or model
        self.counter = 0

    def tagged(self, text: str) -> str:
        """``text`` with a short run number in front, so consecutive prompts differ at the same position."""
        self.counter += 1
        return f"({self.counter % 10}) {text}"

    def create(self, *, model: str | None = None, max_tokens: int = PROBE_MAX_TOKENS, **kwargs: Any) -> Any:
        return self.client.messages.create(model=model or self.model, max_tokens=max_tokens, **kwargs)

    def user(self, *blocks: Any) -> list[dict[str, Any]]:
        return [{"role": "user", "content": list(blocks)}]

    def compare(self, question: str, extra_blocks: list[dict[str, Any]], *, model: str | None = None,
                try_first: bool = False, **kwargs: Any) -> tuple[int, int, Any]:
        """Prompt tokens without and with ``extra_blocks`` (and ``kwargs``), after a same-shape warm-up.

        ``try_first`` sends the feature request once before anything else, so a feature the server rejects
        costs one request instead of three.
        """
        def with_feature(max_tokens: int = PROBE_MAX_TOKENS) -> Any:
            return self.create(model=model, max_tokens=max_tokens, messages=self.user(
                *extra_blocks, {"type": "text", "text": self.tagged(question)}), **kwargs)

        if try_first:
            with_feature(max_tokens=1)
        for _ in range(2):  # the first one only primes the server's prefix cache
            baseline = self.create(model=model, max_tokens=1,
                                   messages=self.user({"type": "text", "text": self.tagged(question)}))
        message = with_feature()
        return prompt_tokens(baseline.usage) or 0, prompt_tokens(message.usage) or 0, message


def _check_basic_create(s: _Session) -> tuple[str, str]:
    message = s.create(messages=[{"role": "user", "content": "Say hi."}])
    usage = message.usage
    return "works", (f"stop_reason={message.stop_reason}, usage input_tokens={usage.input_tokens} "
                     f"output_tokens={usage.output_tokens}, id {message.id[:12]}…, content [{_types(message)}]")


def _check_streaming(s: _Session) -> tuple[str, str]:
    order: list[str] = []
    seen: dict[str, int] = {}
    with s.create(messages=[{"role": "user", "content": "Say hi."}], stream=True) as events:
        for event in events:  # the raw server-sent events
            order.append(event.type)
            seen[event.type] = seen.get(event.type, 0) + 1
    complete = order[:1] == ["message_start"] and "message_delta" in seen and order[-1:] == ["message_stop"]
    summary = ", ".join(kind if count == 1 else f"{kind}×{count}" for kind, count in seen.items())
    return ("works" if complete else "partial"), f"events in order of first appearance: {summary}"


def _check_system_blocks(s: _Session) -> tuple[str, str]:
    before, after, _ = s.compare("Say hi.", [], system=[{"type": "text", "text": _LONG_SYSTEM}])
    if before != after:
        return "works", f"accepted; prompt tokens {before} → {after} with the system blocks: they reach the model"
    return "ignored", f"accepted, but the prompt has {before} tokens with and without them: they were dropped"


def _check_stop_sequences(s: _Session) -> tuple[str, str]:
    stops = ["e", "a"]
    message = s.create(messages=[{"role": "user", "content": "Write one sentence about the weather."}],
                       stop_sequences=stops)
    text = _generated_text(message)
    reported = f"reported stop_reason={message.stop_reason!r}, stop_sequence={message.stop_sequence!r}"
    output = f"output {one_line(text, 40)!r}"
    if any(stop in text for stop in stops):
        return "ignored", f"the output went past a stop sequence: {output}; {reported}"
    if message.stop_reason == "stop_sequence":
        return "works", f"{output}; {reported}"
    if message.stop_reason == "max_tokens":
        return "inconclusive", f"no stop sequence came up in {PROBE_MAX_TOKENS} tokens; {reported}"
    return "partial", f"the output stopped before a stop sequence ({output}), but {reported}"


def _check_sampling(s: _Session) -> tuple[str, str]:
    messages = [{"role": "user", "content": "Invent a name for a cat."}]
    greedy = {"temperature": 0.0, "top_k": 1}
    hot = {"temperature": 1.0, "top_p": 1.0, "top_k": 1000}
    first = _generated_text(s.create(messages=messages, extra_body=greedy))
    varied = _generated_text(s.create(messages=messages, extra_body=hot))
    second = _generated_text(s.create(messages=messages, extra_body=greedy))
    if first != second:
        return "ignored", "accepted, but temperature=0, top_k=1 gave two different texts"
    if varied == first:
        return "ignored", "accepted, but temperature=1.0, top_k=1000 gave the same text as temperature=0"
    return "works", "temperature/top_p/top_k accepted: temperature=0 repeats its text, temperature=1.0 changes it"


def _check_temperature_keyword(s: _Session) -> tuple[str, str]:
    message = s.create(messages=[{"role": "user", "content": "Say hi."}], max_tokens=1, temperature=0.2)
    return "works", f"the SDK sent temperature= as a keyword; stop_reason={message.stop_reason}"


def _check_thinking_enabled(s: _Session) -> tuple[str, str]:
    message = s.create(messages=[{"role": "user", "content": "What is 17 + 25?"}],
                       thinking={"type": "enabled", "budget_tokens": 1024})
    if any(_get(block, "type") == "thinking" for block in message.content):
        return "works", f"a thinking block came back (content: {_types(message)})"
    return "ignored", f"accepted, but no thinking block came back (content: {_types(message)})"


def _check_thinking_disabled(s: _Session) -> tuple[str, str]:
    messages = [{"role": "user", "content": "What is 17 + 25?"}]
    default = s.create(messages=messages)
    disabled = s.create(messages=messages, thinking={"type": "disabled"})
    thinks_by_default = any(_get(block, "type") == "thinking" for block in default.content)
    still_thinks = any(_get(block, "type") == "thinking" for block in disabled.content)
    if still_thinks:
        return "ignored", f"accepted, but a thinking block still came back (content: {_types(disabled)})"
    if thinks_by_default:
        return "works", "the model thinks by default; with thinking disabled no thinking block came back"
    return "ignored", "accepted; this model returned no thinking block with or without it"


def _check_citations(s: _Session) -> tuple[str, str]:
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": _DOCUMENT},
                "title": "Zog", "citations": {"enabled": True}}
    before, after, message = s.compare("What colour is the sky on Zog?", [document])
    cited = [block for block in message.content if _get(block, "citations")]
    if cited:
        return "works", f"{len(cited)} text block(s) with citations"
    if before == after:
        return "ignored", f"accepted, but the document was dropped: {before} prompt tokens with and without it"
    return "partial", f"the document reached the model (prompt tokens {before} → {after}) but no citations came back"


def _check_cache_control(s: _Session) -> tuple[str, str]:
    message = s.create(messages=[{"role": "user", "content": "Say hi."}],
                       system=[{"type": "text", "text": _LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}])
    written = message.usage.cache_creation_input_tokens
    read = message.usage.cache_read_input_tokens
    fields = f"cache_creation_input_tokens={written}, cache_read_input_tokens={read}"
    if written:
        return "works", f"the server reports a cache write: {fields}"
    return "ignored", f"accepted, but no cache write reported: {fields}"


def _check_count_tokens(s: _Session) -> tuple[str, str]:
    counted = s.client.messages.count_tokens(model=s.model, messages=[{"role": "user", "content": "Say hi."}])
    return "works", f"input_tokens={counted.input_tokens}"


@dataclass
class _ToolAttempt:
    tool_use: dict[str, Any] | None = None
    text: str = ""
    thinking_deltas: int = 0
    stop_reason: str | None = None

    def no_answer_yet(self) -> str:
        """Why there is neither a tool call nor text, or "" if there is one."""
        if self.tool_use or self.text.strip():
            return ""
        thought = f" after {self.thinking_deltas} thinking deltas" if self.thinking_deltas else ""
        return f"no tool call and no text within {TOOL_MAX_TOKENS} tokens{thought} (stop_reason={self.stop_reason})"


def _first_tool_use(s: _Session, tools: list[dict[str, Any]], **kwargs: Any) -> _ToolAttempt:
    """Stream a tool request; stop at the first complete tool call, or once the answer is clearly plain text."""
    attempt, text_deltas = _ToolAttempt(), 0
    with s.create(max_tokens=TOOL_MAX_TOKENS, tools=tools, stream=True,
                  messages=[{"role": "user", "content": "北京今天天气怎么样?"}], **kwargs) as events:
        for event in events:
            if event.type == "content_block_start" and event.content_block.type == "tool_use":
                attempt.tool_use = {"name": event.content_block.name, "input": ""}
            elif event.type == "content_block_delta" and event.delta.type == "input_json_delta" and attempt.tool_use:
                attempt.tool_use["input"] += event.delta.partial_json
            elif event.type == "content_block_stop" and attempt.tool_use:
                break
            elif event.type == "content_block_delta" and event.delta.type == "thinking_delta":
                attempt.thinking_deltas += 1
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                attempt.text, text_deltas = attempt.text + event.delta.text, text_deltas + 1
                if text_deltas >= TOOL_TEXT_DELTAS:
                    break
            elif event.type == "message_delta":
                attempt.stop_reason = event.delta.stop_reason
    return attempt


def _check_tools(s: _Session) -> tuple[str, str]:
    attempt = _first_tool_use(s, [_WEATHER_TOOL])
    if attempt.tool_use:
        return "works", f"tool call {attempt.tool_use['name']}({one_line(attempt.tool_use['input'], 60)})"
    if attempt.no_answer_yet():
        return "inconclusive", f"accepted, but {attempt.no_answer_yet()}"
    return "ignored", f"accepted, but the model answered in text: {one_line(attempt.text, 60)!r}"


def _check_tool_choice(s: _Session) -> tuple[str, str]:
    # Force the tool that does NOT fit the question: only an honored tool_choice makes the model call it.
    forced = _TIME_TOOL["name"]
    attempt = _first_tool_use(s, [_WEATHER_TOOL, _TIME_TOOL], tool_choice={"type": "tool", "name": forced})
    if attempt.tool_use and attempt.tool_use["name"] == forced:
        return "works", f"the forced tool was called: {forced}({one_line(attempt.tool_use['input'], 60)})"
    if attempt.tool_use:
        return "ignored", f"accepted, but the model called {attempt.tool_use['name']}, not the forced {forced}"
    if attempt.no_answer_yet():
        return "inconclusive", f"accepted (forced {forced}), but {attempt.no_answer_yet()}"
    return "ignored", f"accepted, but no tool call came back (forced {forced}); text {one_line(attempt.text, 60)!r}"


def _check_image(s: _Session, source: dict[str, Any]) -> tuple[str, str]:
    image = {"type": "image", "source": source}
    before, after, _ = s.compare("What colour is this image? One word.", [image], model=s.vision_model,
                                 try_first=True)
    if before == after:
        return "ignored", (f"accepted by {s.vision_model}, but the image was dropped: {before} prompt tokens "
                           "with and without it")
    return "works", f"the image reached {s.vision_model} (prompt tokens {before} → {after})"


def _check_base64_image(s: _Session) -> tuple[str, str]:
    data = base64.standard_b64encode(_png()).decode("ascii")
    return _check_image(s, {"type": "base64", "media_type": "image/png", "data": data})


def _check_url_image(s: _Session) -> tuple[str, str]:
    return _check_image(s, {"type": "url", "url": _URL_IMAGE})


def _check_metadata(s: _Session) -> tuple[str, str]:
    message = s.create(messages=[{"role": "user", "content": "Say hi."}], max_tokens=1,
                       metadata={"user_id": "compatibility-probe"})
    return "ignored", f"accepted (metadata changes nothing visible in a reply); stop_reason={message.stop_reason}"


FEATURES: dict[str, Callable[[_Session], tuple[str, str]]] = {
    "basic create": _check_basic_create,
    "streaming": _check_streaming,
    "system as text blocks": _check_system_blocks,
    "stop_sequences": _check_stop_sequences,
    "sampling via extra_body": _check_sampling,
    "temperature= keyword": _check_temperature_keyword,
    "thinking enabled": _check_thinking_enabled,
    "thinking disabled": _check_thinking_disabled,
    "citations (document block)": _check_citations,
    "cache_control": _check_cache_control,
    "count_tokens": _check_count_tokens,
    "tool_choice": _check_tool_choice,
    "tools": _check_tools,
    "base64 image": _check_base64_image,
    "URL image": _check_url_image,
    "metadata": _check_metadata,
}


@dataclass
class ProbeReport:
    """The probe's table: one row per feature, ``{"feature", "outcome", "detail"}``.

    ``str(report)`` is a plain-text table; in a notebook the report shows as an HTML table in which every
    cell is escaped (server messages are untrusted). ``report["count_tokens"]`` is one row.

    Example:
        >>> report = ProbeReport(rows=[{"feature": "count_tokens", "outcome": "error",
        ...                             "detail": "HTTP 404: 404 page not found"}], model="qwen3")
        >>> report["count_tokens"]["outcome"]
        'error'
    """

    rows: list[dict[str, str]]
    model: str = ""
    vision_model: str = ""
    duration_s: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    columns: tuple[str, ...] = field(default=("feature", "outcome", "detail"), repr=False)

    def to_rows(self) -> list[dict[str, str]]:
        """A copy of the rows, for pandas or CSV.

        Example:
            >>> ProbeReport(rows=[{"feature": "tools", "outcome": "works", "detail": ""}]).to_rows()[0]["outcome"]
            'works'
        """
        return [dict(row) for row in self.rows]

    def __getitem__(self, feature: str) -> dict[str, str]:
        for row in self.rows:
            if row["feature"] == feature:
                return row
        raise KeyError(feature)

    def _title(self) -> str:
        models = self.model if self.vision_model in ("", self.model) else f"{self.model} (images: {self.vision_model})"
        return f"Compatibility probe of {models}: {len(self.rows)} features in {self.duration_s:.1f} s"

    def __str__(self) -> str:
        *padded, last = self.columns
        widths = {name: max([len(name)] + [len(row[name]) for row in self.rows]) for name in padded}
        lines = [self._title()]
        for cells in [{name: name for name in self.columns}] + self.rows:
            lines.append("  ".join([cells[name].ljust(widths[name]) for name in padded] + [cells[last]]))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from ..core.render import render_table, stylesheet_html

        return stylesheet_html() + render_table(self._title(), self.columns, self.rows)


def _run_feature(name: str, session: _Session) -> tuple[str, str]:
    """One feature's check, tried a second time when the server dropped a kept-alive connection.

    llama.cpp's server sometimes closes the connection a stream left open, and the next request on it fails with
    "Server disconnected" (httpx2.RemoteProtocolError) — seen here in about half of the probe runs, always right
    after the streaming row. With retries off, that one request would mark the server unreachable. A refused
    connection (nothing listening) is not retried.
    """
    try:
        return FEATURES[name](session)
    except anthropic.APIConnectionError as error:
        if not connection_dropped(error):
            raise
    return FEATURES[name](session)


def probe(client: anthropic.Anthropic, model: str, *, vision_model: str | None = None,
          features: Iterable[str] | None = None, timeout: float = 60.0) -> ProbeReport:
    """Send one small live request per feature to ``client``'s server and report what it does.

    ``features`` picks a subset of :data:`FEATURES` (default: all, in table order); ``vision_model`` is used for
    the image rows (default: ``model``). Retries are switched off (``max_retries=0``), so an error shows at
    once; ``timeout`` bounds each request. Nothing is raised for a feature the server rejects: that is a row.
    If the server cannot be reached at all, the remaining rows say so without further attempts.

    Example:
        >>> report = probe(client, "qwen3", features=["count_tokens", "URL image"])  # doctest: +SKIP
        >>> report["URL image"]["detail"]  # doctest: +SKIP
        'HTTP 400: invalid image source type: url. Only base64 images are supported.'
    """
    names = list(FEATURES) if features is None else list(features)
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown probe feature(s) {unknown}; choose from {list(FEATURES)}")
    session = _Session(client.with_options(max_retries=0, timeout=timeout), model, vision_model)
    rows: list[dict[str, str]] = []
    seconds: dict[str, float] = {}
    unreachable = ""
    started = time.perf_counter()
    for name in names:
        row_started = time.perf_counter()
        if unreachable:
            rows.append({"feature": name, "outcome": "error", "detail": f"not tried: {unreachable}"})
            continue
        try:
            outcome, detail = _run_feature(name, session)
        except Exception as error:  # a rejected feature is a row of the table, never a crash
            outcome, detail = "error", _rejection(error)
            if isinstance(error, anthropic.APIConnectionError):
                unreachable = detail
        rows.append({"feature": name, "outcome": outcome, "detail": one_line(detail, DETAIL_LIMIT)})
        seconds[name] = time.perf_counter() - row_started
    return ProbeReport(rows=rows, model=model, vision_model=session.vision_model,
                       duration_s=time.perf_counter() - started, seconds=seconds)
