"""Each diagnosis of ollama_anthropic_widgets.lessons.doctor.check_connection, against scripted HTTP replies.

Ollama replies are shaped as Ollama v0.32.15 answers (server/routes.go, middleware/anthropic.go: /api/version,
/api/tags, the Anthropic
error JSON, the plain-text "404 page not found" of an unknown route). The llama.cpp replies copy what the
embedded engine (llama-server from llama-cpp-python 0.3.36's vendored llama.cpp) answered on 2026-11-26.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ollama_anthropic_widgets.lessons import doctor
from ollama_anthropic_widgets.lessons.doctor import HttpReply, check_connection

OLLAMA_ERROR_404_MODEL = {"type": "error", "request_id": "req_0123",
                          "error": {"type": "not_found_error", "message": "model 'llama3.2' not found"}}
OK_MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "model": "llama3.2",
              "content": [{"type": "text", "text": "Hi"}], "stop_reason": "max_tokens", "stop_sequence": None,
              "usage": {"input_tokens": 8, "output_tokens": 1}}


def json_reply(status: int, payload, server: str | None = None) -> HttpReply:
    headers = {"content-type": "application/json"}
    if server:
        headers["server"] = server
    return HttpReply(status, headers, json.dumps(payload))


class ScriptedServer:
    """Answers (method, path) from a table; anything else is the route-not-found reply of that server."""

    def __init__(self, routes: dict[tuple[str, str], HttpReply], not_found: HttpReply | None = None,
                 refuse: type[OSError] | None = None):
        self.routes, self.refuse = routes, refuse
        self.not_found = not_found or HttpReply(404, {"content-type": "text/plain"}, "404 page not found")
        self.calls: list[tuple[str, str]] = []

    def __call__(self, method, url, body, headers, timeout):
        if self.refuse:
            raise self.refuse("Connection refused")
        path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
        self.calls.append((method, path))
        return self.routes.get((method, path), self.not_found)


def ollama(version="0.15.2", models=("llama3.2:latest", "llava:latest"), messages_reply=None) -> ScriptedServer:
    return ScriptedServer({
        ("GET", "/"): HttpReply(200, {"content-type": "text/plain"}, "Ollama is running"),
        ("GET", "/api/version"): json_reply(200, {"version": version}),
        ("GET", "/api/tags"): json_reply(200, {"models": [{"name": name} for name in models]}),
        ("POST", "/v1/messages"): messages_reply or json_reply(200, OK_MESSAGE),
    })


def test_healthy_ollama_with_pulled_model():
    server = ollama()
    diagnosis = check_connection("http://localhost:11434", "llama3.2", http=server)
    assert diagnosis.ok, diagnosis
    assert (diagnosis.server_kind, diagnosis.version) == ("ollama", "0.15.2")
    assert ("POST", "/v1/messages") in server.calls
    assert str(diagnosis).startswith("OK: Ollama 0.15.2")


def test_server_not_running_at_ollamas_port_suggests_starting_ollama_and_the_clones_make_lab(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor, "repository_root", lambda: tmp_path)
    refusing = ScriptedServer({}, refuse=ConnectionRefusedError)
    diagnosis = check_connection("http://localhost:11434", "llama3.2", http=refusing)
    assert not diagnosis.ok and diagnosis.server_kind is None
    assert "nothing answers" in diagnosis.problem
    assert "ollama serve" in diagnosis.fix and f"`make lab` in {tmp_path}" in diagnosis.fix


def test_installed_from_a_wheel_the_advice_has_no_make_lab_to_run_here(monkeypatch):
    monkeypatch.setattr(doctor, "repository_root", lambda: None)
    refusing = ScriptedServer({}, refuse=ConnectionRefusedError)
    fix = check_connection("http://127.0.0.1:11434", "qwen3", http=refusing).fix
    assert "ollama serve" in fix and "ollama pull qwen3" in fix
    assert "clone the kit's repository and run `make lab` there" in fix
    assert "or run `make lab`" not in fix


def test_the_clone_is_found_only_when_the_kit_runs_from_it():
    """`pip install -e .` (make install) runs the kit from this clone; `make test-bounds` installs it from a wheel."""
    clone = Path(__file__).resolve().parents[2]
    runs_from_clone = Path(doctor.__file__).resolve().is_relative_to(clone / "widgets")
    assert doctor.repository_root() == (clone if runs_from_clone else None)
    assert runs_from_clone or "site-packages" in doctor.__file__  # the check above looked at one of the two cases


def test_server_not_running_elsewhere_points_at_the_url():
    diagnosis = check_connection("http://10.0.0.5:8080", "m", http=ScriptedServer({}, refuse=ConnectionRefusedError))
    assert "OLLAMA_BASE_URL" in diagnosis.fix


def test_timeout_is_its_own_diagnosis():
    silent = ScriptedServer({}, refuse=TimeoutError)
    diagnosis = check_connection("http://localhost:11434", "m", timeout=0.5, http=silent)
    assert "did not answer within 0.5 s" in diagnosis.problem


def test_v1_suffix_is_caught_before_any_request():
    server = ollama()
    diagnosis = check_connection("http://localhost:11434/v1", "llama3.2", http=server)
    assert not diagnosis.ok
    assert "/v1/v1/messages" in diagnosis.problem
    assert "base_url='http://localhost:11434'" in diagnosis.fix
    assert server.calls == []


def test_not_a_url():
    assert "not an http(s) URL" in check_connection("localhost:11434", "m", http=ollama()).problem


def test_model_not_pulled_lists_what_is_there():
    diagnosis = check_connection("http://localhost:11434", "qwen3", http=ollama())
    assert not diagnosis.ok
    assert "not pulled" in diagnosis.problem and "ollama pull qwen3" in diagnosis.fix
    assert diagnosis.models == ["llama3.2:latest", "llava:latest"]
    assert "llava:latest" in str(diagnosis)


def test_explicit_tag_must_match_exactly():
    assert check_connection("http://localhost:11434", "llama3.2:latest", http=ollama()).ok
    assert not check_connection("http://localhost:11434", "llama3.2:1b", http=ollama()).ok


@pytest.mark.parametrize("version", ["0.13.5", "0.9.0"])
def test_ollama_older_than_0_14_cannot_serve_the_anthropic_api(version):
    diagnosis = check_connection("http://localhost:11434", "llama3.2", http=ollama(version=version))
    assert f"Ollama {version} is older than 0.14.0" in diagnosis.problem
    assert "upgrade" in diagnosis.fix


def test_prerelease_version_strings_are_understood():
    assert check_connection("http://localhost:11434", "llama3.2", http=ollama(version="0.14.0-rc1")).ok


def test_model_missing_reported_by_the_messages_endpoint():
    server = ollama(models=("llama3.2:latest",), messages_reply=json_reply(404, OLLAMA_ERROR_404_MODEL))
    diagnosis = check_connection("http://localhost:11434", "llama3.2", http=server)
    assert "does not know model 'llama3.2'" in diagnosis.problem


def test_server_without_anthropic_endpoint():
    server = ScriptedServer({("GET", "/"): HttpReply(200, {}, "hello")})
    diagnosis = check_connection("http://127.0.0.1:8000", "m", http=server)
    assert diagnosis.server_kind == "unknown"
    assert "no Anthropic-compatible endpoint" in diagnosis.problem
    assert "404 page not found" in diagnosis.problem


def test_llama_cpp_is_recognised_by_its_server_header():
    not_found = json_reply(404, {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}},
                           server="llama.cpp")
    server = ScriptedServer({
        ("GET", "/v1/models"): json_reply(200, {"data": [{"id": "smollm2-135m"}]}, server="llama.cpp"),
        ("POST", "/v1/messages"): json_reply(200, OK_MESSAGE, server="llama.cpp"),
    }, not_found=not_found)
    diagnosis = check_connection("http://127.0.0.1:18434", "smollm2-135m", http=server)
    assert diagnosis.ok and diagnosis.server_kind == "llama.cpp"
    assert diagnosis.models == ["smollm2-135m"]


def test_anthropic_api_without_key():
    server = ScriptedServer({
        ("GET", "/"): HttpReply(404, {}, ""),
        ("POST", "/v1/messages"): json_reply(401, {"type": "error", "error": {"type": "authentication_error",
                                                                                "message": "invalid x-api-key"}}),
    })
    diagnosis = check_connection("https://api.anthropic.com", "claude-x", http=server)
    assert diagnosis.server_kind == "anthropic"
    assert "refused the API key" in diagnosis.problem and "ANTHROPIC_API_KEY" in diagnosis.fix


def test_server_error_message_is_passed_on():
    server = ollama(messages_reply=json_reply(500, {"type": "error", "error": {"type": "api_error",
                                                                                 "message": "out of memory"}}))
    diagnosis = check_connection("http://localhost:11434", "llama3.2", http=server)
    assert "500: out of memory" in diagnosis.problem


def test_skipping_the_test_message():
    server = ollama()
    assert check_connection("http://localhost:11434", "llama3.2", send_test_message=False, http=server).ok
    assert ("POST", "/v1/messages") not in server.calls


def test_defaults_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://localhost:11434/")
    monkeypatch.setenv("OLLAMA_MODEL", "llava")
    diagnosis = check_connection(http=ollama())
    assert (diagnosis.base_url, diagnosis.model, diagnosis.ok) == ("http://localhost:11434", "llava", True)


class KeyRecorder(ScriptedServer):
    """Keeps the x-api-key of every request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys: list[str | None] = []

    def __call__(self, method, url, body, headers, timeout):
        self.keys.append(headers.get("x-api-key"))
        return super().__call__(method, url, body, headers, timeout)


def test_the_key_follows_the_checked_url_not_the_configured_one(monkeypatch):
    # Configured for a local Ollama, checking Anthropic's API: the real key goes to Anthropic (it used to be "ollama").
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://localhost:11434")
    anthropic_api = KeyRecorder({("GET", "/"): HttpReply(404, {}, ""),
                                 ("POST", "/v1/messages"): json_reply(200, OK_MESSAGE)})
    assert check_connection("https://api.anthropic.com", "claude-x", http=anthropic_api).ok
    assert anthropic_api.keys[-1] == "sk-ant-secret"
    # Configured for Anthropic's API, checking another server: the real key must not leave for it.
    monkeypatch.setenv("OLLAMA_BASE_URL", "https://api.anthropic.com")
    local = ollama()
    recorder = KeyRecorder(local.routes)
    assert check_connection("http://10.0.0.5:11434", "llama3.2", http=recorder).ok
    assert recorder.keys[-1] == "ollama" and "sk-ant-secret" not in recorder.keys
