"""The kit's replay helpers (widgets/lessons/replay.py) bound to this folder's recordings:
``load_recording("stream_poem")`` reads ``tests/recordings/stream_poem.json``. A recording a lesson reads lives in
``notebooks/data/`` instead (one copy), and ``load_recording`` finds it there too. See widgets/lessons/replay.py for
the file format."""

from __future__ import annotations

import argparse
import datetime
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anthropic
import httpx2
from ollama_anthropic_widgets.lessons import replay as _replay
from ollama_anthropic_widgets.lessons.replay import KEPT_HEADERS, Recorder, Replayer, recording_client  # noqa: F401 - re-exported

RECORDINGS = Path(__file__).parent / "recordings"
ROOT = Path(__file__).resolve().parent.parent
LESSON_DATA = ROOT / "notebooks" / "data"  # recordings a lesson shows; the tests read the same files

# A connection lost while a reply streams, in either form the SDK reports it: anthropic 2.17.0 and later raise
# anthropic.APIConnectionError with the HTTP client's error as its __cause__ (_streaming.py); 2.10-2.16 let that
# error (httpx2.RemoteProtocolError, ReadError: both httpx2.TransportError) through. A replay cut
# (``cut_after=``) produces it; the kit's contract does not depend on which form arrives.
LOST_CONNECTION = (anthropic.APIConnectionError, httpx2.TransportError)


def recording_path(name: str) -> Path:
    """``tests/recordings/NAME.json``, or ``notebooks/data/NAME.json`` for a recording a lesson reads."""
    for folder in (RECORDINGS, LESSON_DATA):
        if (folder / f"{name}.json").exists():
            return folder / f"{name}.json"
    raise FileNotFoundError(f"no recording {name}.json in {RECORDINGS} or {LESSON_DATA}")


def load_recording(name: str) -> dict[str, Any]:
    """The recording NAME (see ``recording_path``)."""
    return _replay.load_recording(recording_path(name))


def save_recording(name: str, source: str, exchanges: list[dict[str, Any]]) -> Path:
    return _replay.save_recording(RECORDINGS / f"{name}.json", source, exchanges)


def replay_client(exchanges: list[dict[str, Any]] | str, **options: Any):
    """``ollama_anthropic_widgets.lessons.replay.replay_client``, where a string names a recording in
    ``tests/recordings/``."""
    if isinstance(exchanges, str):
        exchanges = load_recording(exchanges)["exchanges"]
    return _replay.replay_client(exchanges, **options)


def load_script(name: str):
    """``scripts/NAME.py`` as a fresh module (the scripts are not part of the installed kit)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_engine():
    """``scripts/engine.py``: the embedded engine."""
    return load_script("engine")


def load_ollama():
    """``scripts/ollama.py``: the real Ollama built from the Go module proxy (``make test-ollama``)."""
    return load_script("ollama")


@contextmanager
def engine_for_recording(script: str, description: str) -> Iterator[tuple[Any, str, str]]:
    """For the scripts that re-record ``tests/recordings``: parse ``--port``, start the embedded engine there unless
    one of ours already runs, and yield ``(engine, base_url, source)``, where ``source`` says what recorded what and
    when. Stops the engine afterwards if it started it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=None, help="engine port (default: the engine's default)")
    engine = load_engine()
    port = parser.parse_args().port or engine.DEFAULT_PORT
    already = engine.our_pid(engine.paths(), port) is not None and engine.healthy(port)
    if not already:
        engine.start(port)
    base_url = engine.base_url(port)
    source = (f"recorded from the embedded engine (llama.cpp llama-server from {engine.LLAMA_SDIST['requirement']}, "
              f"model {engine.MODEL_ALIAS} = {engine.MODEL_FILE}, --seed 42) at {base_url} on "
              f"{datetime.date.today().isoformat()} by {script}")
    try:
        yield engine, base_url, source
    finally:
        if not already:
            engine.stop(port)


def caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    """True when ``error`` or an error in its cause chain is a ``kind``."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False

@contextmanager
def real_ollama_for_recording(script: str, description: str) -> Iterator[tuple[Any, str, str]]:
    """Like ``engine_for_recording``, for a real Ollama (``scripts/ollama.py``; ``--port``, default its own): yields
    ``(ollama, base_url, source)``, where ``source`` names the release, how it was built, the weights and the date;
    append which model name the exchange used."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=None, help="Ollama's port (default: scripts/ollama.py's)")
    ollama = load_ollama()
    port = parser.parse_args().port or ollama.DEFAULT_PORT
    already = ollama.our_pid(ollama.paths(), port) is not None and ollama.answers(port)
    ollama.start(port)  # imports the models when they are missing or changed
    base_url = ollama.base_url(port)
    source = (f"recorded from a real Ollama {ollama.release()} ({ollama.OLLAMA['module']}@{ollama.OLLAMA['version']} "
              f"built from the Go module proxy by scripts/ollama.py; its runner is the embedded engine's llama-server) "
              f"serving SmolLM2-135M-Instruct.Q4_1.gguf imported under the names the lessons use, at {base_url} on "
              f"{datetime.date.today().isoformat()} by {script}")
    try:
        yield ollama, base_url, source
    finally:
        if not already:
            ollama.stop(port)
