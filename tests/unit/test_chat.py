"""ChatWidget and its pure part (Conversation), without a model server.

Traffic is replayed through the real SDK (tests/replay.py) from tests/recordings/:
- chat_stream_two_turns, chat_create_two_turns: recorded from the embedded engine (tests/recordings/record_chat.py);
- error_500_image: recorded from the engine (image block to a text-only model);
- ollama_error_404_unknown_model, ollama_stream_thinking_text (thinking, then text), chat_thinking_only_stream (a
  budget spent on thinking): recorded from a real Ollama v0.34.4 (record_real_ollama.py);
- ollama_stream_xss, chat_xss_create: constructed in Ollama's wire format (anthropic/anthropic.go; behaviour table
  in tests/ollama_double.py) (build_ollama_transcripts.py, build_chat_transcripts.py);
- the 404 with a hostile model name below is built in this file, in the same format (Ollama echoes the name).
The replayer serves responses in order and checks the path only; where a test pairs a request with a response
recorded for a different request, it says so. The Stop tests serve a recorded engine stream slowly
(tests/chat_samples.py: the engine's ``stream_poem`` reply, lengthened by repeating its real deltas as in
tests/stream_samples.py, one SSE frame every 20 ms) through the real ``AsyncAnthropic`` SDK client.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time
import traceback
from html.parser import HTMLParser

import anthropic
import httpx2
import ipywidgets
import pytest
import traitlets
from ollama_anthropic_widgets import ChatWidget, StreamInterrupted, UsageTracker
from ollama_anthropic_widgets.core.conversation import Conversation, EmptyReply, check_history, reply_turn
from ollama_anthropic_widgets.core.render import render_chat_turn
from ollama_anthropic_widgets.core.turn import twin_client
from ollama_anthropic_widgets.ui.chat_input import ChatInput
from PIL import Image

from tests.chat_samples import paced_async_client
from tests.ipython_shell import printed_lines, terminal_shell
from tests.net import closed_port
from tests.replay import load_recording, replay_client
from tests.replay_server import ReplayServer
from tests.stream_samples import lengthened_exchanges
from tests.widget_traffic import counting_comms

SYSTEM = "You are a friendly assistant. Answer in one or two sentences."  # what record_chat.py sent
TURNS = ("Hi! My name is Ming.", "What is my name?")
MODEL = "smollm2-135m"


def exchanges(name: str, *indexes: int) -> list[dict]:
    recorded = load_recording(name)["exchanges"]
    return [recorded[index] for index in indexes] if indexes else recorded


def roles(messages: list[dict]) -> list[str]:
    return [turn["role"] for turn in messages]


def turn_views(chat: ChatWidget) -> list:
    """The history's turn widgets, in order (the history is a box of exchanges, each a box of turns)."""
    return [view for exchange in chat.history_box.children for view in getattr(exchange, "children", [exchange])]


def history_html(chat: ChatWidget) -> str:
    """What the history shows: the HTML of its turn widgets, in order."""
    return "".join(view.value for view in turn_views(chat))


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


