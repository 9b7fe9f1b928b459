"""Real thinking on a real Ollama: the ``qwen3`` import (scripts/ollama.py), whose template gives SmolLM2-135M
Ollama's thinking capability, through the Anthropic SDK.

What the lessons teach about thinking models, on the real server: it thinks when the request leaves thinking out
(ollama/ollama#15287), the thinking is paid from ``max_tokens``, and ``{"type": "disabled"}`` turns it off. Only the
shape of the replies is checked, never the words.
"""

from __future__ import annotations

import anthropic
import pytest

QUESTION = "Write a short poem about the sea."


@pytest.fixture()
def client(real_ollama):
    return anthropic.Anthropic(base_url=real_ollama.base_url, api_key="ollama", max_retries=0, timeout=120)


def kinds(message) -> list[str]:
    return [block.type for block in message.content]


def test_a_thinking_model_thinks_when_the_request_does_not_ask(client, real_ollama):
    reply = client.messages.create(model=real_ollama.thinking_model, max_tokens=48,
                                   messages=[{"role": "user", "content": QUESTION}])
    assert kinds(reply)[0] == "thinking" and reply.content[0].thinking.strip(), kinds(reply)


def test_thinking_is_paid_from_max_tokens(client, real_ollama):
    """Asked afresh, the tiny model never closes its thinking: the whole budget goes to it and no text comes."""
    reply = client.messages.create(model=real_ollama.thinking_model, max_tokens=24,
                                   messages=[{"role": "user", "content": QUESTION}])
    assert kinds(reply) == ["thinking"], kinds(reply)
    assert reply.stop_reason == "max_tokens" and reply.usage.output_tokens == 24


def test_disabled_turns_thinking_off(client, real_ollama):
    reply = client.messages.create(model=real_ollama.thinking_model, max_tokens=24, thinking={"type": "disabled"},
                                   messages=[{"role": "user", "content": QUESTION}])
    assert kinds(reply) == ["text"] and reply.content[0].text.strip(), kinds(reply)


def test_a_model_without_thinking_asked_to_think_just_answers(client, real_ollama):
    reply = client.messages.create(model=real_ollama.text_model, max_tokens=16,
                                   thinking={"type": "enabled", "budget_tokens": 1024},
                                   messages=[{"role": "user", "content": QUESTION}])
    assert "thinking" not in kinds(reply) and kinds(reply) == ["text"]


def shown_thinking(question: str, thinking: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": thinking, "signature": ""},
                                              {"type": "text", "text": answer}]}]


def test_after_turns_that_show_thinking_it_thinks_then_answers(client, real_ollama):
    """Two earlier turns in the conversation show thinking followed by an answer; the model copies the pattern,
    closes its thinking and answers, streamed as a thinking block and then a text block."""
    history = (shown_thinking("What is the capital of France?", "The user asks for the capital of France. It is Paris.",
                              "The capital of France is Paris.")
               + shown_thinking("What is the capital of Italy?", "The user asks for the capital of Italy. It is Rome.",
                                "The capital of Italy is Rome."))
    with client.messages.stream(model=real_ollama.thinking_model, max_tokens=120,
                                 messages=[*history, {"role": "user", "content": "What is the capital of Japan?"}]
                                 ) as stream:
        starts = [event.content_block.type for event in stream if event.type == "content_block_start"]
        reply = stream.get_final_message()
    assert starts == ["thinking", "text"] == kinds(reply), starts
    assert reply.content[0].thinking.strip() and reply.content[1].text.strip()
    assert reply.stop_reason == "end_turn"
