"""The kit's layers (README "Layout"): who may import whom, no import cycles, HTML from render only.

Read from the source with ``ast`` (tests/import_graph.py): every import counts, wherever it is written (the top of a
module, inside a function, under ``if TYPE_CHECKING:``), so an import moved into a function cannot hide a cycle.
"""

from __future__ import annotations

import ast
import re

import pytest

from tests.import_graph import PACKAGE, SOURCE, cycles, read_graph

# Lower layers first. A module may import its own layer and the layers of a lower rank; two layers of one rank
# (the widgets and lesson support) know nothing of each other.
LAYERS = {"core": 0, "ui": 1, "lessons": 1, "extension": 2}
WIDGET_LIBRARIES = {"ipywidgets", "anywidget", "IPython", "comm", "ipykernel"}


def layer_of(module: str) -> str | None:
    """``core``, ``ui``, ``lessons``, ``extension``; None for the top-level facade."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_module_sits_in_a_layer():
    assert {layer_of(name) for name in read_graph()} == {None, *LAYERS}
    assert [path.name for path in SOURCE.glob("*.py")] == ["__init__.py"], "a module outside the layer folders"


def test_no_import_cycles():
    assert cycles(read_graph()) == []


def test_each_layer_imports_only_its_own_and_lower_layers():
    graph = read_graph()
    wrong = []
    for name, module in graph.items():
        here = layer_of(name)
        for target, line in module.imports.items():
            there = layer_of(target)
            if here is None:
                continue  # the facade names every layer's public names (imported on first use)
            if there is None:
                wrong.append(f"{name}:{line} imports the facade {target}")
            elif there != here and LAYERS[there] >= LAYERS[here]:
                wrong.append(f"{name}:{line} ({here}) imports {target} ({there})")
    assert wrong == []


def test_the_core_needs_no_widget_library():
    """The core runs without a notebook: no ipywidgets, anywidget or IPython, not even inside a function."""
    found = []
    for path in sorted((SOURCE / "core").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            found += [f"{path.name}:{node.lineno} {name}" for name in names
                      if name.split(".")[0] in WIDGET_LIBRARIES]
    assert found == []


# -- the checker itself ------------------------------------------------------------------------------------------


def write_package(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_graph_sees_imports_inside_functions_and_for_type_checkers_only(tmp_path):
    source = write_package(tmp_path / "kit", {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/a.py": "def later():\n    from . import b\n",
        "core/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import C\n",
        "core/c.py": "import importlib\nB = importlib.import_module('.a', __package__)\n",
        "ui/__init__.py": "",
        "ui/view.py": "from ..core.a import later\n",
    })
    graph = read_graph(source)
    assert graph[f"{PACKAGE}.core.a"].imports == {f"{PACKAGE}.core.b": 2}
    assert cycles(graph) == [[f"{PACKAGE}.core.a", f"{PACKAGE}.core.b", f"{PACKAGE}.core.c"]]
    assert set(graph[f"{PACKAGE}.ui.view"].imports) == {f"{PACKAGE}.core.a"}


# -- HTML ---------------------------------------------------------------------------------------------------------

HTML_TAG = re.compile(r"</?(?:div|span|p|a|b|i|em|strong|img|table|tr|td|th|pre|code|details|summary|style|br|ul|li|"
                      r"h[1-6])\b[^>]*>", re.IGNORECASE)


def html_literals(path, root=SOURCE) -> list[str]:
    """String literals in ``path`` that hold HTML markup (f-string pieces included), docstrings aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [f"{path.relative_to(root)}:{node.lineno} {node.value[:60]!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and HTML_TAG.search(node.value)]


def test_render_is_the_only_module_that_writes_html():
    found = [literal for path in sorted(SOURCE.rglob("*.py")) if path != SOURCE / "core" / "render.py"
             for literal in html_literals(path)]
    assert found == []
    assert html_literals(SOURCE / "core" / "render.py"), "the check finds no HTML even in render.py"


@pytest.mark.parametrize("literal", ['"<div>"', "f'<td>{x}</td>'", '"<img src=x onerror=alert(1)>"'])
def test_the_html_check_finds_markup_outside_docstrings(tmp_path, literal):
    module = write_package(tmp_path, {"stray.py": f'"""Docstring: <div> is fine here."""\nX = {literal}\n'})
    assert html_literals(module / "stray.py", tmp_path)
    (module / "stray.py").write_text('"""Docstring: <div> is fine here."""\nX = "a < b > c"\n', encoding="utf-8")
    assert html_literals(module / "stray.py", tmp_path) == []