class ElementCollector(HTMLParser):
    """Every start tag with its attributes, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements_of(markup: str) -> list[tuple[str, dict]]:
    parser = ElementCollector()
    parser.feed(markup)
    parser.close()
    return parser.elements


def assert_inert(markup: str) -> None:
    elements = elements_of(markup)
    tags = {tag for tag, _ in elements}
    assert not tags & {"img", "script", "iframe", "svg", "object", "embed"}, tags
    for tag, attributes in elements:
        assert not [name for name in attributes if name.lower().startswith("on")], (tag, attributes)
        for name in ("href", "src"):
            value = (attributes.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, attributes)


# -- Conversation: the pure part ------------------------------------------------------------------------------


def test_conversation_builds_full_requests_and_alternates():
    conversation = Conversation()
    conversation.start_turn("Hi")
    first = conversation.request(model="m", max_tokens=50, system="Be brief.")
    assert first == {"model": "m", "max_tokens": 50, "system": "Be brief.",
                     "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}
    conversation.finish_turn({"content": [{"type": "text", "text": "Hello!"}]})
    conversation.start_turn("Again")
    second = conversation.request(model="m", max_tokens=50, system="")
    assert "system" not in second  # an empty system prompt is not sent at all
    assert roles(second["messages"]) == ["user", "assistant", "user"]
    assert second["messages"][1] == {"role": "assistant", "content": [{"type": "text", "text": "Hello!"}]}


def test_conversation_abandon_restores_history_and_returns_text():
    conversation = Conversation([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
    before = conversation.messages
    conversation.start_turn("lost?  \n")
    assert conversation.abandon_turn() == "lost?  \n"  # exactly as typed
    assert conversation.messages == before and conversation.pending is None
    conversation.start_turn("next")  # and the next turn can start
    assert conversation.pending["content"] == [{"type": "text", "text": "next"}]


def test_conversation_refuses_what_would_break_the_history():
    conversation = Conversation()
    with pytest.raises(ValueError, match="Nothing to send"):
        conversation.start_turn("   ")
    conversation.start_turn("one")
    with pytest.raises(ValueError, match="already waiting"):
        conversation.start_turn("two")
    with pytest.raises(EmptyReply):
        conversation.finish_turn({"stop_reason": "end_turn", "content": [{"type": "text", "text": "  "}]})
    assert conversation.pending is not None  # the caller decides: here, roll back
    conversation.abandon_turn()
    with pytest.raises(ValueError, match="no turn is waiting"):
        conversation.finish_turn({"content": [{"type": "text", "text": "x"}]})
    assert conversation.messages == []


def test_conversation_messages_is_a_copy():
    conversation = Conversation()
    conversation.start_turn("Hi")
    conversation.finish_turn({"content": [{"type": "text", "text": "Hello"}]})
    copy = conversation.messages
    copy.append({"role": "user", "content": "sneaky"})
    copy[0]["content"][0]["text"] = "changed"
    assert conversation.messages == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                                     {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]}]


def test_whitespace_text_with_an_image_sends_only_the_image():
    turn = Conversation().start_turn("  ", [png_bytes()])
    assert [block["type"] for block in turn["content"]] == ["image"]


@pytest.mark.parametrize("history, problem", [
    ([{"role": "assistant", "content": "hi"}], "expected 'user'"),
    ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "expected 'assistant'"),
    ([{"role": "user", "content": "a"}], "ends with a user turn"),
    ([{"role": "user", "content": []}, {"role": "assistant", "content": "b"}], "no content"),
])
def test_check_history_names_the_problem(history, problem):
    with pytest.raises(ValueError, match=problem):
        check_history(history)


def test_reply_turn_keeps_text_blocks_only():
    turn = reply_turn({"content": [{"type": "thinking", "thinking": "plan"}, {"type": "text", "text": "Let me look."},
                                   {"type": "tool_use", "id": "call_1", "name": "f", "input": {}},
                                   {"type": "text", "text": ""}]})
    assert turn == {"role": "assistant", "content": [{"type": "text", "text": "Let me look."}]}
    assert reply_turn({"content": [{"type": "thinking", "thinking": "only"}]}) is None


@pytest.mark.parametrize("message, hint", [
    ({"stop_reason": "max_tokens", "content": [{"type": "thinking", "thinking": "x"}]}, "on thinking"),
    ({"stop_reason": "max_tokens", "content": []}, "max_tokens ran out"),
    ({"stop_reason": "tool_use", "content": [{"type": "tool_use", "id": "c", "name": "f", "input": {}}]},
     "run_tool_loop"),
    ({"stop_reason": "end_turn", "content": []}, "send it again"),
])
def test_empty_reply_says_what_to_do(message, hint):
    assert hint in str(EmptyReply(message))


# -- ChatWidget with replayed traffic ----------------------------------------------------------------------------


def test_two_streamed_turns_send_the_whole_history_and_system():
    client, replayer = replay_client("chat_stream_two_turns")
    tracker = UsageTracker()
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, tracker=tracker)
    replies = [chat.send_message(text) for text in TURNS]

    assert [reply.stop_reason for reply in replies] == ["end_turn", "end_turn"]
    assert roles(chat.messages) == ["user", "assistant", "user", "assistant"]
    assert chat.turns == 2 and chat.error == "" and not chat.busy
    assert [turn["content"][0]["text"] for turn in chat.messages[::2]] == list(TURNS)
    assert chat.messages[1]["content"] == [{"type": "text", "text": replies[0].content[0].text}]

    second = replayer.requests[1]["json"]
    assert second["system"] == SYSTEM and second["stream"] is True and second["max_tokens"] == 64
    assert second["messages"] == chat.messages[:3]  # the whole history, the new question last
    assert len(tracker.rows) == 2 and chat.usage_panel in chat.children
    assert chat.live_area.layout.display == "none"  # the reply now lives in the history view
    assert "end_turn" in chat.status_view.value
    for turn in chat.messages:
        assert turn["content"][0]["text"].split()[0] in history_html(chat)


def test_non_streamed_turns_use_create_and_record_usage():
    client, replayer = replay_client("chat_create_two_turns")
    tracker = UsageTracker()
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, stream=False, tracker=tracker)
    for text in TURNS:
        chat.send_message(text)
    assert roles(chat.messages) == ["user", "assistant"] * 2
    assert all("stream" not in request["json"] for request in replayer.requests)
    assert replayer.requests[1]["json"]["messages"] == chat.messages[:3]
    assert [row["streamed"] for row in tracker.rows] == [False, False]
    assert chat.reply_view is None


def test_send_button_sends_the_text_box_and_clears_it():
    client, replayer = replay_client("chat_create_two_turns")
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, stream=False)
    states = []
    chat.observe(lambda change: states.append((change["new"], chat.send_button.disabled,
                                               chat.stop_button.layout.display)), "busy")
    chat.text_box.value = TURNS[0]
    chat.send_button.click()  # no event loop here (a script): the turn blocks, so Stop is never offered
    assert states == [(True, True, "none"), (False, False, "none")]  # Send locked while sending
    assert chat.text_box.value == "" and roles(chat.messages) == ["user", "assistant"]
    assert replayer.requests[0]["json"]["messages"][0]["content"][0]["text"] == TURNS[0]


def test_empty_text_box_sends_nothing():
    client, replayer = replay_client([])
    chat = ChatWidget(client, MODEL)
    chat.text_box.value = "  \n "
    chat.send_button.click()
    assert replayer.requests == [] and "Nothing to send" in chat.error
    with pytest.raises(ValueError, match="Nothing to send"):
        chat.send_message("")


def test_system_prompt_is_editable_and_applies_to_the_next_request():
    client, replayer = replay_client("chat_create_two_turns")
    chat = ChatWidget(client, MODEL, max_tokens=64, stream=False)
    chat.send_message(TURNS[0])
    chat.system_box.value = "Speak like a pirate."  # what typing into the System prompt box does
    chat.send_message(TURNS[1])
    assert "system" not in replayer.requests[0]["json"]
    assert chat.system == replayer.requests[1]["json"]["system"] == "Speak like a pirate."


def test_request_options_reach_the_server_and_cannot_override_the_basics():
    client, replayer = replay_client("chat_create_two_turns")
    chat = ChatWidget(client, MODEL, stream=False, request_options={"extra_body": {"temperature": 0.2}})
    chat.send_message(TURNS[0])
    assert replayer.requests[0]["json"]["temperature"] == 0.2
    with pytest.raises(traitlets.TraitError, match="max_tokens"):
        ChatWidget(client, MODEL, request_options={"max_tokens": 5})


def test_values_are_checked_whenever_they_change():
    client, replayer = replay_client([])
    chat = ChatWidget(client, MODEL, max_tokens=64, request_options={"extra_body": {"top_k": 40}})
    for name, value, problem in [("max_tokens", 0, "at least 1"), ("request_options", {"system": "x"}, "system"),
                                 ("thinking", {"type": "on"}, "thinking must be")]:
        before = getattr(chat, name)
        with pytest.raises(traitlets.TraitError, match=problem):
            setattr(chat, name, value)
        assert getattr(chat, name) == before  # a refused value changes nothing
    chat.max_tokens, chat.request_options = 200, {"extra_body": {"top_k": 10}}
    assert (chat.max_tokens, chat.request_options) == (200, {"extra_body": {"top_k": 10}})
    assert replayer.requests == []


def test_an_async_client_is_used_as_given_and_its_sync_twin_keeps_its_settings():
    client, replayer = replay_client(exchanges("chat_stream_two_turns", 0), asynchronous=True)
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64)
    message = asyncio.run(chat.asend(TURNS[0]))
    assert message.stop_reason == "end_turn" and roles(chat.messages) == ["user", "assistant"]
    assert replayer.requests[0]["json"]["messages"][0]["content"][0]["text"] == TURNS[0]
    assert chat.client is client

    watched = UsageTracker().watch(anthropic.Anthropic(base_url="http://127.0.0.1:9", api_key="k", max_retries=1,
                                                       timeout=7))
    twin = twin_client(watched, asynchronous=True)
    assert isinstance(twin, anthropic.AsyncAnthropic)
    assert (str(twin.base_url), twin.api_key, twin.max_retries, twin.timeout) == ("http://127.0.0.1:9", "k", 1, 7)
    assert twin.middleware == watched.middleware and twin.middleware  # UsageTracker.watch keeps counting


# -- the user's client, as given: what every path sends, read at a real server ---------------------------------------

PROXY_HEADERS = {"X-Proxy-Token": "placeholder-token-for-a-proxy", "X-Team": "lesson-11"}
PROXY_QUERY = {"tenant": "lesson-11"}
# Not compared between the blocking call and the others: the SDK's description of the client flavour it runs in and
# of its retries, and the body's length (each request carries its own conversation).
PER_CALL = ("x-stainless-", "content-length")


def sent_headers(request: dict) -> dict[str, str]:
    return {name: value for name, value in request["headers"].items() if not name.startswith(PER_CALL)}


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_every_path_sends_what_the_users_client_sends(stream, flavour):
    """send_message, asend, Enter and Send, at a real HTTP server: the same headers (the user's own included), the
    same query, key and path. Responses: recorded engine replies (chat_stream_two_turns, chat_create_two_turns),
    served whatever the request; only what arrives is checked."""
    recorded = exchanges("chat_stream_two_turns" if stream else "chat_create_two_turns", 0)
    with ReplayServer(recorded * 4) as server:
        options = {"base_url": server.url, "api_key": "ollama", "default_headers": PROXY_HEADERS,
                   "default_query": PROXY_QUERY, "max_retries": 0}
        client = anthropic.Anthropic(**options) if flavour == "sync" else anthropic.AsyncAnthropic(**options)
        chat = ChatWidget(client, MODEL, max_tokens=64, stream=stream)
        chat.send_message("blocking")
        chat.messages = []

        async def on_the_loop():
            await chat.asend("asend")
            chat.messages = []
            chat.text_box._handle_custom_msg({"event": "submit", "value": "Enter"}, [])
            await wait_until(lambda: not chat.busy)
            chat.messages = []
            chat.text_box.value = "Send"
            chat.send_button.click()
            await wait_until(lambda: not chat.busy)

        asyncio.run(on_the_loop())
    assert chat.error == "" and len(server.requests) == 4
    blocking, *others = server.requests
    assert [request["json"]["messages"][0]["content"][0]["text"] for request in server.requests] == [
        "blocking", "asend", "Enter", "Send"]
    for request in server.requests:
        assert request["path"] == "/v1/messages" and request["query"] == {"tenant": ["lesson-11"]}
        assert request["headers"]["x-proxy-token"] == PROXY_HEADERS["X-Proxy-Token"]
        assert request["headers"]["x-team"] == "lesson-11"
    assert "ollama" in str(sent_headers(blocking))  # the key, in whichever header this SDK release puts it
    assert [sent_headers(request) for request in others] == [sent_headers(blocking)] * 3


def test_assigning_messages_validates_and_continues_from_there():
    client, replayer = replay_client(exchanges("chat_create_two_turns", 1))
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, stream=False)
    earlier = load_recording("chat_create_two_turns")["exchanges"][1]["request"]["json"]["messages"][:2]
    chat.messages = earlier
    chat.send_message(TURNS[1])
    assert replayer.requests[0]["json"]["messages"] == earlier + [chat.messages[2]]
    with pytest.raises(ValueError, match="ends with a user turn"):
        chat.messages = earlier[:1]
    assert len(chat.messages) == 4 and chat.turns == 2  # unchanged by the refused assignment
    chat.clear()
    assert chat.messages == [] and chat.turns == 0 and "No messages yet" in history_html(chat)


def test_messages_argument_continues_a_conversation():
    earlier = load_recording("chat_create_two_turns")["exchanges"][1]["request"]["json"]["messages"][:2]
    client, replayer = replay_client(exchanges("chat_create_two_turns", 1))
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, stream=False, messages=earlier)
    assert chat.turns == 1 and len(turn_views(chat)) == 2
    chat.send_message(TURNS[1])
    assert replayer.requests[0]["json"]["messages"][:2] == earlier
    with pytest.raises(ValueError, match="expected 'user'"):
        ChatWidget(client, MODEL, messages=earlier[1:])


# -- images ------------------------------------------------------------------------------------------------------


def upload(chat: ChatWidget, name: str = "dot.png", data: bytes | None = None) -> None:
    data = png_bytes() if data is None else data
    chat.upload.picker.set_state({"value": [{"name": name, "type": "image/png", "size": len(data),
                                             "content": memoryview(data), "last_modified": 0}]})


def test_attached_image_goes_into_the_user_turn_and_is_cleared_after_success():
    # The response was recorded for a text-only request: the engine has no vision projector (llama-server answers
    # 500: tests/recordings/error_500_image.json).
    client, replayer = replay_client(exchanges("chat_create_two_turns", 0))
    chat = ChatWidget(client, MODEL, max_tokens=64, stream=False, images=True)
    upload(chat)
    assert len(chat.upload.blocks) == 1
    chat.text_box.value = "What is in this picture?"
    chat.send_button.click()

    sent = replayer.requests[0]["json"]["messages"][0]["content"]
    assert [block["type"] for block in sent] == ["text", "image"]
    assert sent[1]["source"]["media_type"] == "image/png"
    assert chat.messages[0]["content"] == sent
    assert chat.upload.blocks == [] and chat.error == ""
    assert "image (image/png" in history_html(chat)
    assert_inert(history_html(chat))  # a caption, not an <img> of the data


def test_images_passed_to_send_are_attached_too():
    client, replayer = replay_client(exchanges("chat_create_two_turns", 0))
    chat = ChatWidget(client, MODEL, stream=False)
    chat.send_message("Describe", images=[png_bytes()])
    assert [block["type"] for block in replayer.requests[0]["json"]["messages"][0]["content"]] == ["text", "image"]


def test_image_refused_by_the_server_keeps_history_text_and_image():
    client, _ = replay_client(exchanges("chat_stream_two_turns", 0) + exchanges("error_500_image"))
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, images=True)
    chat.send_message(TURNS[0])
    before = chat.messages
    upload(chat)
    chat.text_box.value = "What colour is this?"
    chat.send_button.click()  # the button reports instead of raising
    assert chat.messages == before
    assert chat.text_box.value == "What colour is this?"
    assert len(chat.upload.blocks) == 1  # still attached for the next try
    assert chat.error.startswith("HTTP 500") and "\n" not in chat.error
    assert "colour" not in history_html(chat)


def test_rejected_image_fails_before_any_request():
    client, replayer = replay_client([])
    chat = ChatWidget(client, MODEL)
    with pytest.raises(ValueError, match="not an image"):
        chat.send_message("look", images=[b"%PDF-1.7 not an image"])
    assert replayer.requests == [] and chat.messages == [] and "not an image" in chat.error
    assert chat.text_box.value == "look"


# -- failed turns ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
def test_unknown_model_404_leaves_history_and_restores_text(stream):
    first = exchanges("chat_stream_two_turns" if stream else "chat_create_two_turns", 0)
    client, _ = replay_client(first + exchanges("ollama_error_404_unknown_model"))
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, stream=stream)
    chat.send_message(TURNS[0])
    before, shown = chat.messages, history_html(chat)
    chat.text_box.value = ""
    with pytest.raises(anthropic.NotFoundError):
        chat.send_message("Are you there?")
    assert chat.messages == before and chat.turns == 1
    assert history_html(chat) == shown
    assert chat.text_box.value == "Are you there?"
    assert "HTTP 404" in chat.error and "no-such-model" in chat.error
    assert "HTTP 404" in chat.error_view.value
    assert chat.live_area.layout.display == "none"  # nothing partial to show
    assert not chat.busy and not chat.send_button.disabled


def test_failure_does_not_overwrite_other_text_in_the_box():
    client, _ = replay_client(exchanges("ollama_error_404_unknown_model"))
    chat = ChatWidget(client, MODEL)
    chat.text_box.value = "a draft the user is writing"
    with pytest.raises(anthropic.NotFoundError):
        chat.send_message("sent from code")
    assert chat.text_box.value == "a draft the user is writing"


def test_cut_stream_keeps_partial_text_visible_but_out_of_the_history():
    recorded = exchanges("chat_stream_two_turns", 1)
    body = recorded[0]["response"]["body"]
    cut = body.index('"text_delta","text":"ong"')  # mid-reply: "Your name is Y" has arrived
    client, _ = replay_client(recorded, cut_after=cut)
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64)
    earlier = recorded[0]["request"]["json"]["messages"][:2]
    chat.messages = earlier
    with pytest.raises(StreamInterrupted) as caught:
        chat.send_message(TURNS[1])
    assert caught.value.partial_text.startswith("Your name is")
    assert chat.messages == earlier
    assert chat.text_box.value == TURNS[1]
    assert chat.error.startswith("stream interrupted") and "\n" not in chat.error
    assert chat.live_area.layout.display is None and chat.live_area.children == (chat.reply_view,)
    assert chat.reply_view.text == caught.value.partial_text  # still on screen
    assert "Your name is" not in history_html(chat)

    chat.send_button.click()  # resend: the replay has nothing left, so this fails too, before any event
    assert chat.live_area.layout.display == "none"  # the stale partial reply is gone


@pytest.mark.parametrize("stream", [True, False])
def test_no_server_at_all(stream):
    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{closed_port()}", api_key="ollama", max_retries=0,
                                 timeout=5)
    chat = ChatWidget(client, MODEL, stream=stream)
    chat.text_box.value = "Hello?"
    chat.send_button.click()
    assert chat.messages == [] and chat.text_box.value == "Hello?"
    assert chat.error.startswith("cannot reach the model server") and "OLLAMA_BASE_URL" in chat.error
    with pytest.raises(anthropic.APIConnectionError):
        chat.send_message("Hello?")


def test_reply_without_text_is_rolled_back_with_a_hint():
    client, _ = replay_client("chat_thinking_only_stream")
    chat = ChatWidget(client, "qwen3", max_tokens=24)
    with pytest.raises(EmptyReply, match="raise max_tokens"):
        chat.send_message("Prove that there are infinitely many primes.")
    assert chat.messages == [] and "thinking" in chat.error
    assert chat.reply_view.thinking  # what the model did is still visible


def test_a_cell_whose_reply_has_no_text_shows_one_line_not_a_traceback(capsys):
    shell = terminal_shell(load_kit=False)  # IPython runs the cell as a terminal or a kernel would
    client, _ = replay_client("chat_thinking_only_stream")
    shell.user_ns["chat"] = ChatWidget(client, "qwen3", max_tokens=24)
    capsys.readouterr()
    result = shell.run_cell('chat.send_message("Prove that there are infinitely many primes.")')
    assert isinstance(result.error_in_exec, EmptyReply)
    lines = printed_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("EmptyReply: The model sent no text (stop_reason max_tokens")
    assert "raise max_tokens" in lines[0] and not any("Traceback" in line for line in lines)
    stack = "".join(traceback.format_exception(sys.last_value))  # what the docstring says still reaches it
    assert "raise EmptyReply(message, self.lang)" in stack


def test_an_interrupt_before_any_text_rolls_back():
    def interrupted(request):
        raise KeyboardInterrupt

    client = anthropic.Anthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(interrupted)))
    chat = ChatWidget(client, MODEL, stream=False)
    with pytest.raises(KeyboardInterrupt):
        chat.send_message("long question")
    assert chat.messages == [] and not chat.busy and chat.error == ""
    assert chat.text_box.value == "long question" and "Stopped before any text" in chat.status_view.value


def test_focus_goes_to_the_text_box_and_send_message_takes_only_text():
    client, replayer = replay_client([])
    chat = ChatWidget(client, MODEL)
    sent = []
    chat.text_box.send = sent.append  # ipywidgets' custom-message channel of the text box
    chat.focus()
    assert sent == [{"do": "focus"}] and chat.messages == []
    with pytest.raises(TypeError, match="message text"):
        chat.send_message({"do": "focus"})
    assert replayer.requests == []


def test_no_public_method_shadows_an_ipywidgets_method_with_another_meaning():
    """send() is ipywidgets' custom-message channel, as on every widget; focus() and blur() keep their meaning."""
    assert ChatWidget.send is ipywidgets.Widget.send and ChatWidget.close is not ipywidgets.Widget.close
    kit = {name for name in vars(ChatWidget) if not name.startswith("_")}
    inherited = {name for name in dir(ipywidgets.VBox) if not name.startswith("_")}
    assert kit & inherited == {"focus", "blur", "close"}


def test_send_while_a_reply_streams_is_refused():
    client, replayer, _ = paced_async_client(LONG_REPLY)
    chat = ChatWidget(client, MODEL, max_tokens=2000)

    async def scenario():
        turn = asyncio.create_task(chat.asend("写一首诗"))
        await wait_until(lambda: chat.busy)
        with pytest.raises(RuntimeError, match="already being sent"):
            chat.send_message("hi")
        shown = turn_views(chat)[-1].value
        assert "写一首诗" in shown and chat.error == ""  # the turn in flight is left alone
        chat.stop()
        await turn

    asyncio.run(scenario())
    assert len(replayer.requests) == 1


# -- untrusted model output --------------------------------------------------------------------------------------


@pytest.mark.parametrize("markdown", [True, False])
def test_xss_in_a_reply_is_inert_in_the_history_view(markdown):
    client, _ = replay_client("chat_xss_create")
    chat = ChatWidget(client, "qwen3", stream=False, markdown=markdown)
    chat.send_message("Repeat these strings exactly.")
    stored = chat.messages[1]["content"]
    assert len(stored) == 1 and "<img src=x onerror=alert(1)>" in stored[0]["text"]  # kept as data...
    markup = history_html(chat)
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup  # ...shown as text
    assert_inert(markup)


def test_xss_in_a_streamed_reply_with_a_tool_call_is_inert_and_only_text_is_kept():
    client, _ = replay_client("ollama_stream_xss")
    chat = ChatWidget(client, "qwen3")
    message = chat.send_message("Repeat these strings exactly.")
    assert message.stop_reason == "tool_use"
    assert [block["type"] for block in chat.messages[1]["content"]] == ["text"]  # no dangling tool_use
    assert_inert(history_html(chat))
    assert_inert(chat.status_view.value)


def test_hostile_error_message_is_escaped():
    hostile = "<img src=x onerror=alert(1)>"
    body = json.dumps({"type": "error", "error": {"type": "not_found_error", "message": f"model '{hostile}' not found"},
                       "request_id": "req_0123456789abcdef01234567"})
    # Built here in Ollama's error format (v0.32.15 middleware/anthropic.go writeError): Ollama echoes the requested
    # model name in the message.
    exchange = {"request": {"method": "POST", "path": "/v1/messages", "json": None},
                "response": {"status": 404, "headers": {"content-type": "application/json"}, "body": body}}
    client, _ = replay_client([exchange])
    chat = ChatWidget(client, hostile)
    with pytest.raises(anthropic.NotFoundError):
        chat.send_message("hi")
    assert hostile in chat.error  # the trait holds the plain text
    assert_inert(chat.error_view.value)
    assert "&lt;img" in chat.error_view.value


def test_render_chat_turn_escapes_user_text_thinking_and_unknown_blocks():
    markup = "".join([
        render_chat_turn({"role": "user", "content": "<script>alert(1)</script>"}),
        render_chat_turn({"role": "assistant", "content": [{"type": "tool_use", "id": "x", "name": "<b onclick=x>",
                                                            "input": {}}]}, thinking="<img src=x onerror=alert(3)>"),
        render_chat_turn({"role": "user", "content": [{"type": "text", "text": "<img src=x onerror=alert(2)>"}]}),
    ])
    assert_inert(markup)
    assert "&lt;script&gt;" in markup and "[tool_use block]" in markup
    assert "&lt;img src=x onerror=alert(3)&gt;" in markup
    assert "style=" not in markup.replace('<pre style="', "")  # classes only (the kit's thinking <pre> aside)


# -- server quirks -----------------------------------------------------------------------------------------------


def test_stream_without_message_start_still_completes_the_turn():
    """Recorded from the engine: llama-server skips message_start when its reply starts with an emoji."""
    recorded = exchanges("chat_stream_no_message_start")
    assert "event: message_start" not in recorded[0]["response"]["body"]
    client, _ = replay_client(recorded)
    tracker = UsageTracker()
    chat = ChatWidget(client, MODEL, system="你是一个友好的助手", max_tokens=150, tracker=tracker)
    message = chat.send_message("你好")
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 150
    assert message.usage.input_tokens is None  # only message_start would have said
    assert roles(chat.messages) == ["user", "assistant"] and chat.error == ""
    text = message.content[0].text
    assert text.startswith("👍") and chat.messages[1]["content"] == [{"type": "text", "text": text}]
    assert len(tracker.rows) == 1


def test_a_stream_cut_before_message_stop_is_not_mistaken_for_a_complete_reply():
    recorded = exchanges("chat_stream_no_message_start")
    body = recorded[0]["response"]["body"]
    client, _ = replay_client(recorded, cut_after=body.index("event: message_delta"))
    chat = ChatWidget(client, MODEL, max_tokens=150)
    with pytest.raises(StreamInterrupted):
        chat.send_message("你好")
    assert chat.messages == [] and chat.text_box.value == "你好"


# -- Stop: the reply runs on the event loop, and stop() ends it -------------------------------------------------

LONG_REPLY, LONG_REPLY_SOURCE = lengthened_exchanges("stream_poem", 400)  # ~8 s at one frame per 20 ms


async def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        assert time.perf_counter() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_stop_mid_reply_keeps_the_partial_turn_and_the_next_request_sends_it():
    # The second response was recorded for the second turn of chat_stream_two_turns: only its path is checked.
    client, replayer, bodies = paced_async_client(LONG_REPLY + exchanges("chat_stream_two_turns", 1))
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=2000)

    async def scenario():
        turn = asyncio.create_task(chat.asend("写一首诗"))
        await wait_until(lambda: chat.reply_view is not None and len(chat.reply_view.text) > 20)
        assert chat.busy and chat.stop_button.layout.display is None  # Stop is offered while it streams
        shown_before = chat.reply_view.text
        stop_clicked = time.perf_counter()
        chat.stop_button.click()
        message = await turn
        return message, time.perf_counter() - stop_clicked, shown_before

    message, latency, shown_before = asyncio.run(scenario())
    body = bodies[0]
    assert latency <= 0.5, f"Stop took {latency:.3f} s"
    assert body.closed_at is not None and not body.finished, "the HTTP response was not closed early"
    assert body.sent < len(body.frames) // 2
    partial = message.content[-1].text
    assert message.stop_reason is None and partial.startswith(shown_before)
    assert chat.messages[1] == {"role": "assistant", "content": [{"type": "text", "text": partial}]}
    assert chat.stopped_turns == [1] and chat.turns == 1 and not chat.busy and chat.error == ""
    assert chat.stop_button.layout.display == "none" and chat.live_area.layout.display == "none"
    assert "oaw-chat-stopped" in turn_views(chat)[1].value and partial.split("\n")[0] in history_html(chat)
    assert "Stopped after" in chat.status_view.value

    asyncio.run(chat.asend(TURNS[1]))  # the next request carries the kept partial reply as the assistant turn
    sent = replayer.requests[1]["json"]["messages"]
    assert sent[:2] == [{"role": "user", "content": [{"type": "text", "text": "写一首诗"}]},
                        {"role": "assistant", "content": [{"type": "text", "text": partial}]}]
    assert roles(chat.messages) == ["user", "assistant"] * 2 and chat.stopped_turns == [1]


