"""The connection check and the probe against a real Ollama (scripts/ollama.py): what lessons 00 and 09 say about
Ollama, on Ollama itself. The generic checks in tests/live run against it too (make test-ollama)."""

from __future__ import annotations

import anthropic
from ollama_anthropic_widgets import check_connection
from ollama_anthropic_widgets.lessons.probe import probe


def test_the_check_names_ollama_and_its_release(real_ollama):
    diagnosis = check_connection(real_ollama.base_url, real_ollama.text_model, timeout=10)
    assert diagnosis.ok, str(diagnosis)
    assert (diagnosis.server_kind, diagnosis.version) == ("ollama", real_ollama.release)
    assert str(diagnosis).startswith(f"OK: Ollama {real_ollama.release} answers at {real_ollama.base_url}")
    assert f"{real_ollama.text_model}:latest" in diagnosis.models


def test_a_tag_is_found_too(real_ollama):
    assert check_connection(real_ollama.base_url, f"{real_ollama.text_model}:latest", timeout=10).ok


def test_a_model_that_is_not_pulled_is_named_with_the_fix(real_ollama):
    diagnosis = check_connection(real_ollama.base_url, "mistral-not-pulled", timeout=10, lang="en")
    assert not diagnosis.ok and diagnosis.server_kind == "ollama"
    assert "mistral-not-pulled" in diagnosis.problem and "ollama pull mistral-not-pulled" in diagnosis.fix
    assert f"{real_ollama.text_model}:latest" in diagnosis.models  # what is there, listed for the reader


def test_the_v1_mistake_against_the_real_ollama(real_ollama):
    diagnosis = check_connection(real_ollama.base_url + "/v1", real_ollama.text_model, timeout=10)
    assert not diagnosis.ok and "/v1" in diagnosis.problem
    client = anthropic.Anthropic(base_url=real_ollama.base_url + "/v1", api_key="ollama", max_retries=0)
    try:
        client.messages.create(model=real_ollama.text_model, max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    except anthropic.NotFoundError as error:  # what the check spares the reader: Gin's plain-text 404
        assert error.status_code == 404 and "404 page not found" in str(error.body)
    else:
        raise AssertionError("a /v1 base URL reached /v1/v1/messages and got an answer")


def test_the_probe_reports_what_lesson_09_says_of_ollama(real_ollama, terminal_report):
    client = anthropic.Anthropic(base_url=real_ollama.base_url, api_key="ollama", max_retries=0, timeout=120)
    report = probe(client, real_ollama.text_model, vision_model=real_ollama.text_model)
    terminal_report(f"the probe on Ollama {real_ollama.release}", str(report))
    outcomes = {row["feature"]: row["outcome"] for row in report.rows}
    assert outcomes["count_tokens"] == "error" and "404" in report["count_tokens"]["detail"]
    assert outcomes["URL image"] == "error" and "Only base64 images are supported" in report["URL image"]["detail"]
    assert outcomes["base64 image"] == "error" and "400" in report["base64 image"]["detail"]  # the model cannot see
    assert outcomes["cache_control"] == "ignored"
    assert outcomes["basic create"] == outcomes["streaming"] == "works"
