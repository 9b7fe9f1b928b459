"""The kit's widgets in JupyterLab under axe-core, and the chat's Send and Stop from the keyboard alone.

axe-core (Deque's accessibility engine, npm's ``axe-core``, here as the copy the PyPI package
``axe-playwright-python`` ships: a test dependency, pinned with the others) runs in the page over the outputs of a
notebook that shows every kit widget with content: a StreamView with thinking and text, a ChatWidget with images,
a usage panel, a thinking reply and a stopped one in its history, an ImageUpload with a preview, and
``tracker.widget()``. Any violation fails the test, whatever its impact, with the rule and the nodes it names.

Then the keyboard: Tab from the chat's text box reaches Send, Enter on it sends; while that reply streams, Tab
reaches Stop, Enter on it stops the reply. No mouse, no code.

The traffic is replayed through the real SDK in the kernel (tests/replay.py, tests/chat_samples.py): the engine's
recorded replies (tests/recordings/chat_stream_two_turns.json, stream_poem.json lengthened and paced as in the
chat's Stop tests) and an Ollama-shaped thinking reply (ollama_stream_thinking_text.json, see its ``source``), so no
model server is needed and axe sees the same page on every run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
import pytest

from tests.browser.lab import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    VISIBLE_NOTEBOOK,
    LabServer,
    open_notebook,
    run_all,
    skip_without_chromium,
    wait_for,
    wait_until_executed,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
A11Y_PORT = int(os.environ.get("A11Y_TEST_PORT") or int(os.environ.get("ENGINE_TEST_PORT", "18435")) + 102)

SETUP_CELL = """\
import sys

sys.path.insert(0, {root!r})
import ollama_anthropic_widgets as oaw
from tests.chat_samples import paced_async_client
from tests.replay import load_recording, replay_client
from tests.stream_samples import lengthened_exchanges
from tests.unit.test_chat import png_bytes

thinking_reply = load_recording("ollama_stream_thinking_text")["exchanges"]
chat_replies = load_recording("chat_stream_two_turns")["exchanges"]
long_reply, _ = lengthened_exchanges("stream_poem", 400)
"""
VIEW_CELL = """\
view_client, _ = replay_client(thinking_reply)
view = oaw.StreamView()
display(view)
view.consume(view_client.messages.stream(model="qwen3", max_tokens=400,
                                         messages=[{"role": "user", "content": "写一首关于秋天的短诗"}]))
"""
# One async client for every turn of the chat, in order: a thinking reply (sent from code), then the long paced reply
# the keyboard's Send asks for (and Stop ends). Enter, Send and asend run on the event loop with it, as given.
CHAT_CELL = """\
tracker = oaw.UsageTracker()
chat_client, _, _ = paced_async_client(thinking_reply + long_reply, paced={1})
chat = oaw.ChatWidget(chat_client, "qwen3", max_tokens=2000, images=True, tracker=tracker)
chat.add_class("a11y-chat")
display(chat)
await chat.asend("写一首关于秋天的短诗")
"""
UPLOAD_CELL = """\
upload = oaw.ImageUpload()
display(upload)
upload.picker.set_state({"value": [{"name": "dot.png", "type": "image/png", "size": 1, "last_modified": 0,
                                    "content": memoryview(png_bytes((64, 48)))}]})
"""
PANEL_CELL = "tracker.widget()"
# Positive control (not the kit's): a bare ipywidgets.Image has no text alternative, which axe must report, so that
# "no violation" above is known to mean something.
CONTROL_CELL = """\
import ipywidgets

control = ipywidgets.Image(value=png_bytes(), format="png")
control.add_class("a11y-control")
control
"""

pytestmark = [pytest.mark.timeout(900)]


def notebook_with_every_widget(folder: Path) -> Path:
    kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": kernelspec})
    for source in (SETUP_CELL.format(root=str(ROOT)), VIEW_CELL, CHAT_CELL, UPLOAD_CELL, PANEL_CELL, CONTROL_CELL):
        notebook.cells.append(nbformat.v4.new_code_cell(source))
    path = folder / "widgets.ipynb"
    nbformat.write(notebook, path)
    return path


def violations(page, context: dict) -> list[str]:
    """axe-core's violations in ``context`` (axe's include/exclude selectors), one line per rule and node."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]})
    assert results.response["testEngine"]["name"] == "axe-core"
    return [f"{rule['id']} ({rule['impact']}): {node['target']} {node.get('failureSummary', '')}"
            for rule in results.response["violations"] for node in rule["nodes"]]