def test_stop_before_any_text_keeps_no_empty_turn():
    client, replayer, bodies = paced_async_client(LONG_REPLY, first_delay=5.0)
    chat = ChatWidget(client, MODEL, max_tokens=2000)

    async def scenario():
        turn = asyncio.create_task(chat.asend("写一首诗"))
        await wait_until(lambda: bodies)  # the request is out, nothing has come back yet
        began = time.perf_counter()
        assert chat.stop()
        result = await turn
        return result, time.perf_counter() - began

    result, latency = asyncio.run(scenario())
    assert result is None and latency <= 0.5
    assert chat.messages == [] and chat.stopped_turns == [] and chat.turns == 0
    assert chat.text_box.value == "写一首诗" and "Stopped before any text" in chat.status_view.value
    assert bodies[0].closed_at is not None and bodies[0].sent == 0
    assert not chat.stop() and not chat.busy  # nothing left to stop


def test_enter_starts_the_reply_on_the_event_loop_and_returns_at_once():
    client, replayer, bodies = paced_async_client(LONG_REPLY)
    chat = ChatWidget(client, MODEL, max_tokens=2000)

    async def scenario():
        began = time.perf_counter()
        # What the browser sends when Enter is pressed in the text box (the anywidget's "submit" message).
        chat.text_box._handle_custom_msg({"event": "submit", "value": "写一首诗\n第二行"}, [])
        handler_s = time.perf_counter() - began
        assert chat.busy and chat.text_box.value == "" and handler_s < 0.1  # the comm handler did not block
        await wait_until(lambda: chat.reply_view is not None and chat.reply_view.text)
        chat.text_box._handle_custom_msg({"event": "submit", "value": "too early"}, [])  # refused while busy
        assert chat.text_box.value == "too early" and len(replayer.requests) == 1
        chat.stop_button.click()
        await wait_until(lambda: not chat.busy)

    asyncio.run(scenario())
    assert replayer.requests[0]["json"]["messages"][0]["content"][0]["text"] == "写一首诗\n第二行"  # Shift+Enter's line
    assert chat.stopped_turns == [1] and chat.text_box.value == "too early"


