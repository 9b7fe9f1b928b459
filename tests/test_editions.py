"""The two editions of every lesson (notebooks/en/, notebooks/zh/) are one program with two commentaries.

The pairing tests run on the real folders once they exist. The self-tests below run now: they build small
notebooks with nbformat and show that the check lets translated comments, strings and Markdown through, and
fails, naming the notebook and the cell, on any change to the code in one edition only. See tests/editions.py
for what counts as code.
"""

from __future__ import annotations

import io
import json
import keyword
import tokenize
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.editions import (
    CellNotTokenizable,
    code_tokens,
    first_drift,
    iter_drifts,
    lesson_names,
    read_notebook,
    unpaired_lessons,
)

ROOT = Path(__file__).resolve().parent.parent
EN_DIR, ZH_DIR = ROOT / "notebooks" / "en", ROOT / "notebooks" / "zh"
TODAYS_LESSONS = sorted(EN_DIR.glob("[0-9][0-9]_*.ipynb"))  # every English lesson, mechanically translated below
NOT_YET = ("notebooks/en/ does not exist yet: the lessons move to notebooks/en/ and notebooks/zh/ with issue 11 "
           "(until then only the self-tests of the sync check run)")
PAIRED = sorted(set(lesson_names(EN_DIR)) & set(lesson_names(ZH_DIR)))


# ------------------------------------------------------------------------------------------- the real editions


@pytest.mark.skipif(not EN_DIR.is_dir() and not ZH_DIR.is_dir(), reason=NOT_YET)
def test_every_lesson_exists_in_both_editions():
    assert lesson_names(EN_DIR), "notebooks/en/ holds no lesson (NN_name.ipynb)"
    missing = unpaired_lessons(EN_DIR, ZH_DIR)
    assert not missing, "lessons in one edition only:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", PAIRED or [pytest.param(
    None, marks=pytest.mark.skip(reason=NOT_YET if not EN_DIR.is_dir() else "no lesson in both editions yet"))])
def test_both_editions_are_one_program(name):
    drift = first_drift(EN_DIR / name, ZH_DIR / name)
    assert drift is None, drift


# ---------------------------------------------------------------------------- self-tests: two small editions

NAME = "05_parameters.ipynb"
EN = [
    ("markdown", "# 05 · Parameters\n\n**What you will learn**\n- stop sequences"),
    ("code", 'from anthropic import Anthropic\nimport ollama_anthropic_widgets as oaw\n\n'
             'config = oaw.settings()  # reads OLLAMA_BASE_URL\n'
             'client = Anthropic(base_url=config.base_url, api_key=config.api_key)'),
    ("markdown", "## Stop sequences\n\nThe server stops **before** the sequence."),
    ("code", '# NBVAL_IGNORE_OUTPUT\n'
             'reply = client.messages.create(model=config.model, max_tokens=64, stop_sequences=["\\n\\n"],\n'
             '                               messages=[{"role": "user", "content": "Count to ten, one per line"}])\n'
             'print(f"stop_reason: {reply.stop_reason!r}, {reply.usage.output_tokens:>4} tokens")'),
    ("code", "%load_ext ollama_anthropic_widgets\n!python --version"),
    ("code", '%%ask --new --system "Answer in one sentence."\nWhat is a token?'),
    ("markdown", "## Try it"),
    ("code", 'def doubled_sum(steps):\n    """Twice the sum of 0..steps-1."""\n    total = 0\n'
             '    for step in range(steps):\n        double = step * 2  # double it\n        total += double\n'
             '    return total\n\n\n'
             'assert doubled_sum(3) == 6, "the sum is wrong"\nprint("sum:", doubled_sum(3))'),
]
ZH = [  # the same program: comments, strings, prompts and Markdown in Chinese; one call re-wrapped; more Markdown
    ("markdown", "# 05 · 参数\n\n**本课你将学到**\n- 停止序列"),
    ("code", 'from anthropic import Anthropic\nimport ollama_anthropic_widgets as oaw\n\n'
             'config = oaw.settings()  # 读取 OLLAMA_BASE_URL\n'
             'client = Anthropic(base_url=config.base_url, api_key=config.api_key)'),
    ("markdown", "## 停止序列(对应文档的参数表)"),
    ("markdown", "服务器在停止序列**之前**停下。"),
    ("code", '# NBVAL_IGNORE_OUTPUT\n'
             'reply = client.messages.create(\n    model=config.model,\n    max_tokens=64,\n'
             '    stop_sequences=["\\n\\n"],\n    messages=[{"role": "user", "content": "从一数到十,"\n'
             '                                          "每行一个"}]  # 两段字符串,隐式拼接\n)\n'
             'print(f"停止原因:{reply.stop_reason!r},共 {reply.usage.output_tokens:>4} 个 token")'),
    ("code", "%load_ext ollama_anthropic_widgets\n!python --version  # 看看 Python 版本"),
    ("code", '%%ask --new --system "用一句话回答。"\n什么是 token?'),
    ("markdown", "## 动手试试"),
    ("code", 'def doubled_sum(steps):\n    """0..steps-1 之和的两倍。"""\n    total = 0\n'
             '    for step in range(steps):\n        # 乘以二\n        double = step * 2\n        total += double\n'
             '    return total\n\n\n'
             "assert doubled_sum(3) == 6, '求和有误'\nprint('和:', doubled_sum(3))"),
]
CODE_CELLS = 5


