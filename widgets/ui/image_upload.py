"""ImageUpload: a file picker for images, with previews; every accepted file becomes an image block.

The checks, shrinking and encoding are the core's (:mod:`..core.images`); this module is the widget around them.

Example:
    >>> upload = ImageUpload()
    >>> upload.blocks
    []
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import traitlets
from ipywidgets.widgets.widget_string import HTMLStyle

from ..core.i18n import LANGUAGES, language, localized
from ..core.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_SIDE, ImageRejected, prepare_upload
from ..core.render import render_upload_preview, render_upload_status
from .closing import close_all
from .stylesheet import Stylesheet


class ImageUpload(ipywidgets.VBox):
    """A file picker for images, with previews: every accepted file becomes an image block.

    Files are checked and shrunk by :func:`~..core.images.prepare_image` (``max_side``, ``max_bytes`` apply to later
    uploads; both must be positive, checked whenever they change). A rejected file shows its reason in ``error``
    (and on screen); images accepted earlier stay. :meth:`clear` forgets the images and closes their previews;
    ``close()`` closes every widget the upload made. ``stylesheet=False`` leaves out the kit's stylesheet, for an
    upload inside a kit widget that carries it. ``lang`` (``"en"`` or ``"zh"``; default: the ``OLLAMA_KIT_LANG``
    setting) is the language of its captions and messages.

    Example:
        >>> upload = ImageUpload()
        >>> ImageUpload(lang="zh").clear_button.description
        '清除'
        >>> upload                                          # doctest: +SKIP
        >>> message = user_message("Describe these", upload.blocks)  # doctest: +SKIP
    """

    max_side = traitlets.Int(DEFAULT_MAX_SIDE, help="long side, in pixels, above which images are shrunk")
    max_bytes = traitlets.Int(DEFAULT_MAX_BYTES, help="largest accepted size after processing, in bytes")
    error = traitlets.Unicode("", help="why the last upload's rejected files were rejected ('' if none)")
    lang = traitlets.Enum(LANGUAGES, default_value="en", help="language of the captions and messages")

    def __init__(self, *, max_side: int = DEFAULT_MAX_SIDE, max_bytes: int = DEFAULT_MAX_BYTES,
                 description: str | None = None, stylesheet: bool = True, lang: str | None = None, **kwargs: Any):
        lang = language(lang)
        self._description = description  # None: the caption of the moment's language
        self.picker = ipywidgets.FileUpload(accept="image/*", multiple=True,
                                            description=description or localized("images.add_button", lang))
        self.clear_button = ipywidgets.Button(description=localized("images.clear_button", lang), icon="trash",
                                              tooltip=localized("images.clear_tooltip", lang),
                                              layout=ipywidgets.Layout(width="auto"))
        self.status = ipywidgets.HTML()
        self.previews = ipywidgets.HBox(layout=ipywidgets.Layout(flex_flow="row wrap"))
        # Every preview is one HTML widget (a small picture with its text alternative and caption: render makes it),
        # and all of them share one layout and one style: an image costs the browser one model.
        self._shared = (ipywidgets.Layout(), HTMLStyle())
        self._blocks: list[dict[str, Any]] = []
        children = [ipywidgets.HBox([self.picker, self.clear_button]), self.status, self.previews]
        if stylesheet:  # False inside a kit widget that already carries it (ChatWidget)
            children.insert(0, Stylesheet())
        super().__init__(children=children, max_side=max_side, max_bytes=max_bytes, lang=lang, **kwargs)
        self.picker.observe(self._on_files, "value")
        self.clear_button.on_click(lambda _button: self.clear())

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The accepted images as Anthropic image blocks, in upload order (a new list each time)."""
        return list(self._blocks)

    def clear(self) -> None:
        """Forget every image and message, and close the previews (they hold the images' bytes).

        Example:
            >>> ImageUpload().clear()
        """
        tiles, self.previews.children = self.previews.children, ()
        close_all(*tiles, keep=self._shared)
        self._blocks = []
        self.error = ""
        self.status.value = ""

    def close(self) -> None:
        """Close the upload and every widget it made (previews, buttons, their layouts and styles).

        Example:
            >>> ImageUpload().close()
        """
        close_all(*self.children, *self._shared)
        self._blocks = []
        super().close()
        close_all(self.layout)

    @traitlets.validate("max_side", "max_bytes")  # type: ignore[untyped-decorator, unused-ignore]  # traitlets < 5.10
    def _positive(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value < 1:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be positive, got {value}")
        return value

    def _on_files(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        unnamed = localized("images.this_file", self.lang)
        accepted, rejected = self._add_files([(str(file.get("name") or unnamed), file.get("content") or b"")
                                              for file in files])
        self._show(accepted, rejected)
        self.picker.value = ()  # so the button counter resets and the same file can be chosen again

    def _add_files(self, files: list[tuple[str, Any]]) -> tuple[list[str], list[str]]:
        accepted, rejected = [], []
        layout, style = self._shared
        for name, content in files:
            try:
                upload = prepare_upload(name, content, self.max_side, self.max_bytes, lang=self.lang)
            except ImageRejected as error:
                rejected.append(str(error))
                continue
            self._blocks.append(upload.block)
            preview = ipywidgets.HTML(render_upload_preview(upload.preview, upload.preview_type, name, self.lang),
                                      layout=layout, style=style)
            self.previews.children = (*self.previews.children, preview)
            accepted.append(upload.line)
        return accepted, rejected

    def _show(self, accepted: list[str], rejected: list[str]) -> None:
        self.error = "\n".join(rejected)
        self.status.value = render_upload_status(accepted, rejected, len(self._blocks), self.lang)

    @traitlets.observe("lang")  # type: ignore[untyped-decorator, unused-ignore]  # untyped in traitlets < 5.10
    def _lang_changed(self, change: dict[str, Any]) -> None:
        lang = change["new"]
        self.picker.description = self._description or localized("images.add_button", lang)
        self.clear_button.description = localized("images.clear_button", lang)
        self.clear_button.tooltip = localized("images.clear_tooltip", lang)
