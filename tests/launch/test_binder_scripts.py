"""The Binder launch path, run for real on this machine (Docker and repo2docker are not available here).

repo2docker runs ``binder/postBuild`` once at image build time and ``binder/start`` at every launch. These tests
run the very same scripts, in a scratch HOME, and then talk to the model server that ``start`` left running
through nothing but the environment ``start`` handed to the command it exec'd.

The engine cache. ``postBuild`` builds a *portable* llama-server (GGML_NATIVE=OFF): a different build from the
native one the rest of the suite uses, and about 6 minutes on 2 cores. It goes into a cache folder of its own
(``<engine cache>-binder-test``, or ``$BINDER_TEST_ENGINE_HOME``), so the native binary is never replaced and the
build happens once per machine or CI cache; later runs execute the same ``postBuild``, which then finds a current
build (the engine checks the build flags and the sdist hash) and takes seconds. For a cold build the pinned
downloads are copied from the suite's engine cache when present; the engine verifies their sha256 either way.
Set ``BINDER_TEST_ENGINE_HOME`` to an empty folder to force the full build.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
START_PORT = int(os.environ.get("BINDER_TEST_PORT") or int(os.environ.get("ENGINE_TEST_PORT", "18435")) + 1)
# A launch waits for `start`. Its engine wait is bounded (`timeout 30`); on an idle 2-core machine the whole
# start takes about a second, on a machine busy with other builds it was measured at up to 15 s.
START_SECONDS_LIMIT = 35
ENGINE_PEAK_MB_LIMIT = 700  # mybinder.org: 2 GB for server, kernel(s) and engine together

pytestmark = [pytest.mark.timeout(3600)]  # a cold portable build on a busy 2-core machine


def load_engine():
    spec = importlib.util.spec_from_file_location("engine_for_binder_test", ROOT / "scripts" / "engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


engine = load_engine()


def binder_engine_home() -> Path:
    if os.environ.get("BINDER_TEST_ENGINE_HOME"):
        return Path(os.environ["BINDER_TEST_ENGINE_HOME"]).expanduser()
    suite_home = engine.engine_home()
    return suite_home.with_name(suite_home.name + "-binder-test")


def launch_environment(home: Path, engine_home: Path, **extra: str) -> dict[str, str]:
    """What a Binder container gives the scripts: a HOME, `python3` on PATH; no model-server settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("OLLAMA_") and key not in {"ENGINE_PORT", "ENGINE_HOME", "ANTHROPIC_BASE_URL"}}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), ENGINE_HOME=str(engine_home),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    env.update(extra)
    return env


def port_is_free(port: int) -> bool:
    """No one listens there (connections of a server stopped a moment ago, in TIME_WAIT, don't count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Runs one command and reports its pid, exit status and the peak RSS of its process tree (os.wait4). A small
# launcher, because a child forked straight from pytest would inherit pytest's own peak RSS in that figure.
LAUNCHER = """
import json, os, sys, time
began = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    json.dump({"pid": pid, "code": os.waitstatus_to_exitcode(status), "seconds": time.monotonic() - began,
               "peak_mb": usage.ru_maxrss / 1024}, report)
