"""ChatWidget end to end against a real model server (the embedded engine unless OLLAMA_BASE_URL is set).

The model's wording is not checked (a 135M model's text is poor): only structure, history and usage.
"""

from __future__ import annotations

import anthropic
from ollama_anthropic_widgets import ChatWidget, UsageTracker

SYSTEM = "You are a friendly assistant. Answer in one sentence."
TURNS = ("Hi! My name is Ming.", "What is my name?")


def _check_conversation(chat: ChatWidget, replies: list) -> None:
    assert [turn["role"] for turn in chat.messages] == ["user", "assistant"] * len(TURNS)
    assert [turn["content"][0]["text"] for turn in chat.messages[::2]] == list(TURNS)
    for reply in replies:
        assert reply.stop_reason in ("end_turn", "max_tokens")
    for turn in chat.messages[1::2]:
        assert turn["content"] and all(block["type"] == "text" and block["text"].strip() for block in turn["content"])
    assert chat.error == "" and chat.turns == len(TURNS) and not chat.busy


def test_streamed_chat_with_usage_tracker(live_client, live_model):
    tracker = UsageTracker()
    chat = ChatWidget(live_client, live_model, system=SYSTEM, max_tokens=32, tracker=tracker)
    replies = [chat.send(text) for text in TURNS]
    _check_conversation(chat, replies)
    rows = tracker.rows
    assert len(rows) == 2 and all(row["streamed"] and row["output_tokens"] > 0 for row in rows)
    assert rows[1]["ttft_s"] is not None


def test_non_streamed_chat_first_by_button_then_by_code(live_client, live_model):
    chat = ChatWidget(live_client, live_model, system=SYSTEM, max_tokens=32, stream=False)
    chat.text_box.value = TURNS[0]
    chat.send_button.click()
    assert [turn["role"] for turn in chat.messages] == ["user", "assistant"], chat.error
    assert chat.text_box.value == ""
    reply = chat.send(TURNS[1])
    assert reply.content and reply.usage.output_tokens > 0
    assert chat.messages[3]["content"] == [{"type": "text", "text": block.text}
                                           for block in reply.content if block.type == "text" and block.text.strip()]
    _check_conversation(chat, [reply])


def test_unknown_model_or_single_model_server(live_client):
    """Ollama answers 404 for an unknown model (history unchanged); llama.cpp serves its one model whatever the name."""
    chat = ChatWidget(live_client, "no-such-model", max_tokens=16)
    try:
        chat.send("Hello")
    except anthropic.NotFoundError:
        assert chat.messages == [] and chat.text_box.value == "Hello" and "HTTP 404" in chat.error
    else:
        assert [turn["role"] for turn in chat.messages] == ["user", "assistant"]