def test_enter_without_an_event_loop_sends_and_blocks_like_send():
    client, replayer = replay_client("chat_create_two_turns")
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, stream=False)
    chat.text_box.value = TURNS[0]
    chat.text_box.submit()
    assert roles(chat.messages) == ["user", "assistant"] and chat.text_box.value == ""


def test_outside_cancellation_is_not_a_stop():
    client, _, bodies = paced_async_client(LONG_REPLY)
    chat = ChatWidget(client, MODEL, max_tokens=2000)

    async def scenario():
        turn = asyncio.create_task(chat.asend("写一首诗"))
        await wait_until(lambda: chat.reply_view is not None and chat.reply_view.text)
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn

    asyncio.run(scenario())
    assert chat.messages == [] and chat.text_box.value == "写一首诗" and "Cancelled" in chat.error
    assert bodies[0].closed_at is not None


def test_an_interrupted_blocking_send_keeps_its_partial_text_like_stop():
    frames_before_interrupt = 40
    recorded = LONG_REPLY[0]["response"]

    class InterruptedBody(httpx2.SyncByteStream):
        def __iter__(self):
            from tests.stream_samples import sse_frames

            for frame in sse_frames(recorded["body"])[:frames_before_interrupt]:
                yield frame.encode()
            raise KeyboardInterrupt  # what a kernel interrupt does mid-stream

    client = anthropic.Anthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(
                                     lambda request: httpx2.Response(200, stream=InterruptedBody()))))
    chat = ChatWidget(client, MODEL, max_tokens=2000)
    with pytest.raises(KeyboardInterrupt):
        chat.send_message("写一首诗")
    assert roles(chat.messages) == ["user", "assistant"] and chat.stopped_turns == [1]
    assert chat.messages[1]["content"][0]["text"] and not chat.busy