def focused(page) -> str:
    """What has the keyboard focus: tag, classes and text, for assertions and messages."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        return el ? `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}:${el.innerText || ''}` : '';
    }""")


def test_every_widget_passes_axe_and_send_and_stop_work_from_the_keyboard(tmp_path):
    skip_without_chromium("the accessibility browser test")
    from playwright.sync_api import sync_playwright

    root = tmp_path / "root"
    root.mkdir()
    notebook_with_every_widget(root)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with LabServer(root, A11Y_PORT, dict(os.environ), tmp_path / "state") as lab, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_notebook(page, lab, "widgets.ipynb")
        run_all(page)
        wait_until_executed(page, 600)
        notebook = page.locator(VISIBLE_NOTEBOOK)
        assert "Error displaying widget" not in notebook.inner_text()
        assert not notebook.locator(".jp-OutputArea-output[data-mime-type*='error']").count(), notebook.inner_text()
        chat = notebook.locator(".oaw-chat.a11y-chat")
        wait_for(lambda: chat.locator(".oaw-chat-assistant").count() == 1, 60, "the chat's first reply")
        wait_for(lambda: notebook.locator("img.oaw-chart").count() == 2, 60, "two usage charts")
        wait_for(lambda: notebook.locator(".oaw-preview img").count() == 1, 60, "the upload's preview")

        # -- the keyboard alone: Tab to Send, Enter; Tab to Stop, Enter ---------------------------------------------
        box = chat.locator(".oaw-chat-input textarea")
        box.focus()
        page.keyboard.type("Tell me a long story.")
        page.keyboard.press("Tab")
        assert "Send" in focused(page), f"Tab from the text box went to {focused(page)!r}, not Send"
        page.keyboard.press("Enter")
        user_turns = chat.locator(".oaw-chat-user")
        wait_for(lambda: user_turns.count() == 2, 30, "the message sent by keyboard")
        assert user_turns.last.inner_text().endswith("Tell me a long story."), user_turns.last.inner_text()
        live = chat.locator(".oaw-stream .oaw-text")
        wait_for(lambda: live.count() and len(live.first.inner_text()) > 40, 120, "the reply asked for by keyboard")
        chat.screenshot(path=str(ARTIFACTS / "a11y-streaming.png"))
        box.focus()
        page.keyboard.press("Tab")  # Send is disabled while the reply streams: the next stop is Stop
        assert "Stop" in focused(page), f"Tab from the text box went to {focused(page)!r}, not Stop"
        page.keyboard.press("Enter")
        stopped = chat.locator(".oaw-chat-assistant.oaw-chat-stopped")
        wait_for(lambda: stopped.count() == 1, 30, "the reply stopped by keyboard")
        assert box.input_value() == "", f"the box holds {box.input_value()!r} after the message was sent"
        time.sleep(1.0)  # the panel redraws its chart at most every 0.5 s

        # -- axe-core over every widget, the stopped turn included ----------------------------------------------------
        found = violations(page, {"include": [f"{VISIBLE_NOTEBOOK} .jp-OutputArea"], "exclude": [".a11y-control"]})
        control = violations(page, {"include": [".a11y-control"]})
        page.screenshot(path=str(ARTIFACTS / "a11y-widgets.png"), full_page=True)
        (ARTIFACTS / "a11y-violations.json").write_text(json.dumps(found, indent=1), encoding="utf-8")
        browser.close()
    assert [line.split(" ")[0] for line in control] == ["image-alt"], control  # the detector works
    assert found == [], "\n".join(found)
    assert lab.leftover_kernels == [], f"kernels outlived the server: {lab.leftover_kernels}"
