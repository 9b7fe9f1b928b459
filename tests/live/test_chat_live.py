"""ChatWidget end to end against a real model server (the embedded engine unless OLLAMA_BASE_URL is set).

The model's wording is not checked (a 135M model's text is poor): only structure, history and usage.
"""

from __future__ import annotations

import asyncio
import time

import anthropic
import pytest
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
    replies = [chat.send_message(text) for text in TURNS]
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
    reply = chat.send_message(TURNS[1])
    assert reply.content and reply.usage.output_tokens > 0
    assert chat.messages[3]["content"] == [{"type": "text", "text": block.text}
                                           for block in reply.content if block.type == "text" and block.text.strip()]
    _check_conversation(chat, [reply])


def test_unknown_model_or_single_model_server(live_client):
    """Ollama answers 404 for an unknown model (history unchanged); llama.cpp serves its one model whatever the name."""
    chat = ChatWidget(live_client, "no-such-model", max_tokens=16)
    try:
        chat.send_message("Hello")
    except anthropic.NotFoundError:
        assert chat.messages == [] and chat.text_box.value == "Hello" and "HTTP 404" in chat.error
    else:
        assert [turn["role"] for turn in chat.messages] == ["user", "assistant"]


LONG_PROMPT = "Write a very long story about a dragon who learns to cook. Use many chapters."


def test_stop_a_live_reply_then_the_next_turn_sends_the_partial_reply(live_client, live_model):
    """Stop on the event loop against the real server: the stream ends at once, the partial reply is kept as the
    assistant turn, and the next request (which carries it) gets an answer. The engine serves one request at a time
    (-np 1): had the stopped generation gone on, the next reply would wait behind it."""
    chat = ChatWidget(live_client, live_model, system=SYSTEM, max_tokens=1500)

    async def scenario():
        turn = asyncio.create_task(chat.asend(LONG_PROMPT))
        deadline = time.perf_counter() + 60
        while not (chat.reply_view is not None and len(chat.reply_view.text) > 40):
            assert time.perf_counter() < deadline and not turn.done(), chat.error
            await asyncio.sleep(0.02)
        began = time.perf_counter()
        assert chat.stop()
        message = await turn
        latency = time.perf_counter() - began
        answered = time.perf_counter()
        reply = await chat.asend("Summarize that in one sentence.")
        return message, latency, time.perf_counter() - answered, reply

    message, latency, next_turn_s, reply = asyncio.run(scenario())
    print(f"\n[chat] Stop latency {latency * 1000:.0f} ms; the next turn took {next_turn_s:.2f} s")
    assert latency <= 0.5
    partial = message.content[-1].text
    assert message.stop_reason is None and partial.strip()
    assert chat.messages[1] == {"role": "assistant", "content": [{"type": "text", "text": partial}]}
    assert chat.stopped_turns == [1] and chat.turns == 2 and chat.error == ""
    assert reply.stop_reason in ("end_turn", "max_tokens") and chat.messages[3]["content"][0]["text"].strip()


@pytest.mark.parametrize("thinking", [{"type": "disabled"}, {"type": "enabled", "budget_tokens": 1024}])
def test_thinking_option_is_accepted_by_the_server(live_client, live_model, thinking):
    chat = ChatWidget(live_client, live_model, max_tokens=32, thinking=thinking)
    reply = chat.send_message("Hello")
    assert reply.stop_reason in ("end_turn", "max_tokens") and chat.turns == 1 and chat.error == ""
