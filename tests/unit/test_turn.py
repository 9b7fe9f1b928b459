"""TurnRunner, the turn without widgets: request, stream, stop, keep or roll back, each end reported once.

Traffic is replayed through the real SDK from tests/recordings/ (chat_stream_two_turns, chat_create_two_turns:
recorded from the embedded engine by record_chat.py; ollama_error_404_unknown_model, chat_thinking_only_stream:
built in Ollama's wire format, see tests/unit/test_chat.py); the Stop tests serve the engine's stream_poem reply
slowly (tests/chat_samples.py).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import anthropic
import pytest
from ollama_anthropic_widgets.core.conversation import Conversation, EmptyReply
from ollama_anthropic_widgets.core.turn import QuietView, TurnEnd, TurnRunner

from tests.chat_samples import paced_async_client
from tests.replay import replay_client
from tests.unit.test_chat import LONG_REPLY, MODEL, TURNS, exchanges, wait_until

REQUEST = {"model": MODEL, "max_tokens": 64}
ROOT = Path(__file__).resolve().parents[2]


def runner_for(client, **options) -> tuple[TurnRunner, list[TurnEnd]]:
    ends: list[TurnEnd] = []
    return TurnRunner(client, on_end=ends.append, **options), ends


class Rows:
    def __init__(self, fail: bool = False):
        self.rows, self.fail = [], fail

    def record(self, message, *, latency_s=None, ttft_s=None, label=""):
        if self.fail:
            raise RuntimeError("the chart has no fonts")
        self.rows.append((message, latency_s, ttft_s))


def test_the_turn_runs_without_ipywidgets():
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from ollama_anthropic_widgets.core.turn import TurnRunner
        from tests.replay import load_recording, replay_client
        client, _ = replay_client(load_recording("chat_stream_two_turns")["exchanges"][:1])
        runner = TurnRunner(client)
        runner.start("Hi! My name is Ming.")
        message = runner.run({{"model": "smollm2-135m", "max_tokens": 64}})
        print(message.stop_reason, runner.conversation.turns, [name for name in sys.modules
              if name.split(".")[0] in ("ipywidgets", "anywidget", "IPython", "comm")])
    """)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["end_turn", "1", "[]"]


@pytest.mark.parametrize("stream", [True, False])
def test_a_reply_is_kept_reported_once_and_recorded(stream):
    client, replayer = replay_client(exchanges("chat_stream_two_turns" if stream else "chat_create_two_turns", 0))
    tracker = Rows()
    runner, ends = runner_for(client, tracker=tracker)
    runner.start(TURNS[0])
    assert runner.busy and not runner.stop()  # a blocking turn is stopped by an interrupt, not by stop()
    message = runner.run({**REQUEST, "system": "Be brief."}, stream=stream)
    assert [end.kept for end in ends] == [True] and ends[0].message is message and not runner.busy
    assert ends[0].result.text == message.content[0].text and ends[0].result.duration_s > 0
    assert runner.conversation.turns == 1 and replayer.requests[0]["json"]["system"] == "Be brief."
    assert ("stream" in replayer.requests[0]["json"]) == stream
    assert len(tracker.rows) == 1 and tracker.rows[0][0] is message


@pytest.mark.parametrize("stream", [True, False])
def test_a_tracker_that_fails_warns_and_the_reply_stays(stream):
    client, _ = replay_client(exchanges("chat_stream_two_turns" if stream else "chat_create_two_turns", 0))
    runner, ends = runner_for(client, tracker=Rows(fail=True))
    runner.start(TURNS[0])
    with pytest.warns(UserWarning, match="could not record.*no fonts.*the reply is kept"):
        message = runner.run(REQUEST, stream=stream)
    assert ends[0].kept and runner.conversation.messages[1]["content"][0]["text"] == message.content[0].text


def test_a_failure_rolls_the_turn_back_and_hands_the_text_back():
    client, _ = replay_client(exchanges("ollama_error_404_unknown_model"))
    runner, ends = runner_for(client, conversation=Conversation())
    runner.start("Are you there?")
    with pytest.raises(anthropic.NotFoundError):
        runner.run(REQUEST)
    (end,) = ends
    assert not end.kept and end.typed == "Are you there?" and isinstance(end.error, anthropic.NotFoundError)
    assert runner.conversation.messages == [] and runner.conversation.pending is None and not runner.busy


def test_a_reply_without_text_is_rolled_back_with_empty_reply():
    client, _ = replay_client(exchanges("chat_thinking_only_stream"))
    runner, ends = runner_for(client)
    runner.start("Prove it.")
    with pytest.raises(EmptyReply):
        runner.run(REQUEST)
    assert isinstance(ends[0].error, EmptyReply) and ends[0].typed == "Prove it." and ends[0].result.thinking


def test_start_refuses_what_cannot_be_sent_and_changes_nothing():
    client, replayer = replay_client([])
    runner, ends = runner_for(client)
    with pytest.raises(ValueError, match="Nothing to send"):
        runner.start("  ")
    with pytest.raises(TypeError, match="message text"):
        runner.start({"role": "user"})
    with pytest.raises(RuntimeError, match="call start"):
        runner.run(REQUEST)
    runner.start("one")
    with pytest.raises(RuntimeError, match="already being sent"):
        runner.start("two")
    assert ends == [] and replayer.requests == [] and runner.conversation.pending["content"][0]["text"] == "one"


def test_stop_keeps_the_text_so_far_and_closes_the_response():
    client, _, bodies = paced_async_client(LONG_REPLY)
    view = QuietView()
    runner, ends = runner_for(client)

    async def scenario():
        runner.start("写一首诗", on_loop=True)
        turn = asyncio.create_task(runner.arun(REQUEST, view=view))
        await wait_until(lambda: len(view.result.text) > 20)
        assert runner.stop()
        return await turn

    message = asyncio.run(scenario())
    assert message.stop_reason is None and ends[0].stopped and ends[0].kept
    assert runner.conversation.stopped_turns == [1] and bodies[0].closed_at is not None and not bodies[0].finished


def test_stop_before_any_text_rolls_back():
    client, _, bodies = paced_async_client(LONG_REPLY, first_delay=5.0)
    runner, ends = runner_for(client)

    async def scenario():
        runner.start("写一首诗", on_loop=True)
        turn = asyncio.create_task(runner.arun(REQUEST))
        await wait_until(lambda: bodies)
        assert runner.stop()
        return await turn

    assert asyncio.run(scenario()) is None
    assert ends[0].stopped and not ends[0].kept and ends[0].error is None and ends[0].typed == "写一首诗"
    assert runner.conversation.messages == []


def test_a_cancellation_from_outside_is_not_a_stop():
    client, _, _ = paced_async_client(LONG_REPLY)
    view = QuietView()
    runner, ends = runner_for(client)

    async def scenario():
        runner.start("写一首诗", on_loop=True)
        turn = asyncio.create_task(runner.arun(REQUEST, view=view))
        await wait_until(lambda: view.result.text)
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn

    asyncio.run(scenario())
    assert not ends[0].kept and not ends[0].stopped and isinstance(ends[0].error, asyncio.CancelledError)
    assert runner.conversation.messages == []