def write_lesson(folder: Path, cells, name: str = NAME, tags: dict[int, list[str]] | None = None) -> Path:
    """Writes a notebook of ("markdown" | "code", source) cells; ``tags`` maps a code cell number (from 1) to tags."""
    notebook = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    code_number = 0
    for kind, source in cells:
        if kind == "code":
            code_number += 1
            cell = new_code_cell(source)
            cell.metadata["tags"] = (tags or {}).get(code_number, [])
        else:
            cell = new_markdown_cell(source)
        notebook.cells.append(cell)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / name)
    return folder / name


def code_source(cells, number: int) -> str:
    return [source for kind, source in cells if kind == "code"][number - 1]


def with_code_cell(cells, number: int, source: str | None):
    """A copy of ``cells`` with code cell ``number`` replaced (``None``: removed)."""
    result, seen = [], 0
    for kind, text in cells:
        if kind == "code":
            seen += 1
            if seen == number:
                if source is not None:
                    result.append((kind, source))
                continue
        result.append((kind, text))
    return result


def drift_between(tmp_path: Path, en_cells, zh_cells, **kwargs) -> str | None:
    return first_drift(write_lesson(tmp_path / "en", en_cells, **kwargs.get("en", {})),
                       write_lesson(tmp_path / "zh", zh_cells, **kwargs.get("zh", {})))


def test_a_translated_edition_is_the_same_program(tmp_path):
    assert sum(kind == "code" for kind, _ in ZH) == CODE_CELLS
    assert drift_between(tmp_path, EN, ZH) is None


def test_the_translation_really_differs_outside_the_code(tmp_path):
    """Guards the test above: the pair differs in every code cell's text, and in the number of Markdown cells."""
    for number in range(2, CODE_CELLS + 1):
        assert code_source(EN, number) != code_source(ZH, number)
    assert sum(kind == "markdown" for kind, _ in EN) != sum(kind == "markdown" for kind, _ in ZH)


# Each case changes one line of code in the Chinese edition only. (code cell, old, new, what the message shows)
ONE_EDITION_CHANGES = {
    "changed number": (5, "double = step * 2", "double = step * 3", "`3`"),
    "changed operator": (5, "total += double", "total -= double", "`-=`"),
    "changed identifier": (1, "config = oaw.settings()", "config = oaw.setting()", "`setting`"),
    "changed keyword argument": (2, "max_tokens=64", "max_token=64", "`max_token`"),
    "changed f-string field": (2, "{reply.stop_reason!r}", "{reply.stop_sequence!r}", "`stop_sequence`"),
    "changed f-string conversion": (2, "{reply.stop_reason!r}", "{reply.stop_reason}", "`}`"),
    "changed format spec": (2, ":>4}", ":>5}", "`>5`"),
    "changed line magic": (3, "%load_ext ollama_anthropic_widgets", "%load_ext ollama_anthropic", "`ollama_anthropic`"),
    "changed shell line": (3, "!python --version", "!python -V", "`V`"),
    "changed cell magic option": (4, "%%ask --new", "%%ask --model qwen3", "`model`"),
    "changed cell magic": (4, "%%ask --new", "%%markdown --new", "`%%markdown`"),
    "statement moved out of the loop": (5, "        total += double", "    total += double", "`<dedent>`"),
    "nbval directive dropped": (2, "# NBVAL_IGNORE_OUTPUT\n", "# 忽略输出\n", "`reply`"),
}


