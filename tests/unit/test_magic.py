"""``%%ask`` in a real IPython ``InteractiveShell`` (no kernel: the terminal case), and TerminalView, without a server.

Traffic is replayed through the real SDK (tests/replay.py) from tests/recordings/:
- chat_stream_two_turns: a two-turn chat recorded from the embedded engine (record_chat.py); its recorded requests
  are what the magic must send, byte for byte as JSON;
- stream_poem, error_404_base_url_v1, error_500_image: recorded from the engine;
- ollama_stream_thinking_text, ollama_error_404_unknown_model, ollama_stream_tool_use, chat_thinking_only_stream:
  recorded from a real Ollama v0.34.4 (record_real_ollama.py).
The replayer serves responses in order and checks the path only; where a test pairs a request with a response
recorded for another request, it says so. Nothing here writes model text, except the escape-sequence test, which
edits one delta of a recorded stream and says so.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import httpx2
import pytest
from anthropic import Anthropic
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from ollama_anthropic_widgets import StreamView, text_of
from ollama_anthropic_widgets.core.conversation import check_history
from ollama_anthropic_widgets.core.streaming import StreamInterrupted
from ollama_anthropic_widgets.extension.magic import (
    AskFailed,
    AskMagics,
    AskSession,
    AskStopped,
    ask_session,
    thinking_option,
)
from ollama_anthropic_widgets.extension.terminal_view import TerminalView, printable

from tests.ipython_shell import printed_lines, terminal_shell
from tests.net import closed_port
from tests.replay import Replayer, load_recording, replay_client
from tests.stream_samples import frame_type, sse_frames

SYSTEM = "You are a friendly assistant. Answer in one or two sentences."  # what record_chat.py sent
TURNS = ("Hi! My name is Ming.", "What is my name?")
FIRST_CELL = f'%%ask --model smollm2-135m --max-tokens 64 --system "{SYSTEM}"\n{TURNS[0]}'


def exchanges(name: str, *indexes: int) -> list[dict]:
    recorded = load_recording(name)["exchanges"]
    return [recorded[index] for index in indexes] if indexes else recorded


def recorded_request(exchange: dict) -> dict:
    """The recorded request's fields as ``messages.stream`` keyword arguments (``stream`` is the method's own)."""
    return {key: value for key, value in exchange["request"]["json"].items() if key != "stream"}


def recorded_reply_text(exchange: dict) -> str:
    """The text a recorded stream carries, read from its SSE bytes (not from the code under test)."""
    text = []
    for frame in sse_frames(exchange["response"]["body"]):
        if frame_type(frame) == "content_block_delta":
            delta = json.loads(frame.split("data:", 1)[1])["delta"]
            text.append(delta.get("text", ""))
    return "".join(text)


@pytest.fixture()
def shell(monkeypatch):
    """A fresh IPython shell (no kernel, like IPython in a terminal) with the extension loaded."""
    monkeypatch.setenv("OLLAMA_MODEL", "model-from-settings")
    return terminal_shell()


def magics_of(shell) -> AskMagics:
    return shell.magics_manager.registry["AskMagics"]


def use_replay(shell, recorded: list[dict], **options):
    client, replayer = replay_client(recorded, **options)
    ask_session(shell).client = client
    return replayer


# --- loading, one state per shell, cheap import ------------------------------------------------------------------

def test_importing_the_kit_does_not_import_ipython():
    code = ("import sys, ollama_anthropic_widgets as kit; "
            "print('IPython' in sys.modules, callable(kit.load_ipython_extension))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "True"]


def test_load_ext_registers_both_magics_and_each_shell_keeps_its_own_session(shell):
    assert shell.find_cell_magic("ask") is not None and shell.find_line_magic("ask_usage") is not None
    other = InteractiveShell(config=shell.config, colors="nocolor")
    with pytest.raises(RuntimeError, match="%load_ext ollama_anthropic_widgets"):
        ask_session(other)
    other.run_line_magic("load_ext", "ollama_anthropic_widgets")
    assert ask_session(other) is not ask_session(shell)
    assert ask_session(other).tracker is not ask_session(shell).tracker
    session = ask_session(shell)
    shell.run_line_magic("reload_ext", "ollama_anthropic_widgets")
    assert ask_session(shell) is session  # reloading keeps the conversation and the tracker


def test_usage_text_names_every_option():
    help_text = AskMagics.ask.__doc__
    assert "%%ask [-m MODEL] [-s SYSTEM] [-t N] [--thinking on|off|default] [-n] [--text]" in help_text
    for option in ("--model", "--system", "--max-tokens", "--thinking", "--new", "--text"):
        assert option in help_text


# --- options ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "expected"), [
    ("%%ask --bogus\nhi", "UsageError: %%ask: unrecognized arguments: --bogus — `%%ask?` lists the options"),
    ("%%ask --thinking maybe\nhi", "UsageError: %%ask: argument --thinking: invalid choice: 'maybe'"),
    ("%%ask -t many\nhi", "UsageError: %%ask: argument -t/--max-tokens: invalid int value: 'many'"),
    ("%%ask --system 'unclosed\nhi", "UsageError: %%ask: No closing quotation"),
    ("%%ask --max-tokens 0\nhi", "UsageError: %%ask: --max-tokens must be at least 1, not 0"),
    ("%%ask --thinking on --max-tokens 512\nhi", "UsageError: %%ask: --thinking on needs --max-tokens above 1024"),
    ("%%ask --new --model ''\nhi", "UsageError: %%ask: --model needs a model name"),
    ("%%ask\n  \n", "UsageError: %%ask: the cell is empty"),
    ("%ask --text", "UsageError: %ask: --text goes with a question"),
    ("%ask_usage --csv", "UsageError: %ask_usage: unrecognized arguments: --csv"),
])
def test_bad_input_gives_one_line_and_changes_nothing(shell, capsys, cell, expected):
    replayer = use_replay(shell, exchanges("chat_stream_two_turns", 0))
    shell.run_cell(FIRST_CELL)
    session = ask_session(shell)
    before, options = session.conversation.messages, session.options
    capsys.readouterr()

    result = shell.run_cell(cell)

    assert not result.success and isinstance(result.error_in_exec, UsageError)
    lines = printed_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert session.conversation.messages == before and session.options == options  # --new did not happen either
    assert len(replayer.requests) == 1


def test_options_reach_the_request_and_stick_until_new(shell):
    recorded = exchanges("chat_stream_two_turns")
    # the third response was recorded for turn 1 of the chat: the replayer checks only the path
    replayer = use_replay(shell, [*recorded, recorded[0]])

    assert shell.run_cell(FIRST_CELL).success
    assert shell.run_cell(f"%%ask\n{TURNS[1]}").success
    assert shell.run_cell("%%ask --new --thinking off\nWho are you?").success

    sent = [request["json"] for request in replayer.requests]
    assert sent[:2] == [exchange["request"]["json"] for exchange in recorded]  # what record_chat.py sent, exactly
    assert sent[2] == {"model": "model-from-settings", "max_tokens": 4096, "thinking": {"type": "disabled"},
                       "messages": [{"role": "user", "content": [{"type": "text", "text": "Who are you?"}]}],
                       "stream": True}
    assert ask_session(shell).exchanges == 1


def test_options_are_taken_as_typed_without_variable_expansion(shell):
    replayer = use_replay(shell, exchanges("chat_stream_two_turns", 0))  # recorded for another request: path only
    shell.user_ns["name"] = "EXPANDED"
    assert shell.run_cell('%%ask --system "It costs $name, or {name}."\nHi').success
    assert replayer.requests[0]["json"]["system"] == "It costs $name, or {name}."


def test_line_magic_applies_options_and_says_where_the_conversation_stands(shell, capsys):
    use_replay(shell, exchanges("chat_stream_two_turns", 0))
    shell.run_cell(FIRST_CELL)
    capsys.readouterr()
    shell.run_line_magic("ask", "")
    assert printed_lines(capsys) == [f"%%ask: 1 exchange so far · model smollm2-135m · max_tokens 64 · "
                                    f"thinking: server default · system: {SYSTEM!r}"]
    shell.run_line_magic("ask", "--new --thinking on")
    assert printed_lines(capsys) == ["%%ask: new conversation · model model-from-settings · max_tokens 4096 · "
                                    "thinking: on · no system prompt"]
    assert ask_session(shell).conversation.messages == []


def test_thinking_option_fields():
    assert thinking_option("default", 4096) == {}
    assert thinking_option("off", 100) == {"thinking": {"type": "disabled"}}
    assert thinking_option("on", 4096) == {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert thinking_option("on", 1500) == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    with pytest.raises(ValueError, match="above 1024"):
        thinking_option("on", 1024)


# --- output: terminal text and widgets -------------------------------------------------------------------------

def test_terminal_fallback_prints_the_streamed_text_and_a_footer(shell, capsys):
    recorded = exchanges("chat_stream_two_turns", 0)
    use_replay(shell, recorded)
    shell.run_cell(FIRST_CELL)
    out = capsys.readouterr().out
    reply = recorded_reply_text(recorded[0])
    assert out.startswith(reply) and reply
    assert out.splitlines()[-1].startswith("[stop_reason: end_turn · tokens: 34 in (3 cached) / ")
    assert isinstance(magics_of(shell).last_view, TerminalView)
    assert text_of(ask_session(shell).last_message) == reply


class Writes(io.StringIO):
    """Keeps each write apart, to see that text is written as it arrives and not at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []

    def write(self, text: str) -> int:
        self.pieces.append(text)
        return super().write(text)


