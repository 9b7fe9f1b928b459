"""The chat's text box in Notebook 7, in a real browser: Shift+Enter adds a line, Enter sends.

Notebook 7 is built from JupyterLab's components, but it routes keys differently: before the box marked itself
with Lumino's ``data-lm-suppress-shortcuts``, Shift+Enter typed in it ran the notebook cell around the chat
(which re-created the widget and lost the text), although the same keys worked in JupyterLab. So the keys are
tried here too, on a one-cell notebook that shows a ChatWidget connected to the live model server.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.browser.lab import CHROMIUM, CHROMIUM_FLAGS, LabServer, skip_without_chromium, wait_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
NOTEBOOK7_PORT = int(os.environ.get("NOTEBOOK7_TEST_PORT") or int(os.environ.get("ENGINE_TEST_PORT", "18435")) + 101)
CHAT_CELL = """\
import ollama_anthropic_widgets as oaw
from anthropic import Anthropic

config = oaw.settings()
chat = oaw.ChatWidget(Anthropic(base_url=config.base_url, api_key=config.api_key), config.model,
                      max_tokens=64, thinking={"type": "disabled"})
chat
"""
TYPED = ("Say hello in one short sentence.", "Then say goodbye.")

pytestmark = [pytest.mark.live, pytest.mark.timeout(600)]


def kernel_idle(server_url: str, notebook_path: str) -> bool:
    """Whether the server runs a kernel for ``notebook_path`` and reports it idle (Jupyter Server's REST API)."""
    with urllib.request.urlopen(f"{server_url}/api/sessions", timeout=5) as response:
        sessions = json.load(response)
    return any(session.get("path") == notebook_path and session["kernel"].get("execution_state") == "idle"
               for session in sessions)


def test_notebook7_chat_box_shift_enter_adds_a_line_and_enter_sends(live_settings, tmp_path):
    skip_without_chromium("the Notebook 7 browser test")
    from playwright.sync_api import sync_playwright

    root = tmp_path / "root"
    root.mkdir()
    kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": kernelspec})
    notebook.cells.append(nbformat.v4.new_code_cell(CHAT_CELL))
    nbformat.write(notebook, root / "chat.ipynb")
    env = dict(os.environ, OLLAMA_BASE_URL=live_settings.base_url, OLLAMA_MODEL=live_settings.model)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with LabServer(root, NOTEBOOK7_PORT, env, tmp_path / "state", app="notebook") as server, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{server.url}/notebooks/chat.ipynb", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-CodeCell .cm-content", timeout=90_000)
        # The toolbar names the kernel from the notebook's metadata before one runs, and a cell run before the
        # kernel is up may be dropped: wait until the server reports the notebook's kernel idle.
        wait_for(lambda: kernel_idle(server.url, "chat.ipynb"), 90, "the notebook's kernel to be idle", poll_s=0.3)

        # Run the cell as a learner does (Shift+Enter in its editor), then wait for the chat to render.
        page.locator(".jp-CodeCell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        box = page.locator(".oaw-chat-input textarea")
        try:
            box.wait_for(timeout=120_000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "notebook7-ran.png"))
        prompts_before = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        cells_before = page.locator(".jp-Cell").count()

        box.click()
        box.press_sequentially(TYPED[0])
        box.press("Shift+Enter")
        box.press_sequentially(TYPED[1])
        time.sleep(1.0)
        assert box.input_value() == "\n".join(TYPED), f"the box holds {box.input_value()!r}"
        assert page.locator(".oaw-chat-user").count() == 0, "Shift+Enter sent the message"
        assert page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts() == prompts_before, (
            "Shift+Enter in the chat's text box ran a notebook cell")
        assert page.locator(".jp-Cell").count() == cells_before, "Shift+Enter in the chat's text box added a cell"

        box.press("Enter")
        replies = page.locator(".oaw-chat-assistant .oaw-text")
        wait_for(lambda: replies.count() and replies.first.inner_text().strip(), 300, "the reply after Enter")
        assert replies.count() == 1, f"{replies.count()} replies after one Enter"
        assert page.locator(".oaw-chat-user .oaw-chat-text").first.inner_text() == "\n".join(TYPED)
        assert box.input_value() == "", "the text box was not emptied after sending"
        assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
        page.screenshot(path=str(ARTIFACTS / "notebook7-chat.png"))
        browser.close()
    assert server.leftover_kernels == [], f"kernels outlived the server: {server.leftover_kernels}"
