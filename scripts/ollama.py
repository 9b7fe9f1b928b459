#!/usr/bin/env python3
"""A real Ollama for the tests: built from the Go module proxy, running the embedded engine's model.

    python scripts/ollama.py install          # build Ollama (first time ~2 min on 2 cores) and the engine
    python scripts/ollama.py start [--port N] # serve on 127.0.0.1:N (default 11444), import the models, wait
    python scripts/ollama.py env [--port N]   # print the OLLAMA_* variables that point lessons at it
    python scripts/ollama.py status           # what is installed, what runs where
    python scripts/ollama.py stop [--port N]  # stop the server this tool started

``make test-ollama`` runs every lesson and the kit's live tests against it; ``make test`` never needs it (nor Go).

**Ollama** is the Go module ``github.com/ollama/ollama`` at the release pinned in ``OLLAMA`` below, fetched by
``go`` from the Go module proxy and checked against its pinned ``h1:`` hash (the Go checksum database checks it
too), then built with ``go install`` (cgo: Go >= the release's ``go.mod`` version and a C compiler). Its module and
build caches (``GOMODCACHE``, ``GOCACHE``) and the binary live in a per-user cache (``$REAL_OLLAMA_HOME``, default
``~/.cache/ollama-anthropic-kit/ollama``); a stamp records what was built, so a changed pin rebuilds.

**Its runner** is the embedded engine's ``llama-server`` (``scripts/engine.py``), linked as ``lib/ollama/llama-server``
beside the binary, where Ollama looks for it (``ml/path.go``, ``llm/llama_binary.go``). Ollama runs inference by
starting that program (``llm/llama_server.go``); the engine's build accepts every flag Ollama passes. Ollama's own
runner is llama.cpp ``b11081`` plus patches in ``llama/compat/`` that translate GGUFs Ollama itself published; the
engine's GGUF is not one of those.

**Models**: the engine's SmolLM2-135M GGUF imported offline (a Modelfile ``FROM`` the file, then ``ollama create``)
under the names the lessons use. What a model can do comes from its template (``server/images.go``), so each name
gets a template that gives it the capability its namesake has, in the chat format SmolLM2 was trained on (ChatML):

- ``llama3.2``: completion and tools. The tool section and ``<tool_call>`` format are those of Ollama's ChatML
  models with tools (e.g. qwen2.5); Ollama's tool parser reads the calls from that format.
- ``qwen3``: completion, tools and thinking. When thinking is on, the prompt ends in ``<think>``: Ollama's thinking
  parser then reads the model's words as thinking until ``</think>``. SmolLM2 never learnt to close it: asked
  afresh, its whole reply is thinking (real Ollama's thinking behaviour, but no answer; the lessons' thinking pass
  stays on the Ollama double, ``tests/ollama_double.py``). After a few earlier turns that show thinking, it copies
  the pattern and closes its thinking before answering.
- ``smollm2``: the weights under their own name, with the template ``ollama create`` detects (ChatML): completion
  only, a model without tools.
- No ``llava``: vision comes from a projector (``projectorCapabilities``) and no small vision GGUF with one is on
  the registries. The lessons' vision model is ``llama3.2`` here, so they show what Ollama does with a picture sent
  to a model that cannot see.

Each Modelfile also sets ``num_thread 1`` (as the engine does: two spinning threads collapse on a busy 2-core
machine) and ``seed 42`` (repeatable replies, as the engine's ``--seed 42``).

The server listens on loopback only, keeps its models in the cache (``OLLAMA_MODELS``), its key in the cache
(``HOME``), and has Ollama's cloud features off (``OLLAMA_NO_CLOUD``: no calls to ollama.com). Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine  # noqa: E402 - scripts/engine.py beside this file: its build, model, and process helpers

OLLAMA = {
    "module": "github.com/ollama/ollama",
    # The newest stable release the Go module proxy served on 2026-12-07 (v0.34.5, v0.35.0: not served).
    "version": "v0.34.4",
    "sum": "h1:o7So45nFInmKbWj8O8I5NWuoeRYxoupkLA0hnQ+N60s=",  # go mod download -json: "Sum"
    "go": (1, 26, 0),  # its go.mod
}
DEFAULT_PORT = 11444  # not 11434: a learner's own Ollama has that one
HOST = engine.HOST
TEXT_MODEL = "llama3.2"
THINKING_MODEL = "qwen3"
PLAIN_MODEL = "smollm2"  # the weights under their own name, with the template Ollama picks for them: no tools

CHATML_STOPS = 'PARAMETER stop "<|im_start|>"\nPARAMETER stop "<|im_end|>"\n'
COMMON_PARAMETERS = "PARAMETER num_thread 1\nPARAMETER seed 42\n"

# ChatML with tools: the system turn lists the tools, the model answers with <tool_call>{json}</tool_call>, and a
# tool's result comes back in a <tool_response> (the layout of Ollama's qwen2.5 template). With thinking, past
# thinking is kept inside <think>...</think> and the reply opens with <think> when thinking is on: Ollama's thinking
# parser takes its tags from the .Thinking inside the range over .Messages (thinking/template.go InferTags) and,
# the prompt ending in the opening tag, reads what follows as thinking (server/routes.go ChatHandler).
PAST_THINKING = """{{ if .Thinking }}<think>{{ .Thinking }}</think>
{{ end }}"""
OPEN_THINKING = """{{ if and $.IsThinkSet $.Think }}<think>
{{ end }}"""


def chatml_template(thinking: bool) -> str:
    return """{{- if or .System .Tools }}<|im_start|>system
{{- if .System }}
{{ .System }}
{{- end }}
{{- if .Tools }}

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{{- range .Tools }}
{"type": "function", "function": {{ .Function }}}
{{- end }}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call>
{{- end }}<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
""" + (PAST_THINKING if thinking else "") + """{{ if .Content }}{{ .Content }}
{{- else if .ToolCalls }}<tool_call>
{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}
{{ end }}</tool_call>
{{- end }}{{ if not $last }}<|im_end|>
{{ end }}
{{- else if eq .Role "tool" }}<|im_start|>user
<tool_response>
{{ .Content }}
</tool_response><|im_end|>
{{ end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
""" + (OPEN_THINKING if thinking else "") + """{{ end }}
{{- end }}"""


TEMPLATES = {TEXT_MODEL: chatml_template(thinking=False), THINKING_MODEL: chatml_template(thinking=True),
             PLAIN_MODEL: None}


class OllamaError(engine.EngineError):
    """A failure with a message that tells the user what to do; printed without a traceback."""


def say(message: str) -> None:
    print(f"[ollama] {message}", flush=True)


def ollama_home() -> Path:
    if os.environ.get("REAL_OLLAMA_HOME"):
        return Path(os.environ["REAL_OLLAMA_HOME"]).expanduser()
    return engine.engine_home().parent / "ollama"


def paths(home: Path | None = None) -> dict[str, Path]:
    home = home or ollama_home()
    return {
        "home": home,
        "gomodcache": home / "gomodcache",
        "gocache": home / "gocache",
        "binary": home / "bin" / "ollama",
        "stamp": home / "bin" / "build.json",
        "runner": home / "lib" / "ollama" / "llama-server",
        "models": home / "models",
        "imported": home / "models" / "kit-imports.json",
        "user_home": home / "home",  # Ollama writes its key pair to $HOME/.ollama
        "run": home / "run",
    }


def release() -> str:
    return OLLAMA["version"].lstrip("v")


def modelfile(name: str, gguf: Path) -> str:
    template = TEMPLATES[name]
    if template is None:  # `ollama create` detects ChatML from the GGUF and adds its stop tokens
        return f"FROM {gguf}\n{COMMON_PARAMETERS}"
    return f'FROM {gguf}\nTEMPLATE """{template}"""\n{COMMON_PARAMETERS}{CHATML_STOPS}'


# ---------------------------------------------------------------------------------------------- install


def go_env(p: dict[str, Path]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MFLAGS", "GOFLAGS"}}
    env.update({
        "GOMODCACHE": str(p["gomodcache"]), "GOCACHE": str(p["gocache"]),
        "GOTOOLCHAIN": "local",  # never download another Go: say what is missing instead
        "GOFLAGS": "-modcacherw",  # a module cache that `rm -rf` can delete
        "CGO_ENABLED": "1",
    })
    return env


def go_version() -> tuple[int, ...] | None:
    go = shutil.which("go")
    if go is None:
        return None
    result = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                            env={**os.environ, "GOTOOLCHAIN": "local"})
    match = re.match(r"go(\d+)\.(\d+)(?:\.(\d+))?", result.stdout.strip())
    return tuple(int(part or 0) for part in match.groups()) if match else None


def require_build_tools() -> None:
    needed = ".".join(map(str, OLLAMA["go"]))
    found = go_version()
    if found is None:
        raise OllamaError(f"building Ollama needs Go {needed} or newer: install it from https://go.dev/dl/ "
                          f"(no `go` on PATH)")
    if found < OLLAMA["go"]:
        raise OllamaError(f"building Ollama {OLLAMA['version']} needs Go {needed} or newer; "
                          f"this machine has Go {'.'.join(map(str, found))}: install a newer one from https://go.dev/dl/")
    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        raise OllamaError("building Ollama needs a C compiler for cgo: install one "
                          "(Debian/Ubuntu: `apt-get install gcc`, macOS: `xcode-select --install`)")


def wanted_build() -> dict:
    """The build this machine should have; a cached build whose stamp differs is rebuilt (a new Go included)."""
    return {"module": OLLAMA["module"], "version": OLLAMA["version"], "sum": OLLAMA["sum"],
            "go": ".".join(map(str, go_version() or ()))}


def build_is_current(p: dict[str, Path], *, same_go: bool = True) -> bool:
    """Whether the cached binary is the pinned release; ``same_go=False`` (to run it) does not ask for Go."""
    if not (p["binary"].exists() and p["stamp"].exists()):
        return False
    try:
        stamp = json.loads(p["stamp"].read_text())
    except (OSError, ValueError):
        return False
    if same_go:
        return stamp == wanted_build()
    return all(stamp.get(key) == OLLAMA[key] for key in ("module", "version", "sum"))


def run_go(arguments: list[str], p: dict[str, Path], log: Path, **extra_env: str) -> str:
    """Run ``go`` with the cache's environment, its output appended to ``log``; returns its stdout."""
    with log.open("a") as log_file:
        log_file.write(f"$ go {' '.join(arguments)}\n")
        result = subprocess.run(["go", *arguments], capture_output=True, text=True,
                                env={**go_env(p), **extra_env}, cwd=p["home"])
        log_file.write(result.stderr + result.stdout)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise OllamaError(f"`go {arguments[0]}` failed (is the Go module proxy reachable? full log: {log}); "
                          f"last lines:\n{tail}")
    return result.stdout


def install_ollama(p: dict[str, Path]) -> None:
    if build_is_current(p):
        say(f"Ollama {release()} ready: {p['binary']}")
        return
    require_build_tools()
    log = p["home"] / "build.log"
    log.write_text("")
    wanted = f"{OLLAMA['module']}@{OLLAMA['version']}"
    say(f"downloading {wanted} from the Go module proxy")
    downloaded = json.loads(run_go(["mod", "download", "-json", wanted], p, log))
    if downloaded.get("Sum") != OLLAMA["sum"]:
        raise OllamaError(f"{wanted} has hash {downloaded.get('Sum')}, expected {OLLAMA['sum']}: refusing to build it")
    say(f"building Ollama {release()} with go install: the first build takes about 2 minutes on 2 cores")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=p["home"]) as gobin:
        version_flag = f"-X {OLLAMA['module']}/version.Version={release()}"  # what /api/version reports
        run_go(["install", "-trimpath", "-ldflags", f"-s -w {version_flag}", wanted], p, log, GOBIN=gobin)
        p["binary"].parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(gobin) / "ollama"), p["binary"])
    p["stamp"].write_text(json.dumps(wanted_build()))
    say(f"Ollama {release()} built in {time.monotonic() - started:.0f} s: {p['binary']}")


