"""The kit's import graph, read from its source with ``ast``: every import of a kit module, wherever it is written.

An edge ``a -> b`` is any ``import`` or ``from ... import`` in ``a`` that names kit module ``b``: at the top of the
file, inside a function (imported on first use), or under ``if TYPE_CHECKING:`` (for type checkers only). All of
them count: an import inside a function still runs the first time that function does, and a type-only import still
ties the two modules together. ``importlib.import_module`` with a literal relative name counts too.

Modules are named as installed (``ollama_anthropic_widgets.core.render``); a subpackage's ``__init__.py`` is the
subpackage itself. Used by tests/unit/test_layers.py (no cycles, the layer order) and benchmarks/bench_kit_size.py
(what a chat box or a StreamView imports).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "widgets"  # installed as ollama_anthropic_widgets
PACKAGE = "ollama_anthropic_widgets"


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    imports: dict[str, int] = field(default_factory=dict)  # kit module -> line of its first import here

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def module_name(path: Path, source: Path = SOURCE) -> str:
    parts = list(path.relative_to(source).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def _resolve(module: Module, level: int, name: str | None) -> str:
    """The absolute name of a relative import ``from {'.' * level}{name} import ...`` written in ``module``."""
    package = module.name if module.is_package else module.name.rsplit(".", 1)[0]
    base = package.split(".")
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def read_graph(source: Path = SOURCE) -> dict[str, Module]:
    """Every module under ``source`` with the kit modules it imports."""
    modules = {}
    for path in sorted(source.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        modules[module_name(path, source)] = Module(module_name(path, source), path, len(text.splitlines()))
    for module in modules.values():
        for node in ast.walk(ast.parse(module.path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = _resolve(module, node.level, node.module) if node.level else (node.module or "")
                # `from . import x` / `from .pkg import mod` name modules; `from .mod import name` names the module
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                name = node.args[0].value
                level = len(name) - len(name.lstrip("."))
                targets = [_resolve(module, level, name.lstrip(".") or None) if level else name]
            for target in targets:
                if target in modules and target != module.name:
                    module.imports.setdefault(target, node.lineno)
    return modules


def closure(graph: dict[str, Module], start: str) -> set[str]:
    """``start`` and every kit module it imports, directly or not, with the subpackages that hold them (Python runs a
    subpackage's ``__init__`` before its modules). Not the top-level package: its ``__init__`` is the kit's facade,
    which imports nothing until a name is asked for."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen or name == PACKAGE:
            continue
        seen.add(name)
        todo.extend(graph[name].imports)
        parent = name.rsplit(".", 1)[0]
        if parent in graph:
            todo.append(parent)
    return seen


def cycles(graph: dict[str, Module]) -> list[list[str]]:
    """The import cycles: each strongly connected group of modules that import one another (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for target in graph[name].imports:
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(groups)
