"""ollama_anthropic_widgets.lessons.config: one documented way to point lessons and widgets at a server."""

import pytest
from ollama_anthropic_widgets.lessons.config import (
    DEFAULT_BASE_URL,
    LOW_EFFORT_ROOM,
    api_key_for,
    least_thinking,
    settings,
)

from tests.replay import replay_client


def test_defaults_are_ollama_and_the_documentations_models():
    config = settings({})
    assert (config.base_url, config.model, config.vision_model, config.api_key) == (
        DEFAULT_BASE_URL, "llama3.2", "llava", "ollama")


def test_environment_overrides_and_trailing_slash():
    config = settings({"OLLAMA_BASE_URL": "http://gpu-box:11434/", "OLLAMA_MODEL": "qwen3",
                       "OLLAMA_VISION_MODEL": "gemma3"})
    assert (config.base_url, config.model, config.vision_model) == ("http://gpu-box:11434", "qwen3", "gemma3")


def test_real_key_is_used_only_for_anthropics_api_and_never_shown():
    env = {"ANTHROPIC_API_KEY": "sk-ant-secret", "OLLAMA_BASE_URL": "https://api.anthropic.com"}
    config = settings(env)
    assert config.api_key == "sk-ant-secret" and config.is_anthropic
    assert "sk-ant-secret" not in repr(config)
    local = settings({"ANTHROPIC_API_KEY": "sk-ant-secret", "OLLAMA_BASE_URL": "http://remote-ollama:11434"})
    assert local.api_key == "ollama" and not local.is_anthropic


def test_lookalike_hosts_are_not_anthropic():
    assert not settings({"OLLAMA_BASE_URL": "http://anthropic.com.evil.example"}).is_anthropic


def test_api_key_for_decides_by_the_url_a_request_goes_to():
    env = {"ANTHROPIC_API_KEY": "sk-ant-secret", "OLLAMA_BASE_URL": "http://localhost:11434"}
    assert api_key_for("https://api.anthropic.com", env) == "sk-ant-secret"
    assert api_key_for("https://api.anthropic.com/", env) == "sk-ant-secret"
    assert api_key_for("http://localhost:11434", env) == "ollama"
    assert api_key_for("http://anthropic.com.evil.example", env) == "ollama"
    assert api_key_for("https://api.anthropic.com", {}) == "ollama"  # no key set: the placeholder, not a crash
    assert settings(env).api_key == api_key_for(settings(env).base_url, env)


@pytest.mark.parametrize("model", ["gpt-oss", "gpt-oss:20b", "GPT-OSS:120b", "hf.co/unsloth/gpt-oss-20b-GGUF"])
def test_least_thinking_for_gpt_oss_is_low_effort_with_room_and_no_thinking_field(model):
    # Ollama reads output_config.effort only when "thinking" is absent (anthropic/anthropic.go FromMessagesRequest)
    assert least_thinking(model, 64) == {"output_config": {"effort": "low"}, "max_tokens": 64 + LOW_EFFORT_ROOM}
    assert least_thinking(model) == {"output_config": {"effort": "low"}}


@pytest.mark.parametrize("model", ["llama3.2", "qwen3", "deepseek-r1:8b", "smollm2-135m", "claude-sonnet-4-5"])
def test_least_thinking_for_other_models_switches_thinking_off_and_keeps_the_budget(model):
    assert least_thinking(model, 64) == {"thinking": {"type": "disabled"}, "max_tokens": 64}
    assert least_thinking(model) == {"thinking": {"type": "disabled"}}


@pytest.mark.parametrize(("model", "streamed"), [("gpt-oss", False), ("gpt-oss", True), ("qwen3", False)])
def test_the_sdk_sends_least_thinkings_options_as_top_level_fields(model, streamed):
    """messages.create and messages.stream take them as keywords (no extra_body), and send them as given."""
    client, replayer = replay_client("stream_poem" if streamed else "create_hello")
    prompt = [{"role": "user", "content": "你好"}]
    if streamed:
        with client.messages.stream(model=model, messages=prompt, **least_thinking(model, 64)) as stream:
            stream.get_final_message()
    else:
        client.messages.create(model=model, messages=prompt, **least_thinking(model, 64))
    (sent,) = replayer.requests
    assert {key: sent["json"].get(key) for key in ("max_tokens", "thinking", "output_config") if key in sent["json"]} \
        == least_thinking(model, 64)
