"""The same requests to a real Ollama and to the Ollama double, compared on everything the double imitates except
the model's text.

    python -m tests.ollama.conformance --real http://127.0.0.1:11444 --double http://127.0.0.1:11435

Both servers must stand in front of the same weights: ``scripts/ollama.py`` imports the engine's SmolLM2-135M into
the real Ollama, and the double (``tests/ollama_double.py``) forwards to the engine. Each reply becomes a *skeleton*:
statuses, content types, JSON keys and value types, and the values the double imitates (``type`` fields, stop
reasons, error types and messages, the model's name, id prefixes and lengths, event names and their order), while
the model's words become ``<text>``. A stream becomes its list of events, a run of deltas of one kind folded into one.
Requests are chosen so that their outcome does not depend on what the model writes: a small ``max_tokens`` that
the model cannot finish within, or a stop sequence (a space) that any reply hits.

``differences()`` lists every leaf where the two skeletons disagree; ``tests/ollama/test_conformance.py`` prints
them as a table and requires each one to be explained in the double (``EXPLAINED_DIFFERENCES``).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHAPES_PNG = Path(__file__).resolve().parents[2] / "notebooks" / "data" / "shapes.png"
LONG_PROMPT = "Tell me a long story about a dragon who learns to cook."
TOOL = {"name": "get_weather", "description": "Get the current weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}

# Keys whose string values are the model's words: compared only as present, empty or not.
TEXT_KEYS = {"text", "thinking", "partial_json", "content", "reasoning", "arguments", "signature"}
# Keys whose string values are ids: compared as prefix and alphabet and length.
ID_KEYS = {"id", "request_id", "tool_use_id", "tool_call_id"}
# Keys whose values are times or digests or sizes of a particular install: compared as types.
INSTALL_KEYS = {"modified_at", "created_at", "created", "digest", "size", "expires_at", "modelfile", "template",
                "parameters", "parent_model", "license", "system"}


@dataclass
class Case:
    """One request, sent as is to both servers; ``model`` fills ``{model}`` in the path and body per server."""

    name: str
    method: str
    path: str
    body: Any = None  # dict/list: sent as JSON; str: sent as raw bytes; None: no body
    model: dict[str, str] = field(default_factory=dict)  # {"real": ..., "double": ...}: the model name per server


@dataclass
class Reply:
    status: int
    content_type: str
    server_header: bool
    body: Any  # parsed JSON, a list of (event, data) for a stream, or the text


def image_data() -> str:
    return base64.b64encode(SHAPES_PNG.read_bytes()).decode()


def messages_case(name: str, model: str = "llama3.2", stream: bool = False, **fields: Any) -> Case:
    body = {"model": "{model}", "max_tokens": 3, "messages": [{"role": "user", "content": LONG_PROMPT}]}
    body.update(fields)
    if stream:
        body["stream"] = True
    return Case(name, "POST", "/v1/messages", body, {"real": model, "double": model})


def cases(thinking_models: dict[str, str], toolless_models: dict[str, str]) -> list[Case]:
    """Every request compared. ``thinking_models``/``toolless_models`` name, per server, a model that thinks and
    one without the tools capability."""
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image_data()}}
    url_image = {"type": "image", "source": {"type": "url", "url": "https://example.invalid/shapes.png"}}
    history = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "call_abc12345", "name": "get_weather",
                                           "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_abc12345",
                                      "content": "city not found", "is_error": True}]},
    ]
    thinking = thinking_models
    return [
        # --- routes and native endpoints
        Case("root", "GET", "/"),
        Case("root HEAD", "HEAD", "/"),
        Case("version", "GET", "/api/version"),
        Case("tags", "GET", "/api/tags"),
        Case("show", "POST", "/api/show", {"model": "llama3.2"}),
        Case("show unknown model", "POST", "/api/show", {"model": "no-such-model"}),
        Case("show without body", "POST", "/api/show"),
        Case("show by GET", "GET", "/api/show"),
        Case("/v1/v1/messages", "POST", "/v1/v1/messages", {"model": "llama3.2", "max_tokens": 3,
                                                            "messages": [{"role": "user", "content": "hi"}]}),
        Case("count_tokens", "POST", "/v1/messages/count_tokens",
             {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}),
        Case("messages by GET", "GET", "/v1/messages"),
        Case("unknown route", "GET", "/no/such/route"),
        Case("openai models", "GET", "/v1/models"),
        # --- request checks (middleware/anthropic.go, anthropic/anthropic.go)
        Case("bad JSON", "POST", "/v1/messages", "{not json"),
        messages_case("no model", model=""),
        messages_case("max_tokens 0", max_tokens=0),
        Case("max_tokens missing", "POST", "/v1/messages",
             {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}),
        messages_case("no messages", messages=[]),
        messages_case("unknown model", model="no-such-model"),
        messages_case("unknown model, stream", model="no-such-model", stream=True),
        messages_case("url image", messages=[{"role": "user", "content": [url_image, {"type": "text",
                                                                                      "text": "Describe it."}]}]),
        messages_case("image to a model that cannot see", messages=[{"role": "user", "content": [
            image, {"type": "text", "text": "Describe it."}]}]),
        Case("tools to a model without tools", "POST", "/v1/messages",
             {"model": "{model}", "max_tokens": 3, "tools": [TOOL],
              "messages": [{"role": "user", "content": "Weather in Paris?"}]}, toolless_models),
        # --- replies (a budget too small to finish, or a stop sequence any reply hits)
        messages_case("create, max_tokens"),
        messages_case("stream, max_tokens", stream=True),
        messages_case("create, stop sequence", max_tokens=40, stop_sequences=[" "]),
        messages_case("stream, stop sequence", stream=True, max_tokens=40, stop_sequences=[" "]),
        messages_case("system blocks, document and unknown blocks dropped",
                      system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
                      messages=[{"role": "user", "content": [
                          {"type": "text", "text": LONG_PROMPT},
                          {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                                          "data": "A document."}},
                          {"type": "no_such_block"}]}]),
        messages_case("document asking for citations", messages=[{"role": "user", "content": [
            {"type": "document", "title": "Zog", "citations": {"enabled": True},
             "source": {"type": "text", "media_type": "text/plain", "data": "The sky on Zog is green."}},
            {"type": "text", "text": "What colour is the sky on Zog?"}]}]),
        messages_case("citations in an earlier reply", messages=[
            {"role": "user", "content": "What colour is the sky on Zog?"},
            {"role": "assistant", "content": [{"type": "text", "text": "Green.", "citations": [
                {"type": "char_location", "cited_text": "green", "document_index": 0, "start_char_index": 18,
                 "end_char_index": 23}]}]},
            {"role": "user", "content": LONG_PROMPT}]),
        messages_case("sampling, tool_choice and metadata", temperature=0.2, top_p=0.9, top_k=20,
                      tool_choice={"type": "any"}, metadata={"user_id": "u1"}, tools=[TOOL]),
        messages_case("tools, stream", stream=True, tools=[TOOL]),
        messages_case("tool result with is_error in history", messages=history, tools=[TOOL]),
        messages_case("thinking asked of a model that cannot think", thinking={"type": "enabled",
                                                                                "budget_tokens": 1024}),
        # --- thinking (the real qwen3 thinks through its template; the double's runs two engine generations)
        Case("thinking model, thinking absent", "POST", "/v1/messages",
             {"model": "{model}", "max_tokens": 8, "messages": [{"role": "user", "content": LONG_PROMPT}]},
             thinking),
        Case("thinking model, thinking absent, stream", "POST", "/v1/messages",
             {"model": "{model}", "max_tokens": 8, "stream": True,
              "messages": [{"role": "user", "content": LONG_PROMPT}]}, thinking),
        Case("thinking model, thinking disabled", "POST", "/v1/messages",
             {"model": "{model}", "max_tokens": 3, "thinking": {"type": "disabled"},
              "messages": [{"role": "user", "content": LONG_PROMPT}]}, thinking),
        Case("thinking model, thinking disabled, stream", "POST", "/v1/messages",
             {"model": "{model}", "max_tokens": 3, "thinking": {"type": "disabled"}, "stream": True,
              "messages": [{"role": "user", "content": LONG_PROMPT}]}, thinking),
        # --- the OpenAI-compatible endpoint (lesson 12)
        Case("chat completions", "POST", "/v1/chat/completions",
             {"model": "llama3.2", "max_tokens": 3, "messages": [{"role": "user", "content": LONG_PROMPT}]}),
        Case("chat completions, stream with usage", "POST", "/v1/chat/completions",
             {"model": "llama3.2", "max_tokens": 3, "stream": True, "stream_options": {"include_usage": True},
              "messages": [{"role": "user", "content": LONG_PROMPT}]}),
        Case("chat completions, unknown model", "POST", "/v1/chat/completions",
             {"model": "no-such-model", "max_tokens": 3, "messages": [{"role": "user", "content": "hi"}]}),
        Case("chat completions, reasoning off", "POST", "/v1/chat/completions",
             {"model": "{model}", "max_tokens": 3, "reasoning_effort": "none",
              "messages": [{"role": "user", "content": LONG_PROMPT}]}, thinking),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Sending


def _fill(value: Any, model: str) -> Any:
    if isinstance(value, str):
        return value.replace("{model}", model)
    if isinstance(value, dict):
        return {key: _fill(item, model) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, model) for item in value]
    return value


def send(base_url: str, case: Case, side: str, timeout: float = 300) -> Reply:
    parts = urllib.parse.urlsplit(base_url)
    model = case.model.get(side, "")
    body = _fill(case.body, model)
    data = None if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        headers = {"x-api-key": "ollama", "anthropic-version": "2023-06-01"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        connection.request(case.method, _fill(case.path, model), data, headers)
        response = connection.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
        server_header = response.getheader("Server") is not None
    finally:
        connection.close()
    text = raw.decode(errors="replace")
    if content_type.startswith("text/event-stream"):
        return Reply(response.status, content_type, server_header, parse_events(text))
    try:
        parsed: Any = json.loads(text) if text.strip() else text
    except json.JSONDecodeError:
        parsed = text
    return Reply(response.status, content_type, server_header, parsed)


def parse_events(text: str) -> list[tuple[str, Any]]:
    """Server-sent events as (event name, data); an OpenAI stream has no names (``""``), its end is ``[DONE]``."""
    events = []
    for block in text.split("\n\n"):
        name, data = "", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if name or data:
            joined = "\n".join(data)
            try:
                events.append((name, json.loads(joined)))
            except json.JSONDecodeError:
                events.append((name, joined))
    return events


# ---------------------------------------------------------------------------------------------------------------
# Skeletons


def id_shape(value: str) -> str:
    """``msg_`` + 24 of [0-9a-f] → ``msg_<hex:24>``: the prefix and the alphabet and length of the rest.

    >>> id_shape("msg_3f9a1c7e52b04d8e6a1f0c27"), id_shape("call_x7k2m9qa"), id_shape("chatcmpl-42")
    ('msg_<hex:24>', 'call_<a-z0-9:8>', 'chatcmpl-<digits>')
    """
    match = re.match(r"([A-Za-z]+[-_])(.*)$", value)
    if not match:
        return f"<id:{len(value)}>"
    prefix, rest = match.groups()
    if rest.isdigit():  # a number (Ollama's chatcmpl-N), whatever its length
        return f"{prefix}<digits>"
    alphabet = "hex" if re.fullmatch(r"[0-9a-f]+", rest) else "a-z0-9" if re.fullmatch(r"[a-z0-9]+", rest) else "other"
    return f"{prefix}<{alphabet}:{len(rest)}>"


def skeleton(value: Any, key: str = "", model: str = "") -> Any:
    """What is compared of a JSON value; ``model``, when given, stands as ``{model}`` in every other string."""
    if isinstance(value, dict):
        return {k: skeleton(v, k, model) for k, v in value.items()}
    if isinstance(value, list):
        return fold([skeleton(item, key, model) for item in value])
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return type(value).__name__
    if isinstance(value, str):
        if key in TEXT_KEYS:
            return "<text>" if value else ""
        if key in ID_KEYS:
            return id_shape(value)
        if key in INSTALL_KEYS:
            return "<str>"
        return value.replace(model, "{model}") if model else value
    return repr(value)


def fold(items: list) -> list:
    """Consecutive equal items once: a run of deltas of one kind is one item."""
    folded: list = []
    for item in items:
        if not folded or folded[-1] != item:
            folded.append(item)
    return folded


def keyed(body: Any) -> Any:
    """A model list (``/api/tags``' ``models``, ``/v1/models``' ``data``) as a mapping by name: the two servers
    list different sets of models, in their own order."""
    if isinstance(body, dict):
        for field_name, key in (("models", "name"), ("data", "id")):
            entries = body.get(field_name)
            if isinstance(entries, list) and all(isinstance(e, dict) and key in e for e in entries):
                body = {**body, field_name: {entry[key]: {k: v for k, v in entry.items() if k != key}
                                             for entry in entries}}
    return body


def reply_skeleton(reply: Reply, model: str = "") -> dict:
    """``model``: the name the request used on this server, when the two servers were asked about different ones."""
    body = reply.body
    if isinstance(body, list) and reply.content_type.startswith("text/event-stream"):
        body = fold([{"event": name, "data": skeleton(data, model=model)} for name, data in body])
    else:
        body = skeleton(keyed(body), model=model)
    return {"status": reply.status, "content-type": reply.content_type, "Server header": reply.server_header,
            "body": body}


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, value


MISSING = "(absent)"


def differences(real: Any, double: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, real, double) for every leaf where the two skeletons disagree."""
    if isinstance(real, dict) and isinstance(double, dict):
        found = []
        for key in list(real) + [k for k in double if k not in real]:
            sub = f"{path}.{key}" if path else key
            if key not in double:
                found.append((sub, _brief(real[key]), MISSING))
            elif key not in real:
                found.append((sub, MISSING, _brief(double[key])))
            else:
                found += differences(real[key], double[key], sub)
        return found
    if isinstance(real, list) and isinstance(double, list):
        if len(real) != len(double) and all(isinstance(x, dict) and "event" in x for x in real + double):
            return [(f"{path} events", _events(real), _events(double))]
        if path.endswith("(names)"):
            return [] if real == double else [(path, _brief(real), _brief(double))]
        found = []
        for index in range(max(len(real), len(double))):
            sub = f"{path}[{index}]"
            if index >= len(double):
                found.append((sub, _brief(real[index]), MISSING))
            elif index >= len(real):
                found.append((sub, MISSING, _brief(double[index])))
            else:
                found += differences(real[index], double[index], sub)
        return found
    return [] if real == double else [(path, _brief(real), _brief(double))]