def link_runner(p: dict[str, Path]) -> None:
    """The engine's llama-server where Ollama looks for its runner."""
    target = engine.paths()["binary"]
    if p["runner"].is_symlink() and Path(os.readlink(p["runner"])) == target:
        return
    p["runner"].parent.mkdir(parents=True, exist_ok=True)
    p["runner"].unlink(missing_ok=True)
    p["runner"].symlink_to(target)


def cmd_install(args: argparse.Namespace) -> int:
    p = paths()
    p["home"].mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    install_ollama(p)
    if engine.cmd_install(args) != 0:
        return 1
    link_runner(p)
    say(f"installed in {time.monotonic() - started:.1f} s (cache: {p['home']})")
    return 0


# ---------------------------------------------------------------------------------------- start / stop


def pid_file(p: dict[str, Path], port: int) -> Path:
    return p["run"] / f"ollama-{port}.pid"


def log_file(p: dict[str, Path], port: int) -> Path:
    return p["run"] / f"ollama-{port}.log"


def our_pid(p: dict[str, Path], port: int) -> int | None:
    return engine.running_pid(pid_file(p, port), p["binary"])


base_url = engine.base_url  # both servers listen on the same loopback host


def get_json(url: str, timeout: float = 2) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def answers(port: int) -> bool:
    return isinstance(get_json(f"{base_url(port)}/api/version"), dict)


