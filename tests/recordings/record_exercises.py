"""Record the replies the lessons' exercises check a learner's code on (real traffic, no editing).

    python tests/recordings/record_exercises.py [--port 18434]

The exercises (``exercises/``, lessons 01-12) call the learner's function on recorded replies, never on words
written for the purpose. This script records them into two files of ``notebooks/data/`` (the folder of what the
lessons read), each exchange with a ``name`` the exercises select it by:

- ``exercise_replies_llama_cpp.json``: from the embedded engine (llama.cpp's ``llama-server``, SmolLM2-135M).
- ``exercise_replies_ollama_double.json``: through the Ollama double (``tests/ollama_double.py``) in front of the
  same engine: Ollama v0.32.15's interface (ids, no cache fields in ``usage``, error bodies, 404 pages, a thinking
  model that thinks by default), every word of model text the engine's. Its ``source`` says it is not a real Ollama.

Starts the engine on ``--port`` unless one of ours already runs there, and the double on the next port.
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import anthropic  # noqa: E402
import httpx2  # noqa: E402
from ollama_anthropic_widgets import replay  # noqa: E402

from tests.ollama_double import RELEASE, OllamaDouble  # noqa: E402
from tests.replay import Recorder, engine_for_recording, recording_client  # noqa: E402

DATA = ROOT / "notebooks" / "data"
HELLO = [{"role": "user", "content": "你好"}]
POEM = [{"role": "user", "content": "写一首诗"}]
SYSTEM = "你是一个友好的助手"


def _tiny_png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class Session:
    """Named exchanges: each ``record(name, what)`` keeps what one block of calls exchanged."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.exchanges: list[dict[str, Any]] = []

    def client(self, base_url: str | None = None) -> tuple[anthropic.Anthropic, Recorder]:
        return recording_client(base_url or self.base_url)

    def keep(self, name: str, what: str, recorder: Recorder) -> None:
        if not recorder.exchanges:
            raise SystemExit(f"{name}: nothing was exchanged")
        for exchange in recorder.exchanges:
            self.exchanges.append({"name": name, "what": what, **exchange})
        last = recorder.exchanges[-1]["response"]
        print(f"  {name}: HTTP {last['status']}, {len(last['body'])} bytes")

    def get(self, name: str, what: str, path: str) -> None:
        recorder = Recorder()
        with httpx2.Client(base_url=self.base_url, transport=recorder) as http:
            http.get(path)
        self.keep(name, what, recorder)

    def failing(self, name: str, what: str, base_url: str | None = None, **request: Any) -> None:
        client, recorder = self.client(base_url)
        try:
            client.messages.create(**request)
        except anthropic.APIStatusError as error:
            print(f"  ({name}: {type(error).__name__} as expected)")
        else:
            raise SystemExit(f"{name}: the request succeeded; nothing to record")
        self.keep(name, what, recorder)


def _chat(session: Session, model: str, stream: bool) -> None:
    """Two turns of lesson 10's/11's chat, each request holding the whole history so far."""
    history: list[dict[str, Any]] = []
    for number, question in enumerate(["你好", "我叫小明"], start=1):
        history.append({"role": "user", "content": question})
        client, recorder = session.client()
        if stream:
            with client.messages.stream(model=model, max_tokens=100, messages=history) as live:
                live.until_done()
                reply = live.get_final_message()
        else:
            reply = client.messages.create(model=model, max_tokens=100, system=SYSTEM, messages=history)
        text = "".join(block.text for block in reply.content if block.type == "text")
        history.append({"role": "assistant", "content": text})
        kind = "stream" if stream else "create"
        session.keep(f"chat_{kind}_turn_{number}", f"lesson {'11' if stream else '10'}'s chat, turn {number} "
                     f"({question}), messages.{kind}, max_tokens 100, the whole history sent", recorder)


