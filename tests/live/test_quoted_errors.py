"""Every error text the prose quotes is what a live call prints today.

The lessons (both editions), README.md and README.zh-CN.md quote error texts so that a reader recognises them. Each
quote below names the texts that carry it and the live call that must produce it: through the Ollama double for
Ollama's answers (tests/ollama_double.py, in front of the engine), against the engine for llama.cpp's, and with the
SDK alone for what it refuses before sending. A quote matches when it reads, with "…" standing for any text, inside
one of the forms a reader meets: the last line of a traceback (``anthropic.NotFoundError: 404 …``), the lessons'
one-line ``HTTP <status>: <server message>``, or the server's JSON error body.

When an SDK or server release changes its wording, this fails and names the quote, instead of the prose
misleading a reader. A new ``SomethingError: …`` quote in the prose must be added here (the last test).
"""

from __future__ import annotations

import base64
import json
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anthropic
import pytest

from tests.net import closed_port

ROOT = Path(__file__).resolve().parents[2]
READMES = ("README.md", "README.zh-CN.md")
HI = [{"role": "user", "content": "hi"}]
PNG = base64.b64encode((ROOT / "notebooks" / "data" / "shapes.png").read_bytes()).decode()


def lessons(name: str) -> tuple[str, str]:
    return f"notebooks/en/{name}.ipynb", f"notebooks/zh/{name}.ipynb"


@dataclass(frozen=True)
class Quote:
    text: str  # as the prose writes it; "…" stands for any text
    scenario: str  # the live call that prints it (SCENARIOS below)
    files: tuple[str, ...]  # where the prose quotes it


QUOTES = [
    Quote("NotFoundError: 404 404 page not found (path: /v1/v1/messages)", "ollama_base_url_v1", READMES),
    Quote("404 page not found", "ollama_base_url_v1",
          (*READMES, *lessons("00_setup"), *lessons("09_unsupported_features"))),
    Quote("page not found", "ollama_base_url_v1", lessons("01_first_message")),
    Quote("File Not Found", "engine_base_url_v1", lessons("01_first_message")),
    Quote("NotFoundError: 404 model '…' not found (request_id: …)", "ollama_unknown_model", READMES),
    Quote("NotFoundError: 404 model 'no-such-model-xyz' not found (request_id: …, path: /v1/messages, "
          "type: not_found_error)", "ollama_unknown_model", lessons("01_first_message")),
    Quote('{"type": "error", "error": {"type": "not_found_error", "message": "model \'…\' not found"}, '
          '"request_id": "req_…"}',
          "ollama_unknown_model", lessons("01_first_message")),
    Quote("model … not found", "ollama_unknown_model", lessons("01_first_message")[:1]),
    Quote("model 'claude-3-opus-20240229' not found", "ollama_claude_model", lessons("08_models_and_responses")),
    Quote("… does not support tools", "ollama_tools_unsupported", (*lessons("06_tool_use"), *lessons("13_summary"))),
    Quote("invalid image source type: url. Only base64 images are supported.", "ollama_url_image",
          (*lessons("07_images"), "notebooks/en/09_unsupported_features.ipynb")),
    Quote("400 invalid image source type: url. Only base64 images are supported.", "ollama_url_image",
          ("notebooks/zh/13_summary.ipynb",)),
    Quote("Only base64 images are supported.", "ollama_url_image", lessons("03_message_format")),
    Quote("image input is not supported", "engine_image", lessons("07_images")),
    Quote("HTTP 500: image input is not supported …", "engine_image", ("notebooks/en/07_images.ipynb",)),
    Quote("TypeError: … unexpected keyword argument 'temperature'", "sampling_keyword", READMES),
    Quote("AttributeError: 'ThinkingBlock' object has no attribute 'text'", "thinking_block_text", READMES),
    Quote("APIConnectionError: Connection to … failed: … Connection refused", "nothing_listening", READMES),
    Quote("StdinNotImplementedError: raw_input was called, but this frontend does not support input requests.",
          "kernel_input", lessons("10_multi_turn_chat")),
]


# -- the live calls ---------------------------------------------------------------------------------------------

def _client(base_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key="ollama", max_retries=0, timeout=120)


def _image_message(source: dict) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "describe"}, {"type": "image", "source": source}]}]


def fails(call: Callable[[], object]) -> list[str]:
    """What a reader sees when ``call`` raises (see :func:`printed_forms`); nothing if it succeeds."""
    try:
        call()
    except Exception as error:
        return printed_forms(error)
    return []