# -- a turn sends that turn, not the history ----------------------------------------------------------------------


def test_a_new_turn_adds_its_own_widgets_and_leaves_earlier_turns_untouched():
    client, _ = replay_client("chat_create_two_turns")
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, stream=False)
    chat.send_message(TURNS[0])
    first_views = turn_views(chat)
    first_values = [view.value for view in first_views]
    chat.send_message(TURNS[1])
    views = turn_views(chat)
    assert len(views) == 4 and views[:2] == first_views  # the same widgets: nothing re-sent for them
    assert len(chat.history_box.children) == 2  # one box per exchange
    assert [view.value for view in views[:2]] == first_values
    assert TURNS[1] in views[2].value and TURNS[0] not in views[2].value + views[3].value


# -- export --------------------------------------------------------------------------------------------------------


def test_export_markdown_and_json_round_trip(tmp_path):
    client, _, _ = paced_async_client(exchanges("chat_stream_two_turns", 0) + LONG_REPLY, paced={1})
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64)

    async def scenario():
        await chat.asend(TURNS[0])
        turn = asyncio.create_task(chat.asend("写一首诗"))
        await wait_until(lambda: chat.reply_view.status == "streaming" and len(chat.reply_view.text) > 10)
        chat.stop()
        await turn

    asyncio.run(scenario())
    assert chat.stopped_turns == [3]

    markdown_path = chat.save(tmp_path / "chat.md")
    markdown = markdown_path.read_text(encoding="utf-8")
    assert markdown == chat.to_markdown() and markdown.startswith(f"# Chat with {MODEL}\n")
    assert f"**System prompt:** {SYSTEM}" in markdown
    assert markdown.count("## You") == 2 and markdown.count("## Assistant") == 2
    assert "## Assistant (stopped)" in markdown and chat.messages[3]["content"][0]["text"] in markdown

    json_path = chat.save(tmp_path / "chat.json")
    with open(json_path, encoding="utf-8") as f:
        loaded = json.load(f)
    assert loaded == chat.messages
    with open(json_path, encoding="utf-8") as f:
        again = ChatWidget(client, MODEL, messages=json.load(f))
    assert again.messages == chat.messages and again.turns == 2 and len(turn_views(again)) == 4

    with pytest.raises(ValueError, match=r"\.md file .* or a \.json"):
        chat.save(tmp_path / "chat.txt")
    assert not (tmp_path / "chat.txt").exists()


