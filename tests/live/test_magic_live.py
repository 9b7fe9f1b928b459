"""``%%ask`` end to end in a real IPython shell against a real model server (the embedded engine unless
OLLAMA_BASE_URL is set), configured only by ``settings()`` as a reader's notebook would be.

The model's wording is not checked (a 135M model's text is poor): only structure, conversation and usage.
"""

from __future__ import annotations

import pytest
from ollama_anthropic_widgets import StreamView, text_of
from ollama_anthropic_widgets.extension.magic import AskFailed, ask_session

from tests.ipython_shell import terminal_shell


@pytest.fixture()
def shell(live_settings):
    return terminal_shell()


def test_conversation_across_cells_in_a_terminal_shell(shell, capsys, live_model):
    assert shell.run_cell('%%ask --max-tokens 40 --system "Answer in one sentence."\nHi! My name is Ming.').success
    first = capsys.readouterr().out
    session = ask_session(shell)
    assert first.startswith(text_of(session.last_message).rstrip("\n")) and text_of(session.last_message).strip()
    assert first.splitlines()[-1].startswith("[stop_reason: ")

    assert shell.run_cell("%%ask\nWhat is my name?").success
    messages = session.conversation.messages
    assert [turn["role"] for turn in messages] == ["user", "assistant"] * 2
    assert messages[2]["content"][0]["text"] == "What is my name?"
    assert session.last_message.model and session.last_message.stop_reason in ("end_turn", "max_tokens")

    assert shell.run_cell("%%ask --new --max-tokens 20 --thinking off\nSay hello.").success
    assert session.exchanges == 1 and session.options.system is None
    rows = session.tracker.rows
    assert len(rows) == 3 and all(row["output_tokens"] and row["streamed"] for row in rows)
    assert rows[1]["input_tokens"] > rows[0]["input_tokens"]  # the second request carried the first exchange
    capsys.readouterr()
    shell.run_line_magic("ask_usage", "")
    assert capsys.readouterr().out.startswith("3 calls · ")


def test_widget_output_against_the_server(shell, live_model):
    shell.magics_manager.registry["AskMagics"].output = "widget"
    assert shell.run_cell("%%ask --max-tokens 30\n写一首诗").success
    view = shell.magics_manager.registry["AskMagics"].last_view
    assert isinstance(view, StreamView) and view.status == "done" and view.text.strip()
    assert view.output_tokens and view.ttft_s is not None


def test_v1_base_url_fails_in_one_line_and_the_next_cell_works(shell, capsys, monkeypatch, live_settings):
    monkeypatch.setenv("OLLAMA_BASE_URL", live_settings.base_url + "/v1")
    result = shell.run_cell("%%ask --max-tokens 16\n你好")
    assert isinstance(result.error_in_exec, AskFailed)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("%%ask failed: HTTP 404 from the server") and "/v1" in lines[0]
    assert ask_session(shell).conversation.messages == []
    monkeypatch.setenv("OLLAMA_BASE_URL", live_settings.base_url)
    assert shell.run_cell("%%ask --max-tokens 16\n你好").success
    assert ask_session(shell).exchanges == 1


def _run_in_kernel(client, code: str) -> list[dict]:
    """Execute ``code`` and return its iopub messages up to the kernel going idle."""
    message_id = client.execute(code)
    messages = []
    while True:
        message = client.get_iopub_msg(timeout=120)
        if message["parent_header"].get("msg_id") != message_id:
            continue
        messages.append(message)
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return messages


def test_in_a_real_kernel_replies_stream_into_widgets_and_failures_are_one_line(live_settings):
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        _run_in_kernel(client, "%load_ext ollama_anthropic_widgets")
        messages = _run_in_kernel(client, "%%ask --max-tokens 30\n写一首诗")
        shown = [m for m in messages if m["msg_type"] == "display_data"]
        assert any("application/vnd.jupyter.widget-view+json" in m["content"]["data"] for m in shown)
        updates = [m for m in messages if m["msg_type"] == "comm_msg"
                   and m["content"]["data"].get("method") == "update"]
        assert updates, "the StreamView sent no updates to the front-end"
        assert not [m for m in messages if m["msg_type"] == "error"]

        messages = _run_in_kernel(client, "import os; os.environ['OLLAMA_BASE_URL'] += '/v1'\n"
                                          "get_ipython().run_cell_magic('ask', '--max-tokens 16', '你好')")
        errors = [m["content"] for m in messages if m["msg_type"] == "error"]
        assert len(errors) == 1 and errors[0]["ename"] == "AskFailed"
        assert len(errors[0]["traceback"]) == 1 and errors[0]["traceback"][0].startswith("%%ask failed: HTTP 404")

        messages = _run_in_kernel(client, "%ask_usage --text")
        text = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        assert text.startswith("1 call · ")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
