"""A growing text as HTML parts that are each sent once: why a streamed reply costs the browser linear bytes.

A view that re-renders a streamed reply whole at every update sends the reply again and again, so what reaches
the browser grows with the square of the reply's length. Instead, a view shows the text as a column of parts
(``html_parts.HTMLParts``): a part, once sent, never changes; only the last, *open* part is replaced at each
update. :class:`IncrementalHTML` decides the parts; it knows nothing of widgets, and every piece of HTML it hands
out comes from :mod:`.render`.

Markdown. cmark-gfm's own source positions (:func:`.render.markdown_blocks`) say where the text's top-level
blocks start. Every block but the last is finished: a later line can only change the last one (a CommonMark
parser never reopens a closed block), and the HTML of a text is the HTML of its top-level blocks rendered one by
one. So finished blocks become final parts, exactly as they are in the whole text's HTML.

Only whole lines count for that: an incomplete last line can look like something else for a moment (a lone
``|`` ends a table, ``---`` ends a list until ``---x`` turns out to continue it).

The last block is open. While it is short it is the open part. A long one (a list of a hundred items, a long
code block, a poem written as one paragraph) is shown in *provisional* parts, cut where it can be cut — between
list items, table rows or lines — each sent once. When the block ends, it is rendered whole once and replaces
them, so the end state is exactly the whole text's HTML (a long block costs twice its size, not its size
squared). Link reference definitions (``[1]: https://...``) can change links anywhere in the text: a text that
has one is rendered whole at every update instead.

Plain text (thinking, ``markdown=False``) is cut after line ends; its parts are final at once.

Example:
    >>> parts = IncrementalHTML()
    >>> parts.update("Hello\\n\\n- one\\n- tw")
    PartsUpdate(keep=0, append=('<p>Hello</p>\\n',), tail='<ul>\\n<li>one</li>\\n<li>tw</li>\\n</ul>\\n')
    >>> parts.update("Hello\\n\\n- one\\n- two", final=True)
    PartsUpdate(keep=1, append=('<ul>\\n<li>one</li>\\n<li>two</li>\\n</ul>\\n',), tail='')
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .render import markdown_blocks, markdown_to_html, render_plain, render_provisional, without_table_head

PART_CHARS = 256  # an open part longer than this (in characters of text) is cut, where the text allows

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_QUOTED_LINE = re.compile(r" {0,3}>")
_BLANK_LINE = re.compile(r"[ \t]*(\n|$)")
# Generous on purpose (list and quote markers before it, any label): a false alarm only costs speed.
_REFERENCE_DEFINITION = re.compile(r"^[ \t>*+0-9.)-]*\[[^\]\n]+\]:", re.MULTILINE)


class PartsUpdate(NamedTuple):
    """What a view must do: keep its first ``keep`` parts (remove the others), add ``append`` (each sent once,
    never changed), and show ``tail`` as the open part ("" for none)."""

    keep: int
    append: tuple[str, ...]
    tail: str


def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in re.finditer("\n", text))]


class IncrementalHTML:
    """Turns successive states of a growing text into :class:`PartsUpdate` s (see the module docstring).

    ``markdown=False`` renders the text as escaped plain text. Each ``update`` takes the whole text so far, which
    must extend the previous one; ``final=True`` says it is complete: every part is then final and the parts,
    joined, are exactly the whole text's HTML.

    Example:
        >>> plain = IncrementalHTML(markdown=False, part_chars=8)
        >>> update = plain.update("line one\\nline tw")
        >>> update.append, update.tail
        (('<div class="oaw-plain">line one\\n</div>',), '<div class="oaw-plain">line tw</div>')
    """

    def __init__(self, *, markdown: bool = True, part_chars: int = PART_CHARS):
        self.markdown = markdown
        self.part_chars = part_chars
        self._text = ""
        self._final_parts = 0  # parts sent that never change
        self._final_end = 0  # the text before this offset is in final parts
        self._provisional_parts = 0  # parts sent for the open block, until it is rendered whole
        self._provisional_end = 0  # the text before this offset is in final or provisional parts
        self._open_block: tuple[int, str] | None = None  # (start, tag) of the block the provisional parts cut
        self._whole = False  # a link reference definition was seen: render the whole text every time
        self._scanned = 0  # where the search for reference definitions resumes

    def update(self, text: str, *, final: bool = False) -> PartsUpdate:
        """The parts for ``text`` (the whole text so far); ``final=True`` once it is complete."""
        if not text.startswith(self._text):
            raise ValueError("IncrementalHTML.update() takes a text that extends the previous one; "
                             "use a new IncrementalHTML for another text")
        self._text = text
        if not self.markdown:
            return self._plain(text, final)
        if self._whole or self._has_reference_definition(text):
            return self._render_whole(text, final)
        return self._markdown(text, final)

    # -- plain text ----------------------------------------------------------------------------------------------

    def _plain(self, text: str, final: bool) -> PartsUpdate:
        keep, append = self._final_parts, []
        cut = len(text) if final else text.rfind("\n", self._final_end) + 1
        if cut > self._final_end and (final or len(text) - self._final_end >= self.part_chars):
            append.append(render_plain(text[self._final_end:cut]))
            self._final_end = cut
        self._final_parts += len(append)
        return PartsUpdate(keep, tuple(append), render_plain(text[self._final_end:]))

    # -- Markdown ------------------------------------------------------------------------------------------------

    def _has_reference_definition(self, text: str) -> bool:
        start = text.rfind("\n", 0, self._scanned) + 1  # the line that was incomplete last time is read again
        self._scanned = len(text)
        return _REFERENCE_DEFINITION.search(text, start) is not None

    def _render_whole(self, text: str, final: bool) -> PartsUpdate:
        self._whole = True
        self._final_parts = self._provisional_parts = 0
        rendered = markdown_to_html(text)
        if final:
            self._final_parts = 1
            return PartsUpdate(0, (rendered,), "")
        return PartsUpdate(0, (), rendered)

    def _finish_block(self, text: str, end: int, append: list[str]) -> int:
        """Render ``text[final_end:end]`` (whole blocks) as one final part, replacing any provisional parts."""
        keep = self._final_parts
        rendered = markdown_to_html(text[self._final_end:end])
        if rendered:
            append.append(rendered)
        self._final_parts += len(append)
        self._final_end = self._provisional_end = end
        self._provisional_parts, self._open_block = 0, None
        return keep

    def _markdown(self, text: str, final: bool) -> PartsUpdate:
        append: list[str] = []
        if final:
            return PartsUpdate(self._finish_block(text, len(text), append), tuple(append), "")
        keep = self._final_parts + self._provisional_parts
        open_text = text[self._final_end:]
        # Only whole lines decide: an incomplete last line can look like something else for a moment ("|" ends a
        # table, "---" a list, until "---x" continues it), and a block wrongly taken as finished would be final.
        blocks = markdown_blocks(open_text[: open_text.rfind("\n") + 1])
        if not blocks:
            return PartsUpdate(keep, (), markdown_to_html(open_text) if open_text.strip() else "")
        starts = _line_starts(open_text)
        tag, first_line, children = blocks[-1]
        block_start = self._final_end + starts[first_line]
        if len(blocks) > 1:  # every block but the last is finished
            keep = self._finish_block(text, block_start, append)
        children = [line - first_line for line in children]
        if self._open_block != (block_start, tag) and self._provisional_parts:
            keep -= self._provisional_parts  # the open block changed its kind (a paragraph became a table...)
            self._provisional_parts, self._provisional_end = 0, self._final_end
        self._open_block = (block_start, tag)
        if len(text) - self._provisional_end >= self.part_chars:
            cuts = [cut for cut in self._cuts(text, block_start, tag, children) if cut > self._provisional_end]
            if cuts:
                piece = self._piece(text, block_start, tag, self._provisional_end, cuts[-1])
                if piece:  # blank lines render to nothing: no part for them
                    append.append(render_provisional(piece))
                    self._provisional_parts += 1
                self._provisional_end = cuts[-1]
        return PartsUpdate(keep, tuple(append), self._piece(text, block_start, tag, self._provisional_end, len(text)))

    @staticmethod
    def _cuts(text: str, block_start: int, tag: str, children: list[int]) -> list[int]:
        """Offsets in ``text`` where the open block may be cut into provisional parts: line starts that begin a
        list item, a quoted line, a table row, a line of a paragraph or of code."""
        block = text[block_start:]
        starts = _line_starts(block)
        if tag in ("ul", "ol"):
            lines = children[1:]
        elif tag == "blockquote":
            lines = [line for line in range(1, len(starts)) if _QUOTED_LINE.match(block, starts[line])]
        elif tag == "table":
            lines = list(range(2, len(starts)))
        elif tag == "p":
            lines = list(range(1, len(starts)))
        elif tag == "pre" and _FENCE.match(block):  # fenced code: never before a fence line (the closing one)
            lines = [line for line in range(1, len(starts)) if not _FENCE.match(block, starts[line])]
        elif tag == "pre":  # indented code: cut before a line that is not blank
            lines = [line for line in range(1, len(starts)) if not _BLANK_LINE.match(block, starts[line])]
        else:
            lines = []
        return [block_start + starts[line] for line in lines if line < len(starts) and starts[line] < len(block)]

    @staticmethod
    def _piece(text: str, block_start: int, tag: str, start: int, end: int) -> str:
        """``text[start:end]``, a piece of the open block, rendered as it looks inside that block."""
        piece = text[start:end]
        if start <= block_start or not piece.strip():
            return markdown_to_html(piece) if piece.strip() else ""
        block = text[block_start:]
        starts = _line_starts(block)
        if tag == "pre" and _FENCE.match(block):  # a later piece of a fenced code block: keep its fence line
            return markdown_to_html(block[:starts[1]] + piece)
        if tag == "table" and len(starts) > 2:  # a later piece of a table: its header row, then hidden
            return without_table_head(markdown_to_html(block[:starts[2]] + piece))
        return markdown_to_html(piece)
