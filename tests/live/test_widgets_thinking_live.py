"""The widgets under a thinking model: the kit through the Ollama double as ``qwen3`` (tests/ollama_double.py),
in front of the real engine. The thinking and the text are the engine's; only behaviour is checked.

Through the public API only (``StreamView.consume`` and its traits; ``ChatWidget.send`` / ``messages`` / ``error``
/ ``max_tokens``; ``UsageTracker.watch`` / ``rows``).
"""

from __future__ import annotations

import anthropic
import pytest
from ollama_anthropic_widgets import ChatWidget, StreamView, UsageTracker
from ollama_anthropic_widgets.core.conversation import check_history

from tests.ollama_double import THINKING_TOKENS

POEM = [{"role": "user", "content": "写一首诗"}]


@pytest.fixture()
def client(ollama_double):
    return anthropic.Anthropic(base_url=ollama_double.base_url, api_key="ollama", max_retries=0, timeout=120)


def test_stream_view_shows_thinking_collapsed_then_text(client):
    view = StreamView(update_interval=0, busy_fraction=0)  # no throttle: every event is drawn, even from a replay
    drawn = []  # (thinking section unfolded?, text shown yet?) when it appears and at every fold/unfold
    original = view._show_thinking

    def spy(thinking, *, final):  # the section is created lazily: attach the observer the moment it exists
        existed = view.thinking_view is not None
        sent = original(thinking, final=final)
        if not existed and view.thinking_view is not None:
            drawn.append((view.thinking_view.selected_index == 0, bool(view.text)))
            view.thinking_view.observe(lambda fold: drawn.append((fold["new"] == 0, bool(view.text))),
                                       "selected_index")
        return sent

    view._show_thinking = spy
    message = view.consume(client.messages.stream(model="qwen3", max_tokens=400, messages=POEM))
    assert drawn[0] == (True, False) and drawn[-1] == (False, True)  # open while thinking, closed once text came
    assert all(opened for opened, _ in drawn[:-1])
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert view.status == "done" and view.thinking == message.content[0].thinking
    assert view.text.strip() and view.text == message.content[1].text
    shown = [child._dom_classes for child in view.children if "oaw-empty" not in child._dom_classes]  # hidden
    sections = [name for classes in shown for name in classes if name in ("oaw-thinking", "oaw-text")]
    assert sections == ["oaw-thinking", "oaw-text"]  # thinking above the text
    assert view.thinking_view.selected_index is None  # folded at the end
    assert view.output_tokens == message.usage.output_tokens > THINKING_TOKENS


def test_stream_view_with_only_thinking_keeps_it_and_says_why(client):
    view = StreamView()
    message = view.consume(client.messages.stream(model="qwen3", max_tokens=24, messages=POEM))
    assert view.status == "done" and view.stop_reason == "max_tokens" == message.stop_reason
    assert view.thinking.strip() and view.text == ""
    assert view.output_tokens == 24


@pytest.mark.parametrize("stream", [True, False])
def test_chat_turn_with_only_thinking_gets_one_line_and_a_valid_history(client, stream):
    chat = ChatWidget(client, "qwen3", max_tokens=16, stream=stream)
    with pytest.raises(Exception):  # noqa: B017 - the widget documents that send() re-raises; the line is the point
        chat.send_message("你好")
    assert chat.error and "\n" not in chat.error and "max_tokens" in chat.error and "thinking" in chat.error
    assert chat.messages == []  # nothing half-done kept: no empty assistant turn, no dangling user turn

    chat.max_tokens = 400
    reply = chat.send_message("你好")
    assert chat.error == "" and [turn["role"] for turn in chat.messages] == ["user", "assistant"]
    check_history(chat.messages)
    assert any(block.type == "thinking" for block in reply.content)
    assert all(block["type"] == "text" and block["text"].strip() for block in chat.messages[1]["content"])


def test_usage_tracker_counts_thinking_as_output(client):
    tracker = UsageTracker()
    watched = tracker.watch(client)
    only_thinking = watched.messages.create(model="qwen3", max_tokens=40, messages=POEM)
    with watched.messages.stream(model="qwen3", max_tokens=300, messages=POEM) as stream:
        both = stream.get_final_message()
    assert [block.type for block in only_thinking.content] == ["thinking"]
    assert [block.type for block in both.content] == ["thinking", "text"]
    first, second = tracker.rows
    assert first["output_tokens"] == 40  # no text at all, yet 40 output tokens: the thinking
    assert second["output_tokens"] == both.usage.output_tokens > THINKING_TOKENS
    assert tracker.summary()["output_tokens"] == 40 + both.usage.output_tokens