def _events(items: list) -> str:
    names = []
    for item in items:
        data = item.get("data")
        kind = data.get("type") if isinstance(data, dict) else None
        detail = ""
        if isinstance(data, dict):
            block = data.get("content_block") or data.get("delta") or {}
            detail = block.get("type", "") if isinstance(block, dict) else ""
        names.append(f"{item['event'] or kind or 'data'}{'(' + detail + ')' if detail else ''}")
    return " ".join(names)


def _brief(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def served_names(real: dict, double: dict) -> None:
    """The two servers serve different sets of models: each model list keeps the names both serve, compared entry
    by entry, and the two sets of names become one field of their own, ``body.models (names)``."""
    for field_name in ("models", "data"):
        ours, theirs = real["body"], double["body"]
        if not (isinstance(ours, dict) and isinstance(theirs, dict) and isinstance(ours.get(field_name), dict)
                and isinstance(theirs.get(field_name), dict)):
            continue
        both = ours[field_name].keys() & theirs[field_name].keys()
        for body in (ours, theirs):
            body[f"{field_name} (names)"] = sorted(body[field_name])
            body[field_name] = {name: entry for name, entry in body[field_name].items() if name in both}


def compare(real_url: str, double_url: str, all_cases: list[Case]) -> list[tuple[str, str, str, str]]:
    """(case, path, real, double) for every difference, in case order."""
    rows = []
    for case in all_cases:
        named = case.model.get("real") != case.model.get("double")  # then the name itself is no difference
        real = reply_skeleton(send(real_url, case, "real"), case.model.get("real", "") if named else "")
        double = reply_skeleton(send(double_url, case, "double"), case.model.get("double", "") if named else "")
        served_names(real, double)
        rows += [(case.name, path, r, d) for path, r, d in differences(real, double)]
    return rows


def table(rows: list[tuple[str, ...]], header: tuple[str, ...] = ("case", "field", "real Ollama", "double")) -> str:
    if not rows:
        return "no differences"
    widths = [min(60, max(len(str(row[i])) for row in [header, *rows])) for i in range(len(header))]
    line = "  ".join("-" * width for width in widths)
    out = [line, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out + [line])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", required=True, help="the real Ollama, e.g. http://127.0.0.1:11444")
    parser.add_argument("--double", required=True, help="the Ollama double, e.g. http://127.0.0.1:11435")
    args = parser.parse_args(argv)
    rows = compare(args.real, args.double, cases({"real": "qwen3", "double": "qwen3"},  # scripts/ollama.py's names
                                                 {"real": "smollm2", "double": "llava"}))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
