"""Re-record the stream-view recordings from the embedded engine (real traffic, no editing).

    python tests/recordings/record_engine.py [--port 18434]

Starts the embedded engine (``scripts/engine.py``) on ``--port`` unless one of ours already runs there, records
each exchange through ``tests.replay.recording_client`` and writes ``tests/recordings/NAME.json`` with a
``source`` line naming server, model, seed, address and date. Stops the engine again if it started it.
The engine runs with ``--seed 42``, so a re-run gives the same text; token counts can differ by the
prompt-cache state (``cache_read_input_tokens``).
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.replay import engine_for_recording, recording_client, save_recording  # noqa: E402


def _tiny_png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def record_all(base_url: str, model: str, describe: str) -> list[Path]:
    def source(what: str) -> str:
        return f"{what}; {describe}"

    written = []

    client, recorder = recording_client(base_url)
    with client.messages.stream(model=model, max_tokens=200,
                                messages=[{"role": "user", "content": "写一首诗"}]) as stream:
        stream.until_done()
    written.append(save_recording("stream_poem", source("messages.stream 写一首诗, max_tokens=200"),
                                  recorder.exchanges))

    client, recorder = recording_client(base_url)
    client.messages.create(model=model, max_tokens=64, messages=[{"role": "user", "content": "你好"}])
    written.append(save_recording("create_hello", source("messages.create 你好, max_tokens=64 (not streamed)"),
                                  recorder.exchanges))

    client, recorder = recording_client(base_url)
    with client.messages.stream(model=model, max_tokens=12, messages=[
            {"role": "user", "content": "Tell me a long story about a dragon and a lighthouse."}]) as stream:
        stream.until_done()
    written.append(save_recording("stream_max_tokens", source("messages.stream with max_tokens=12 (stops on "
                                                              "max_tokens)"), recorder.exchanges))

    client, recorder = recording_client(base_url + "/v1")  # the seed document's mistake: the SDK adds /v1 itself
    try:
        with client.messages.stream(model=model, max_tokens=16,
                                    messages=[{"role": "user", "content": "你好"}]) as stream:
            stream.until_done()
    except Exception as error:  # the 404 is what we record
        print(f"  expected error: {type(error).__name__}")
    written.append(save_recording("error_404_base_url_v1", source("messages.stream with base_url ending in /v1, "
                                                                  "so the SDK requests /v1/v1/messages (404)"),
                                  recorder.exchanges))

    client, recorder = recording_client(base_url)
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": _tiny_png()}}
    try:
        with client.messages.stream(model=model, max_tokens=16, messages=[
                {"role": "user", "content": [image, {"type": "text", "text": "What is in this image?"}]}]) as stream:
            stream.until_done()
    except Exception as error:
        print(f"  expected error: {type(error).__name__}")
    written.append(save_recording("error_500_image", source("messages.stream with an 8x8 PNG image block to a "
                                                            "text-only model (HTTP 500)"), recorder.exchanges))
    return written


def main() -> int:
    with engine_for_recording("tests/recordings/record_engine.py", __doc__.splitlines()[0]) as (engine, base_url, describe):
        for path in record_all(base_url, engine.MODEL_ALIAS, describe):
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
