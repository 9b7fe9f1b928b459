#!/usr/bin/env python3
"""`make lab`: open JupyterLab on the lessons with a live model behind them.

Order: a server named by OLLAMA_BASE_URL; otherwise Ollama at http://localhost:11434 if it answers; otherwise
the embedded engine, started for this session and stopped when JupyterLab exits. The choice reaches every
notebook through the OLLAMA_* environment variables.

    python scripts/lab.py [JupyterLab options]   # the above; `make lab` runs it with $(LAB_ARGS)
    python scripts/lab.py --prepare-engine       # only build/fetch the engine, unless Ollama will be used

`make lab` runs ``--prepare-engine`` while pip installs the kit (the build needs the CPU, pip mostly the network),
so a first start waits for the longer of the two instead of their sum.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OLLAMA_URL = "http://localhost:11434"  # the kit's config.DEFAULT_BASE_URL (a unit test keeps them equal)


def ollama_answers(timeout: float = 1.0) -> bool:
    """Whether Ollama answers at its default address, asked with the standard library alone: `--prepare-engine`
    runs before the kit is installed. Only a guess to skip a needless build; ``main`` decides with the kit's
    connection check."""
    try:
        with urllib.request.urlopen(f"{OLLAMA_URL}/api/version", timeout=timeout) as reply:
            payload = json.load(reply)
    except (OSError, ValueError):  # nothing listens, an HTTP error, or not JSON: not Ollama
        return False
    return isinstance(payload, dict) and "version" in payload


def prepare_engine() -> int:
    if os.environ.get("OLLAMA_BASE_URL") or ollama_answers():
        print("[lab] a model server is configured or Ollama answers: not preparing the embedded engine")
        return 0
    import engine  # scripts/engine.py, beside this file (its folder is sys.path[0])

    return engine.main(["install"])


def main() -> int:
    if sys.argv[1:2] == ["--prepare-engine"]:
        return prepare_engine()
    from ollama_anthropic_widgets.lessons.config import DEFAULT_BASE_URL
    from ollama_anthropic_widgets.lessons.doctor import check_connection

    engine, port = None, None
    if os.environ.get("OLLAMA_BASE_URL"):
        print(f"[lab] using OLLAMA_BASE_URL={os.environ['OLLAMA_BASE_URL']}")
        print(f"[lab] {check_connection(send_test_message=False)}")
    else:
        ollama = check_connection(DEFAULT_BASE_URL, timeout=1.0, send_test_message=False)
        if ollama.server_kind == "ollama":
            print(f"[lab] {ollama.server_name} answers at {DEFAULT_BASE_URL}: the lessons will use it")
            if not ollama.ok:
                print(f"[lab] note: {ollama}")
        else:
            import engine  # scripts/engine.py, beside this file (its folder is sys.path[0])

            port = int(os.environ.get("ENGINE_PORT", engine.DEFAULT_PORT))
            print(f"[lab] no Ollama at {DEFAULT_BASE_URL}: using the embedded engine (SmolLM2-135M)")
            try:
                if engine.main(["install"]) != 0:
                    return 1
                engine.start(port)
            except engine.EngineError as error:
                print(f"[lab] error: {error}", file=sys.stderr)
                return 1
            os.environ.update(engine.environment(port))
    # `kill` or a closed terminal should stop the engine too, not only Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
               *(["--allow-root"] if os.geteuid() == 0 else []), *sys.argv[1:]]
    lab = subprocess.Popen(command)
    try:
        return lab.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if lab.poll() is None:  # we were told to stop: take JupyterLab down with us
            lab.terminate()
            try:
                lab.wait(timeout=15)
            except subprocess.TimeoutExpired:
                lab.kill()
        if engine is not None:
            engine.stop(port)
            print(f"[lab] stopped the embedded engine on port {port}")


if __name__ == "__main__":
    sys.exit(main())
