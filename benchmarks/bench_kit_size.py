"""How big the kit is to adopt, and whether its widgets close; prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_kit_size.py

1. Modules and lines a chat box imports, and a StreamView: every kit module reachable from the module that defines
   the class, through imports written anywhere (top of the file, inside functions, under ``TYPE_CHECKING``; see
   tests/import_graph.py), with the subpackages that hold them. Not counted: the top-level ``__init__`` (the facade,
   which imports nothing until a name is asked for).
2. Lines in the ChatWidget class (its ``class`` statement to its last line; how many of them are docstrings) and its
   methods.
3. Import cycles: groups of kit modules that import one another, counted the same way.
4. Live ipywidgets after ``close()``: a ChatWidget with a UsageTracker and ``images=True``, three streamed turns
   replayed through the real SDK (the embedded engine's recorded ``chat_stream_two_turns``); the widgets whose comm
   is still open (registered with the comm manager) once the chat is closed, over those open before it was made.
   Two variants: two images uploaded through the chat's image picker (before turns 1 and 2), and two images passed
   in code.
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.import_graph import PACKAGE, closure, cycles, read_graph  # noqa: E402
from tests.replay import load_recording, replay_client  # noqa: E402


def imported(graph, class_object) -> tuple[int, int]:
    members = closure(graph, class_object.__module__)
    return len(members), sum(graph[name].lines for name in members)


def class_size(class_object) -> tuple[int, int, int]:
    """(lines, of which docstring lines, methods) of the class statement."""
    source = Path(inspect.getsourcefile(class_object)).read_text(encoding="utf-8")
    (node,) = [node for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.ClassDef) and node.name == class_object.__name__]
    methods = [item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
    documented = [node, *methods]
    docstrings = sum(item.body[0].end_lineno - item.body[0].lineno + 1 for item in documented
                     if isinstance(item.body[0], ast.Expr) and isinstance(item.body[0].value, ast.Constant)
                     and isinstance(item.body[0].value.value, str))
    return node.end_lineno - node.lineno + 1, docstrings, len(methods)


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def live_after_close(uploaded: bool) -> tuple[int, int]:
    """(widgets alive during use, widgets alive after close), each over the count before the chat was made."""
    import comm
    from ollama_anthropic_widgets import ChatWidget, UsageTracker

    def alive() -> int:  # every open widget has a comm registered with the comm manager until it is closed
        return len(comm.get_comm_manager().comms)

    recorded = load_recording("chat_stream_two_turns")["exchanges"]
    before = alive()
    client, _ = replay_client([recorded[0], recorded[1], recorded[1]])
    chat = ChatWidget(client, "smollm2-135m", max_tokens=64, images=True, tracker=UsageTracker())
    for turn, text in enumerate(("Hi! My name is Ming.", "What is my name?", "And again?")):
        images = [png()] if turn < 2 else []
        if uploaded and images:
            chat.upload.picker.set_state({"value": [{"name": f"dot{turn}.png", "type": "image/png", "size": 1,
                                                     "content": memoryview(images[0]), "last_modified": 0}]})
            images = []
        chat.send_message(text, images)
    during = alive() - before
    chat.close()
    return during, alive() - before


def main() -> int:
    import ollama_anthropic_widgets as oaw

    graph = read_graph()
    print("1. what a widget imports (kit modules, lines)")
    for name in ("ChatWidget", "StreamView"):
        count, lines = imported(graph, getattr(oaw, name))
        print(f"   {name}: {count} modules, {lines:,} lines")
    lines, docstrings, methods = class_size(oaw.ChatWidget)
    print(f"2. the ChatWidget class: {lines} lines ({docstrings} of them docstrings), {methods} methods")
    found = cycles(graph)
    print(f"3. import cycles: {len(found)}" + "".join(
        "\n   " + " <-> ".join(name.removeprefix(PACKAGE + ".") for name in group) for group in found))
    print("4. live ipywidgets, 3 streamed turns with 2 images and a tracker")
    for uploaded in (True, False):
        during, after = live_after_close(uploaded)
        how = "uploaded in the widget" if uploaded else "passed in code"
        print(f"   images {how}: {during} during use, {after} after chat.close()")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