"""


def run_start(env: dict[str, str], scratch: Path, timeout: float = 60) -> dict:
    """Run ``binder/start`` with a command that reports its own pid and environment, as JupyterLab would inherit
    them. Returns the exit code, the seconds until the command had run, the command's pid and environment,
    start's notes (stderr) and the peak RSS of the start path (bash, engine.py, the command; the engine server
    is detached and measured separately)."""
    command = [str(BINDER / "start"), "/bin/sh", "-c", 'echo "command-pid=$$"; env']
    out_path, err_path, report_path = scratch / "start.out", scratch / "start.err", scratch / "start.json"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        try:
            subprocess.run([sys.executable, "-c", LAUNCHER, str(report_path), *command], cwd=ROOT, env=env,
                           stdout=out, stderr=err, timeout=timeout, check=True)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"binder/start did not hand over control within {timeout} s") from None
    report = json.loads(report_path.read_text())
    lines = out_path.read_text().splitlines()
    pid_line = next((line for line in lines if line.startswith("command-pid=")), "command-pid=-1")
    report.update(command_pid=int(pid_line.split("=", 1)[1]), notes=err_path.read_text(errors="replace"),
                  env=dict(line.split("=", 1) for line in lines[1:] if "=" in line))
    return report


@pytest.fixture(scope="module")
def built_engine(tmp_path_factory) -> Path:
    """Run the real ``binder/postBuild`` and return the engine cache it filled."""
    home = tmp_path_factory.mktemp("binder-build-home")
    engine_home = binder_engine_home()
    engine_home.mkdir(parents=True, exist_ok=True)
    p = engine.paths(engine_home)
    if not engine.build_is_current(p, portable=True):
        suite_downloads = engine.paths()["downloads"]
        for spec in (engine.LLAMA_SDIST, engine.MODEL_WHEEL):
            cached = suite_downloads / spec["file"]
            if cached.exists() and not (p["downloads"] / spec["file"]).exists():
                p["downloads"].mkdir(parents=True, exist_ok=True)
                shutil.copy2(cached, p["downloads"] / spec["file"])
    began = time.monotonic()
    result = subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=launch_environment(home, engine_home),
                            capture_output=True, text=True)
    seconds = time.monotonic() - began
    output = result.stdout + result.stderr
    print(f"\n[binder] postBuild finished in {seconds:.1f} s (exit {result.returncode}); cache {engine_home}")
    assert result.returncode == 0, f"binder/postBuild failed:\n{output[-3000:]}"
    if "downloading" in output:  # pip ran: it must not have left a copy of the downloads in the image
        assert not (home / ".cache" / "pip").exists(), "pip kept a cache in the image despite PIP_NO_CACHE_DIR"
    return engine_home


def test_requirements_install_the_kit_from_the_repository_root():
    """repo2docker installs binder/requirements.txt from the repository root, where "." is this project."""
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "-r", "binder/requirements.txt"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Would install ollama-anthropic-widgets-" in output, output[-3000:]
    # The [lessons] extra came along: JupyterLab is required *by the kit*, not merely present.
    assert re.search(r"jupyterlab\S* .*\(from ollama-anthropic-widgets==", output), output[-3000:]


def test_postbuild_leaves_a_portable_engine_in_the_image(built_engine):
    p = engine.paths(built_engine)
    stamp = json.loads(p["stamp"].read_text())
    assert stamp["cpu"] is None and "-DGGML_NATIVE=OFF" in stamp["flags"], stamp
    assert os.access(p["binary"], os.X_OK)
    assert engine.sha256_of(p["model"]) == engine.MODEL_SHA256
    assert not p["downloads"].exists(), "postBuild should drop the build inputs (~170 MB) from the image"


def test_start_hands_over_at_once_and_its_environment_reaches_a_live_model(built_engine, tmp_path):
    assert port_is_free(START_PORT), f"port {START_PORT} is busy: set BINDER_TEST_PORT to a free port"
    env = launch_environment(tmp_path, built_engine, ENGINE_PORT=str(START_PORT))
    try:
        launch = run_start(env, tmp_path)
        print(f"\n[binder] start handed over in {launch['seconds']:.2f} s; notes:\n{launch['notes'].strip()}")
        assert launch["code"] == 0, launch["notes"]
        assert launch["command_pid"] == launch["pid"], "start must `exec` the command, not run it as a child"
        assert launch["seconds"] < START_SECONDS_LIMIT, launch["notes"]
        ready = re.search(r"ready at \S+ .* in ([\d.]+) s", launch["notes"])
        assert ready, f"start did not report a ready engine:\n{launch['notes']}"

        exported = subprocess.run([sys.executable, str(ROOT / "scripts" / "engine.py"), "env", "--port",
                                   str(START_PORT)], capture_output=True, text=True, check=True).stdout
        expected = dict(line.removeprefix("export ").split("=", 1) for line in exported.splitlines())
        assert {key: launch["env"].get(key) for key in expected} == expected

        # The server answering is the portable binary postBuild built, started by `start`.
        pid = engine.our_pid(engine.paths(built_engine), START_PORT)
        assert pid, "no engine of the Binder cache runs on the start port"

        # A lesson's client, configured by nothing but the environment start handed over.
        lesson = (
            "import json\n"
            "from ollama_anthropic_widgets import make_client, settings, text_of\n"
            "config = settings()\n"
            "message = make_client(max_retries=0, timeout=120).messages.create(\n"
            "    model=config.model, max_tokens=48, messages=[{'role': 'user', 'content': '你好'}])\n"
            "print(json.dumps({'base_url': config.base_url, 'model': message.model, 'text': text_of(message),\n"
            "                  'stop_reason': message.stop_reason, 'output_tokens': message.usage.output_tokens}))\n"
        )
        reply = subprocess.run([sys.executable, "-c", lesson], cwd=ROOT / "notebooks", env=launch["env"],
                               capture_output=True, text=True, timeout=180)
        assert reply.returncode == 0, reply.stderr[-3000:]
        answer = json.loads(reply.stdout.strip().splitlines()[-1])
        assert answer["base_url"] == expected["OLLAMA_BASE_URL"]
        assert answer["text"].strip() and answer["output_tokens"] > 0
        assert answer["stop_reason"] in {"end_turn", "max_tokens"}
        assert answer["model"] == expected["OLLAMA_MODEL"]

        engine_peak = None
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                engine_peak = int(line.split()[1]) / 1024
        print(f"[binder] engine ready {float(ready.group(1)):.2f} s after start began; start path peak RSS "
              f"{launch['peak_mb']:.0f} MB; llama-server peak RSS after a reply {engine_peak:.0f} MB")
        assert engine_peak is not None and engine_peak < ENGINE_PEAK_MB_LIMIT
    finally:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "engine.py"), "stop", "--port", str(START_PORT)],
                       env=env, capture_output=True, timeout=30)
    assert engine.our_pid(engine.paths(built_engine), START_PORT) is None


def test_start_respects_a_server_the_learner_configured(built_engine, tmp_path):
    own_server = "http://127.0.0.1:9"
    env = launch_environment(tmp_path, built_engine, ENGINE_PORT=str(START_PORT), OLLAMA_BASE_URL=own_server)
    launch = run_start(env, tmp_path)
    assert launch["code"] == 0 and launch["command_pid"] == launch["pid"]
    assert launch["env"]["OLLAMA_BASE_URL"] == own_server
    assert "already set" in launch["notes"]
    assert engine.our_pid(engine.paths(built_engine), START_PORT) is None, "start launched an engine anyway"


def test_start_never_fails_the_launch_when_the_engine_cannot_start(tmp_path):
    """An image without the engine (or a broken one) still opens JupyterLab, with a clear note in the log."""
    empty_cache = tmp_path / "no-engine"
    env = launch_environment(tmp_path, empty_cache, ENGINE_PORT=str(START_PORT))
    launch = run_start(env, tmp_path)
    assert launch["code"] == 0 and launch["command_pid"] == launch["pid"]
    assert launch["seconds"] < START_SECONDS_LIMIT
    assert "not installed" in launch["notes"] and "engine is not running" in launch["notes"], launch["notes"]
    assert "python3 scripts/engine.py start" in launch["notes"]
    assert launch["env"]["OLLAMA_BASE_URL"] == f"http://127.0.0.1:{START_PORT}"