def test_terminal_view_writes_each_delta_as_it_arrives():
    recorded = exchanges("stream_poem")
    client, _ = replay_client(recorded)
    out = Writes()
    message = TerminalView(out).consume(client.messages.stream(**recorded_request(recorded[0])))
    deltas = [frame for frame in sse_frames(recorded[0]["response"]["body"])
              if frame_type(frame) == "content_block_delta"]
    assert len(out.pieces) >= len(deltas) > 10
    assert out.getvalue().startswith(text_of(message))


def test_terminal_view_marks_thinking_and_keeps_it_short():
    recorded = exchanges("ollama_stream_thinking_text")
    client, _ = replay_client(recorded)
    out = io.StringIO()
    view = TerminalView(out, thinking_chars=40, dots_every=20)
    message = view.consume(client.messages.stream(**recorded_request(recorded[0])))
    thinking = view.result.thinking
    lines = out.getvalue().splitlines()
    assert len(thinking) > 80  # long enough to be cut
    dots = "." * ((len(thinking) - 40) // 20)
    assert lines[0] == f"[thinking] {thinking[:40]}…{dots} [{len(thinking):,} characters of thinking]"
    assert "\n".join(lines[1:-1]) == text_of(message).rstrip("\n")
    assert thinking[40:60] not in out.getvalue()


def test_terminal_view_dims_marks_only_on_a_terminal():
    recorded = exchanges("ollama_stream_thinking_text")
    client, _ = replay_client(recorded)
    out = io.StringIO()
    view = TerminalView(out, dim=True)
    view.consume(client.messages.stream(**recorded_request(recorded[0])))
    first, *_, last = out.getvalue().splitlines()
    assert first.startswith(f"\x1b[2m[thinking] {view.result.thinking[:20]}") and first.endswith(" of thinking]\x1b[0m")
    assert first.count("\x1b[") == 2  # one dim span for the whole thinking line
    assert last.startswith("\x1b[2m[stop_reason") and last.endswith("]\x1b[0m")


def test_terminal_view_shows_tool_calls():
    recorded = exchanges("ollama_stream_tool_use")
    client, _ = replay_client(recorded)
    out = io.StringIO()
    view = TerminalView(out)
    view.consume(client.messages.stream(**recorded_request(recorded[0])))
    tool = view.result.tool_uses[0]
    assert f"[tool call] {tool['name']} {{" in out.getvalue()
    assert json.loads(out.getvalue().split(f"[tool call] {tool['name']} ", 1)[1].split("\n[", 1)[0]) == tool["input"]


def test_terminal_view_never_writes_control_characters():
    # One delta of the recorded poem is edited here to carry escape sequences (clear screen, a carriage return).
    recorded = exchanges("stream_poem")
    body = recorded[0]["response"]["body"]
    first_delta = next(frame for frame in sse_frames(body) if frame_type(frame) == "content_block_delta")
    event = json.loads(first_delta.split("data:", 1)[1])
    event["delta"]["text"] = "\x1b[2J\x1b]0;owned\x07ok\rX"
    edited = body.replace(first_delta, f"event: content_block_delta\ndata: {json.dumps(event)}\n\n", 1)
    client, _ = replay_client([{**recorded[0], "response": {**recorded[0]["response"], "body": edited}}])
    out = io.StringIO()
    TerminalView(out, dim=False).consume(client.messages.stream(**recorded_request(recorded[0])))
    assert out.getvalue().startswith("�[2J�]0;owned�okX")
    assert not any(ord(character) < 32 and character not in "\n\t" for character in out.getvalue())
    assert printable("a\r\nb") == "a\nb"


def test_widget_output_streams_into_a_stream_view(shell, capsys):
    recorded = exchanges("chat_stream_two_turns", 0)
    use_replay(shell, recorded)
    magics_of(shell).output = "widget"
    assert shell.run_cell(FIRST_CELL).success
    view = magics_of(shell).last_view
    assert isinstance(view, StreamView) and view.status == "done"
    assert view.text == recorded_reply_text(recorded[0]) and view.text_parts.html
    assert "StreamView(" in capsys.readouterr().out  # displayed (without a front-end, as its text form)
    assert ask_session(shell).tracker.calls == 1


def test_text_option_prints_even_where_widgets_work(shell, capsys):
    use_replay(shell, exchanges("chat_stream_two_turns", 0))
    magics_of(shell).output = "widget"
    shell.run_cell(FIRST_CELL.replace("%%ask ", "%%ask --text ", 1))
    assert isinstance(magics_of(shell).last_view, TerminalView)
    assert "StreamView(" not in capsys.readouterr().out


# --- usage ------------------------------------------------------------------------------------------------------

def test_every_reply_is_recorded_once_and_ask_usage_shows_it(shell, capsys):
    recorded = exchanges("chat_stream_two_turns")
    use_replay(shell, recorded)
    shell.run_cell(FIRST_CELL)
    magics_of(shell).output = "widget"
    shell.run_cell(f"%%ask\n{TURNS[1]}")
    rows = ask_session(shell).tracker.rows
    assert [row["output_tokens"] for row in rows] == [
        json.loads([f for f in sse_frames(e["response"]["body"]) if frame_type(f) == "message_delta"][0]
                   .split("data:", 1)[1])["usage"]["output_tokens"] for e in recorded]
    assert all(row["streamed"] and row["ttft_s"] is not None for row in rows)
    capsys.readouterr()
    shell.run_line_magic("ask_usage", "--text")
    summary = ask_session(shell).tracker.summary()
    assert printed_lines(capsys)[0] == (f"2 calls · {summary['input_tokens']} in / {summary['output_tokens']} out "
                                       f"tokens ({summary['total_tokens']} in all)")
    shell.run_line_magic("ask_usage", "")
    assert "UsagePanel(" in capsys.readouterr().out  # output="widget": the live panel


# --- failures ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("recording", "cut_after", "expected"), [
    ("ollama_error_404_unknown_model", None, "HTTP 404 from the server: model 'no-such-model' not found"),
    ("error_404_base_url_v1", None, "base URL has no /v1"),
    ("error_500_image", None, "HTTP 500 from the server: image input is not supported"),
    ("chat_thinking_only_stream", None, "The model sent no text (stop_reason max_tokens, 1 thinking block): it used "
                                        "all of max_tokens on thinking — raise max_tokens and send again. Or ask "
                                        "with --thinking off."),
    ("stream_poem", 1500, "stream interrupted after"),
])
def test_a_failed_turn_leaves_the_conversation_valid(shell, capsys, recording, cut_after, expected):
    recorded = exchanges("chat_stream_two_turns")
    use_replay(shell, recorded[:1])
    shell.run_cell(FIRST_CELL)
    session = ask_session(shell)
    before = session.conversation.messages
    capsys.readouterr()

    if recording == "error_404_base_url_v1":  # recorded with a base URL ending in /v1: the SDK asks /v1/v1/messages
        replayer = Replayer(exchanges(recording))
        session.client = Anthropic(base_url="http://replay.invalid/v1", api_key="ollama", max_retries=0,
                                   http_client=httpx2.Client(transport=httpx2.MockTransport(replayer)))
    else:
        use_replay(shell, exchanges(recording)[:1], cut_after=cut_after)
    result = shell.run_cell(f"%%ask\n{TURNS[1]}")

    assert not result.success and isinstance(result.error_in_exec, AskFailed)
    failure = [line for line in printed_lines(capsys) if line.startswith("%%ask failed:")]
    assert len(failure) == 1 and expected in failure[0], printed_lines(capsys)
    assert failure[0].endswith("(nothing was added to the conversation: 1 exchange)")
    assert "Traceback" not in capsys.readouterr().out
    assert session.conversation.messages == before and session.conversation.pending is None
    check_history(session.conversation.messages)
    # the next question sends exactly what the recorded chat sent as its second turn
    replayer = use_replay(shell, recorded[1:])
    assert shell.run_cell(f"%%ask\n{TURNS[1]}").success
    assert replayer.requests[0]["json"] == recorded[1]["request"]["json"]


