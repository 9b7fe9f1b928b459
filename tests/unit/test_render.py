"""Rendering: model output is untrusted, so every produced HTML string is parsed and checked for live content.

"Live" means what runs or loads in a browser that sets ``innerHTML`` (ipywidgets.HTML in JupyterLab 4: its
view sets innerHTML, which tests/browser shows with a positive control): script-like tags, images/iframes/objects,
``on*`` event attributes, and links whose scheme is not
http/https/mailto. The hostile transcript ``ollama_stream_xss`` is constructed in Ollama's wire format, not recorded.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from ollama_anthropic_widgets.core.render import (
    footer_text,
    format_tool_input,
    is_safe_link,
    markdown_to_html,
    render_error,
    render_footer,
    render_plain,
    render_table,
    render_text,
    render_thinking,
    render_tool_use,
    render_tool_uses,
    render_upload_status,
    render_usage_summary,
    sanitize_html,
    stylesheet,
)
from ollama_anthropic_widgets.core.streaming import StreamAccumulator, StreamResult

from tests.replay import replay_client

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onmouseover="alert(1)">hover</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "<javascript:alert(1)>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![pixel](http://example.invalid/p.png)",
    "[v](vbscript:msgbox(1))",
    "[f](file:///etc/passwd)",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<svg onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '```"><img src=x onerror=alert(1)>\ncode\n```',
    "[x](http://a.b \"t\\\" onmouseover=alert(1)\")",
    "<style>body{display:none}</style>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<https://example.org/"onmouseover="alert(1)">',  # passes the autolink exception of the "<" stand-in
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
]
LIVE_TAGS = {"script", "img", "iframe", "object", "embed", "svg", "math", "style", "link", "meta", "base", "form",
             "input", "video", "audio", "source", "frame", "frameset", "applet"}
ALLOWED_TAGS = {"div", "span", "p", "pre", "code", "b", "strong", "em", "del", "a", "ul", "ol", "li", "h1", "h2", "h3",
                "h4", "h5", "h6", "blockquote", "hr", "br", "details", "summary", "table", "thead", "tbody", "tr",
                "th", "td"}


class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(fragment: str) -> str:
    """Fail on anything live in ``fragment``; returns its visible text."""
    inspector = Inspector()
    inspector.feed(fragment)
    inspector.close()
    for tag, attrs in inspector.tags:
        assert tag not in LIVE_TAGS, (tag, fragment)
        assert tag in ALLOWED_TAGS, (tag, fragment)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, fragment)
            assert name in {"href", "title", "class", "style", "target", "rel", "open", "align", "start"}, (name,
                                                                                                          fragment)
            if name == "href":
                assert is_safe_link(value or ""), (value, fragment)
            assert "javascript:" not in (value or "").lower(), (name, value, fragment)
            if name == "style":
                assert "url(" not in (value or ""), (value, fragment)
    return "".join(inspector.text)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("markdown", [True, False])
def test_text_payloads_stay_inert(payload, markdown):
    assert_inert(render_text(f"before {payload} after", markdown=markdown))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_thinking_tool_name_tool_input_and_errors_stay_inert(payload):
    assert_inert(render_thinking(payload, open=True))
    assert_inert(render_tool_use({"id": payload, "name": payload, "input": {"q": payload, payload: [payload]}}))
    assert_inert(render_tool_use({"id": "call_1", "name": "f", "input": payload}))  # partial/invalid JSON text
    assert_inert(render_error(payload))
    assert_inert(render_footer(StreamResult(stop_reason=payload), status="error", error=payload))


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"])
def test_escaped_payloads_remain_visible_as_text(payload):
    """Nothing is silently dropped: the learner sees exactly what the model sent."""
    assert payload in assert_inert(render_text(payload, markdown=False))
    assert payload in assert_inert(render_text(payload))
    assert payload in assert_inert(render_thinking(payload))
    assert payload in assert_inert(render_tool_use({"id": "call_1", "name": payload, "input": {}}))


def test_hostile_transcript_through_the_sdk_renders_inert():
    client, _ = replay_client("ollama_stream_xss")
    accumulator = StreamAccumulator()
    with client.messages.stream(model="qwen3", max_tokens=512, messages=[{"role": "user", "content": "x"}]) as s:
        for event in s:
            accumulator.feed(event)
            # every intermediate state is rendered during streaming, so check those too
            if event.type == "content_block_delta":
                partial = accumulator.result()
                assert_inert(render_text(partial.text))
                assert_inert(render_tool_uses(partial.tool_uses))
    result = accumulator.result()
    assert "<script>" in result.text and result.tool_uses[0]["name"].startswith("<img")
    visible = assert_inert(render_text(result.text) + render_thinking(result.thinking)
                           + render_tool_uses(result.tool_uses))
    assert "<script>alert(1)</script>" in visible and "onerror=alert('name')" in visible
    assert "https://example.org/ok" in render_text(result.text)  # the one safe link stays a link


def test_cmark_safe_mode_alone_already_drops_raw_html_and_script_links():
    """The first of two layers: without our stand-ins and without nh3, cmark-gfm's safe mode (the default) omits
    raw HTML and blanks script-scheme links. (It keeps relative links and images: the sanitizer removes those.)"""
    import cmarkgfm

    for payload in ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
                    "[x](JAVASCRIPT:alert(1))", "[v](vbscript:x)", "[f](file:///etc/passwd)",
                    "[d](data:text/html;base64,AAAA)"]:
        rendered = cmarkgfm.markdown_to_html(payload)
        dropped_html = rendered.strip() in ("<!-- raw HTML omitted -->", "<p><!-- raw HTML omitted --></p>")
        blanked_link = '<a href="">' in rendered
        assert dropped_html or blanked_link, (payload, rendered)


@pytest.mark.parametrize("payload", PAYLOADS + [
    '<a href="/lab/tree/x">relative</a>', '<a href="//evil.example/x">protocol-relative</a>',
    '<code class="jp-mod-hidden">x</code>', "<p style=\"position:fixed\">x</p>", "<!-- comment -->"])
def test_the_sanitizer_alone_makes_raw_hostile_html_inert(payload):
    """The second layer, fed raw HTML directly (as if the Markdown layer had let everything through)."""
    cleaned = sanitize_html(f"<p>before {payload} after</p>")
    assert_inert(cleaned)
    assert "<!--" not in cleaned and "jp-mod-hidden" not in cleaned and "style=" not in cleaned


@pytest.mark.parametrize(("url", "safe"), [
    ("https://example.org/x", True), ("http://example.org", True), ("mailto:a@example.org", True),
    ("  HTTPS://EXAMPLE.ORG", True), ("javascript:alert(1)", False), ("data:image/png;base64,AA", False),
    ("/files/notebook.ipynb", False), ("//evil.example/x", False), ("ftp://x", False), ("java%09script:x", False),
])
def test_is_safe_link(url, safe):
    assert is_safe_link(url) is safe


def test_markdown_still_renders_useful_markdown():
    html = markdown_to_html("# T\n\n**bold** and `x < y`\n\n- one\n- two\n\n```py\nprint('<b>')\n```\n\n"
                            "<https://example.org> [doc](https://example.org/doc)")
    assert "<h1>T</h1>" in html and "<strong>bold</strong>" in html and "<code>x &lt; y</code>" in html
    assert "<li>one</li>" in html and "print('&lt;b&gt;')" in html and '<code class="language-py">' in html
    assert html.count('target="_blank"') == 2 and html.count('rel="noopener noreferrer nofollow"') == 2
    assert 'href="https://example.org/doc"' in html
    assert_inert(html)


def test_github_flavoured_tables_strikethrough_bare_urls_and_line_breaks():
    """What models write: GFM tables, ~~strikethrough~~, bare URLs, and poems whose lines end in one newline."""
    html = markdown_to_html("| a | b |\n|:--|--:|\n| 1 | 2 |\n\n~~old~~ see www.example.org\n\n床前明月光\n疑是地上霜")
    assert '<th align="left">a</th>' in html and '<td align="right">2</td>' in html
    assert "<del>old</del>" in html and 'href="http://www.example.org"' in html
    assert "床前明月光<br>\n疑是地上霜" in html
    assert_inert(html)


def test_markdown_images_become_links_and_unsafe_links_keep_only_their_text():
    html = markdown_to_html("![pixel](http://example.invalid/p.png) [r](/files/x) [j](javascript:alert(1)) "
                            "[p](//evil.example/x)")
    assert "<img" not in html  # a remote image would load by itself (a tracking pixel)
    assert '!<a target="_blank" href="http://example.invalid/p.png"' in html  # ...a link loads only on a click
    visible = assert_inert(html)
    assert "r j p" in visible.replace("!pixel ", "")
    assert "/files/x" not in html and "javascript" not in html and "evil.example" not in html


def test_raw_html_and_angle_brackets_show_as_text_everywhere():
    """The "<" stand-in: raw HTML is shown, not dropped, and code keeps its "<" (not a literal "&lt;")."""
    html = markdown_to_html("Use <div> here, `<span>` there, a<b, and\n\n```html\n<p>hi</p>\n```")
    visible = assert_inert(html)
    assert "Use <div> here" in visible and "<span>" in visible and "a<b" in visible and "<p>hi</p>" in visible
    assert "&amp;lt;" not in html


def test_the_stand_in_characters_in_a_reply_cannot_smuggle_markup():
    """A reply that itself contains the private-use stand-ins gets them replaced, never turned into "<"."""
    sneaky = "\ue000script>alert(1)\ue000/script> !\ue001[x](https://example.org) \ue001"
    html = markdown_to_html(sneaky)
    assert_inert(html)
    assert "\ue000" not in html and "\ue001" not in html and "<script" not in html


def test_plain_mode_is_escaped_text_with_its_line_breaks():
    plain = render_text("**a** <b>", markdown=False)
    assert plain == '<div class="oaw-text"><div class="oaw-plain">**a** &lt;b&gt;</div></div>'
    assert render_text("") == ""
    assert render_plain("\nafter an empty line") == '<div class="oaw-plain">\nafter an empty line</div>'  # not a <pre>


def test_thinking_is_collapsible():
    assert render_thinking("hmm").startswith('<details class="oaw-thinking">')
    assert render_thinking("hmm", open=True).startswith('<details class="oaw-thinking" open>')
    assert render_thinking("") == ""


def test_tool_input_is_indented_json_or_the_raw_text():
    expected = '{\n  "city": "巴黎",\n  "days": [\n    1,\n    2\n  ]\n}'
    assert format_tool_input({"city": "巴黎", "days": [1, 2]}) == expected
    assert format_tool_input('{"city": "Pa') == '{"city": "Pa'
    assert format_tool_input({"odd": {1, 2}}).startswith('{\n  "odd": "{1, 2}"')
    rendered = render_tool_use({"id": "call_x7k2m9qa", "name": "get_weather", "input": {"city": "Paris"}})
    assert "get_weather" in rendered and "call_x7k2m9qa" in rendered
    assert "&quot;city&quot;: &quot;Paris&quot;" in rendered


def test_footer_text():
    result = StreamResult(stop_reason="max_tokens", input_tokens=14, output_tokens=200, ttft_s=0.1234,
                          output_tokens_per_s=101.26)
    assert footer_text(result) == "stop_reason: max_tokens · tokens: 14 in / 200 out · TTFT 0.12 s · 101.3 tok/s"
    assert footer_text(StreamResult()) == "stop_reason: —"
    assert footer_text(StreamResult(input_tokens=3)) == "stop_reason: — · tokens: 3 in / ? out"


def test_footer_states():
    assert "streaming" in render_footer(status="streaming")
    assert render_footer(status="idle") == ""
    done = render_footer(StreamResult(stop_reason="end_turn", output_tokens=5), status="done")
    assert "end_turn" in done and "oaw-error" not in done
    failed = render_footer(None, status="error", error="HTTP 500")
    assert "oaw-error" in failed and "stop_reason" not in failed


@pytest.mark.parametrize("raw", ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>",
                                 '<a href="javascript:alert(1)">x</a>', '<b onmouseover="alert(1)">x</b>',
                                 '<a href="/files/x">x</a>'])
def test_the_checker_itself_catches_live_html(raw):
    """Guards the guard: unescaped payloads must fail assert_inert, or the tests above prove nothing."""
    with pytest.raises(AssertionError):
        assert_inert(raw)


def test_styling_comes_from_classes_in_the_one_stylesheet_never_from_style_attributes():
    from ollama_anthropic_widgets.core.usage import summarize

    produced = [
        render_text("# t\n\n| a |\n|---|\n| 1 |\n\n```py\nx\n```"), render_text("x", markdown=False),
        render_thinking("t", open=True), render_tool_uses([{"id": "c", "name": "f", "input": {"a": 1}}]),
        render_footer(StreamResult(stop_reason="end_turn"), status="error", error="e"),
        render_usage_summary(summarize([{"input_tokens": 1, "output_tokens": 2, "error": "x"}])),
        render_table("t", ["a"], [{"a": "b"}]), render_upload_status(["ok"], ["bad"], 1),
    ]
    used = set()
    for fragment in produced:
        assert "style=" not in fragment, fragment
        used.update(name for classes in re.findall(r'class="([^"]*)"', fragment) for name in classes.split())
    assert used and all(name.startswith(("oaw-", "language-")) for name in used), used
    styled = {name for name in used if f".{name} " in stylesheet() or f".{name}," in stylesheet()}
    assert {"oaw-plain", "oaw-code", "oaw-error", "oaw-footer", "oaw-muted", "oaw-table", "oaw-rejected"} <= styled


@pytest.mark.parametrize("foreign", ["oaw-error", "oaw-stylesheet", "jp-mod-hidden", "language-py oaw-error"])
def test_the_sanitizer_still_refuses_classes_from_model_output(foreign):
    """The kit's own classes are added around sanitized output; the model cannot add them (or any other)."""
    cleaned = sanitize_html(f'<p class="{foreign}">x <code class="{foreign}">y</code></p>')
    assert "oaw-" not in cleaned and "jp-" not in cleaned


def test_a_section_adds_its_rules_by_defining_a_css_constant(monkeypatch):
    """How the chat section (appended at the end of render.py) adds rules: a ``<SECTION>_CSS`` constant, nothing
    else; stylesheet() joins them all, in file order."""
    import ollama_anthropic_widgets.core.render as render

    monkeypatch.setattr(render, "CHAT_EXAMPLE_CSS", ".oaw-chat-example { color: red; }\n", raising=False)
    sheet = render.stylesheet()
    assert sheet.endswith(".oaw-chat-example { color: red; }\n")
    assert sheet.index(".oaw-stylesheet") < sheet.index(".oaw-footer") < sheet.index(".oaw-rejected")