def kernel_error(code: str) -> list[str]:
    """The error a real IPython kernel reports for ``code`` run from a front-end without a keyboard (nbval's)."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.execute_interactive(code, allow_stdin=False, timeout=60)["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return [f"{reply['ename']}: {reply['evalue']}"] if reply["status"] == "error" else []


SCENARIOS: dict[str, Callable[[str, str], list[str]]] = {
    # each takes (Ollama double's base URL, engine's base URL) and returns what its failure prints
    "ollama_base_url_v1": lambda ollama, engine: fails(lambda: _client(f"{ollama}/v1").messages.create(
        model="llama3.2", max_tokens=8, messages=HI)),
    "engine_base_url_v1": lambda ollama, engine: fails(lambda: _client(f"{engine}/v1").messages.create(
        model="llama3.2", max_tokens=8, messages=HI)),
    "ollama_unknown_model": lambda ollama, engine: fails(lambda: _client(ollama).messages.create(
        model="no-such-model-xyz", max_tokens=8, messages=HI)),
    "ollama_claude_model": lambda ollama, engine: fails(lambda: _client(ollama).messages.create(
        model="claude-3-opus-20240229", max_tokens=8, messages=HI)),
    "ollama_tools_unsupported": lambda ollama, engine: fails(lambda: _client(ollama).messages.create(
        model="llava", max_tokens=8, messages=HI,
        tools=[{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}])),
    "ollama_url_image": lambda ollama, engine: fails(lambda: _client(ollama).messages.create(
        model="llava", max_tokens=8, messages=_image_message({"type": "url", "url": "https://example.invalid/a.png"}))),
    "engine_image": lambda ollama, engine: fails(lambda: _client(engine).messages.create(
        model="llama3.2", max_tokens=8,
        messages=_image_message({"type": "base64", "media_type": "image/png", "data": PNG}))),
    "sampling_keyword": lambda ollama, engine: fails(lambda: _client(ollama).messages.create(
        model="llama3.2", max_tokens=8, messages=HI, temperature=0.2)),
    "thinking_block_text": lambda ollama, engine: fails(lambda: _client(ollama).messages.create(
        model="qwen3", max_tokens=16, messages=HI).content[0].text),
    "nothing_listening": lambda ollama, engine: fails(lambda: _client(f"http://127.0.0.1:{closed_port()}").messages.create(
        model="llama3.2", max_tokens=8, messages=HI)),
    "kernel_input": lambda ollama, engine: kernel_error("input()"),
}


def printed_forms(error: BaseException) -> list[str]:
    """The texts a reader meets for this error: a traceback's last line, and for a server's error the lessons'
    one-line form and the JSON body."""
    forms = [traceback.format_exception_only(type(error), error)[-1].strip()]
    if isinstance(error, anthropic.APIStatusError):
        forms.append(f"HTTP {error.status_code}: {error.api_message or error.body}")
        if isinstance(error.body, dict):
            forms.append(json.dumps(error.body, ensure_ascii=False))
    return forms


def pattern(quote: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in quote.split("…")))


@pytest.fixture(scope="module")
def printed(ollama_double, live_settings) -> dict[str, list[str]]:
    """What each scenario prints, one live call each."""
    return {name: scenario(ollama_double.base_url, live_settings.base_url) for name, scenario in SCENARIOS.items()}


@pytest.mark.parametrize("quote", QUOTES, ids=lambda quote: quote.text[:48])
def test_the_quote_is_what_the_live_call_prints(quote, printed):
    forms = printed[quote.scenario]
    assert forms, f"{quote.scenario}: the call succeeded, so nothing prints the quote {quote.text!r}"
    assert any(pattern(quote.text).search(form) for form in forms), (
        f"the prose quotes {quote.text!r}, but {quote.scenario} prints:\n  " + "\n  ".join(forms))


# -- the quotes are where the prose has them, and every quote of an exception line is checked -----------------------

def prose(path: str) -> str:
    """A README's text, or a lesson's Markdown cells, with each run of white space as one space (as Markdown shows
    a line break inside a paragraph or a code span)."""
    text = (ROOT / path).read_text(encoding="utf-8")
    if path.endswith(".ipynb"):
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return " ".join(text.split())


def test_each_quote_stands_in_the_texts_it_names():
    missing = [(quote.text, path) for quote in QUOTES for path in quote.files if quote.text not in prose(path)]
    assert not missing, f"quotes no longer in these texts (update QUOTES with the prose): {missing}"


EXCEPTION_LINE = re.compile(r"`((?:anthropic\.)?[A-Z]\w*Error: [^`]+)`")


def test_every_quoted_exception_line_is_checked_here():
    texts = [*READMES, *(str(path.relative_to(ROOT)) for path in sorted((ROOT / "notebooks").glob("*/*.ipynb")))]
    checked = {quote.text for quote in QUOTES}
    unchecked = sorted({(match, path) for path in texts for match in EXCEPTION_LINE.findall(prose(path))
                        if match not in checked})
    assert not unchecked, f"quoted exception lines with no live check in QUOTES: {unchecked}"