def environment(port: int) -> dict[str, str]:
    """The variables that point every lesson and widget at this Ollama."""
    return {"OLLAMA_BASE_URL": base_url(port), "OLLAMA_MODEL": TEXT_MODEL, "OLLAMA_VISION_MODEL": TEXT_MODEL}


def server_environment(p: dict[str, Path], port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OLLAMA_HOST": f"{HOST}:{port}", "OLLAMA_MODELS": str(p["models"]), "HOME": str(p["user_home"]),
                "OLLAMA_NO_CLOUD": "1", "GIN_MODE": "release"})
    return env


def import_models(p: dict[str, Path], port: int) -> None:
    """``ollama create`` each name from the engine's GGUF, unless it is there from the same Modelfile."""
    gguf = engine.paths()["model"]
    try:
        done = json.loads(p["imported"].read_text())
    except (OSError, ValueError):
        done = {}
    listed = get_json(f"{base_url(port)}/api/tags") or {}
    present = {entry.get("name") for entry in listed.get("models", [])}
    for name in TEMPLATES:
        text = modelfile(name, gguf)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if done.get(name) == digest and f"{name}:latest" in present:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "Modelfile"
            path.write_text(text)
            result = subprocess.run([str(p["binary"]), "create", name, "-f", str(path)], capture_output=True,
                                    text=True, env=server_environment(p, port))
        if result.returncode != 0:
            raise OllamaError(f"`ollama create {name}` failed:\n{result.stderr.strip()[-800:]}")
        done[name] = digest
        p["imported"].write_text(json.dumps(done, indent=1))
        say(f"imported {gguf.name} as {name}")


