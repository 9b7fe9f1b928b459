"""scripts/ollama.py without Go, a build or a server: the Modelfiles, the build stamp, missing tools, start/stop
safety. The real build and the real server are exercised by make test-ollama (tests/ollama/)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from tests.net import closed_port
from tests.replay import load_ollama


@pytest.fixture()
def ollama(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_HOME", str(tmp_path / "engine"))
    monkeypatch.setenv("REAL_OLLAMA_HOME", str(tmp_path / "ollama"))
    return load_ollama()  # a fresh module each test; it looks for its files under those two folders


def test_the_cache_defaults_beside_the_engines(monkeypatch, tmp_path):
    monkeypatch.delenv("REAL_OLLAMA_HOME", raising=False)
    monkeypatch.delenv("ENGINE_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert load_ollama().ollama_home() == tmp_path / "ollama-anthropic-kit" / "ollama"


def test_each_name_gets_the_capabilities_its_template_gives(ollama, tmp_path):
    """What Ollama reads from a template (server/images.go): .Tools gives tools; the <think> tags around .Thinking
    in the range over .Messages give thinking. No template: Ollama detects ChatML, which has neither."""
    gguf = tmp_path / "model.gguf"
    text, thinking, plain = (ollama.modelfile(name, gguf) for name in ("llama3.2", "qwen3", "smollm2"))
    for modelfile in (text, thinking, plain):
        assert modelfile.startswith(f"FROM {gguf}\n")
        assert "PARAMETER num_thread 1\n" in modelfile and "PARAMETER seed 42\n" in modelfile
    assert ".Tools" in text and ".Thinking" not in text and "<think>" not in text
    assert ".Tools" in thinking and "<think>{{ .Thinking }}</think>" in thinking
    assert "{{ if and $.IsThinkSet $.Think }}<think>" in thinking  # the reply opens inside the thinking
    assert "TEMPLATE" not in plain and "PARAMETER stop" not in plain
    assert 'PARAMETER stop "<|im_end|>"' in text


def test_start_before_install_says_what_to_run(ollama):
    with pytest.raises(ollama.OllamaError, match=r"not installed: run `python scripts/ollama.py install`"):
        ollama.start(closed_port())


def installed(ollama, script: str = "sleep 30") -> dict:
    """A stand-in binary with a current stamp, the runner link and a model file: what `start` checks for."""
    p = ollama.paths()
    p["binary"].parent.mkdir(parents=True)
    p["binary"].write_text(f"#!/bin/sh\n{script}\n")
    p["binary"].chmod(0o755)
    p["stamp"].write_text(json.dumps({"module": ollama.OLLAMA["module"], "version": ollama.OLLAMA["version"],
                                      "sum": ollama.OLLAMA["sum"], "go": "1.26.8"}))
    model = ollama.engine.paths()["model"]
    model.parent.mkdir(parents=True)
    model.write_text("not a gguf")
    p["runner"].parent.mkdir(parents=True)
    p["runner"].write_text("")
    return p


def test_a_build_of_another_release_is_not_run(ollama):
    p = installed(ollama)
    assert ollama.build_is_current(p, same_go=False)
    p["stamp"].write_text(json.dumps({**json.loads(p["stamp"].read_text()), "version": "v0.33.0"}))
    assert not ollama.build_is_current(p, same_go=False)
    with pytest.raises(ollama.OllamaError, match="not installed"):
        ollama.start(closed_port())


def test_start_refuses_a_busy_port(ollama):
    installed(ollama)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(ollama.OllamaError, match=f"port {port} .* already in use"):
            ollama.start(port)


def test_a_server_that_exits_at_start_shows_its_log(ollama):
    installed(ollama, "echo 'Error: listen tcp: bind: permission denied' >&2\nexit 1")
    port = closed_port()
    with pytest.raises(ollama.OllamaError, match="exited at start(.|\n)*permission denied"):
        ollama.start(port, timeout=10)
    assert not ollama.pid_file(ollama.paths(), port).exists()


def test_the_server_runs_on_loopback_with_its_own_models_home_and_no_cloud(ollama):
    env = ollama.server_environment(ollama.paths(), 11444)
    assert env["OLLAMA_HOST"] == "127.0.0.1:11444"
    assert env["OLLAMA_MODELS"] == str(ollama.paths()["models"]) and env["HOME"] == str(ollama.paths()["user_home"])
    assert env["OLLAMA_NO_CLOUD"] == "1"
    assert ollama.environment(11444) == {"OLLAMA_BASE_URL": "http://127.0.0.1:11444", "OLLAMA_MODEL": "llama3.2",
                                         "OLLAMA_VISION_MODEL": "llama3.2"}


def test_stop_never_kills_a_process_it_did_not_start(ollama):
    p = ollama.paths()
    p["run"].mkdir(parents=True)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        ollama.pid_file(p, 18998).write_text(str(stranger.pid))  # e.g. a stale pid file after a reboot
        assert ollama.stop(18998) is False
        time.sleep(0.2)
        assert stranger.poll() is None, "the unrelated process must still run"
    finally:
        stranger.kill()
        stranger.wait()


def test_no_go_and_an_old_go_say_what_to_install(ollama, monkeypatch):
    monkeypatch.setattr(ollama, "go_version", lambda: None)
    with pytest.raises(ollama.OllamaError, match=r"needs Go 1\.26\.0 or newer: install it from https://go.dev/dl/"):
        ollama.require_build_tools()
    monkeypatch.setattr(ollama, "go_version", lambda: (1, 22, 5))
    with pytest.raises(ollama.OllamaError, match=r"this machine has Go 1\.22\.5"):
        ollama.require_build_tools()


def test_a_module_with_another_hash_is_not_built(ollama, monkeypatch):
    """The Go module proxy answered with a zip whose hash is not the pinned one: nothing is built."""
    monkeypatch.setattr(ollama, "require_build_tools", lambda: None)
    calls = []

    def run_go(arguments, p, log, **extra_env):
        calls.append(arguments)
        return json.dumps({"Sum": "h1:somethingelse="})

    monkeypatch.setattr(ollama, "run_go", run_go)
    p = ollama.paths()
    p["home"].mkdir(parents=True)
    with pytest.raises(ollama.OllamaError, match="expected h1:o7So45"):
        ollama.install_ollama(p)
    assert [call[0] for call in calls] == ["mod"] and not p["binary"].exists()
