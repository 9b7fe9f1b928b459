"""close() means closed: the widgets a kit widget made are all closed with it, and nothing outlives its use.

Live widgets are counted at the comm manager: every open ipywidget (layouts and styles too) has a comm registered
there until it is closed. Each test counts the widgets opened since it began that are still open, during and after
use, and expects none after (counting only its own: widgets of earlier tests that the garbage collector closes
meanwhile must not make up for a leak). Traffic is the embedded engine's recorded replies
(tests/recordings/chat_stream_two_turns.json and chat_create_two_turns.json, recorded by record_chat.py there),
replayed through the real SDK.
"""

from __future__ import annotations

import asyncio

import comm
import pytest
from ollama_anthropic_widgets import ChatWidget, ImageUpload, StreamView, UsageTracker
from ollama_anthropic_widgets.extension.magic import ask_session

from tests.chat_samples import paced_async_client
from tests.ipython_shell import terminal_shell
from tests.replay import replay_client
from tests.unit.test_chat import LONG_REPLY, MODEL, TURNS, exchanges, png_bytes, upload, wait_until


class Opened:
    """The widgets opened since this object was made that are still open: ``len(opened)``."""

    def __init__(self) -> None:
        self.before = set(comm.get_comm_manager().comms)

    def __len__(self) -> int:
        return len(set(comm.get_comm_manager().comms) - self.before)


@pytest.mark.parametrize("stream", [True, False])
def test_a_chat_with_turns_images_and_a_tracker_closes_everything(stream):
    recording = "chat_stream_two_turns" if stream else "chat_create_two_turns"
    alive = Opened()
    tracker = UsageTracker()
    client, _ = replay_client(exchanges(recording, 0, 1, 1))
    chat = ChatWidget(client, MODEL, max_tokens=64, images=True, tracker=tracker, stream=stream)
    made = len(alive)
    upload(chat, "first.png")  # through the widget's picker: a preview
    chat.send_message(TURNS[0])
    chat.send_message(TURNS[1], images=[png_bytes()])  # passed in code: no preview
    upload(chat, "second.png")
    chat.send_message("And again?")
    during = len(alive)
    assert len(tracker.rows) == 3 and chat.upload.blocks == []
    # three exchanges on screen (a box and two turns each, sharing one layout and style), plus the live view
    assert during - made == 9 if not stream else during - made > 9
    chat.clear()  # a new conversation: the exchanges it takes off the screen are closed
    assert len(alive) == during - 9
    chat.close()
    assert len(alive) == 0  # all of it closed, with everything else the chat made
    tracker.record({"usage": {"input_tokens": 1, "output_tokens": 1}})  # the closed chat's panel no longer follows
    assert len(alive) == 0 and chat.usage_panel.closed


def test_closing_a_chat_while_a_reply_streams_stops_it_and_closes_everything():
    alive = Opened()
    client, _, bodies = paced_async_client(LONG_REPLY)
    chat = ChatWidget(client, MODEL, max_tokens=2000)

    async def scenario():
        turn = asyncio.create_task(chat.asend("写一首诗"))
        await wait_until(lambda: chat.reply_view is not None and len(chat.reply_view.text) > 20)
        chat.close()
        return await turn

    message = asyncio.run(scenario())
    assert message.stop_reason is None and chat.stopped_turns == [1]  # the reply so far, kept as with Stop
    assert bodies[0].closed_at is not None and not bodies[0].finished
    assert len(alive) == 0


def test_image_upload_clear_closes_the_previews_and_close_closes_the_rest():
    alive = Opened()
    images = ImageUpload()
    made = len(alive)
    for name in ("a.png", "b.png", "c.png"):
        images.picker.set_state({"value": [{"name": name, "type": "image/png", "size": 1, "last_modified": 0,
                                            "content": memoryview(png_bytes())}]})
    assert len(images.blocks) == 3 and len(alive) == made + 3  # one widget per preview
    images.clear()
    assert images.blocks == [] and len(alive) == made
    images.close()
    assert len(alive) == 0


def test_a_stream_view_closes_every_part_it_made():
    alive = Opened()
    client, _ = replay_client("ollama_stream_thinking_text")  # thinking, then text: every section is made
    view = StreamView()
    view.consume(client.messages.stream(model="qwen3", max_tokens=400, messages=[{"role": "user", "content": "hi"}]))
    assert view.thinking and view.text and len(alive) > 0
    view.close()
    assert len(alive) == 0


def test_a_tracker_has_one_panel_and_ask_usage_shows_it_again():
    shell = terminal_shell()
    magics = shell.magics_manager.registry["AskMagics"]
    magics.output = "widget"  # the panel, as in a notebook
    alive = Opened()
    shell.run_line_magic("ask_usage", "")
    once = len(alive)
    assert once > 0
    for _ in range(3):
        shell.run_line_magic("ask_usage", "")
        ask_session(shell).tracker.record({"usage": {"input_tokens": 2, "output_tokens": 3}})
    assert len(alive) == once  # the same panel, shown again: no new widgets
    shell.run_line_magic("unload_ext", "ollama_anthropic_widgets")
    assert len(alive) == 0 and len(ask_session(shell).tracker.rows) == 3  # the rows stay
