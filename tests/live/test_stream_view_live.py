"""StreamView end to end against the real configured server (the embedded engine unless OLLAMA_BASE_URL is set).

The model is whatever the server runs (a 135M model on the engine): only structure is checked, never wording.
"""

from __future__ import annotations

import asyncio

import anthropic
import pytest
from ollama_anthropic_widgets import UsageTracker
from ollama_anthropic_widgets.ui.stream_view import StreamView

from tests.unit.test_render import assert_inert
from tests.widget_traffic import shown_values

STOP_REASONS = {"end_turn", "max_tokens", "stop_sequence"}
POEM = [{"role": "user", "content": "写一首诗"}]


def assert_finished(view: StreamView, message) -> None:
    assert view.status == "done" and view.error == ""
    assert view.text.strip() and view.text == "".join(b.text for b in message.content if b.type == "text")
    assert view.stop_reason in STOP_REASONS and view.stop_reason == message.stop_reason
    assert view.output_tokens > 0 and view.output_tokens == message.usage.output_tokens
    assert view.input_tokens > 0
    assert view.ttft_s > 0 and view.output_tokens_per_s > 0
    assert view.ttft_s <= view.result.duration_s
    for value in shown_values(view):
        if not value.startswith("<style>"):  # the kit's own stylesheet, not model output
            assert_inert(value)


def test_stream_a_poem(live_client, live_model):
    view = StreamView()
    message = view.consume(live_client.messages.stream(model=live_model, max_tokens=32, messages=POEM))
    assert_finished(view, message)
    assert "tok/s" in view.footer_html.value


def test_entered_stream_with_a_tracker(live_client, live_model):
    tracker = UsageTracker()
    view = StreamView(tracker=tracker, markdown=False)
    with live_client.messages.stream(model=live_model, max_tokens=16, messages=POEM) as stream:
        message = view.consume(stream)
    assert_finished(view, message)
    (row,) = tracker.rows
    assert row["output_tokens"] == view.output_tokens and row["ttft_s"] == pytest.approx(view.ttft_s)


def test_async_client(live_settings, live_model):
    async def run():
        client = anthropic.AsyncAnthropic(base_url=live_settings.base_url, api_key=live_settings.api_key,
                                          max_retries=0, timeout=120)
        view = StreamView()
        message = await view.aconsume(client.messages.stream(model=live_model, max_tokens=16, messages=POEM))
        await client.close()
        return view, message

    view, message = asyncio.run(run())
    assert_finished(view, message)


def test_wrong_base_url_shows_one_line_and_raises(live_settings, live_model):
    client = anthropic.Anthropic(base_url=live_settings.base_url + "/v1", api_key=live_settings.api_key,
                                 max_retries=0, timeout=30)
    view = StreamView()
    with pytest.raises(anthropic.NotFoundError):
        view.consume(client.messages.stream(model=live_model, max_tokens=16, messages=POEM))
    assert view.status == "error" and "404" in view.error and "/v1" in view.error and "\n" not in view.error
