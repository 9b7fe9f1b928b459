"""Test-session plumbing: a real model server for the notebooks and the live tests.

If ``OLLAMA_BASE_URL`` is set, every live test and notebook uses that server (real Ollama, a remote one, ...).
Otherwise the suite starts the embedded engine (``scripts/engine.py``) on its own port, points the notebooks
at it through the environment before any kernel starts, and stops it at the end. Nothing is assumed running.

``--ollama-double MODEL`` (``llama3.2``, ``qwen3`` or ``gpt-oss``) puts the Ollama double (``tests/ollama_double.py``)
in front of that engine, on ``ENGINE_TEST_PORT + 1``, and points the lessons at it as Ollama would be:
``OLLAMA_MODEL=MODEL`` and ``OLLAMA_VISION_MODEL=llava``: the variables a learner sets. No lesson reads a variable only
the test run sets; a check cell works out from the reply (and the model's name, for gpt-oss) whether the model
thought. ``make test-double`` runs the lessons all three ways.

``--real-ollama`` runs against a real Ollama instead: the release ``scripts/ollama.py`` builds from the Go module
proxy, started on ``REAL_OLLAMA_TEST_PORT`` (default ``ENGINE_TEST_PORT + 2``) with the engine's model imported as
``llama3.2`` and ``qwen3``; the lessons and live tests see ``OLLAMA_MODEL=llama3.2`` (also the vision model: no small
vision model exists to import). The embedded engine starts too when a test asks for the Ollama double (the
conformance test puts the two side by side). ``make test-ollama`` runs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

TEST_PORT = int(os.environ.get("ENGINE_TEST_PORT", "18435"))
REAL_OLLAMA_PORT = int(os.environ.get("REAL_OLLAMA_TEST_PORT") or TEST_PORT + 2)
LIVE_FIXTURES = {"live_settings", "live_client", "live_model", "ollama_double", "real_ollama"}
DOUBLE_VISION_MODEL = "llava"
_started_key = pytest.StashKey[object]()  # the engine module, when this session started the engine
_double_key = pytest.StashKey[object]()  # the OllamaDouble in front of it, once one runs
_kernel_ports_key = pytest.StashKey[object]()  # kernels take their ports there, or None: tests/kernel_ports.py
_ollama_key = pytest.StashKey[object]()  # scripts/ollama.py as a module, when this session started a real Ollama
_reports_key = pytest.StashKey[list]()  # (title, text) that tests leave for the end of the run: terminal_report


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--ollama-double", metavar="MODEL", default=None,
                     help="run through the Ollama double in front of the embedded engine, as MODEL "
                          "(llama3.2, qwen3 or gpt-oss): the lessons see Ollama's interface and, for qwen3, a "
                          "thinking model; for gpt-oss, one whose thinking cannot be switched off")
    parser.addoption("--real-ollama", action="store_true", default=False,
                     help="run against a real Ollama built by scripts/ollama.py (make test-ollama), started on "
                          "REAL_OLLAMA_TEST_PORT (default ENGINE_TEST_PORT + 2)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_kernel_ports_key] = None
    if os.environ.get("KERNEL_PORTS"):  # FIRST-LAST: this session's kernels take their ports there (make test sets it)
        from tests import kernel_ports  # only then: importing it costs ~0.8 s (jupyter_client, the kit's replay)

        try:
            config.stash[_kernel_ports_key] = kernel_ports.install()
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None
    config.addinivalue_line("markers", "live: needs a real model server (the embedded engine or OLLAMA_BASE_URL)")
    config.stash[_started_key] = None
    config.stash[_double_key] = None
    config.stash[_ollama_key] = None
    config.stash[_reports_key] = []
    if config.getoption("--real-ollama"):
        if config.getoption("--ollama-double") is not None:
            raise pytest.UsageError("--real-ollama and --ollama-double are two different servers: pick one")
        if os.environ.get("OLLAMA_BASE_URL"):
            raise pytest.UsageError("--real-ollama starts its own Ollama: unset OLLAMA_BASE_URL")
    model = config.getoption("--ollama-double")
    if model is not None:
        from tests.ollama_double import MODELS

        if model not in MODELS or model == DOUBLE_VISION_MODEL:
            text_models = sorted(set(MODELS) - {DOUBLE_VISION_MODEL})
            raise pytest.UsageError(f"--ollama-double takes a text model: {text_models}")
        if os.environ.get("OLLAMA_BASE_URL"):
            raise pytest.UsageError("--ollama-double stands in front of the embedded engine: unset OLLAMA_BASE_URL")


def pytest_report_header(config: pytest.Config) -> str | None:
    ports = config.stash.get(_kernel_ports_key, None)
    return None if ports is None else f"kernel ports: {ports.start}-{ports.stop - 1} (KERNEL_PORTS)"


def _needs_server(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell" or item.get_closest_marker("live") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("live")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Runs after collection and before any notebook kernel starts, so kernels inherit the environment."""
    if os.environ.get("OLLAMA_BASE_URL") or not any(_needs_server(item) for item in session.items):
        return
    if session.config.getoption("--real-ollama"):
        _start_real_ollama(session)
        if not any("ollama_double" in getattr(item, "fixturenames", ()) for item in session.items):
            return
    _start_engine(session)