@pytest.mark.parametrize("case", ONE_EDITION_CHANGES)
def test_a_changed_line_of_code_in_one_edition_is_drift(tmp_path, case):
    number, old, new, token_shown = ONE_EDITION_CHANGES[case]
    zh_source = code_source(ZH, number)
    assert old in zh_source, "the case must change the cell"
    changed = with_code_cell(ZH, number, zh_source.replace(old, new, 1))

    drift = drift_between(tmp_path, EN, changed)

    assert drift is not None, f"{case} was not caught"
    assert drift.startswith(f"notebook {NAME}, code cell {number} ("), drift
    assert "cell index" in drift and " vs zh `" in drift, drift
    assert f"zh {token_shown}" in drift, drift
    # The same change in both editions is no drift: the check compares editions, it does not freeze the code.
    en_changed = with_code_cell(EN, number, code_source(EN, number).replace(old, new, 1))
    if code_source(EN, number) != code_source(en_changed, number):
        assert drift_between(tmp_path / "both", en_changed, changed) is None


def test_the_message_quotes_both_lines(tmp_path):
    changed = with_code_cell(ZH, 5, code_source(ZH, 5).replace("step * 2", "step * 3"))
    drift = drift_between(tmp_path, EN, changed)
    assert drift == (f"notebook {NAME}, code cell 5 (cell index 7 in en, 8 in zh): en `double = step * 2  # double it` "
                     "vs zh `double = step * 3` (first differing token: en `2`, zh `3`)")


def test_a_missing_code_cell_is_drift(tmp_path):
    drift = drift_between(tmp_path, EN, with_code_cell(ZH, 3, None))
    assert drift is not None and drift.startswith(f"notebook {NAME}, code cell 3 ("), drift
    assert drift.endswith("en has 5 code cells, zh has 4"), drift


def test_a_missing_last_code_cell_is_drift(tmp_path):
    drift = drift_between(tmp_path, EN, with_code_cell(ZH, 5, None))
    assert drift == (f"notebook {NAME}, code cell 5 (cell index 7 in en): en `def doubled_sum(steps):` "
                     "vs zh (no such cell) — en has 5 code cells, zh has 4")


def test_an_extra_code_cell_is_drift(tmp_path):
    drift = drift_between(tmp_path, EN, [*ZH, ("code", "print(doubled_sum(4))")])
    assert drift == (f"notebook {NAME}, code cell 6 (cell index 9 in zh): en (no such cell) "
                     "vs zh `print(doubled_sum(4))` — en has 5 code cells, zh has 6")


def test_a_code_cell_turned_into_markdown_is_drift(tmp_path):
    zh = [("markdown", source) if source == code_source(ZH, 3) else (kind, source) for kind, source in ZH]
    drift = drift_between(tmp_path, EN, zh)
    assert drift is not None and drift.startswith(f"notebook {NAME}, code cell 3 ("), drift


def test_a_cell_that_does_not_tokenize_is_drift(tmp_path):
    broken = with_code_cell(ZH, 1, code_source(ZH, 1).replace("# 读取 OLLAMA_BASE_URL", '"读取'))
    drift = drift_between(tmp_path, EN, broken)
    assert drift is not None and drift.startswith(f"notebook {NAME}, code cell 1 (cell index 1): "), drift
    assert "the zh edition's code does not tokenize (unterminated string literal" in drift, drift


def test_different_nbval_tags_are_drift(tmp_path):
    drift = drift_between(tmp_path, EN, ZH, en={"tags": {2: ["nbval-skip", "hide-input"]}}, zh={"tags": {2: []}})
    assert drift is not None and drift.startswith(f"notebook {NAME}, code cell 2 ("), drift
    assert drift.endswith("en tags ['nbval-skip'] vs zh tags []"), drift
    assert drift_between(tmp_path / "other", EN, ZH, en={"tags": {2: ["hide-input"]}}) is None


