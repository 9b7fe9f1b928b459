"""scripts/engine.py without building anything: downloads, corrupt caches, build stamps, start/stop safety."""

from __future__ import annotations

import hashlib
import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_HOME", str(tmp_path / "engine"))
    spec = importlib.util.spec_from_file_location("engine_under_test", ROOT / "scripts" / "engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_pip(monkeypatch, engine, content: bytes | None, calls: list):
    """Replace `pip download` with a stand-in that writes `content` as the requested file (or fails)."""

    def run(command, capture_output, text):
        calls.append(command)
        target_dir = Path(command[command.index("-d") + 1])
        if content is None:
            return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found")
        (target_dir / SPEC["file"]).write_bytes(content)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(engine.subprocess, "run", run)


GOOD = b"the real file"
SPEC = {"requirement": "demo==1.0", "file": "demo-1.0.tar.gz", "sha256": hashlib.sha256(GOOD).hexdigest()}


def test_download_is_verified_and_cached(engine, monkeypatch, tmp_path):
    calls: list = []
    fake_pip(monkeypatch, engine, GOOD, calls)
    downloads = tmp_path / "downloads"
    first = engine.fetch(SPEC, downloads, binary_only=False)
    assert first.read_bytes() == GOOD and len(calls) == 1
    assert "--no-binary" in calls[0] and "demo==1.0" in calls[0]
    engine.fetch(SPEC, downloads, binary_only=False)
    assert len(calls) == 1, "a verified cached file is reused without pip"


def test_corrupt_or_partial_cache_is_fetched_again(engine, monkeypatch, tmp_path, capsys):
    calls: list = []
    fake_pip(monkeypatch, engine, GOOD, calls)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / SPEC["file"]).write_bytes(GOOD[:5])  # an interrupted download
    assert engine.fetch(SPEC, downloads, binary_only=True).read_bytes() == GOOD
    assert len(calls) == 1 and "--only-binary" in calls[0]
    assert "corrupt or partial" in capsys.readouterr().out


def test_a_download_with_the_wrong_hash_is_refused(engine, monkeypatch, tmp_path):
    fake_pip(monkeypatch, engine, b"tampered", [])
    with pytest.raises(engine.EngineError, match="refusing to use it"):
        engine.fetch(SPEC, tmp_path / "downloads", binary_only=False)
    assert not (tmp_path / "downloads" / SPEC["file"]).exists()


def test_pip_failure_is_one_clear_message(engine, monkeypatch, tmp_path):
    fake_pip(monkeypatch, engine, None, [])
    with pytest.raises(engine.EngineError, match=r"pip could not download demo==1.0(.|\n)*No matching distribution"):
        engine.fetch(SPEC, tmp_path / "downloads", binary_only=False)


def test_missing_build_tools_name_the_packages(engine, monkeypatch):
    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    with pytest.raises(engine.EngineError) as error:
        engine.require_build_tools()
    message = str(error.value)
    assert "\n" not in message
    assert "apt-get install cmake" in message and "apt-get install g++" in message


def test_build_stamp_tracks_portability_and_cpu(engine):
    p = engine.paths()
    p["binary"].parent.mkdir(parents=True)
    p["binary"].write_text("binary")
    p["stamp"].write_text(__import__("json").dumps(engine.wanted_build(portable=False)))
    assert engine.build_is_current(p, portable=False)
    assert not engine.build_is_current(p, portable=True), "a native build is not the portable one Binder needs"
    p["stamp"].write_text("{not json")
    assert not engine.build_is_current(p, portable=False)


def test_start_refuses_a_busy_port(engine):
    p = engine.paths()
    for key in ("binary", "model"):
        p[key].parent.mkdir(parents=True, exist_ok=True)
        p[key].write_text("x")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(engine.EngineError, match=f"port {port} .* already in use"):
            engine.start(port)


def test_start_before_install_says_what_to_run(engine):
    with pytest.raises(engine.EngineError, match="not installed: run `python scripts/engine.py install`"):
        engine.start(18999)


def test_crash_at_start_shows_the_log(engine):
    p = engine.paths()
    p["binary"].parent.mkdir(parents=True)
    p["binary"].write_text("#!/bin/sh\necho 'error: failed to load model' >&2\nexit 1\n")
    p["binary"].chmod(0o755)
    p["model"].parent.mkdir(parents=True)
    p["model"].write_text("not a gguf")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(engine.EngineError, match="exited at start(.|\n)*failed to load model"):
        engine.start(port, timeout=10)
    assert not engine.pid_file(p, port).exists()


def test_stop_never_kills_a_process_it_did_not_start(engine):
    p = engine.paths()
    p["run"].mkdir(parents=True)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        engine.pid_file(p, 18998).write_text(str(stranger.pid))  # e.g. a stale pid file after a reboot
        assert engine.stop(18998) is False
        time.sleep(0.2)
        assert stranger.poll() is None, "the unrelated process must still run"
    finally:
        stranger.kill()
        stranger.wait()


def test_message_start_fix_applies_once_and_refuses_a_changed_source(engine, tmp_path):
    src = tmp_path / "src"
    for relative, old, _ in engine.SERVER_PATCHES:
        path = src / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((path.read_text() if path.exists() else "") + "// before\n" + old + "// after\n")
    engine.patch_server_sources(src)
    patched = (src / "tools/server/server-task.cpp").read_text()
    assert "bool first = !anthropic_message_started;" in patched and "n_decoded == 1" not in patched
    with pytest.raises(engine.EngineError, match="no longer matches the pinned source"):
        engine.patch_server_sources(src)  # already patched: the old text is gone


def test_the_build_stamp_changes_with_the_patches(engine, monkeypatch):
    before = engine.wanted_build(portable=False)
    monkeypatch.setattr(engine, "SERVER_PATCHES", engine.SERVER_PATCHES[:-1])
    assert engine.wanted_build(portable=False) != before, "a changed fix must trigger a rebuild"