def test_markdown_export_names_images_and_quotes_thinking():
    conversation = Conversation()
    conversation.start_turn("What is this?", [png_bytes()])
    conversation.finish_turn({"content": [{"type": "thinking", "thinking": "a blue square\nprobably"},
                                          {"type": "text", "text": "A **blue** square."}]})
    markdown = conversation.to_markdown()
    assert "*[image: image/png" in markdown and "base64" not in markdown
    assert "> **Thinking**\n>\n> a blue square\n> probably" in markdown and "A **blue** square." in markdown


# -- thinking ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("thinking", [None, {"type": "disabled"}, {"type": "enabled", "budget_tokens": 1024}])
def test_thinking_option_is_sent_as_given(thinking):
    client, replayer = replay_client(exchanges("chat_create_two_turns", 0))
    chat = ChatWidget(client, MODEL, max_tokens=64, stream=False, thinking=thinking)
    chat.send_message(TURNS[0])
    sent = replayer.requests[0]["json"]
    assert sent.get("thinking") == thinking and ("thinking" in sent) == (thinking is not None)


def test_thinking_option_is_checked():
    client, _ = replay_client([])
    with pytest.raises(traitlets.TraitError, match="thinking must be"):
        ChatWidget(client, MODEL, thinking={"type": "on"})
    with pytest.raises(traitlets.TraitError, match="thinking"):
        ChatWidget(client, MODEL, request_options={"thinking": {"type": "disabled"}})


