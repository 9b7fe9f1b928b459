"""Test-session plumbing: a real model server for the notebooks and the live tests.

If ``OLLAMA_BASE_URL`` is set, every live test and notebook uses that server (real Ollama, a remote one, ...).
Otherwise the suite starts the embedded engine (``scripts/engine.py``) on its own port, points the notebooks
at it through the environment before any kernel starts, and stops it at the end. Nothing is assumed running.
"""

from __future__ import annotations

import os

import pytest

TEST_PORT = int(os.environ.get("ENGINE_TEST_PORT", "18435"))
LIVE_FIXTURES = {"live_settings", "live_client", "live_model"}
_started_key = pytest.StashKey[object]()  # the engine module, when this session started the engine


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "live: needs a real model server (the embedded engine or OLLAMA_BASE_URL)")
    config.stash[_started_key] = None


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


def pytest_sessionfinish(session: pytest.Session) -> None:
    engine = session.config.stash.get(_started_key, None)
    if engine is not None:
        engine.stop(TEST_PORT)


@pytest.fixture(scope="session")
def live_settings():
    """The configured server's settings (the embedded engine unless OLLAMA_BASE_URL is set)."""
    from ollama_anthropic_widgets.config import settings

    return settings()


@pytest.fixture(scope="session")
def live_model(live_settings) -> str:
    return live_settings.model


@pytest.fixture()
def live_client(live_settings):
    """A real SDK client for the configured server; no retries, so failures show at once."""
    from anthropic import Anthropic

    return Anthropic(base_url=live_settings.base_url, api_key=live_settings.api_key, max_retries=0, timeout=120)
