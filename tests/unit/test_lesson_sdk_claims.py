"""What lesson 02 teaches about the installed ``anthropic`` SDK's stream helpers, held against that SDK.

If an SDK upgrade changes one of these, the lesson's prose is wrong and this fails. Traffic is replayed through
the real SDK from Ollama transcripts (``tests/recordings/ollama_stream_thinking_text.json``: a thinking block, then
text; ``chat_thinking_only_stream.json``: a budget spent on thinking, no text block; both recorded from a real Ollama
v0.34.4).
"""

from __future__ import annotations

import pytest
from ollama_anthropic_widgets import text_of

from tests.replay import load_recording, replay_client

PROMPT = [{"role": "user", "content": "写一首诗"}]


def _stream(name: str):
    client, _ = replay_client(name)
    return client.messages.stream(model="qwen3", max_tokens=1024, messages=PROMPT)


def test_recordings_are_the_shapes_the_claims_need():
    thinking_then_text = load_recording("ollama_stream_thinking_text")["exchanges"][0]["response"]["body"]
    thinking_only = load_recording("chat_thinking_only_stream")["exchanges"][0]["response"]["body"]
    assert '"thinking_delta"' in thinking_then_text and '"text_delta"' in thinking_then_text
    assert '"thinking_delta"' in thinking_only and '"text_delta"' not in thinking_only


def test_get_final_text_joins_the_text_blocks_by_type_and_skips_thinking():
    with _stream("ollama_stream_thinking_text") as stream:
        final_text = stream.get_final_text()
        message = stream.get_final_message()
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert final_text == text_of(message) and final_text
    assert message.content[0].thinking not in final_text


def test_get_final_text_raises_only_when_there_is_no_text_block():
    with _stream("chat_thinking_only_stream") as stream:
        message = stream.get_final_message()
        with pytest.raises(RuntimeError, match="text"):
            stream.get_final_text()
    assert message.stop_reason == "max_tokens" and text_of(message) == ""


def test_text_stream_yields_only_text_deltas():
    with _stream("ollama_stream_thinking_text") as stream:
        pieces = list(stream.text_stream)
        message = stream.get_final_message()
    assert "".join(pieces) == text_of(message)
    with _stream("chat_thinking_only_stream") as stream:
        assert list(stream.text_stream) == []