def start(port: int, timeout: float = 60.0) -> float:
    """Start Ollama on loopback, import the models, and wait until it answers; returns seconds taken."""
    p = paths()
    began = time.monotonic()
    if our_pid(p, port) and answers(port):
        say(f"already running at {base_url(port)} (pid {our_pid(p, port)})")
    else:
        if not (build_is_current(p, same_go=False) and p["runner"].exists() and engine.paths()["model"].exists()):
            raise OllamaError("Ollama is not installed: run `python scripts/ollama.py install` (or `make ollama`)")
        if not engine.port_is_free(port):
            raise OllamaError(f"port {port} on {HOST} is already in use by another program: "
                              f"pick another with --port or REAL_OLLAMA_PORT")
        for folder in ("run", "models", "user_home"):
            p[folder].mkdir(parents=True, exist_ok=True)
        log = log_file(p, port)
        process = engine.spawn([str(p["binary"]), "serve"], log, pid_file(p, port), server_environment(p, port))
        outcome = engine.wait_until_ready(process, lambda: answers(port), timeout, pid_file(p, port))
        if outcome != "ready":
            what = f"exited at start (code {process.returncode})" if outcome == "exited" else \
                f"did not answer within {timeout:.0f} s"
            raise OllamaError(f"Ollama {what}; last lines of {log}:\n{engine.log_tail(log)}")
    import_models(p, port)
    elapsed = time.monotonic() - began
    say(f"Ollama {release()} ready at {base_url(port)} (models {', '.join(TEMPLATES)}) in {elapsed:.1f} s")
    return elapsed


def stop(port: int) -> bool:
    """Stop the Ollama this tool started on this port (it stops its runner); never touches another process."""
    p = paths()
    return engine.terminate(pid_file(p, port), p["binary"])


def cmd_start(args: argparse.Namespace) -> int:
    start(args.port)
    return cmd_env(args)


def cmd_stop(args: argparse.Namespace) -> int:
    say(f"stopped Ollama on port {args.port}" if stop(args.port) else f"no Ollama of ours runs on port {args.port}")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    for name, value in environment(args.port).items():
        print(f"export {name}={value}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    p = paths()
    print(f"cache:     {p['home']}")
    built = build_is_current(p, same_go=False)
    print(f"installed: {'yes, Ollama ' + release() if built else 'no (run: python scripts/ollama.py install)'}")
    runner = p["runner"].resolve() if p["runner"].exists() else None
    print(f"runner:    {runner or 'not linked'}")
    running = sorted(p["run"].glob("ollama-*.pid")) if p["run"].exists() else []
    found = False
    for pid_path in running:
        port = int(pid_path.stem.rsplit("-", 1)[1])
        pid = our_pid(p, port)
        if pid:
            found = True
            print(f"running:   pid {pid} at {base_url(port)} ({'answering' if answers(port) else 'not answering'})")
    if not found:
        print("running:   nothing")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="build Ollama and the engine (cached)").set_defaults(func=cmd_install)
    for name, func in (("start", cmd_start), ("stop", cmd_stop), ("env", cmd_env)):
        sub = commands.add_parser(name)
        sub.add_argument("--port", type=int, default=int(os.environ.get("REAL_OLLAMA_PORT", DEFAULT_PORT)))
        sub.set_defaults(func=func)
    commands.add_parser("status").set_defaults(func=cmd_status)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except engine.EngineError as error:
        print(f"[ollama] error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
