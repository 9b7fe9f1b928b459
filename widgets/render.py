"""Safe HTML for untrusted model output: the only producer of what StreamView puts into its HTML widgets.

``ipywidgets.HTML`` does not sanitize (JupyterLab sets ``innerHTML``): an ``<img src=x onerror=...>`` in a model's
reply would run in the learner's browser. So every string from the model goes through here:

- text: GitHub-flavoured Markdown (tables, strikethrough, bare URLs; a single newline is a line break, as in chat
  apps) rendered by cmark-gfm, GitHub's C parser, in its safe mode. Raw HTML in the reply is shown as text, not
  dropped; images become links (a remote image is a tracking pixel / data leak). The result then goes through the
  nh3 (Ammonia) sanitizer with a short allowlist: Markdown's own tags, and ``href`` only for ``http:``,
  ``https:`` and ``mailto:`` (any other link keeps its text and loses the link). PyPI renders READMEs with the
  same pair. With ``markdown=False``: escaped ``<pre>`` text;
- thinking: escaped text in a ``<details>`` block;
- tool calls: escaped name and id, input as escaped, indented JSON (parsed data only, never evaluated).

Example:
    >>> render_text("<img src=x onerror=alert(1)> **hi**")
    '<div class="sv-text"><p>&lt;img src=x onerror=alert(1)&gt; <strong>hi</strong></p>\\n</div>'
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from typing import Any

SAFE_LINK_PREFIXES = ("http://", "https://", "mailto:")
_PRE_STYLE = "white-space: pre-wrap; margin: 0; font-family: var(--jp-code-font-family, monospace)"

# What the sanitizer lets through: the tags cmark-gfm produces for Markdown, nothing that runs or loads.
MARKDOWN_TAGS = frozenset({"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
                           "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"})
_MARKDOWN_ATTRIBUTES = {"a": {"href"}, "code": {"class"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
_GFM_EXTENSIONS = ("table", "strikethrough", "autolink")

# Stand-ins (Unicode private-use characters) for characters that must not reach cmark as syntax. cmark would drop
# raw HTML ("<!-- raw HTML omitted -->") where a learner should see the model's "<div>" as text; escaping "<" up
# front would show "&lt;" literally inside code spans. A stand-in passes through code and text alike and becomes
# "&lt;" after rendering. "![" gets one too, so that an image is parsed as "!" plus a link.
_LT_STAND_IN, _IMAGE_STAND_IN = "\ue000", "\ue001"
_RAW_LT = re.compile(r"<(?!(?:https?://|mailto:)[^\s<>]*>)")  # every "<" except those opening a safe autolink


def is_safe_link(url: str) -> bool:
    """True for http(s) and mailto links: the only ones StreamView keeps clickable.

    Example:
        >>> is_safe_link("https://example.org"), is_safe_link("javascript:alert(1)"), is_safe_link("/files/x")
        (True, False, False)
    """
    return url.strip().lower().startswith(SAFE_LINK_PREFIXES)


def _keep_safe_values(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return value if is_safe_link(value) else None
    if attribute == "class":  # cmark's "language-<info string>" on code blocks; nothing else may style the page
        return value if value.startswith("language-") and " " not in value else None
    return value


@lru_cache(maxsize=1)
def _sanitizer():
    import nh3  # imported on first use: keeps `import ollama_anthropic_widgets` cheap

    return nh3.Cleaner(tags=set(MARKDOWN_TAGS), attributes=_MARKDOWN_ATTRIBUTES,
                       url_schemes={"http", "https", "mailto"}, attribute_filter=_keep_safe_values,
                       link_rel="noopener noreferrer nofollow", strip_comments=True)


def sanitize_html(fragment: str) -> str:
    """Keep only Markdown's tags, and links only to http(s)/mailto; everything else is removed (text stays).

    Example:
        >>> sanitize_html('<p onclick="x()">hi <img src=x onerror=alert(1)><a href="javascript:x">j</a></p>')
        '<p>hi <a target="_blank" rel="noopener noreferrer nofollow">j</a></p>'
    """
    # Links open in a new tab, not in place of JupyterLab. Added here rather than by nh3, whose attribute order
    # varies between processes: the same reply must give the same HTML (an unchanged value sends no update).
    return _sanitizer().clean(fragment).replace("<a ", '<a target="_blank" ')


def markdown_to_html(text: str) -> str:
    """GitHub-flavoured Markdown to sanitized HTML: raw HTML shown as text, images as links, only http(s)/mailto
    links clickable (see the module docstring).

    Example:
        >>> markdown_to_html("**<b>** [x](javascript:alert(1))")
        '<p><strong>&lt;b&gt;</strong> <a target="_blank" rel="noopener noreferrer nofollow">x</a></p>\\n'
        >>> markdown_to_html("<https://example.org>").count('rel="noopener noreferrer nofollow"')
        1
    """
    import cmarkgfm
    from cmarkgfm.cmark import Options

    prepared = _RAW_LT.sub(_LT_STAND_IN, text.replace(_LT_STAND_IN, "\ufffd").replace(_IMAGE_STAND_IN, "\ufffd"))
    prepared = prepared.replace("![", "!" + _IMAGE_STAND_IN + "[")
    rendered = cmarkgfm.markdown_to_html_with_extensions(  # safe mode: cmark itself drops raw HTML and script: URLs
        prepared, options=Options.CMARK_OPT_HARDBREAKS, extensions=_GFM_EXTENSIONS)
    rendered = rendered.replace(_LT_STAND_IN, "&lt;").replace(_IMAGE_STAND_IN, "")
    return sanitize_html(rendered)


def render_text(text: str, *, markdown: bool = True) -> str:
    """The reply text as safe HTML: Markdown (see :func:`markdown_to_html`) or escaped preformatted text.

    Example:
        >>> render_text("a < b", markdown=False).endswith(">a &lt; b</pre>")
        True
    """
    if not text:
        return ""
    if markdown:
        return f'<div class="sv-text">{markdown_to_html(text)}</div>'
    return f'<pre class="sv-text" style="{_PRE_STYLE}">{html.escape(text)}</pre>'


def render_thinking(thinking: str, *, open: bool = False) -> str:
    """The model's thinking, escaped, in a collapsible ``<details>`` block (``open`` while it is streaming).

    Example:
        >>> html = render_thinking("x < y")
        >>> html.startswith('<details class="sv-thinking"><summary>Thinking (5 characters)'), "x &lt; y" in html
        (True, True)
    """
    if not thinking:
        return ""
    attribute = " open" if open else ""
    return (f'<details class="sv-thinking"{attribute}><summary>Thinking ({len(thinking)} characters)</summary>'
            f'<pre style="{_PRE_STYLE}">{html.escape(thinking)}</pre></details>')


def format_tool_input(tool_input: Any) -> str:
    """Tool input as indented JSON text (not yet escaped); a string (partial or invalid JSON) is shown as is.

    Example:
        >>> print(format_tool_input({"city": "巴黎"}))
        {
          "city": "巴黎"
        }
    """
    if isinstance(tool_input, str):
        return tool_input
    try:
        return json.dumps(tool_input, indent=2, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(tool_input)


def render_tool_use(tool_use: dict[str, Any]) -> str:
    """One tool call: escaped name and id, escaped JSON input.

    Example:
        >>> "&lt;b&gt;" in render_tool_use({"id": "call_1", "name": "<b>", "input": {}})
        True
    """
    name = html.escape(str(tool_use.get("name") or "?"))
    call_id = html.escape(str(tool_use.get("id") or ""))
    body = html.escape(format_tool_input(tool_use.get("input", {})))
    return (f'<div class="sv-tool-use"><div>🔧 tool call <b><code>{name}</code></b> '
            f'<span style="opacity: 0.6">{call_id}</span></div><pre style="{_PRE_STYLE}">{body}</pre></div>')


def render_tool_uses(tool_uses: list[dict[str, Any]]) -> str:
    """All tool calls of a reply, in order (empty string for none).

    Example:
        >>> render_tool_uses([])
        ''
    """
    return "".join(render_tool_use(tool_use) for tool_use in tool_uses)


def footer_text(result: Any) -> str:
    """One plain-text line: stop_reason, tokens, time to first token, output speed.

    ``result`` is a :class:`~.streaming.StreamResult` (or anything with the same attributes).

    Example:
        >>> from ollama_anthropic_widgets.streaming import StreamResult
        >>> footer_text(StreamResult(stop_reason="end_turn", input_tokens=12, output_tokens=200, ttft_s=0.128,
        ...                          output_tokens_per_s=95.31))
        'stop_reason: end_turn · tokens: 12 in / 200 out · TTFT 0.13 s · 95.3 tok/s'
    """
    parts = [f"stop_reason: {getattr(result, 'stop_reason', None) or '—'}"]
    input_tokens, output_tokens = getattr(result, "input_tokens", None), getattr(result, "output_tokens", None)
    if input_tokens is not None or output_tokens is not None:
        cached = getattr(result, "cached_input_tokens", None)
        cached_note = f" ({cached} cached)" if cached else ""
        parts.append(f"tokens: {'?' if input_tokens is None else input_tokens} in{cached_note} / "
                     f"{'?' if output_tokens is None else output_tokens} out")
    ttft = getattr(result, "ttft_s", None)
    if ttft is not None:
        parts.append(f"TTFT {ttft:.2f} s")
    rate = getattr(result, "output_tokens_per_s", None)
    if rate is not None:
        parts.append(f"{rate:.1f} tok/s")
    return " · ".join(parts)


def render_footer(result: Any = None, *, status: str = "done", error: str = "") -> str:
    """The footer: a status line while streaming, :func:`footer_text` at the end, plus an escaped error line.

    Example:
        >>> render_footer(status="streaming")
        '<div class="sv-footer" style="opacity: 0.7; font-size: 0.9em">streaming…</div>'
    """
    if status == "streaming":
        line = "streaming…"
    elif status == "idle" or result is None:
        line = ""
    else:
        line = footer_text(result)
    parts = []
    if line:
        parts.append(f'<div class="sv-footer" style="opacity: 0.7; font-size: 0.9em">{html.escape(line)}</div>')
    if error:
        parts.append(render_error(error))
    return "".join(parts)


def render_error(message: str) -> str:
    """One escaped error line.

    Example:
        >>> render_error("<b>boom</b>")
        '<div class="sv-error" style="color: var(--jp-error-color1, #d32f2f)">⚠ &lt;b&gt;boom&lt;/b&gt;</div>'
    """
    return f'<div class="sv-error" style="color: var(--jp-error-color1, #d32f2f)">⚠ {html.escape(message)}</div>'


# ==================================================================================================================
# Chat (ChatWidget): appended by the chat work. Every element carries an ``oaw-chat-*`` class and no inline style;
# the rules for those classes are CHAT_CSS, one constant, to be merged into the kit's stylesheet. The user's text is
# escaped as typed, the model's goes through render_text / render_thinking above: nothing becomes live HTML.
# ==================================================================================================================

CHAT_CSS = """\
.oaw-chat-history { padding-right: 4px; }
.oaw-chat-turn { margin: 4px 0; padding: 4px 8px; border-radius: 6px; }
.oaw-chat-user { background: var(--jp-layout-color2, #f3f3f3); }
.oaw-chat-label { font-weight: bold; font-size: 0.85em; opacity: 0.7; }
.oaw-chat-pending .oaw-chat-turn { opacity: 0.6; }
.oaw-chat-pending .oaw-chat-label::after { content: " · sending…"; font-weight: normal; }
.oaw-chat-stopped-mark { font-weight: normal; margin-left: 0.5em; padding: 0 6px; border-radius: 8px;
  background: var(--jp-warn-color3, #fff3cd); color: var(--jp-warn-color0, #7a5c00); }
.oaw-chat-text { white-space: pre-wrap; }
.oaw-chat-image, .oaw-chat-block, .oaw-chat-empty { opacity: 0.7; }
.oaw-chat-status { opacity: 0.7; font-size: 0.85em; }
.oaw-chat-input { flex: 1 1 auto; min-width: 0; }
.oaw-chat-input textarea { width: 100%; box-sizing: border-box; min-height: 4.2em; resize: vertical;
  font: inherit; padding: 4px 6px; color: var(--jp-ui-font-color1, inherit);
  background: var(--jp-layout-color1, white); border: 1px solid var(--jp-border-color1, #bdbdbd); border-radius: 2px; }
.oaw-chat-input textarea:focus { outline: 1px solid var(--jp-brand-color1, #1976d2); }
"""

CHAT_ROLE_LABELS = {"user": "You", "assistant": "Assistant"}


def _chat_block(block: Any, *, markdown: bool) -> str:
    from .messages import field_of  # here: this section is appended, the module's imports stay the kit's

    kind = field_of(block, "type")
    if kind == "text":
        text = str(field_of(block, "text") or "")
        if markdown:
            return render_text(text, markdown=True)
        return f'<div class="oaw-chat-text">{html.escape(text)}</div>'
    if kind == "image":
        source = field_of(block, "source") or {}
        media_type = field_of(source, "media_type") or field_of(source, "type") or "image"
        data = field_of(source, "data") or ""
        size = f", {len(data) * 3 // 4 / 1000:.0f} KB" if data else ""
        return f'<div class="oaw-chat-image">🖼 {html.escape(f"image ({media_type}{size})")}</div>'
    return f'<div class="oaw-chat-block">{html.escape(f"[{kind} block]")}</div>'


def render_chat_turn(turn: Any, *, markdown: bool = True, stopped: bool = False, thinking: str = "") -> str:
    """One chat turn as safe HTML: a role label, the thinking (collapsed), then each block.

    The user's text is escaped as typed; the model's text is safe Markdown (:func:`render_text`), its thinking a
    closed ``<details>`` (:func:`render_thinking`); an image is a caption, never an ``<img>``. ``stopped`` marks a
    reply the user stopped.

    Example:
        >>> html = render_chat_turn({"role": "assistant", "content": [{"type": "text", "text": "<img src=x>"}]},
        ...                         stopped=True, thinking="hmm")
        >>> "&lt;img" in html, "oaw-chat-stopped" in html, "<details" in html and " open" not in html
        (True, True, True)
    """
    from .messages import field_of

    role = str(field_of(turn, "role") or "?")
    content = field_of(turn, "content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
    label = html.escape(CHAT_ROLE_LABELS.get(role, role))
    if stopped:
        label += '<span class="oaw-chat-stopped-mark">⏹ stopped</span>'
    as_markdown = markdown and role == "assistant"
    body = render_thinking(thinking) if thinking and role == "assistant" else ""
    body += "".join(_chat_block(block, markdown=as_markdown) for block in blocks)
    classes = f"oaw-chat-turn oaw-chat-{html.escape(role)}" + (" oaw-chat-stopped" if stopped else "")
    return f'<div class="{classes}"><div class="oaw-chat-label">{label}</div>{body}</div>'


def render_chat_empty() -> str:
    """What an empty chat history shows.

    Example:
        >>> render_chat_empty()
        '<div class="oaw-chat-empty">No messages yet.</div>'
    """
    return '<div class="oaw-chat-empty">No messages yet.</div>'


def render_chat_status(line: str) -> str:
    """One escaped status line under the chat (the reply's footer, "stopped after …", "waiting for the reply…").

    Example:
        >>> render_chat_status("stop_reason: end_turn <ok>")
        '<div class="oaw-chat-status">stop_reason: end_turn &lt;ok&gt;</div>'
    """
    return f'<div class="oaw-chat-status">{html.escape(line)}</div>' if line else ""
