"""A connection check that says exactly what is wrong and how to fix it.

Example:
    >>> from ollama_anthropic_widgets import check_connection
    >>> print(check_connection())                     # uses OLLAMA_BASE_URL / OLLAMA_MODEL  # doctest: +SKIP
    OK: Ollama 0.15.2 answers at http://localhost:11434 and model 'llama3.2' replied.
    >>> print(check_connection(lang="zh"))            # or OLLAMA_KIT_LANG=zh  # doctest: +SKIP
    正常：http://localhost:11434 上的 Ollama 0.15.2 有响应，模型 'llama3.2' 已回复。

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

from ..core.i18n import language, localized_from
from .config import api_key_for, is_anthropic_url, settings

FIRST_OLLAMA_WITH_ANTHROPIC_API = (0, 14, 0)


# The connection check's words, in the kit's format (core/i18n.py): a key, then the same sentence in each language.
WORDS: dict[str, dict[str, str]] = {
    "doctor.ok": {
        "en": "OK: {server} answers at {base_url} and model {model!r} replied.",
        "zh": "正常：{base_url} 上的 {server} 有响应，模型 {model!r} 已回复。",
    },
    "doctor.problem_line": {"en": "PROBLEM: {problem}", "zh": "问题：{problem}"},
    "doctor.fix_line": {"en": "FIX:     {fix}", "zh": "解决办法：{fix}"},
    "doctor.models_line": {"en": "Models on this server: {models}", "zh": "该服务上的模型：{models}"},
    "doctor.server_ollama": {"en": "Ollama", "zh": "Ollama"},
    "doctor.server_llama_cpp": {"en": "llama.cpp's llama-server", "zh": "llama.cpp 的 llama-server"},
    "doctor.server_anthropic": {"en": "Anthropic's API", "zh": "Anthropic 官方 API"},
    "doctor.server_unknown": {"en": "an unknown server", "zh": "未知的服务"},
    "doctor.server_looks_like": {"en": "server looks like {server}", "zh": "服务识别为 {server}"},
    "doctor.start_ollama": {
        "en": "start Ollama (`ollama serve`, or open the Ollama app)",
        "zh": "启动 Ollama（运行 `ollama serve`，或打开 Ollama 应用）",
    },
    "doctor.start_in_clone": {
        "en": "{start}, or run `make lab` in {root}, which starts the embedded engine when Ollama is not running",
        "zh": "{start}；或者在 {root} 里运行 `make lab`：Ollama 没有运行时，它会启动内置引擎",
    },
    "doctor.start_from_wheel": {
        "en": "{start}; no Ollama yet? install it from https://ollama.com and run `ollama pull {model}`. Without "
              "Ollama: clone the kit's repository and run `make lab` there, which builds and starts an embedded "
              "llama.cpp engine, then set OLLAMA_BASE_URL and OLLAMA_MODEL to what it prints",
        "zh": "{start}。还没有 Ollama？从 https://ollama.com 安装，再运行 `ollama pull {model}`。不用 Ollama 的话："
              "克隆控件包的仓库，在仓库里运行 `make lab`，它会构建并启动内置的 llama.cpp 引擎，然后按它打印的内容"
              "设置 OLLAMA_BASE_URL 和 OLLAMA_MODEL",
    },
    "doctor.not_http": {"en": "{base_url!r} is not an http(s) URL", "zh": "{base_url!r} 不是 http(s) 地址"},
    "doctor.not_http_fix": {
        "en": "use a URL like http://localhost:11434 (set OLLAMA_BASE_URL)",
        "zh": "使用 http://localhost:11434 这样的地址（通过环境变量 OLLAMA_BASE_URL 设置）",
    },
    "doctor.ends_with_v1": {
        "en": "the base URL ends with /v1 ({base_url}); the Anthropic SDK appends /v1/messages itself, so it would "
              "request {base_url}/v1/messages and get 404",
        "zh": "接口地址以 /v1 结尾（{base_url}）：Anthropic SDK 会自己加上 /v1/messages，于是实际请求的是 "
              "{base_url}/v1/messages，得到 404",
    },
    "doctor.ends_with_v1_fix": {
        "en": "use base_url={root!r} (OpenAI's SDK is the one that wants /v1)",
        "zh": "改用 base_url={root!r}（接口地址只到端口为止；要带 /v1 的是 OpenAI 的 SDK）",
    },
    "doctor.timeout": {
        "en": "{base_url} did not answer within {timeout:g} s",
        "zh": "{base_url} 在 {timeout:g} 秒内没有响应",
    },
    "doctor.timeout_fix": {
        "en": "check that the host and port are right and that the server is not overloaded",
        "zh": "检查主机名和端口是否正确，以及模型服务是否负载过高",
    },
    "doctor.nothing_answers": {
        "en": "nothing answers at {base_url} ({reason})",
        "zh": "{base_url} 上没有任何服务响应（{reason}）",
    },
    "doctor.nothing_answers_fix": {
        "en": "check the host and port in OLLAMA_BASE_URL and that the server is running",
        "zh": "检查 OLLAMA_BASE_URL 里的主机名和端口，并确认模型服务正在运行",
    },
    "doctor.ollama_too_old": {
        "en": "Ollama {version} is older than 0.14.0, the first release with the Anthropic-compatible API "
              "(POST /v1/messages)",
        "zh": "Ollama {version} 版本过旧：Anthropic 兼容接口（POST /v1/messages）从 0.14.0 才开始提供",
    },
    "doctor.ollama_too_old_fix": {
        "en": "upgrade Ollama (download the current release or `brew upgrade ollama`), then retry",
        "zh": "升级 Ollama（下载最新版本，或运行 `brew upgrade ollama`），然后重试",
    },
    "doctor.model_not_pulled": {
        "en": "model {model!r} is not pulled on this Ollama",
        "zh": "这个 Ollama 上还没有拉取模型 {model!r}",
    },
    "doctor.model_not_pulled_fix": {
        "en": "run `ollama pull {model}` (or set OLLAMA_MODEL to one of the models listed below)",
        "zh": "运行 `ollama pull {model}`（或把 OLLAMA_MODEL 设为下面列出的某个模型）",
    },
    "doctor.post_failed": {
        "en": "POST {base_url}/v1/messages failed ({error})",
        "zh": "POST {base_url}/v1/messages 失败（{error}）",
    },
    "doctor.post_failed_fix": {
        "en": "retry; if it persists, restart the server",
        "zh": "重试；如果问题依旧，重启模型服务",
    },
    "doctor.unknown_model": {
        "en": "the server does not know model {model!r} ({message})",
        "zh": "模型服务上没有模型 {model!r}（{message}）",
    },
    "doctor.unknown_model_fix": {
        "en": "pull it (`ollama pull {model}`) or set OLLAMA_MODEL to a model the server has",
        "zh": "拉取这个模型（`ollama pull {model}`），或把 OLLAMA_MODEL 设为服务上已有的模型",
    },
    "doctor.no_messages_endpoint": {
        "en": "{base_url} has no Anthropic-compatible endpoint: POST /v1/messages -> 404 ({message})",
        "zh": "{base_url} 没有 Anthropic 兼容接口的端点：POST /v1/messages -> 404（{message}）",
    },
    "doctor.no_messages_endpoint_fix": {
        "en": "point OLLAMA_BASE_URL at Ollama ≥ 0.14.0, llama-server, or another server that implements "
              "Anthropic's Messages API",
        "zh": "把 OLLAMA_BASE_URL 指向 Ollama ≥ 0.14.0、llama-server，或其他实现了 Anthropic Messages API 的服务",
    },
    "doctor.key_refused": {
        "en": "the server refused the API key ({status}: {message})",
        "zh": "模型服务拒绝了 API 密钥（{status}：{message}）",
    },
    "doctor.key_refused_fix": {
        "en": "for Anthropic's API set ANTHROPIC_API_KEY; local servers accept any key",
        "zh": "使用 Anthropic 官方 API 时请设置环境变量 ANTHROPIC_API_KEY；本地服务接受任意密钥",
    },
    "doctor.other_status": {
        "en": "POST /v1/messages -> {status}: {message}",
        "zh": "POST /v1/messages -> {status}：{message}",
    },
    "doctor.other_status_fix": {
        "en": "read the server's message above; the server's log usually says more",
        "zh": "看上面模型服务返回的信息；服务日志里通常有更多细节",
    },
}


def _say(key: str, lang: str | None = None, /, **values: Any) -> str:
    return localized_from(WORDS, key, lang, **values)


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

    ``problem``, ``fix`` and ``str()`` are in ``lang`` (``"en"`` or ``"zh"``).

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
    lang: str = "en"

    @property
    def server_name(self) -> str:
        key = _SERVER_NAME_KEYS.get(self.server_kind or "", "doctor.server_unknown")
        name = _say(key, self.lang)
        return f"{name} {self.version}" if self.version else name

    def __str__(self) -> str:
        if self.ok:
            return _say("doctor.ok", self.lang, server=self.server_name, base_url=self.base_url,
                             model=self.model)
        lines = [_say("doctor.problem_line", self.lang, problem=self.problem),
                 _say("doctor.fix_line", self.lang, fix=self.fix)]
        if self.models:
            lines.append(_say("doctor.models_line", self.lang, models=", ".join(self.models)))
        return "\n".join(lines)


_SERVER_NAME_KEYS = {"ollama": "doctor.server_ollama", "llama.cpp": "doctor.server_llama_cpp",
                     "anthropic": "doctor.server_anthropic"}


def repository_root() -> Path | None:
    """The clone the kit runs from (``pip install -e .`` there, or ``make lab``); ``None`` when installed from a
    wheel, where the clone's ``make lab`` and embedded engine are not at hand.

    Example:
        >>> root = repository_root()
        >>> root is None or (root / "Makefile").is_file()
        True
    """
    root = Path(__file__).resolve().parents[2]  # widgets/lessons/doctor.py in a clone
    return root if (root / "Makefile").is_file() and (root / "scripts" / "engine.py").is_file() else None


def start_server_advice(model: str, lang: str | None = None) -> str:
    """What to do when nothing answers at Ollama's address, fitting how the kit was installed.

    Example:
        >>> print(start_server_advice("llama3.2", lang="en"))          # doctest: +ELLIPSIS
        start Ollama (`ollama serve`, or open the Ollama app)...
    """
    start = _say("doctor.start_ollama", lang)
    root = repository_root()
    if root is not None:
        return _say("doctor.start_in_clone", lang, start=start, root=root)
    return _say("doctor.start_from_wheel", lang, start=start, model=model)


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
                     send_test_message: bool = True, http: HttpFunction = urllib_http,
                     lang: str | None = None) -> Diagnosis:
    """Check the server at ``base_url`` (default: :func:`~.settings`) for ``model``; never raises (except
    ``ValueError`` for a ``lang`` it does not speak).

    ``send_test_message=False`` skips the final one-token ``POST /v1/messages``. ``lang`` (``"en"`` or ``"zh"``;
    default: the ``OLLAMA_KIT_LANG`` setting, else English) is the language of the diagnosis and its fix.

    Example:
        >>> check_connection("http://127.0.0.1:9", "llama3.2", timeout=0.5, lang="en").problem  # doctest: +ELLIPSIS
        'nothing answers at http://127.0.0.1:9...'
        >>> check_connection("http://127.0.0.1:9", "llama3.2", timeout=0.5, lang="zh").problem  # doctest: +ELLIPSIS
        'http://127.0.0.1:9 上没有任何服务响应...'
    """
    config = settings()
    lang = language(lang) if lang is not None else config.lang
    base_url = (base_url or config.base_url).rstrip("/")
    model = model or config.model
    diagnosis = Diagnosis(ok=False, base_url=base_url, model=model, lang=lang)

    def fail(key: str, **values: Any) -> Diagnosis:
        diagnosis.problem = _say(key, lang, **values)
        diagnosis.fix = _say(f"{key}_fix", lang, **values)
        return diagnosis

    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return fail("doctor.not_http", base_url=base_url)
    if parts.path.rstrip("/").endswith("/v1"):
        return fail("doctor.ends_with_v1", base_url=base_url, root=base_url[: -len("/v1")])

    def get(path: str) -> HttpReply:
        return http("GET", base_url + path, None, {}, timeout)

    try:
        root_reply = get("/")
    except TimeoutError:
        return fail("doctor.timeout", base_url=base_url, timeout=timeout)
    except OSError as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        fail("doctor.nothing_answers", base_url=base_url, reason=reason)
        if parts.port == 11434 and parts.hostname in ("localhost", "127.0.0.1", "::1"):  # Ollama's own address
            diagnosis.fix = start_server_advice(model, lang)
        return diagnosis
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
        diagnosis.checks.append(_say("doctor.server_looks_like", lang, server=diagnosis.server_name))

    if diagnosis.server_kind == "ollama":
        parsed = _parse_version(diagnosis.version or "")
        if parsed is not None and parsed < FIRST_OLLAMA_WITH_ANTHROPIC_API:
            return fail("doctor.ollama_too_old", version=diagnosis.version)
        tags = get("/api/tags").json() or {}
        diagnosis.models = [entry.get("name", "") for entry in tags.get("models", []) if isinstance(entry, dict)]
        if not _model_matches(model, diagnosis.models):
            return fail("doctor.model_not_pulled", model=model)
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
        return fail("doctor.post_failed", base_url=base_url, error=error)
    diagnosis.checks.append(f"POST /v1/messages -> {reply.status}")
    message = _error_message(reply)
    if reply.status == 200:
        diagnosis.ok = True
        return diagnosis
    if reply.status == 404 and "model" in message.lower():
        return fail("doctor.unknown_model", model=model, message=message)
    if reply.status == 404:
        return fail("doctor.no_messages_endpoint", base_url=base_url, message=message)
    if reply.status in (401, 403):
        return fail("doctor.key_refused", status=reply.status, message=message)
    return fail("doctor.other_status", status=reply.status, message=message)