def test_partial_reply_of_a_cut_stream_stays_printed(shell, capsys):
    use_replay(shell, exchanges("stream_poem"), cut_after=1500)
    shell.run_cell("%%ask\n写一首诗")
    view = magics_of(shell).last_view
    assert isinstance(view.result, object) and view.result.text
    out = capsys.readouterr().out
    assert out.startswith(view.result.text)
    assert "[stream interrupted after" in out


def test_server_down_through_the_settings_client(shell, capsys, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{port}")
    result = shell.run_cell("%%ask --max-tokens 16\n你好")
    assert isinstance(result.error_in_exec, AskFailed)
    lines = printed_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(f"%%ask failed: cannot reach the model server at "
                                                   f"http://127.0.0.1:{port}"), lines
    assert ask_session(shell).conversation.messages == []


class _InterruptedBody(httpx2.SyncByteStream):
    """Sends a recorded body's first bytes, then raises KeyboardInterrupt (what a kernel interrupt does)."""

    def __init__(self, body: bytes, keep: int):
        self.body, self.keep = body, keep

    def __iter__(self):
        yield self.body[: self.keep]
        raise KeyboardInterrupt


def test_interrupt_keeps_the_conversation_and_the_partial_text(shell, capsys):
    recorded = exchanges("stream_poem")[0]["response"]
    transport = httpx2.MockTransport(lambda request: httpx2.Response(
        200, headers={"content-type": "text/event-stream"},
        stream=_InterruptedBody(recorded["body"].encode(), 1500)))
    ask_session(shell).client = Anthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                                          http_client=httpx2.Client(transport=transport))
    result = shell.run_cell("%%ask\n写一首诗")
    assert isinstance(result.error_in_exec, AskStopped) and isinstance(result.error_in_exec, KeyboardInterrupt)
    lines = printed_lines(capsys)
    assert lines[-2].startswith("[stopped (KeyboardInterrupt) after ")
    assert lines[-1] == ("%%ask stopped: the partial reply is not kept; nothing was added to the conversation: "
                         "0 exchanges")
    assert ask_session(shell).conversation.messages == [] and ask_session(shell).conversation.pending is None