def test_thinking_is_shown_collapsed_in_the_history_and_not_sent_back():
    client, _ = replay_client("ollama_stream_thinking_text")
    chat = ChatWidget(client, "qwen3", max_tokens=400)
    message = chat.send_message("写一首关于秋天的短诗")
    thinking = "".join(block.thinking for block in message.content if block.type == "thinking")
    assert thinking and [block["type"] for block in chat.messages[1]["content"]] == ["text"]
    reply = turn_views(chat)[1].value
    details = [attributes for tag, attributes in elements_of(reply) if tag == "details"]
    assert len(details) == 1 and "open" not in details[0]  # collapsed
    assert reply.index("<details") < reply.index("oaw-text")  # above the answer
    assert thinking.split()[0] in reply
    assert "> **Thinking**" in chat.to_markdown()
    assert chat.thinking_of(1) == thinking and chat.thinking_of(0) == ""


def test_a_reply_that_is_only_thinking_gives_one_line_and_a_valid_history():
    client, _ = replay_client(exchanges("chat_stream_two_turns", 0) + exchanges("chat_thinking_only_stream"))
    chat = ChatWidget(client, "qwen3", max_tokens=24)
    chat.send_message(TURNS[0])
    before = chat.messages
    with pytest.raises(EmptyReply):
        chat.send_message("Prove that there are infinitely many primes.")
    assert chat.messages == before and "\n" not in chat.error and "raise max_tokens" in chat.error
    check_history(chat.messages)


