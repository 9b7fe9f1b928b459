"""check_connection against the real configured server (the embedded engine unless OLLAMA_BASE_URL is set)."""

from ollama_anthropic_widgets import check_connection


def test_configured_server_passes_the_check(live_settings):
    diagnosis = check_connection(live_settings.base_url, live_settings.model, timeout=10)
    assert diagnosis.ok, str(diagnosis)
    assert diagnosis.server_kind in {"ollama", "llama.cpp", "anthropic", "unknown"}


def test_the_v1_mistake_is_diagnosed_against_the_real_server(live_settings):
    diagnosis = check_connection(live_settings.base_url + "/v1", live_settings.model)
    assert not diagnosis.ok and "/v1" in diagnosis.problem


def test_closed_port_is_diagnosed():
    diagnosis = check_connection("http://127.0.0.1:9", "any", timeout=2)
    assert not diagnosis.ok and "nothing answers" in diagnosis.problem


def test_the_check_answers_in_chinese_when_asked(live_settings, monkeypatch):
    diagnosis = check_connection(live_settings.base_url, live_settings.model, timeout=10, lang="zh")
    assert diagnosis.ok, str(diagnosis)
    assert str(diagnosis).startswith(f"正常：{live_settings.base_url} 上的 ") and "有响应，模型 " in str(diagnosis)
    monkeypatch.setenv("OLLAMA_KIT_LANG", "zh")  # the setting instead of the argument
    wrong = check_connection(live_settings.base_url + "/v1", live_settings.model)
    assert not wrong.ok and wrong.problem.startswith("接口地址以 /v1 结尾"), wrong.problem
    assert wrong.fix.startswith(f"改用 base_url='{live_settings.base_url}'（接口地址只到端口为止"), wrong.fix