def _start_real_ollama(session: pytest.Session) -> None:
    from tests.replay import load_ollama

    ollama = load_ollama()
    try:
        seconds = ollama.start(REAL_OLLAMA_PORT)
    except ollama.engine.EngineError as error:
        pytest.exit(f"could not start the real Ollama: {error}", returncode=3)
    session.config.stash[_ollama_key] = ollama
    os.environ.update(ollama.environment(REAL_OLLAMA_PORT))
    print(f"\n[ollama] Ollama {ollama.release()} (built from the Go module proxy) at "
          f"{ollama.base_url(REAL_OLLAMA_PORT)}, ready in {seconds:.1f} s; "
          f"OLLAMA_MODEL={os.environ['OLLAMA_MODEL']} OLLAMA_VISION_MODEL={os.environ['OLLAMA_VISION_MODEL']}")


def _start_engine(session: pytest.Session) -> None:
    from tests.replay import load_engine

    engine = load_engine()
    try:
        seconds = engine.start(TEST_PORT)
    except engine.EngineError as error:
        pytest.exit(f"could not start the embedded engine: {error}", returncode=3)
    session.config.stash[_started_key] = engine
    if session.config.stash[_ollama_key] is None:  # with a real Ollama, the lessons stay on it
        os.environ.update(engine.environment(TEST_PORT))
    print(f"\n[engine] test server on port {TEST_PORT}, ready in {seconds:.1f} s")
    model = session.config.getoption("--ollama-double")
    if model is not None:
        from tests.ollama_double import RELEASE

        double = _start_double(session.config)
        os.environ.update({"OLLAMA_BASE_URL": double.base_url, "OLLAMA_MODEL": model,
                           "OLLAMA_VISION_MODEL": DOUBLE_VISION_MODEL})
        print(f"[ollama double] Ollama {RELEASE} at {double.base_url} in front of the engine; "
              f"OLLAMA_MODEL={model} OLLAMA_VISION_MODEL={DOUBLE_VISION_MODEL}")


def _start_double(config: pytest.Config):
    """The session's Ollama double, in front of the engine this session started (one per session)."""
    double = config.stash.get(_double_key, None)
    if double is None:
        from tests.ollama_double import OllamaDouble

        engine = config.stash[_started_key]
        try:
            double = OllamaDouble(engine.base_url(TEST_PORT), port=TEST_PORT + 1)
        except OSError as error:
            pytest.exit(f"could not start the Ollama double on port {TEST_PORT + 1}: {error}", returncode=3)
        config.stash[_double_key] = double
    return double


def pytest_sessionfinish(session: pytest.Session) -> None:
    double = session.config.stash.get(_double_key, None)
    if double is not None:
        double.close()
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"[ollama double] {double.stats.summary()}")
    engine = session.config.stash.get(_started_key, None)
    if engine is not None:
        engine.stop(TEST_PORT)
    ollama = session.config.stash.get(_ollama_key, None)
    if ollama is not None:
        ollama.stop(REAL_OLLAMA_PORT)


@pytest.fixture(scope="session")
def ollama_double(request: pytest.FixtureRequest):
    """The Ollama double (tests/ollama_double.py) in front of the embedded engine this session started."""
    if request.config.stash.get(_started_key, None) is None:
        pytest.skip("the Ollama double stands in front of the embedded engine; OLLAMA_BASE_URL names another server")
    return _start_double(request.config)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    for title, text in config.stash.get(_reports_key, []):
        terminalreporter.section(title)
        terminalreporter.write_line(text)


@pytest.fixture()
def terminal_report(request: pytest.FixtureRequest):
    """``terminal_report(title, text)``: shown at the end of the run, passed or not, whatever ``-s`` says."""
    return lambda title, text: request.config.stash[_reports_key].append((title, text))


@dataclass(frozen=True)
class RealOllama:
    base_url: str
    release: str  # e.g. "0.34.4"
    text_model: str  # completion and tools
    thinking_model: str  # completion, tools and thinking (scripts/ollama.py: its replies are all thinking)
    plain_model: str  # completion only


@pytest.fixture(scope="session")
def real_ollama(request: pytest.FixtureRequest) -> RealOllama:
    """The real Ollama this session started (``--real-ollama``, ``make test-ollama``)."""
    ollama = request.config.stash.get(_ollama_key, None)
    if ollama is None:
        pytest.skip("needs a real Ollama: run with --real-ollama (make test-ollama)")
    return RealOllama(ollama.base_url(REAL_OLLAMA_PORT), ollama.release(), ollama.TEXT_MODEL, ollama.THINKING_MODEL,
                      ollama.PLAIN_MODEL)


@pytest.fixture(scope="session")
def live_settings():
    """The configured server's settings (the embedded engine unless OLLAMA_BASE_URL is set)."""
    from ollama_anthropic_widgets.lessons.config import settings

    return settings()


@pytest.fixture(scope="session")
def live_model(live_settings) -> str:
    return live_settings.model


@pytest.fixture()
def live_client(live_settings):
    """A real SDK client for the configured server; no retries, so failures show at once."""
    from anthropic import Anthropic

    return Anthropic(base_url=live_settings.base_url, api_key=live_settings.api_key, max_retries=0, timeout=120)
