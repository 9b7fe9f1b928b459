"""Every piece of HTML the kit shows is made here, and model output only ever reaches the page through here.

``ipywidgets.HTML`` does not sanitize (JupyterLab sets ``innerHTML``): an ``<img src=x onerror=...>`` in a model's
reply would run in the learner's browser. So every string from the model goes through here:

- text: GitHub-flavoured Markdown (tables, strikethrough, bare URLs; a single newline is a line break, as in chat
  apps) rendered by cmark-gfm, GitHub's C parser, in its safe mode. Raw HTML in the reply is shown as text, not
  dropped; images become links (a remote image is a tracking pixel / data leak). The result then goes through the
  nh3 (Ammonia) sanitizer with a short allowlist: Markdown's own tags, and ``href`` only for ``http:``,
  ``https:`` and ``mailto:`` (any other link keeps its text and loses the link); the only class it lets through
  is cmark's ``language-*`` on code blocks. PyPI renders READMEs with the same pair. With ``markdown=False``:
  escaped text;
- thinking, tool calls, server messages, file names, table cells: escaped text.

The kit's own words (labels, status lines) come from :mod:`.i18n` in the ``lang`` a function is given (``"en"`` or
``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting) and are escaped like everything else.

**Styling** never travels with a value: the markup carries ``oaw-*`` classes, and their rules are the kit's one
stylesheet, :func:`stylesheet`, which a top-level widget carries once (``stylesheet.Stylesheet``). Each
section of this module declares its rules in a constant named ``<SECTION>_CSS``; :func:`stylesheet` joins every
such constant in file order, so a section appended at the end of the file adds its rules by defining its own
``..._CSS`` constant, nothing else. Only the kit's own markup around sanitized model output carries these
classes; the sanitizer keeps refusing any class from the model.

Example:
    >>> render_text("<img src=x onerror=alert(1)> **hi**")
    '<div class="oaw-text"><p>&lt;img src=x onerror=alert(1)&gt; <strong>hi</strong></p>\\n</div>'
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import nh3

from .i18n import language, localized

# -- the stylesheet -----------------------------------------------------------------------------------------

BASE_CSS = """
.oaw-stylesheet { display: none !important; }
.oaw-parts > .jupyter-widgets, .oaw-parts > .widget-html { margin: 0; }
.oaw-empty { display: none !important; }
.oaw-plain, .oaw-code { white-space: pre-wrap; margin: 0; font-family: var(--jp-code-font-family, monospace); }
.oaw-error { color: var(--jp-error-color1, #d32f2f); }
.oaw-muted { opacity: 0.6; }
"""


def stylesheet() -> str:
    """The kit's CSS rules: every ``*_CSS`` constant of this module, in file order (see the module docstring).

    Example:
        >>> ".oaw-error" in stylesheet() and "style=" not in stylesheet()
        True
    """
    return "".join(value for name, value in globals().items() if name.endswith("_CSS") and isinstance(value, str))


def stylesheet_html() -> str:
    """The stylesheet as one ``<style>`` element, for the widget that carries it.

    Example:
        >>> stylesheet_html().startswith("<style>") and stylesheet_html().endswith("</style>")
        True
    """
    return f"<style>{stylesheet()}</style>"


# -- safe Markdown --------------------------------------------------------------------------------------------

SAFE_LINK_PREFIXES = ("http://", "https://", "mailto:")

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
def _sanitizer() -> nh3.Cleaner:
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


def _cmark(text: str, *, sourcepos: bool = False) -> str:
    """cmark-gfm's HTML for ``text``, raw (not yet sanitized), after the stand-ins described above."""
    import cmarkgfm  # imported on first use: keeps `import ollama_anthropic_widgets` cheap
    from cmarkgfm.cmark import Options

    prepared = _RAW_LT.sub(_LT_STAND_IN, text.replace(_LT_STAND_IN, "\ufffd").replace(_IMAGE_STAND_IN, "\ufffd"))
    prepared = prepared.replace("![", "!" + _IMAGE_STAND_IN + "[")
    options = Options.CMARK_OPT_HARDBREAKS | (Options.CMARK_OPT_SOURCEPOS if sourcepos else 0)
    # safe mode (no CMARK_OPT_UNSAFE): cmark itself drops raw HTML and script: URLs
    rendered: str = cmarkgfm.markdown_to_html_with_extensions(prepared, options=options, extensions=_GFM_EXTENSIONS)
    return rendered  # cmarkgfm has no type hints: the annotation above states what it returns (a str)


def markdown_to_html(text: str) -> str:
    r"""GitHub-flavoured Markdown to sanitized HTML: raw HTML shown as text, images as links, only http(s)/mailto
    links clickable (see the module docstring).

    Example:
        >>> markdown_to_html("**<b>** [x](javascript:alert(1))")
        '<p><strong>&lt;b&gt;</strong> <a target="_blank" rel="noopener noreferrer nofollow">x</a></p>\n'
        >>> markdown_to_html("<https://example.org>").count('rel="noopener noreferrer nofollow"')
        1
    """
    rendered = _cmark(text).replace(_LT_STAND_IN, "&lt;").replace(_IMAGE_STAND_IN, "")
    return sanitize_html(rendered)


_SOURCEPOS = re.compile(r'<(\w+) data-sourcepos="(\d+):(\d+)-(\d+):(\d+)"')


def markdown_blocks(text: str) -> list[tuple[str, int, list[int]]]:
    r"""The top-level blocks of ``text`` as cmark-gfm parses it: ``(tag, first line, first lines of its children)``.

    ``tag`` is the element cmark makes of the block (``p``, ``ul``, ``ol``, ``pre``, ``table``, ``blockquote``,
    ``h1``…); lines count from 0; children are the blocks one level down (the items of a list, the rows of a table).
    Read from cmark's own source positions, so the split is exactly cmark's: the HTML of a text is the HTML of its
    top-level blocks rendered one by one, which is what lets a view send a finished block once (see
    ``incremental.py``).

    Example:
        >>> markdown_blocks("Intro\n\n- one\n- two\n")
        [('p', 0, []), ('ul', 2, [2, 3])]
    """
    blocks: list[tuple[str, int, list[int]]] = []
    block_end = child_end = (0, 0)
    for match in _SOURCEPOS.finditer(_cmark(text, sourcepos=True)):
        tag, start, end = match[1], (int(match[2]), int(match[3])), (int(match[4]), int(match[5]))
        # cmark writes elements in document order, each parent before its children: an element that starts after
        # the current block's end begins the next block; one that starts after the current child's end, a child.
        if not blocks or start > block_end:
            blocks.append((tag, start[0] - 1, []))
            block_end, child_end = end, (0, 0)
        elif start > child_end:
            blocks[-1][2].append(start[0] - 1)
            child_end = end
    return blocks


# -- the stream view: reply text, thinking, tool calls, footer -------------------------------------------------

STREAM_CSS = """
.oaw-text > :first-child, .oaw-text .widget-html-content > :first-child { margin-top: 0; }
.oaw-provisional > :last-child { margin-bottom: 0; }
.oaw-thinking > summary { cursor: pointer; opacity: 0.8; }
.oaw-footer { opacity: 0.7; font-size: 0.9em; }
"""


def render_text(text: str, *, markdown: bool = True) -> str:
    """The whole reply text as safe HTML: Markdown (see :func:`markdown_to_html`) or escaped text.

    Example:
        >>> render_text("a < b", markdown=False)
        '<div class="oaw-text"><div class="oaw-plain">a &lt; b</div></div>'
    """
    if not text:
        return ""
    inner = markdown_to_html(text) if markdown else render_plain(text)
    return f'<div class="oaw-text">{inner}</div>'


def render_plain(text: str) -> str:
    r"""Text shown as it is: escaped, white space and line breaks kept.

    A ``div``, not a ``pre``: an HTML parser drops a newline right after ``<pre>``, and a view that sends a text
    in parts cut after line ends would lose the empty lines at the start of a part.

    Example:
        >>> render_plain("x < y\n")
        '<div class="oaw-plain">x &lt; y\n</div>'
    """
    return f'<div class="oaw-plain">{html.escape(text)}</div>' if text else ""


def render_provisional(fragment: str) -> str:
    r"""A piece of a Markdown block that is still growing, shown until the whole block is rendered at once.

    Example:
        >>> render_provisional("<ol>\n<li>one</li>\n</ol>\n")
        '<div class="oaw-provisional"><ol>\n<li>one</li>\n</ol>\n</div>'
    """
    return f'<div class="oaw-provisional">{fragment}</div>' if fragment else ""


def without_table_head(fragment: str) -> str:
    r"""A rendered table without its header row: a later piece of a table that is still arriving.

    Example:
        >>> without_table_head("<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n</tbody>\n</table>\n")
        '<table>\n<tbody>\n</tbody>\n</table>\n'
    """
    return re.sub(r"<thead>.*?</thead>\n?", "", fragment, count=1, flags=re.S)


def thinking_title(thinking: str, lang: str | None = None) -> str:
    """The (plain-text) title over the model's thinking.

    Example:
        >>> thinking_title("hmm", "en"), thinking_title("hmm", "zh")
        ('Thinking (3 characters)', '思考（3 个字符）')
    """
    return localized("stream.thinking_title", lang, count=len(thinking))


def render_thinking(thinking: str, *, open: bool = False, lang: str | None = None) -> str:
    """The model's whole thinking, escaped, in a collapsible ``<details>`` block (``open`` to show it unfolded).

    Example:
        >>> html = render_thinking("x < y", lang="en")
        >>> html.startswith('<details class="oaw-thinking"><summary>Thinking (5 characters)'), "x &lt; y" in html
        (True, True)
    """
    if not thinking:
        return ""
    attribute = " open" if open else ""
    title = html.escape(thinking_title(thinking, lang))
    return f'<details class="oaw-thinking"{attribute}><summary>{title}</summary>{render_plain(thinking)}</details>'


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


def render_tool_use(tool_use: dict[str, Any], lang: str | None = None) -> str:
    """One tool call: escaped name and id, escaped JSON input.

    Example:
        >>> "&lt;b&gt;" in render_tool_use({"id": "call_1", "name": "<b>", "input": {}})
        True
    """
    name = html.escape(str(tool_use.get("name") or "?"))
    call_id = html.escape(str(tool_use.get("id") or ""))
    body = html.escape(format_tool_input(tool_use.get("input", {})))
    label = html.escape(localized("stream.tool_call", lang))
    return (f'<div class="oaw-tool-use"><div>🔧 {label} <b><code>{name}</code></b> '
            f'<span class="oaw-muted">{call_id}</span></div><div class="oaw-code">{body}</div></div>')


def render_tool_uses(tool_uses: list[dict[str, Any]], lang: str | None = None) -> str:
    """All tool calls of a reply, in order (empty string for none).

    Example:
        >>> render_tool_uses([])
        ''
    """
    if not tool_uses:
        return ""
    lang = language(lang)
    return "".join(render_tool_use(tool_use, lang) for tool_use in tool_uses)


def footer_text(result: Any, lang: str | None = None) -> str:
    """One plain-text line: stop_reason, tokens, time to first token, output speed.

    ``result`` is a :class:`~.streaming.StreamResult` (or anything with the same attributes).

    Example:
        >>> from ollama_anthropic_widgets.core.streaming import StreamResult
        >>> result = StreamResult(stop_reason="end_turn", input_tokens=12, output_tokens=200, ttft_s=0.128,
        ...                       output_tokens_per_s=95.31)
        >>> footer_text(result, "en")
        'stop_reason: end_turn · tokens: 12 in / 200 out · TTFT 0.13 s · 95.3 tok/s'
        >>> footer_text(result, "zh")
        '停止原因：end_turn · token：输入 12 / 输出 200 · 首 token 延迟 0.13 秒 · 95.3 tok/s'
    """
    lang = language(lang)
    parts = [localized("footer.stop_reason", lang, reason=getattr(result, "stop_reason", None) or "—")]
    input_tokens, output_tokens = getattr(result, "input_tokens", None), getattr(result, "output_tokens", None)
    if input_tokens is not None or output_tokens is not None:
        cached = getattr(result, "cached_input_tokens", None)
        cached_note = localized("footer.cached", lang, count=cached) if cached else ""
        parts.append(localized("footer.tokens", lang, input="?" if input_tokens is None else input_tokens,
                               cached=cached_note, output="?" if output_tokens is None else output_tokens))
    ttft = getattr(result, "ttft_s", None)
    if ttft is not None:
        parts.append(localized("footer.ttft", lang, seconds=ttft))
    rate = getattr(result, "output_tokens_per_s", None)
    if rate is not None:
        parts.append(localized("footer.rate", lang, rate=rate))
    return " · ".join(parts)


def render_footer(result: Any = None, *, status: str = "done", error: str = "", lang: str | None = None) -> str:
    """The footer: a status line while streaming, :func:`footer_text` at the end, plus an escaped error line.

    Example:
        >>> render_footer(status="streaming", lang="en")
        '<div class="oaw-footer">streaming…</div>'
    """
    if status == "streaming":
        line = localized("stream.streaming", lang)
    elif status == "idle" or result is None:
        line = ""
    else:
        line = footer_text(result, lang)
    parts = []
    if line:
        parts.append(f'<div class="oaw-footer">{html.escape(line)}</div>')
    if error:
        parts.append(render_error(error))
    return "".join(parts)


def render_error(message: str) -> str:
    """One escaped error line.

    Example:
        >>> render_error("<b>boom</b>")
        '<div class="oaw-error">⚠ &lt;b&gt;boom&lt;/b&gt;</div>'
    """
    return f'<div class="oaw-error">⚠ {html.escape(message)}</div>'


# -- tables: the usage summary, the compatibility probe --------------------------------------------------------

TABLE_CSS = """
.oaw-table th, .oaw-table td, .oaw-table caption { text-align: left; }
.oaw-summary td { padding-right: 1em; }
.oaw-summary td + td { text-align: right; padding-right: 0; }
"""


def _number(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def render_usage_summary(summary: Mapping[str, Any], lang: str | None = None) -> str:
    """A usage summary (``UsageTracker.summary()``) as a two-column table; every value escaped.

    Example:
        >>> from ollama_anthropic_widgets.core.usage import summarize
        >>> summary = summarize([{"input_tokens": 3, "output_tokens": 4}])
        >>> "<td>calls</td><td>1</td>" in render_usage_summary(summary, "en")
        True
        >>> "<td>调用次数</td><td>1</td>" in render_usage_summary(summary, "zh")
        True
    """
    lang = language(lang)
    unknown = summary.get("calls_without_input_count")
    items = [
        (localized("usage.calls", lang), _number(summary["calls"])),
        (localized("usage.input_tokens", lang), _number(summary["input_tokens"]) + (
            localized("usage.unknown_input", lang, count=unknown) if unknown else "")),
        (localized("usage.output_tokens", lang), _number(summary["output_tokens"])),
        (localized("usage.total_tokens", lang), _number(summary["total_tokens"])),
        (localized("usage.mean_latency", lang), _number(summary["mean_latency_s"])),
        (localized("usage.mean_ttft", lang), _number(summary["mean_ttft_s"], 3)),
        (localized("usage.mean_rate", lang), _number(summary["mean_output_tokens_per_s"], 1)),
        (localized("usage.stop_reasons", lang),
         ", ".join(f"{reason}: {count}" for reason, count in summary["stop_reasons"].items()) or "–"),
    ]
    if summary.get("errors"):
        items.append((localized("usage.broken_streams", lang), _number(summary["errors"])))
    cells = "".join(f"<tr><td>{html.escape(key)}</td><td>{html.escape(value)}</td></tr>" for key, value in items)
    return f'<table class="oaw-summary">{cells}</table>'


def render_table(caption: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """A table of text: caption, a header row of ``columns``, one row per mapping; every cell escaped.

    Example:
        >>> render_table("Probe", ["feature"], [{"feature": "<b>"}]).split("<tbody>")[1]
        '<tr><td>&lt;b&gt;</td></tr></tbody></table>'
    """
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(row.get(name, '')))}</td>" for name in columns) + "</tr>"
                   for row in rows)
    return (f'<table class="oaw-table"><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


# -- pictures the kit draws itself: the usage chart, the upload's previews ------------------------------------------

PICTURE_CSS = """
.oaw-chart { display: block; max-width: 640px; width: 100%; height: auto; }
.oaw-preview { display: inline-block; margin: 0 8px 4px 0; vertical-align: top; }
.oaw-preview img { display: block; max-width: 160px; max-height: 160px; object-fit: contain; }
.oaw-preview figcaption { max-width: 160px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
"""
PICTURE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def render_picture(data: bytes, media_type: str, alt: str, *, css_class: str | None = "oaw-chart") -> str:
    """An ``<img>`` of picture bytes the kit made or checked, with its text alternative (escaped).

    The bytes travel base64-encoded in a ``data:`` URL (letters, digits, ``+/=``: nothing that could end the
    attribute), for one of four picture types; anything else raises ``ValueError``. ``alt`` is what a screen reader
    says instead of the picture.

    Example:
        >>> render_picture(b"GIF89a", "image/gif", 'a "chart"')
        '<img class="oaw-chart" alt="a &quot;chart&quot;" src="data:image/gif;base64,R0lGODlh">'
    """
    if media_type not in PICTURE_TYPES:
        raise ValueError(f"not a picture type the kit shows: {media_type!r}")
    encoded = base64.b64encode(bytes(data)).decode("ascii")
    classes = f' class="{html.escape(css_class)}"' if css_class else ""
    return f'<img{classes} alt="{html.escape(alt)}" src="data:{media_type};base64,{encoded}">'


def render_upload_preview(data: bytes, media_type: str, name: str, lang: str | None = None) -> str:
    """An uploaded image's preview (a small picture) captioned with its file name, both escaped.

    Example:
        >>> render_upload_preview(b"GIF89a", "image/gif", "<cat>.gif", "en")  # doctest: +ELLIPSIS
        '<figure class="oaw-preview"><img alt="preview of &lt;cat&gt;.gif" src="data:image/gif;base64,R0lGODlh">...'
    """
    picture = render_picture(data, media_type, localized("images.preview_alt", lang, name=name), css_class=None)
    return f'<figure class="oaw-preview">{picture}<figcaption>{html.escape(name)}</figcaption></figure>'


# -- image upload ---------------------------------------------------------------------------------------------

UPLOAD_CSS = """
.oaw-rejected { color: var(--jp-error-color1, #b00020); }
"""


def render_upload_status(accepted: Sequence[str], rejected: Sequence[str], ready: int,
                         lang: str | None = None) -> str:
    """What the last upload did: a line per accepted and per rejected file, then how many images are ready.

    Example:
        >>> render_upload_status(["a.png: 10×10 PNG, 120 bytes"], [], 1, "en")
        '<div>✔ a.png: 10×10 PNG, 120 bytes</div><div><small>1 image ready</small></div>'
    """
    lines = [f"<div>✔ {html.escape(line)}</div>" for line in accepted]
    lines += [f'<div class="oaw-rejected">✘ {html.escape(line)}</div>' for line in rejected]
    ready_line = localized("images.ready_one" if ready == 1 else "images.ready_many", lang, count=ready)
    lines.append(f"<div><small>{html.escape(ready_line)}</small></div>")
    return "".join(lines)


# ==================================================================================================================
# Chat (ChatWidget): appended by the chat work. Every element carries an ``oaw-chat-*`` class and no inline style;
# the rules for those classes are CHAT_CSS, which stylesheet() collects like every *_CSS constant. The user's text is
# escaped as typed, the model's goes through render_text / render_thinking above: nothing becomes live HTML.
# ==================================================================================================================

CHAT_CSS = """\
.oaw-chat-history { padding-right: 4px; }
.oaw-chat-turn { margin: 4px 0; padding: 4px 8px; border-radius: 6px; }
.oaw-chat-user { background: var(--jp-layout-color2, #f3f3f3); }
.oaw-chat-label { font-weight: bold; font-size: 0.85em; opacity: 0.7; }
.oaw-chat-pending .oaw-chat-turn { opacity: 0.6; }
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

# A pending turn's label says "sending…" through CSS, so that the mark goes by removing a class, without sending the
# turn's HTML again. A Chinese label carries the class oaw-lang-zh, which picks the Chinese mark.
CHAT_PENDING_CSS = "".join(
    f'.oaw-chat-pending .oaw-chat-label{selector}::after {{ content: " · {localized("chat.sending_mark", lang)}"; '
    "font-weight: normal; }\n" for lang, selector in (("en", ""), ("zh", ".oaw-lang-zh")))

CHAT_ROLE_KEYS = {"user": "chat.role_user", "assistant": "chat.role_assistant"}


def chat_role_label(role: str, lang: str | None = None) -> str:
    """What a chat calls the author of a turn (an unknown role is shown as it is).

    Example:
        >>> chat_role_label("user", "en"), chat_role_label("assistant", "zh"), chat_role_label("tool", "zh")
        ('You', '助手', 'tool')
    """
    key = CHAT_ROLE_KEYS.get(role)
    return localized(key, lang) if key else role


def _chat_block(block: Any, *, markdown: bool, lang: str) -> str:
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
        caption = localized("chat.image_caption", lang, media_type=media_type, size=size)
        return f'<div class="oaw-chat-image">🖼 {html.escape(caption)}</div>'
    return f'<div class="oaw-chat-block">{html.escape(localized("chat.block_caption", lang, kind=kind))}</div>'


def render_chat_turn(turn: Any, *, markdown: bool = True, stopped: bool = False, thinking: str = "",
                     lang: str | None = None) -> str:
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

    lang = language(lang)
    role = str(field_of(turn, "role") or "?")
    content = field_of(turn, "content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
    label = html.escape(chat_role_label(role, lang))
    if stopped:
        label += f'<span class="oaw-chat-stopped-mark">⏹ {html.escape(localized("chat.stopped_mark", lang))}</span>'
    as_markdown = markdown and role == "assistant"
    body = render_thinking(thinking, lang=lang) if thinking and role == "assistant" else ""
    body += "".join(_chat_block(block, markdown=as_markdown, lang=lang) for block in blocks)
    classes = f"oaw-chat-turn oaw-chat-{html.escape(role)}" + (" oaw-chat-stopped" if stopped else "")
    label_classes = "oaw-chat-label" + (f" oaw-lang-{lang}" if lang != "en" else "")  # see CHAT_PENDING_CSS
    return f'<div class="{classes}"><div class="{label_classes}">{label}</div>{body}</div>'


def render_chat_empty(lang: str | None = None) -> str:
    """What an empty chat history shows.

    Example:
        >>> render_chat_empty("en")
        '<div class="oaw-chat-empty">No messages yet.</div>'
    """
    return f'<div class="oaw-chat-empty">{html.escape(localized("chat.empty_history", lang))}</div>'


def render_chat_status(line: str) -> str:
    """One escaped status line under the chat (the reply's footer, "stopped after …", "waiting for the reply…").

    Example:
        >>> render_chat_status("stop_reason: end_turn <ok>")
        '<div class="oaw-chat-status">stop_reason: end_turn &lt;ok&gt;</div>'
    """
    return f'<div class="oaw-chat-status">{html.escape(line)}</div>' if line else ""
