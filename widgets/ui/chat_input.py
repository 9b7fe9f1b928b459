"""ChatInput: the chat's text box, where Enter sends and Shift+Enter starts a new line.

ipywidgets' ``Textarea`` cannot tell Enter from Shift+Enter, so this is a small anywidget (Python plus an ES
module, no build step, no labextension to install): a ``<textarea>`` whose text is the ``value`` trait, and which
sends one ``{"event": "submit", "value": …}`` message when Enter is pressed without Shift. The same module loads
in JupyterLab, Notebook 7, VS Code and Colab (anywidget's own front-end); the keys are tested in a real browser
in JupyterLab and Notebook 7 (tests/browser), not in VS Code or Colab.

Rules the front-end keeps:

* **Enter** (no Shift) sends: the text goes to ``value`` and the ``submit`` handlers run in the kernel. The box is
  not emptied by the browser; the kernel decides (``ChatWidget`` empties it once it accepts the message, so a
  message refused while a reply streams stays where it was typed);
* **Shift+Enter** is left to the browser: a new line; so is Enter while an input method is composing (Chinese,
  Japanese, Korean input: Enter there picks the characters);
* keys typed into the box are text, not notebook shortcuts: the box carries Lumino's ``data-lm-suppress-shortcuts``
  (JupyterLab and Notebook 7 skip their key bindings under it) and stops the key event's propagation;
* every change of the text is sent as ``{"event": "text", "value": …}``, a custom message, in order and at once
  (widget state would be held back while the kernel is busy with the previous change, and could arrive after a
  click on Send); the kernel writes ``value`` (to empty the box, or put a failed message back), the browser never
  does;
* the box only ever holds text (``textarea.value``): nothing is parsed as HTML.

Example:
    >>> from ollama_anthropic_widgets.ui.chat_input import ChatInput
    >>> box = ChatInput(placeholder="Type a message")
    >>> box.on_submit(lambda text: print("sent:", text))
    >>> box.value = "Hello"
    >>> box.submit()                                   # what Enter does in the browser
    sent: Hello
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets
import traitlets

# The front-end. ``model`` is the widget's state (value, placeholder, disabled) shared with the kernel.
CHAT_INPUT_ESM = """
function render({ model, el }) {
  el.classList.add("oaw-chat-input");
  const box = document.createElement("textarea");
  box.rows = 3;
  // Lumino (JupyterLab, Notebook 7) skips its key bindings for keys typed under this attribute; in Notebook 7
  // stopPropagation alone is too late (Shift+Enter there ran the cell around the chat and re-created it).
  box.setAttribute("data-lm-suppress-shortcuts", "true");
  const show = () => {
    if (box.value !== model.get("value")) box.value = model.get("value");
    box.placeholder = model.get("placeholder");
    box.disabled = model.get("disabled");
  };
  show();
  // The text reaches the kernel as custom messages, sent at once and in order. Not as widget state: ipywidgets holds
  // state changes back while the kernel has not answered the previous one, and a keystroke's state arriving after a
  // click on Send was read as the text to send (missing its end), then put the sent text back into the emptied box.
  // The model keeps the text too (set, never saved), so that the kernel emptying the box is a change the view sees.
  const typed = () => {
    model.set("value", box.value);
    model.send({ event: "text", value: box.value });
  };
  const keydown = (event) => {
    event.stopPropagation();  // text, not notebook shortcuts
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();  // Enter sends; Shift+Enter (and IME composition) keep the browser's new line
    model.send({ event: "submit", value: box.value });
  };
  const scrollHistory = () => {
    const history = el.closest(".oaw-chat")?.querySelector(".oaw-chat-history");
    if (history) history.scrollTop = history.scrollHeight;
  };
  const command = (message) => {
    if (message && message.do === "focus") box.focus();
    if (message && message.do === "blur") box.blur();
    if (message && message.do === "scroll_history") {
      for (const delay of [50, 300, 1000]) setTimeout(scrollHistory, delay);  // after the new turn is drawn
    }
  };
  box.addEventListener("input", typed);
  box.addEventListener("keydown", keydown);
  model.on("change:value", show);
  model.on("change:placeholder", show);
  model.on("change:disabled", show);
  model.on("msg:custom", command);
  el.appendChild(box);
  return () => {
    model.off("change:value", show);
    model.off("change:placeholder", show);
    model.off("change:disabled", show);
    model.off("msg:custom", command);
  };
}
export default { render };
"""


class ChatInput(anywidget.AnyWidget):
    """A multi-line text box where Enter sends (``on_submit`` handlers run) and Shift+Enter adds a new line.

    ``value`` is the text in the box, kept in step with the browser as the user types; ``submit()`` runs the
    handlers with it, which is what Enter does. The box never empties itself: the handler decides.

    Example:
        >>> box = ChatInput()
        >>> sent = []
        >>> box.on_submit(sent.append)
        >>> box.value = "line one\\nline two"             # Shift+Enter made the new line
        >>> box.submit()
        >>> sent
        ['line one\\nline two']
    """

    _esm = CHAT_INPUT_ESM

    # echo_update=False: the browser sends its text as messages (see the module docstring) and must not get it back
    value = traitlets.Unicode("", help="the text in the box").tag(sync=True, echo_update=False)
    placeholder = traitlets.Unicode("", help="grey hint shown while the box is empty").tag(sync=True)
    disabled = traitlets.Bool(False, help="True: the box takes no input").tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._submit_handlers = ipywidgets.CallbackDispatcher()
        self.on_msg(self._handle_message)

    def on_submit(self, callback: Callable[[str], Any], remove: bool = False) -> None:
        """Run ``callback(text)`` when the user presses Enter (``remove=True`` unregisters it).

        Example:
            >>> ChatInput().on_submit(print)
        """
        self._submit_handlers.register_callback(callback, remove=remove)

    def submit(self) -> None:
        """Run the ``on_submit`` handlers with the current text, as Enter does (unless the box is disabled).

        Example:
            >>> ChatInput(value="hi").submit()
        """
        if not self.disabled:
            self._submit_handlers(self.value)

    def scroll_history(self) -> None:
        """Scroll the chat history this box belongs to (an ``.oaw-chat-history`` around it) to its end.

        Example:
            >>> ChatInput().scroll_history()
        """
        self.send({"do": "scroll_history"})

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("event") not in ("submit", "text"):
            return
        if isinstance(content.get("value"), str):
            self.set_state({"value": content["value"]})  # the browser's text: taken as state, not echoed back
        if content["event"] == "submit":
            self.submit()

    def __repr__(self) -> str:
        return f"ChatInput(value={self.value!r})"