def test_terminal_view_reraises_sdk_errors_before_the_stream_and_streaminterrupted_after():
    client, _ = replay_client(exchanges("ollama_error_404_unknown_model"))
    out = io.StringIO()
    with pytest.raises(Exception) as refused:
        TerminalView(out).consume(client.messages.stream(model="no-such-model", max_tokens=64,
                                                         messages=[{"role": "user", "content": "你好"}]))
    assert type(refused.value).__name__ == "NotFoundError" and out.getvalue() == ""
    client, _ = replay_client(exchanges("stream_poem"), cut_after=1500)
    view = TerminalView(io.StringIO())
    with pytest.raises(StreamInterrupted) as cut:
        view.consume(client.messages.stream(**recorded_request(exchanges("stream_poem")[0])))
    assert cut.value.partial_text == view.result.text != ""


def test_ask_session_works_without_ipython():
    recorded = exchanges("chat_stream_two_turns")
    client, replayer = replay_client(recorded)
    session = AskSession(client)
    session.configure(model="smollm2-135m", max_tokens=64, system=SYSTEM)
    for turn in TURNS:
        session.ask(turn, TerminalView(io.StringIO(), tracker=session.tracker))
    assert [request["json"] for request in replayer.requests] == [e["request"]["json"] for e in recorded]
    assert session.exchanges == 2 and session.tracker.calls == 2
    with pytest.raises(AskFailed):
        raise AskFailed("one line")
