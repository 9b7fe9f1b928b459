"""UsageTracker.watch() against the real configured server (the embedded engine unless OLLAMA_BASE_URL is set)."""

from ollama_anthropic_widgets import UsageTracker, text_of
from ollama_anthropic_widgets.core.messages import prompt_tokens


def test_watch_records_a_real_create_and_a_real_stream(live_client, live_model):
    tracker = UsageTracker()
    client = tracker.watch(live_client, label="live")
    messages = [{"role": "user", "content": "Say hello in three words."}]

    message = client.messages.create(model=live_model, max_tokens=24, messages=messages)
    with client.messages.stream(model=live_model, max_tokens=24, messages=messages) as stream:
        chunks = list(stream.text_stream)
        final = stream.get_final_message()

    assert text_of(message) and "".join(chunks) == text_of(final)
    created, streamed = tracker.rows
    assert (created["streamed"], streamed["streamed"]) == (False, True)
    for row, reply in ((created, message), (streamed, final)):
        assert row["input_tokens"] > 0 and row["output_tokens"] > 0
        assert (row["input_tokens"], row["output_tokens"]) == (prompt_tokens(reply.usage), reply.usage.output_tokens)
        assert row["stop_reason"] == reply.stop_reason in {"end_turn", "max_tokens"}
        assert row["latency_s"] > 0 and row["output_tokens_per_s"] > 0 and row["error"] is None
        assert row["label"] == "live"
    assert 0 < streamed["ttft_s"] < streamed["latency_s"]
    summary = tracker.summary()
    assert summary["calls"] == 2
    assert summary["total_tokens"] == sum(r["input_tokens"] + r["output_tokens"] for r in tracker.rows)
