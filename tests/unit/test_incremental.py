"""IncrementalHTML: a growing text as parts, each sent once; joined at the end, exactly the whole text's HTML.

Texts here are written by hand to hit Markdown's block rules (fences, lists, tables, quotes, setext headings,
lazy lines), plus the recorded engine reply ``stream_poem`` and the hostile payloads of test_render.
"""

from __future__ import annotations

import html
import random

import pytest
from ollama_anthropic_widgets.core.incremental import IncrementalHTML, PartsUpdate
from ollama_anthropic_widgets.core.render import markdown_to_html

from tests.replay import replay_client
from tests.unit.test_render import PAYLOADS, assert_inert

TEXTS = {
    "everything": "# Title\n\nIntro with **bold\ntext** across lines.\n\n- one\n- two\n\n  continued two\n- three\n\n"
                  "1. a\n2. b\n3) c\n\n| h | i |\n|:--|--:|\n| 1 | 2 |\n| 3 | 4 |\n\nafter table\n\n> quote\nlazy\n"
                  "> more\n\n```python\ndef f(x):\n    return x < 1\n```\n\n    indented\n\n    more indented\n\n"
                  "Setext\n======\n\n---\n\nwww.example.org and <https://example.org> ~~old~~\n",
    "long list": "A:爱爱爱\n1. To create a new life\n2. The word \"life\"\nA:爱爱爱\n1. again\n" * 12,
    "unclosed fence": "```\nunclosed code\n<b>\n" + "line\n" * 60,
    "long table": "para\n| a | b |\n|---|---|\n| 1 | 2 |\n" + "| x | y |\n" * 40 + "\nend",
    "nested": "- a\n  - nested\n    - deeper\n- b\n\n  ```\n  code in item\n  ```\n- c\n" * 6,
    "payloads": "\n".join(PAYLOADS) + "\n\n" + "\n\n".join(PAYLOADS),
    "poem as one paragraph": "床前明月光\n疑是地上霜\n" * 60,
    "blocks that close on a later line": "- a\n---x\n- b\n***\n\n- c\n  ---\n| a |\n|---|\n|\n| b |\nTitle\n---\n",
    "reference link": "Text with a [ref][1] link.\n\n" + "filler line\n\n" * 20 + "[1]: https://example.org\n\nMore.",
}


def stream(text: str, seed: int, part_chars: int, *, markdown: bool = True) -> tuple[list[str], list[PartsUpdate]]:
    """Feed ``text`` in random pieces of 1-12 characters, as a view would; returns the parts shown at the end."""
    rng = random.Random(seed)
    incremental = IncrementalHTML(markdown=markdown, part_chars=part_chars)
    parts: list[str] = []
    updates = []
    position = 0
    while True:
        position = min(len(text), position + rng.randint(1, 12))
        final = position == len(text)
        update = incremental.update(text[:position], final=final)
        updates.append(update)
        dropped = parts[update.keep:]
        assert all(part.startswith('<div class="oaw-provisional">') for part in dropped) or "[1]:" in text, (
            "a final part was taken back")
        del parts[update.keep:]
        parts.extend(update.append)
        if final:
            assert update.tail == ""
            return parts, updates


@pytest.mark.parametrize("name", TEXTS)
@pytest.mark.parametrize("part_chars", [8, 64, 256])
def test_the_parts_joined_are_the_whole_text_rendered_at_once(name, part_chars):
    text = TEXTS[name]
    for seed in range(6):
        parts, _ = stream(text, seed, part_chars)
        assert "".join(parts) == markdown_to_html(text), (name, seed)


def test_a_recorded_reply_split_at_every_delta():
    client, _ = replay_client("stream_poem")
    incremental, parts = IncrementalHTML(part_chars=64), []
    with client.messages.stream(model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}]) as s:
        for _ in s.text_stream:
            update = incremental.update("".join(block.text for block in s.current_message_snapshot.content))
            del parts[update.keep:]
            parts.extend(update.append)
        text = s.get_final_message().content[0].text
    update = incremental.update(text, final=True)
    del parts[update.keep:]
    parts.extend(update.append)
    assert "".join(parts) == markdown_to_html(text)


def test_every_state_of_a_hostile_text_is_inert():
    _, updates = stream(TEXTS["payloads"], seed=1, part_chars=32)
    for update in updates:
        for fragment in (*update.append, update.tail):
            assert_inert(fragment)


@pytest.mark.parametrize("name", ["long list", "unclosed fence", "long table", "poem as one paragraph"])
def test_what_is_sent_grows_linearly_with_the_text(name):
    """Sent HTML, over every update, per byte of the final HTML: bounded and not growing with the length."""
    def sent_per_byte(copies: int) -> float:
        text = TEXTS[name] * copies if name != "unclosed fence" else "```\n" + "a line of code\n" * (60 * copies)
        _, updates = stream(text, seed=3, part_chars=256)
        sent = sum(len(part) for update in updates for part in update.append) + sum(len(u.tail) for u in updates)
        return sent / len(markdown_to_html(text))

    short, long = sent_per_byte(2), sent_per_byte(8)
    assert long <= short * 1.15, (short, long)
    assert long < 60  # a re-render at every update would send ~len(text)/24 times the HTML: hundreds here


def test_a_reference_definition_makes_it_render_the_whole_text():
    incremental = IncrementalHTML()
    first = incremental.update("[a][1] link\n\nmore\n\n")
    assert first.append == ('<p>[a][1] link</p>\n',)
    later = incremental.update("[a][1] link\n\nmore\n\n[1]: https://example.org\n")
    assert later.keep == 0 and 'href="https://example.org"' in later.tail


def test_plain_text_parts_are_cut_after_line_ends_and_keep_every_character():
    text = "first line\n\n  indented <b>\n" * 30
    parts, _ = stream(text, seed=2, part_chars=40, markdown=False)
    assert len(parts) > 5
    assert all(part.startswith('<div class="oaw-plain">') for part in parts)
    shown = "".join(html.unescape(part.removeprefix('<div class="oaw-plain">').removesuffix("</div>"))
                    for part in parts)
    assert shown == text


def test_the_text_must_grow():
    incremental = IncrementalHTML()
    incremental.update("abc")
    with pytest.raises(ValueError, match="extends the previous one"):
        incremental.update("xyz")