def test_unpaired_lessons_are_named(tmp_path):
    write_lesson(tmp_path / "en", EN, name="00_setup.ipynb")
    write_lesson(tmp_path / "en", EN, name="01_first_message.ipynb")
    write_lesson(tmp_path / "zh", ZH, name="00_setup.ipynb")
    write_lesson(tmp_path / "zh", ZH, name="02_streaming.ipynb")
    (tmp_path / "zh" / "notes.ipynb").write_text("{}")  # not a lesson: not paired
    assert unpaired_lessons(tmp_path / "en", tmp_path / "zh") == [
        "zh/01_first_message.ipynb is missing (the twin of en/01_first_message.ipynb)",
        "en/02_streaming.ipynb is missing (the twin of zh/02_streaming.ipynb)",
    ]


def test_every_paired_lesson_is_compared(tmp_path):
    write_lesson(tmp_path / "en", EN, name="00_setup.ipynb")
    write_lesson(tmp_path / "zh", ZH, name="00_setup.ipynb")
    write_lesson(tmp_path / "en", EN, name="01_first_message.ipynb")
    write_lesson(tmp_path / "zh", with_code_cell(ZH, 1, "import anthropic"), name="01_first_message.ipynb")
    drifts = list(iter_drifts(tmp_path / "en", tmp_path / "zh"))
    assert len(drifts) == 1 and drifts[0].startswith("notebook 01_first_message.ipynb, code cell 1 ("), drifts


# -------------------------------------------------------------------------------- self-tests: the token stream


def texts(source: str) -> list[str]:
    return [token.text for token in code_tokens(source)]


def test_comments_and_strings_are_set_aside_and_code_is_kept():
    assert texts('print("你好", x)  # 打招呼') == texts("print('hello', x)  # greet") == [
        "print", "(", '"…"', ",", "x", ")", "<newline>"]
    assert texts('b"data"') == ['b"…"', "<newline>"]


def test_adjacent_string_literals_are_one_literal():
    assert texts('x = ("one, "\n     "two")') == texts('x = ("one, two")')


def test_f_string_fields_are_code_and_their_text_is_not():
    """Same stream on 3.10/3.11 (one STRING token) and 3.12+ (FSTRING_START/MIDDLE/END)."""
    assert texts('f"共 {n:>{width}} 条 {d!r} {a != b} {v=} {{literal}}"') == [
        'f"', "{", "n", ":", ">", "{", "width", "}", "}", "{", "d", "!r", "}",
        "{", "a", "!=", "b", "}", "{", "v", "=", "}", '"', "<newline>"]
    assert texts('f"{x}:"') == texts('f"值 {x}"')
    assert texts('f"{x}"') != texts('f"{y}"')
    assert texts('"a" f"{x}"') == texts('f"a{x}"')
    assert texts('f"""{\n  a +\n  b\n}"""') == texts('f"{a + b}"')
    assert texts("f\"{f'{inner}'}\"") == ['f"', "{", 'f"', "{", "inner", "}", '"', "}", '"', "<newline>"]


def test_ipython_syntax_is_code():
    assert texts("%pip install anthropic  # 安装") == ["%pip", "install", "anthropic", "<newline>"]
    assert texts("files = !ls -la\n!!echo hi") == [
        "files", "=", "!", "ls", "-", "la", "<newline>", "!!", "echo", "hi", "<newline>"]
    assert texts("oaw.StreamView?\n??oaw.text_of") == ["oaw.StreamView?", "<newline>", "??oaw.text_of", "<newline>"]
    assert texts("for x in xs:\n    %time f(x)") == [
        "for", "x", "in", "xs", ":", "<newline>", "<indent>", "%time", "f", "(", "x", ")", "<newline>", "<dedent>"]


def test_ipython_escapes_inside_strings_and_brackets_are_not_escapes():
    assert texts('s = """\n%not a magic\n!not a shell line\n"""') == ["s", "=", '"…"', "<newline>"]
    assert texts("x = (6\n     % 4)") == ["x", "=", "(", "6", "%", "4", ")", "<newline>"]


def test_cell_magics():
    assert texts('%%ask --system "用一句话回答。"\n什么是 token?') == texts(
        '%%ask --system "Answer in one sentence."\nWhat is a token?') == [
        "%%ask", "-", "-", "system", '"…"', '"…"']
    assert texts("%%ask\n") != texts("%%ask\nA question")
    assert texts("%%time\nx = f()  # 计时") == ["%%time", "x", "=", "f", "(", ")", "<newline>"]
    assert texts("%%bash\necho it's $HOME  # 主目录") == ["%%bash", "echo", "it's", "$HOME"]


