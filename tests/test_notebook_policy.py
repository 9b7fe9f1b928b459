"""Every lesson notebook: valid nbformat 4, kernel python3, no stored output, the lesson shape, no /v1 base URL
for an Anthropic client except where a cell deliberately shows that mistake, no environment variable that only the
test run sets, and listed in the README."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ("en", "zh")  # notebooks/en and notebooks/zh: one program, two commentaries (tests/test_editions.py)
NOTEBOOKS = sorted(path for edition in EDITIONS for path in (ROOT / "notebooks" / edition).glob("[0-9][0-9]_*.ipynb"))
# The recurring headings, per edition (notebooks/GLOSSARY.md fixes the Chinese ones).
OPENINGS = {"en": ("what you will learn", "what you will find"), "zh": ("本课你将学到",)}
TRY_IT = {"en": r"^#+ .*try it", "zh": r"^#+ .*动手试试"}
DELIBERATE = "deliberate /v1 mistake"


def test_there_are_lessons():
    assert len(NOTEBOOKS) >= 1


@pytest.fixture(params=NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.name}")
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=nbformat.NO_CONVERT)


def test_valid_nbformat_4_with_python3_kernel(notebook):
    _, nb = notebook
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_committed_without_outputs(notebook):
    path, nb = notebook
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name} cell {index} has stored output"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution_count"


def test_lesson_shape(notebook):
    path, nb = notebook
    markdown = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    assert markdown and markdown[0].startswith(f"# {path.name[:2]}"), "first cell: '# NN · Title'"
    edition = path.parent.name
    opening = (markdown[0] + "\n" + (markdown[1] if len(markdown) > 1 else "")).lower()
    assert any(words in opening for words in OPENINGS[edition]), "say what the lesson teaches"
    assert any(re.search(TRY_IT[edition], text, re.IGNORECASE | re.MULTILINE) for text in markdown), "a Try it section"
    assert nb.cells[-1].cell_type == "code", "the Try it cell is runnable"


def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError:  # IPython magics
        return ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))


def _environment_reads(source: str) -> set[str]:
    """The names of the environment variables a cell reads: os.environ[...] / .get / .setdefault, os.getenv."""
    names = set()
    for node in ast.walk(_parse(source)):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
            key = node.slice
        elif isinstance(node, ast.Call) and (ast.unparse(node.func).endswith(("environ.get", "environ.setdefault",
                                                                             "environ.pop", "getenv")) and node.args):
            key = node.args[0]
        else:
            continue
        names.add(key.value if isinstance(key, ast.Constant) else ast.unparse(key))
    return names


def test_lessons_read_only_the_settings_a_learner_has(notebook):
    """Run All passes for a learner: no lesson depends on a variable only the test run sets. Every variable a lesson
    reads is one the README's configuration table documents for learners."""
    path, nb = notebook
    readme_settings = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(encoding="utf-8"),
                                     re.MULTILINE))
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            unknown = _environment_reads(cell.source) - readme_settings
            assert not unknown, f"{path.name} cell {index} reads {sorted(unknown)}, which a learner does not set"


def test_policy_check_catches_a_test_only_variable():
    assert _environment_reads('if os.environ.get("LESSONS_X") == "1": pass') == {"LESSONS_X"}
    assert _environment_reads('x = os.getenv("A"); y = os.environ["B"]; os.environ.setdefault("C", "1")') == {
        "A", "B", "C"}


def _anthropic_base_urls(source: str):
    """The base_url arguments of every Anthropic(...) / AsyncAnthropic(...) call in a cell, as source text."""
    for node in ast.walk(_parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "Anthropic", "AsyncAnthropic"):
            for keyword in node.keywords:
                if keyword.arg == "base_url":
                    yield ast.unparse(keyword.value)


def test_no_anthropic_client_with_a_v1_base_url(notebook):
    path, nb = notebook
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for base_url in _anthropic_base_urls(cell.source):
            if "/v1" in base_url:
                assert DELIBERATE in cell.source, (
                    f"{path.name} cell {index}: Anthropic(base_url={base_url}) — the SDK appends /v1 itself; "
                    f"if this shows the mistake on purpose, say '# {DELIBERATE}' in the cell")


def test_policy_check_catches_a_v1_client():
    assert list(_anthropic_base_urls('c = Anthropic(base_url="http://localhost:11434/v1", api_key="x")')) == [
        "'http://localhost:11434/v1'"]
    assert list(_anthropic_base_urls('c = anthropic.Anthropic(base_url=url + "/v1")')) == ["url + '/v1'"]


def test_readme_lesson_map_links_every_english_lesson():
    """README.md maps the English edition; README.zh-CN.md the Chinese one (tests/test_editions.py checks that)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    english = [path.name for path in NOTEBOOKS if path.parent.name == "en"]
    missing = [name for name in english if f"(notebooks/en/{name})" not in readme]
    assert not missing, f"README lesson map lacks links to {missing}"
