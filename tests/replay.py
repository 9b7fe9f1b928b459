"""The kit's replay helpers (widgets/replay.py) bound to this folder's recordings: ``load_recording("stream_poem")``
reads ``tests/recordings/stream_poem.json``. See widgets/replay.py for the file format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from widgets import replay as _replay
from widgets.replay import KEPT_HEADERS, Recorder, Replayer, recording_client  # noqa: F401 - re-exported

RECORDINGS = Path(__file__).parent / "recordings"


def load_recording(name: str) -> dict[str, Any]:
    """The recording ``tests/recordings/NAME.json``."""
    return _replay.load_recording(RECORDINGS / f"{name}.json")


def save_recording(name: str, source: str, exchanges: list[dict[str, Any]]) -> Path:
    return _replay.save_recording(RECORDINGS / f"{name}.json", source, exchanges)


def replay_client(exchanges: list[dict[str, Any]] | str, **options: Any):
    """``widgets.replay.replay_client``, where a string names a recording in ``tests/recordings/``."""
    if isinstance(exchanges, str):
        exchanges = load_recording(exchanges)["exchanges"]
    return _replay.replay_client(exchanges, **options)