def record_engine(base_url: str, model: str) -> list[dict[str, Any]]:
    session = Session(base_url)
    client, recorder = session.client()
    client.messages.create(model=model, max_tokens=64, messages=HELLO)
    session.keep("text", "messages.create 你好, max_tokens 64", recorder)

    client, recorder = session.client()
    client.messages.create(model=model, max_tokens=8, messages=POEM)
    session.keep("cut", "messages.create 写一首诗, max_tokens 8 (stops on max_tokens)", recorder)

    client, recorder = session.client()
    with client.messages.stream(model=model, max_tokens=120, messages=POEM) as stream:
        stream.until_done()
    session.keep("stream_text", "messages.stream 写一首诗, max_tokens 120", recorder)

    client, recorder = session.client()
    with client.messages.stream(model=model, max_tokens=10, messages=POEM) as stream:
        stream.until_done()
    session.keep("stream_cut", "messages.stream 写一首诗, max_tokens 10 (stops on max_tokens)", recorder)

    _chat(session, model, stream=False)
    _chat(session, model, stream=True)

    client, recorder = session.client()
    client.messages.count_tokens(model=model, messages=HELLO)
    session.keep("count_tokens", "messages.count_tokens 你好 (llama.cpp has the route)", recorder)

    session.get("models", "GET /v1/models (llama.cpp lists its one model in OpenAI's format)", "/v1/models")
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": _tiny_png()}}
    session.failing("image_500", "an 8x8 PNG to a model without vision: HTTP 500", model=model, max_tokens=16,
                    messages=[{"role": "user", "content": [{"type": "text", "text": "描述这张图片"}, image]}])
    session.failing("url_v1_404", "base_url ending in /v1: the SDK requests /v1/v1/messages (404)",
                    base_url=base_url + "/v1", model=model, max_tokens=16, messages=HELLO)
    return session.exchanges


def record_double(base_url: str) -> list[dict[str, Any]]:
    session = Session(base_url)
    client, recorder = session.client()
    client.messages.create(model="qwen3", max_tokens=400, messages=HELLO)
    session.keep("thinking_text", "qwen3 (thinks by default), messages.create 你好, max_tokens 400", recorder)

    client, recorder = session.client()
    client.messages.create(model="qwen3", max_tokens=24, messages=HELLO)
    session.keep("thinking_only", "qwen3, messages.create 你好, max_tokens 24: the budget goes to thinking, no text "
                 "block, stop_reason max_tokens", recorder)

    client, recorder = session.client()
    with client.messages.stream(model="qwen3", max_tokens=400, messages=POEM) as stream:
        stream.until_done()
    session.keep("stream_thinking_text", "qwen3, messages.stream 写一首诗, max_tokens 400", recorder)

    client, recorder = session.client()
    with client.messages.stream(model="qwen3", max_tokens=24, messages=HELLO) as stream:
        stream.until_done()
    session.keep("stream_thinking_only", "qwen3, messages.stream 你好, max_tokens 24: thinking only, no text block",
                 recorder)

    client, recorder = session.client()
    client.messages.create(model="llama3.2", max_tokens=64, messages=HELLO)
    session.keep("text", "llama3.2, messages.create 你好, max_tokens 64", recorder)

    session.failing("unknown_model_404", "a model that is not pulled: 404 not_found_error", model="no-such-model",
                    max_tokens=16, messages=HELLO)
    session.failing("url_v1_404", "base_url ending in /v1: the SDK requests /v1/v1/messages, Gin's plain-text 404",
                    base_url=base_url + "/v1", model="llama3.2", max_tokens=16, messages=HELLO)
    session.failing("bad_request_400", "max_tokens 0: 400 invalid_request_error", model="llama3.2", max_tokens=0,
                    messages=HELLO)
    client, recorder = session.client()
    try:
        client.messages.count_tokens(model="llama3.2", messages=HELLO)
    except anthropic.NotFoundError:
        pass
    session.keep("count_tokens_404", "messages.count_tokens: no such route, plain-text 404", recorder)
    session.get("tags", "GET /api/tags (Ollama's list of pulled models)", "/api/tags")
    session.get("models", "GET /v1/models (the same list through Ollama's OpenAI-compatible API)", "/v1/models")
    return session.exchanges


def main() -> None:
    with engine_for_recording("tests/recordings/record_exercises.py", __doc__.splitlines()[0]) as (
            engine, base_url, describe):
        what = "replies the lessons' exercises check a learner's code on; each exchange's name and what say which"
        path = replay.save_recording(DATA / "exercise_replies_llama_cpp.json", f"{what}; {describe}",
                                     record_engine(base_url, engine.MODEL_ALIAS))
        print("wrote", path)
        double = OllamaDouble(base_url, port=int(base_url.rsplit(":", 1)[1]) + 1)
        try:
            source = (f"{what}; recorded through the project's Ollama double (tests/ollama_double.py), NOT a real "
                      f"Ollama: it answers at Ollama {RELEASE}'s interface, here at {double.base_url}, as llama3.2 "
                      f"and as qwen3 (a thinking model: its thinking and its answer are two real generations of the "
                      f"engine behind it, see the double's docstring); the text is the engine's: {describe}")
            path = replay.save_recording(DATA / "exercise_replies_ollama_double.json", source,
                                         record_double(double.base_url))
            print("wrote", path)
        finally:
            double.close()


if __name__ == "__main__":
    main()
