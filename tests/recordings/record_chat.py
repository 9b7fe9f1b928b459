"""Record the ChatWidget recordings (two-turn chats, streamed and not) from the embedded engine: real traffic.

    python tests/recordings/record_chat.py [--port 18504]

Starts the embedded engine on ``--port`` unless one of ours already runs there, builds each request with
``ollama_anthropic_widgets.core.conversation.Conversation`` (exactly what ``ChatWidget`` sends), records it through
``tests.replay.recording_client`` and writes ``tests/recordings/chat_*.json`` (engine-recorded ones). Stops the engine if it started it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ollama_anthropic_widgets.core.conversation import Conversation  # noqa: E402

from tests.replay import engine_for_recording, recording_client, save_recording  # noqa: E402

SYSTEM = "You are a friendly assistant. Answer in one or two sentences."
TURNS = ("Hi! My name is Ming.", "What is my name?")
MAX_TOKENS = 64



def record_two_turns(base_url: str, model: str, *, stream: bool) -> list[dict]:
    client, recorder = recording_client(base_url)
    conversation = Conversation()
    for text in TURNS:
        conversation.start_turn(text)
        request = conversation.request(model=model, max_tokens=MAX_TOKENS, system=SYSTEM)
        if stream:
            with client.messages.stream(**request) as reply_stream:
                message = reply_stream.get_final_message()
        else:
            message = client.messages.create(**request)
        conversation.finish_turn(message)
    return recorder.exchanges


def record_no_message_start(base_url: str, model: str) -> list[dict]:
    """This request makes llama-server begin its reply with an emoji and skip ``message_start`` (seed 42)."""
    client, recorder = recording_client(base_url)
    conversation = Conversation()
    conversation.start_turn("你好")
    request = conversation.request(model=model, max_tokens=150, system="你是一个友好的助手")
    with client.messages.stream(**request) as reply_stream:
        events = [event.type for event in reply_stream]
    assert "message_start" not in events, "the engine sent message_start this time: nothing to record"
    return recorder.exchanges


def main() -> int:
    with engine_for_recording("tests/recordings/record_chat.py", __doc__.splitlines()[0]) as (engine, base_url, describe):
        for name, stream in (("chat_stream_two_turns", True), ("chat_create_two_turns", False)):
            how = "messages.stream" if stream else "messages.create"
            what = (f"two-turn chat with system prompt {SYSTEM!r}, {how}, max_tokens={MAX_TOKENS}, turns "
                    f"{list(TURNS)!r}; requests built by ollama_anthropic_widgets.core.conversation.Conversation")
            exchanges = record_two_turns(base_url, engine.MODEL_ALIAS, stream=stream)
            path = save_recording(name, f"{what}; {describe}", exchanges)
            print(f"wrote {path.relative_to(ROOT)}")
        what = ("one chat turn (system '你是一个友好的助手', '你好', messages.stream, max_tokens=150) whose reply "
                "starts with an emoji: the server sends NO message_start event, so the SDK's get_final_message() "
                "fails although message_stop arrived")
        path = save_recording("chat_stream_no_message_start", f"{what}; {describe}",
                              record_no_message_start(base_url, engine.MODEL_ALIAS))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
