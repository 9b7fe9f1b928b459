"""ollama_anthropic_widgets.lessons.config: one documented way to point lessons and widgets at a server."""

from ollama_anthropic_widgets.lessons.config import DEFAULT_BASE_URL, api_key_for, settings


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
