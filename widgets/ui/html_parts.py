"""HTMLParts: HTML shown as a column of parts, where a part is sent to the browser once and only the last changes.

The widget half of :mod:`.incremental`: ``parts.apply(incremental.update(text))``. Each appended part is an
``ipywidgets.HTML`` of its own whose value is never assigned again; the open part (``tail``) is the one value
that is replaced at each update. All parts share one ``Layout`` and one style model, so a new part costs one
small message plus its HTML. Parts sit in groups of :data:`GROUP_SIZE` (boxes in the column): a box's
``children`` is sent whole whenever it changes, so one flat column of *n* parts would cost *n²* ids in all.
Every value comes from :mod:`.render`.

Example:
    >>> from ollama_anthropic_widgets.core.incremental import IncrementalHTML
    >>> parts, incremental = HTMLParts(), IncrementalHTML()
    >>> sent = parts.apply(incremental.update("Hello\\n\\nworld", final=True))
    >>> parts.html
    '<p>Hello</p>\\n<p>world</p>\\n'
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import ipywidgets
from ipywidgets.widgets.widget_string import HTMLStyle

from ..core.incremental import PartsUpdate

__all__ = ["GROUP_SIZE", "HTMLParts"]

GROUP_SIZE = 8

_Model = TypeVar("_Model")


class HTMLParts(ipywidgets.VBox):
    """A column of HTML parts that grows by appending; :meth:`apply` returns how many messages it sent.

    Example:
        >>> from ollama_anthropic_widgets.core.incremental import PartsUpdate
        >>> parts = HTMLParts()
        >>> parts.apply(PartsUpdate(keep=0, append=("<p>done</p>",), tail="<p>still grow</p>"))
        4

    (4 messages: the new part, its group box, the column's new children, the open part's value.)
        >>> parts.html
        '<p>done</p><p>still grow</p>'
    """

    def __init__(self, *, part_layout: ipywidgets.Layout | None = None, part_style: HTMLStyle | None = None,
                 group_layout: ipywidgets.Layout | None = None, **kwargs: Any):
        # One layout and one style model shared by every part, one layout by the group boxes (a caller may pass
        # its own, to share them wider): a new part costs its HTML, not three models.
        self._owned: list[ipywidgets.Widget] = []  # models made here, closed with this widget
        self._part_layout = part_layout if part_layout is not None else self._own(ipywidgets.Layout())
        self._part_style = part_style if part_style is not None else self._own(HTMLStyle())
        self._group_layout = group_layout if group_layout is not None else self._own(ipywidgets.Layout())
        self.tail = ipywidgets.HTML(layout=self._part_layout, style=self._part_style)
        self._parts: list[ipywidgets.HTML] = []
        self._groups: list[ipywidgets.VBox] = []
        classes = ("oaw-parts", *kwargs.pop("_dom_classes", ()))  # given at creation: no update message for them
        super().__init__(children=(self.tail,), _dom_classes=classes, **kwargs)

    @property
    def parts(self) -> tuple[ipywidgets.HTML, ...]:
        """The parts that no longer change, in order (the open part, ``tail``, not included)."""
        return tuple(self._parts)

    @property
    def html(self) -> str:
        """Everything shown, joined: the parts, then the open part."""
        tail: str = self.tail.value  # ipywidgets has no type hints: an HTML widget's value is a str
        return "".join(part.value for part in self._parts) + tail

    def _own(self, widget: _Model) -> _Model:
        self._owned.append(widget)
        return widget

    def apply(self, update: PartsUpdate) -> int:
        """Keep ``update.keep`` parts, append ``update.append``, show ``update.tail``.

        Returns how many messages changed the page: new parts, new or changed boxes, the open part's value. Parts
        taken off the page are closed too (one message each, not counted: the page no longer shows them).
        """
        sent = 0
        first_changed = min(update.keep, len(self._parts))
        dropped = self._parts[first_changed:]
        del self._parts[first_changed:]
        for value in update.append:
            self._parts.append(ipywidgets.HTML(value=value, layout=self._part_layout, style=self._part_style))
            sent += 1
        if dropped or update.append:
            sent += self._regroup(first_changed // GROUP_SIZE)
        for part in dropped:  # after they left the page, so it never shows a closed widget
            part.close()
        if self.tail.value != update.tail:
            self.tail.value = update.tail
            sent += 1
        return sent

    def _regroup(self, first_group: int) -> int:
        sent = 0
        wanted = math.ceil(len(self._parts) / GROUP_SIZE)
        created = False
        for index in range(first_group, wanted):
            members = tuple(self._parts[index * GROUP_SIZE:(index + 1) * GROUP_SIZE])
            if index < len(self._groups):
                if self._groups[index].children != members:
                    self._groups[index].children = members
                    sent += 1
            else:
                group = ipywidgets.VBox(children=members, layout=self._group_layout, _dom_classes=("oaw-parts",))
                self._groups.append(group)
                created = True
                sent += 1
        removed = self._groups[wanted:]
        del self._groups[wanted:]
        if created or removed:
            self.children = (*self._groups, self.tail)
            sent += 1
        for group in removed:
            group.close()
        return sent

    def close(self) -> None:
        """Close this column and every model it made (parts, group boxes, the open part, shared layouts)."""
        for widget in (*self._parts, *self._groups, self.tail, *self._owned):
            widget.close()
        self._parts, self._groups = [], []
        super().close()

    def clear(self) -> int:
        """Remove every part and empty the open part; returns the messages sent.

        Example:
            >>> HTMLParts().clear()
            0
        """
        return self.apply(PartsUpdate(0, (), ""))