def test_the_text_box_takes_the_browsers_text_as_messages_and_sends_none_of_it_back():
    """Typed text arrives as custom messages (in order, never held back behind the kernel's previous answer, as widget
    state is) and is not echoed: an echo of an older text would overwrite what the user typed since."""
    with counting_comms() as traffic:
        box = ChatInput()
        opened = traffic.messages
        for text in ("T", "Te", "Tell me"):
            box._handle_custom_msg({"event": "text", "value": text}, [])
    assert box.value == "Tell me" and traffic.messages == opened
    sent = []
    box.on_submit(sent.append)
    box._handle_custom_msg({"event": "submit", "value": "Tell me more"}, [])
    assert sent == ["Tell me more"] and box.value == "Tell me more"
    box._handle_custom_msg({"event": "text", "value": 42}, [])  # not text: ignored
    assert box.value == "Tell me more"


@pytest.mark.parametrize("stream", [True, False])
def test_a_usage_chart_that_fails_to_draw_warns_and_the_reply_stays(stream, monkeypatch):
    """The issue's case: a tracker whose chart fails used to roll back a reply that had arrived (stream=False)."""
    client, _ = replay_client(exchanges("chat_stream_two_turns" if stream else "chat_create_two_turns", 0))
    tracker = UsageTracker()
    chat = ChatWidget(client, MODEL, max_tokens=64, stream=stream, tracker=tracker)
    chat.usage_panel.min_interval_s = 0  # draw the chart at once for the recorded reply

    def broken(_rows):
        raise RuntimeError("matplotlib has no fonts here")

    monkeypatch.setattr("ollama_anthropic_widgets.ui.usage_panel.usage_figure", broken)
    with pytest.warns(UserWarning, match="could not be drawn.*no fonts"):
        message = chat.send_message(TURNS[0])
    assert chat.messages[1]["content"][0]["text"] == message.content[0].text and chat.error == ""
    assert len(tracker.rows) == 1 and chat.turns == 1
