"""How the kit's CSS reaches the browser: once per top-level widget, as a hidden child carrying one ``<style>``.

A widget's values never carry ``style=`` attributes; they carry ``oaw-*`` classes whose rules are
:func:`.render.stylesheet`. A top-level widget (StreamView, UsagePanel, ImageUpload, ChatWidget...) puts one
:class:`Stylesheet` among its children: the rules are sent when the widget is displayed, and never again with
an update. A widget nested inside another kit widget passes ``stylesheet=False`` and relies on its parent's.
The rules are prefixed with ``oaw-``, so carrying them more than once on a page is harmless.

Example:
    >>> sheet = Stylesheet()
    >>> sheet.value.startswith("<style>"), "oaw-stylesheet" in sheet._dom_classes
    (True, True)
"""

from __future__ import annotations

from typing import Any

import ipywidgets

from ..core.render import stylesheet_html


class Stylesheet(ipywidgets.HTML):
    """An HTML widget that carries the kit's ``<style>`` element and takes no room on the page (its own rules hide
    it; a ``<style>`` applies wherever it sits in the page).

    Example:
        >>> box = ipywidgets.VBox([Stylesheet(), ipywidgets.HTML('<div class="oaw-error">⚠ shown in red</div>')])
    """

    def __init__(self, **kwargs: Any):
        super().__init__(value=stylesheet_html(), _dom_classes=("oaw-stylesheet",), **kwargs)