def test_a_cell_that_does_not_tokenize_raises():
    with pytest.raises(CellNotTokenizable, match="unterminated string literal"):
        code_tokens('x = "abc')
    with pytest.raises(CellNotTokenizable, match="unindent"):
        code_tokens("if x:\n    y\n  z")


# ------------------------------------------------------------------------------------ today's lessons, as input


def _rewrite(source: str, replace) -> str:
    """Applies ``replace(token) -> str | None`` to the cell's tokens (None: keep), by position, last first."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        new = replace(token)
        if new is not None:
            (row, col), (end_row, end_col) = token.start, token.end
            edits.append((offsets[row - 1] + col, offsets[end_row - 1] + end_col, new))
    for start, end, new in sorted(edits, reverse=True):
        source = source[:start] + new + source[end:]
    return source


def _translated_mechanically(token) -> str | None:
    """A comment or a plain string literal in other words, as a translator would; f-strings are left alone."""
    if token.type == tokenize.COMMENT and not any(
            marker in token.string for marker in ("NBVAL_", "noqa", "deliberate /v1 mistake")):
        return "# 这是一条中文注释"
    if token.type == tokenize.STRING and "f" not in token.string[:2].lower():
        body = token.string.lstrip("rRbBuU")
        prefix = token.string[: len(token.string) - len(body)]
        quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
        return f"{prefix}{quote}{'zh' if 'b' in prefix.lower() else '中文文本'}{quote}"
    return None


@pytest.mark.parametrize("lesson", TODAYS_LESSONS, ids=lambda path: path.name)
def test_check_on_todays_lessons(tmp_path, lesson):
    """Every code cell of today's lessons tokenizes; a mechanical translation of a lesson is no drift; one
    renamed identifier in its last code cell is, and the message names that cell."""
    notebook = nbformat.read(lesson, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(code_tokens(cell.source) for cell in code if cell.source.strip())

    translated = nbformat.from_dict(notebook)
    translated.cells = [new_markdown_cell("这一节的中文说明。")] + [
        new_markdown_cell("中文正文。") if cell.cell_type == "markdown" else
        new_code_cell(_rewrite(cell.source, _translated_mechanically)) for cell in notebook.cells]
    assert [cell.source for cell in translated.cells if cell.cell_type == "code"] != [cell.source for cell in code]
    (tmp_path / "en").mkdir()
    (tmp_path / "zh").mkdir()
    nbformat.write(notebook, tmp_path / "en" / lesson.name)
    nbformat.write(translated, tmp_path / "zh" / lesson.name)
    assert first_drift(tmp_path / "en" / lesson.name, tmp_path / "zh" / lesson.name) is None

    renamed = {"done": False}

    def rename_first_identifier(token):
        if renamed["done"] or token.type != tokenize.NAME or keyword.iskeyword(token.string):
            return None
        renamed["done"] = True
        return token.string + "_zh"

    translated.cells[-1].source = _rewrite(translated.cells[-1].source, rename_first_identifier)
    nbformat.write(translated, tmp_path / "zh" / lesson.name)
    drift = first_drift(tmp_path / "en" / lesson.name, tmp_path / "zh" / lesson.name)
    assert drift is not None and drift.startswith(f"notebook {lesson.name}, code cell {len(code)} ("), drift
    assert "_zh`" in drift, drift


def test_sources_stored_as_lists_of_lines(tmp_path):
    """nbformat may store a cell's source as a list of lines; the check reads the JSON itself."""
    en = write_lesson(tmp_path / "en", [("code", "x = 1\ny = 2")])
    zh = tmp_path / "zh" / NAME
    zh.parent.mkdir()
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["x = 1\n", "y = 3"]}
    zh.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
    assert read_notebook(zh)["cells"][0]["source"] == ["x = 1\n", "y = 3"]
    assert first_drift(en, zh) == (f"notebook {NAME}, code cell 1 (cell index 0): en `y = 2` vs zh `y = 3` "
                                   "(first differing token: en `2`, zh `3`)")


def test_chinese_readme_maps_every_lesson():
    """README.zh-CN.md links each lesson's Chinese edition, under the same file name as the English one."""
    readme = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    names = lesson_names(EN_DIR) or [path.name for path in TODAYS_LESSONS]
    missing = [name for name in names if f"(notebooks/zh/{name})" not in readme]
    assert not missing, f"README.zh-CN.md lesson map lacks {missing}"
    assert "](README.md)" in readme, "a link back to the English README"
