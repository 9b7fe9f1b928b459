"""Closing a widget for good: ipywidgets' ``close()`` closes one model, not the ones it holds.

A Box's children, an Accordion's sections, and every widget's ``layout`` and ``style`` are models of their own,
each with a comm to the browser. ``Box.close()`` leaves them all open, so a kit widget closes what it made with
:func:`close_all`. Closing twice is harmless (ipywidgets closes a comm once).

Example:
    >>> import ipywidgets
    >>> box = ipywidgets.VBox([ipywidgets.HTML("a"), ipywidgets.Button(description="b")])
    >>> close_all(box)
    >>> box.comm is None and box.children[1].style.comm is None
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ipywidgets


def close_all(*widgets: Any, keep: Iterable[Any] = ()) -> None:
    """Close each widget with everything below it: children, sections, layout and style (``None`` is skipped).

    ``keep``: widgets to leave open, with what is below them (a part the caller was given rather than made).
    """
    seen = {id(widget) for widget in keep}
    stack = [widget for widget in widgets if widget is not None]
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        stack.extend(child for child in getattr(widget, "children", None) or () if child is not None)
        for name in ("layout", "style"):
            part = getattr(widget, name, None)
            if isinstance(part, ipywidgets.Widget):
                stack.append(part)
        widget.close()
