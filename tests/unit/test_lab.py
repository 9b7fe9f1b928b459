"""scripts/lab.py's early guess (before the kit is installed) whether `make lab` will need the embedded engine."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.net import closed_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def lab(monkeypatch):
    monkeypatch.delenv("OLLAMA_BASE_URL", raising=False)
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))  # lab.py imports engine.py from beside it
    spec = importlib.util.spec_from_file_location("lab_under_test", ROOT / "scripts" / "lab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve(body: bytes, status: int = 200) -> HTTPServer:
    """A stand-in for whatever listens on Ollama's port, answering every GET with ``body``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_guess_asks_where_the_kit_looks_for_ollama(lab):
    from ollama_anthropic_widgets.lessons.config import DEFAULT_BASE_URL

    assert lab.OLLAMA_URL == DEFAULT_BASE_URL


@pytest.mark.parametrize(("body", "status", "is_ollama"), [
    (json.dumps({"version": "0.14.0"}).encode(), 200, True),
    (b"<html>another web app</html>", 200, False),
    (b"404 page not found", 404, False),
])
def test_only_an_ollama_version_reply_counts_as_ollama(lab, monkeypatch, body, status, is_ollama):
    server = serve(body, status)
    try:
        monkeypatch.setattr(lab, "OLLAMA_URL", f"http://127.0.0.1:{server.server_port}")
        assert lab.ollama_answers() is is_ollama
    finally:
        server.shutdown()


def test_nothing_listening_means_the_engine_is_prepared(lab, monkeypatch):
    monkeypatch.setattr(lab, "OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    assert lab.ollama_answers() is False
    installs = []
    monkeypatch.setitem(sys.modules, "engine", type("FakeEngine", (), {"main": staticmethod(installs.append)}))
    lab.prepare_engine()
    assert installs == [["install"]]


def test_a_configured_server_skips_the_engine(lab, monkeypatch, capsys):
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://gpu-box:11434")
    monkeypatch.setitem(sys.modules, "engine", None)  # importing it would fail the test
    assert lab.prepare_engine() == 0
    assert "not preparing the embedded engine" in capsys.readouterr().out
