"""A connection check that says exactly what is wrong and how to fix it.

Example:
    >>> from ollama_anthropic_widgets import check_connection
    >>> print(check_connection())                     # uses OLLAMA_BASE_URL / OLLAMA_MODEL  # doctest: +SKIP
    OK: Ollama 0.15.2 answers at http://localhost:11434 and model 'llama3.2' replied.

It asks, in order: is the URL well-formed (no ``/v1``)? does anything answer? which server is it (Ollama's
``/api/version``, llama.cpp's ``Server`` header, Anthropic's host)? is Ollama new enough (0.14.0 added the
Anthropic-compatible API)? is the model pulled (``/api/tags``)? and finally: does ``POST /v1/messages``
answer? The first failing step becomes the diagnosis. Only the standard library is used, so it also works
when the SDK is misconfigured.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config import api_key_for, is_anthropic_url, settings

FIRST_OLLAMA_WITH_ANTHROPIC_API = (0, 14, 0)


@dataclass
class HttpReply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


# (method, url, json body or None, headers, timeout) -> HttpReply; raises OSError when nothing answers.
HttpFunction = Callable[[str, str, Any, dict[str, str], float], HttpReply]


def urllib_http(method: str, url: str, body: Any, headers: dict[str, str], timeout: float) -> HttpReply:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpReply(response.status, {k.lower(): v for k, v in response.headers.items()},
                             response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return HttpReply(error.code, {k.lower(): v for k, v in error.headers.items()},
                         error.read().decode("utf-8", "replace"))
    except urllib.error.URLError as error:
        reason = error.reason
        raise reason if isinstance(reason, OSError) else OSError(str(reason)) from error


@dataclass
class Diagnosis:
    """What :func:`check_connection` found. ``ok`` is True only when a real message round-trip worked.

    Example:
        >>> print(Diagnosis(ok=False, base_url="http://localhost:11434", model="qwen3",
        ...                 problem="model 'qwen3' is not pulled on this Ollama", fix="run `ollama pull qwen3`"))
        PROBLEM: model 'qwen3' is not pulled on this Ollama
        FIX:     run `ollama pull qwen3`
    """

    ok: bool
    base_url: str
    model: str
    server_kind: str | None = None  # "ollama" | "llama.cpp" | "anthropic" | "unknown" | None (nothing answered)
    version: str | None = None
    models: list[str] = field(default_factory=list)
    problem: str | None = None
    fix: str | None = None
    checks: list[str] = field(default_factory=list)

    @property
    def server_name(self) -> str:
        names = {"ollama": "Ollama", "llama.cpp": "llama.cpp's llama-server", "anthropic": "Anthropic's API"}
        name = names.get(self.server_kind or "", "an unknown server")
        return f"{name} {self.version}" if self.version else name

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.server_name} answers at {self.base_url} and model {self.model!r} replied."
        lines = [f"PROBLEM: {self.problem}", f"FIX:     {self.fix}"]
        if self.models:
            lines.append(f"Models on this server: {', '.join(self.models)}")
        return "\n".join(lines)


def repository_root() -> Path | None:
    """The clone the kit runs from (``pip install -e .`` there, or ``make lab``); ``None`` when installed from a
    wheel, where the clone's ``make lab`` and embedded engine are not at hand.

    Example:
        >>> root = repository_root()
        >>> root is None or (root / "Makefile").is_file()
        True
    """
    root = Path(__file__).resolve().parent.parent
    return root if (root / "Makefile").is_file() and (root / "scripts" / "engine.py").is_file() else None


def start_server_advice(model: str) -> str:
    """What to do when nothing answers at Ollama's address, fitting how the kit was installed.

    Example:
        >>> print(start_server_advice("llama3.2"))          # doctest: +ELLIPSIS
        start Ollama (`ollama serve`, or open the Ollama app)...
    """
    start = "start Ollama (`ollama serve`, or open the Ollama app)"
    root = repository_root()
    if root is not None:
        return f"{start}, or run `make lab` in {root}, which starts the embedded engine when Ollama is not running"
    return (f"{start}; no Ollama yet? install it from https://ollama.com and run `ollama pull {model}`. Without "
            "Ollama: clone the kit's repository and run `make lab` there, which builds and starts an embedded "
            "llama.cpp engine, then set OLLAMA_BASE_URL and OLLAMA_MODEL to what it prints")


def _parse_version(text: str) -> tuple[int, ...] | None:
    parts = []
    for piece in text.lstrip("v").split("-")[0].split(".")[:3]:
        if not piece.isdigit():
            return None
        parts.append(int(piece))
    return tuple(parts) if parts else None


def _error_message(reply: HttpReply) -> str:
    payload = reply.json()
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return str(payload["error"].get("message", ""))
    return reply.body.strip()[:200]


def _model_matches(wanted: str, available: list[str]) -> bool:
    # Ollama lists "llama3.2:latest" for a model pulled as "llama3.2".
    return wanted in available or (":" not in wanted and f"{wanted}:latest" in available)


def check_connection(base_url: str | None = None, model: str | None = None, *, timeout: float = 3.0,
                     send_test_message: bool = True, http: HttpFunction = urllib_http) -> Diagnosis:
    """Check the server at ``base_url`` (default: :func:`~.settings`) for ``model``; never raises.

    ``send_test_message=False`` skips the final one-token ``POST /v1/messages``.

    Example:
        >>> check_connection("http://127.0.0.1:9", "llama3.2", timeout=0.5).problem  # doctest: +ELLIPSIS
        'nothing answers at http://127.0.0.1:9...'
    """
    config = settings()
    base_url = (base_url or config.base_url).rstrip("/")
    model = model or config.model
    diagnosis = Diagnosis(ok=False, base_url=base_url, model=model)

    def fail(problem: str, fix: str) -> Diagnosis:
        diagnosis.problem, diagnosis.fix = problem, fix
        return diagnosis

    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return fail(f"{base_url!r} is not an http(s) URL",
                    "use a URL like http://localhost:11434 (set OLLAMA_BASE_URL)")
    if parts.path.rstrip("/").endswith("/v1"):
        root = base_url[: -len("/v1")]
        return fail(f"the base URL ends with /v1 ({base_url}); the Anthropic SDK appends /v1/messages itself, "
                    f"so it would request {base_url}/v1/messages and get 404",
                    f"use base_url={root!r} (OpenAI's SDK is the one that wants /v1)")

    def get(path: str) -> HttpReply:
        return http("GET", base_url + path, None, {}, timeout)

    try:
        root_reply = get("/")
    except TimeoutError:
        return fail(f"{base_url} did not answer within {timeout:g} s",
                    "check that the host and port are right and that the server is not overloaded")
    except OSError as error:
        local_ollama = parts.port == 11434 and parts.hostname in ("localhost", "127.0.0.1", "::1")
        fix = (start_server_advice(model) if local_ollama else
               "check the host and port in OLLAMA_BASE_URL and that the server is running")
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return fail(f"nothing answers at {base_url} ({reason})", fix)
    diagnosis.checks.append(f"GET / -> {root_reply.status}")

    if is_anthropic_url(base_url):
        diagnosis.server_kind = "anthropic"
    else:
        version_reply = get("/api/version")
        payload = version_reply.json()
        if version_reply.status == 200 and isinstance(payload, dict) and "version" in payload:
            diagnosis.server_kind, diagnosis.version = "ollama", str(payload["version"])
        elif "llama.cpp" in root_reply.headers.get("server", "").lower():
            diagnosis.server_kind = "llama.cpp"
        else:
            diagnosis.server_kind = "unknown"
        diagnosis.checks.append(f"server looks like {diagnosis.server_name}")

    if diagnosis.server_kind == "ollama":
        parsed = _parse_version(diagnosis.version or "")
        if parsed is not None and parsed < FIRST_OLLAMA_WITH_ANTHROPIC_API:
            return fail(f"Ollama {diagnosis.version} is older than 0.14.0, the first release with the "
                        "Anthropic-compatible API (POST /v1/messages)",
                        "upgrade Ollama (download the current release or `brew upgrade ollama`), then retry")
        tags = get("/api/tags").json() or {}
        diagnosis.models = [entry.get("name", "") for entry in tags.get("models", []) if isinstance(entry, dict)]
        if not _model_matches(model, diagnosis.models):
            return fail(f"model {model!r} is not pulled on this Ollama",
                        f"run `ollama pull {model}` (or set OLLAMA_MODEL to one of the models listed below)")
    elif diagnosis.server_kind == "llama.cpp":
        listing = get("/v1/models").json() or {}
        diagnosis.models = [entry.get("id") or entry.get("name", "") for entry in listing.get("data", [])
                            if isinstance(entry, dict)]

    if not send_test_message:
        diagnosis.ok = True
        return diagnosis
    headers = {"x-api-key": api_key_for(base_url), "anthropic-version": "2023-06-01"}
    request = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
    try:
        reply = http("POST", base_url + "/v1/messages", request, headers, max(timeout, 30.0))
    except OSError as error:
        return fail(f"POST {base_url}/v1/messages failed ({error})", "retry; if it persists, restart the server")
    diagnosis.checks.append(f"POST /v1/messages -> {reply.status}")
    message = _error_message(reply)
    if reply.status == 200:
        diagnosis.ok = True
        return diagnosis
    if reply.status == 404 and "model" in message.lower():
        return fail(f"the server does not know model {model!r} ({message})",
                    f"pull it (`ollama pull {model}`) or set OLLAMA_MODEL to a model the server has")
    if reply.status == 404:
        return fail(f"{base_url} has no Anthropic-compatible endpoint: POST /v1/messages -> 404 ({message})",
                    "point OLLAMA_BASE_URL at Ollama ≥ 0.14.0, llama-server, or another server that "
                    "implements Anthropic's Messages API")
    if reply.status in (401, 403):
        return fail(f"the server refused the API key ({reply.status}: {message})",
                    "for Anthropic's API set ANTHROPIC_API_KEY; local servers accept any key")
    return fail(f"POST /v1/messages -> {reply.status}: {message}",
                "read the server's message above; the server's log usually says more")
