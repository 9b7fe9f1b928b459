"""Test-session plumbing: a real model server for the notebooks and the live tests.

If ``OLLAMA_BASE_URL`` is set, every live test and notebook uses that server (real Ollama, a remote one, ...).
Otherwise the suite starts the embedded engine (``scripts/engine.py``) on its own port, points the notebooks
at it through the environment before any kernel starts, and stops it at the end. Nothing is assumed running.

``--ollama-double MODEL`` (``llama3.2``, ``qwen3`` or ``gpt-oss``) puts the Ollama double (``tests/ollama_double.py``)
in front of that engine, on ``ENGINE_TEST_PORT + 1``, and points the lessons at it as Ollama would be:
``OLLAMA_MODEL=MODEL`` and ``OLLAMA_VISION_MODEL=llava``: the variables a learner sets. No lesson reads a variable only
the test run sets; a check cell works out from the reply (and the model's name, for gpt-oss) whether the model
thought. ``make test-ollama`` runs the lessons all three ways.
"""

from __future__ import annotations

import os

import pytest

TEST_PORT = int(os.environ.get("ENGINE_TEST_PORT", "18435"))
LIVE_FIXTURES = {"live_settings", "live_client", "live_model", "ollama_double"}
DOUBLE_VISION_MODEL = "llava"
_started_key = pytest.StashKey[object]()  # the engine module, when this session started the engine
_double_key = pytest.StashKey[object]()  # the OllamaDouble in front of it, once one runs
_kernel_ports_key = pytest.StashKey[object]()  # kernels take their ports there, or None: tests/kernel_ports.py


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--ollama-double", metavar="MODEL", default=None,
                     help="run through the Ollama double in front of the embedded engine, as MODEL "
                          "(llama3.2, qwen3 or gpt-oss): the lessons see Ollama's interface and, for qwen3, a "
                          "thinking model; for gpt-oss, one whose thinking cannot be switched off")


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
    from tests.replay import load_engine

    engine = load_engine()
    try:
        seconds = engine.start(TEST_PORT)
    except engine.EngineError as error:
        pytest.exit(f"could not start the embedded engine: {error}", returncode=3)
    session.config.stash[_started_key] = engine
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


@pytest.fixture(scope="session")
def ollama_double(request: pytest.FixtureRequest):
    """The Ollama double (tests/ollama_double.py) in front of the embedded engine this session started."""
    if request.config.stash.get(_started_key, None) is None:
        pytest.skip("the Ollama double stands in front of the embedded engine; OLLAMA_BASE_URL names another server")
    return _start_double(request.config)


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
