"""The Chinese edition's typography (notebooks/GLOSSARY.md, "Typography" and "Markdown line breaks").

1. No ASCII ``, ? ! : ;`` touching a Chinese character (an ideograph or a full-width mark) in

   - the prose of notebooks/zh/ (Markdown cells) and README.zh-CN.md;
   - the Chinese text of the zh code cells: string literals (printed labels, prompts, messages, docstrings; an
     f-string's replacement fields set aside) and comments;
   - the Chinese messages of the kit (``i18n.MESSAGES``) and of the exercises (every table of
     ``ollama_anthropic_exercises`` holding ``"zh"`` texts).

   What stays ASCII is set aside first: code spans and fenced code, URLs and link targets, f-string fields and
   ``{placeholders}``. An English sentence inside Chinese text keeps its own marks; they touch no Chinese character.
   A string quoted verbatim from the chapter the lessons mirror may keep the chapter's ASCII marks: CHAPTER_QUOTES
   lists each one, with the chapter's line and the lesson that quotes it.
2. No line break next to Chinese text inside a Markdown paragraph or list item of notebooks/zh/ or README.zh-CN.md:
   the browser renders it as a space (``格式`` ⏎ ``**手工构造**`` shows 格式 手工构造).
3. One setup comment in every zh lesson (the glossary's).

The self-tests at the end show each check failing on a small example of what it forbids.
"""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
import re
import tokenize
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ZH_DIR, EN_DIR = ROOT / "notebooks" / "zh", ROOT / "notebooks" / "en"
ZH_LESSONS = sorted(ZH_DIR.glob("[0-9][0-9]_*.ipynb"))
README_ZH = ROOT / "README.zh-CN.md"

# An ideograph, a CJK mark (。、“” excluded: “” are shared with English) or a full-width form (，：；？！（）).
CHINESE = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
ASCII_MARK = r"[,?!:;]"
TOUCHING = re.compile(rf"{CHINESE}{ASCII_MARK}|{ASCII_MARK}{CHINESE}")
SETUP_COMMENT = '# 控件包自身的提示语用中文（英文版这里是 "en"）'  # notebooks/GLOSSARY.md, "the kit's own messages"

# Quoted verbatim from the chapter (the seed document ollama-anthropic-compat.zh.txt, whose code writes ASCII marks),
# in a cell that keeps the chapter's code as it is. (lesson, the literal as written in the cell) -> the chapter's line.
CHAPTER_QUOTES = {
    ("06_tool_use.ipynb", '"北京今天天气怎么样?"'):
        'messages=[{"role": "user", "content": "北京今天天气怎么样?"}]',
    ("06_tool_use.ipynb", 'f"调用工具: {block.name}"'): 'print(f"调用工具: {block.name}")',
    ("06_tool_use.ipynb", 'f"参数: {block.input}"'): 'print(f"参数: {block.input}")',
}

_FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_URL = re.compile(r"<https?://[^>]*>|https?://[^\s)>\]]+")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{[^{}]*\}")
_BLOCK_START = re.compile(r"[ \t]*([-*+][ \t]|\d+[.)][ \t]|#|>|\||```|~~~|<)")
_EMPHASIS = "*_~"


# ------------------------------------------------------------------------------------------------ what is checked


def touching_marks(text: str) -> list[str]:
    """Each ASCII mark touching a Chinese character in ``text``, quoted with a little context."""
    return [f"…{text[max(0, hit.start() - 12): hit.end() + 12]}…".replace("\n", "⏎") for hit in TOUCHING.finditer(text)]


def prose_of_markdown(markdown: str) -> str:
    """Markdown with what stays ASCII taken out: fenced code, code spans, URLs, link targets."""
    for pattern in (_FENCE, _CODE_SPAN, _URL):
        markdown = pattern.sub("_", markdown)
    return _LINK_TARGET.sub("]", markdown)


def text_of_template(template: str) -> str:
    """A message template's words: code spans and ``{placeholders}`` set aside."""
    return _PLACEHOLDER.sub("_", _CODE_SPAN.sub("_", template))


def _literal_body(literal: str) -> tuple[str, bool]:
    """(the text between the quotes, whether it is an f-string) of one string literal as written."""
    prefix = literal[: len(literal) - len(literal.lstrip("rRbBuUfF"))]
    body = literal[len(prefix):]
    quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
    return body[len(quote): len(body) - len(quote)], "f" in prefix.lower()


def _without_fields(body: str) -> str:
    """An f-string's literal text, each replacement field (format spec included) replaced by ``_``."""
    out, depth, position = [], 0, 0
    while position < len(body):
        pair = body[position: position + 2]
        if depth == 0 and pair in ("{{", "}}"):
            out.append(pair[0])
            position += 2
            continue
        char = body[position]
        if char == "{":
            depth += 1
            if depth == 1:
                out.append("_")
        elif char == "}" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
        position += 1
    return "".join(out)


def chinese_texts_of_code(source: str) -> Iterator[tuple[str, str]]:
    """(literal as written, its text) for each string literal and comment of a code cell. IPython lines are set
    aside, except the body of a prose cell magic (``%%ask``: a prompt), which is text."""
    lines = source.splitlines()
    if lines and lines[0].startswith("%%"):
        if lines[0].split()[0] in ("%%ask", "%%markdown"):
            yield lines[0], "\n".join(lines[1:])
        return
    python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines) + "\n"
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+ splits f-strings into tokens
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    rows, depth, started = python.splitlines(keepends=True), 0, (0, 0)
    for token in tokenize.generate_tokens(io.StringIO(python).readline):
        if token.type == fstring_start:
            depth += 1
            if depth == 1:
                started = token.start
            continue
        if depth:
            if token.type == fstring_end:
                depth -= 1
                if not depth:
                    literal = _source_between(rows, started, token.end)
                    yield literal, _without_fields(_literal_body(literal)[0])
            continue
        if token.type == tokenize.COMMENT:
            yield token.string, token.string
        elif token.type == tokenize.STRING:
            body, formatted = _literal_body(token.string)
            yield token.string, _without_fields(body) if formatted else body


def _source_between(rows: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    (first_row, first_col), (last_row, last_col) = start, end
    if first_row == last_row:
        return rows[first_row - 1][first_col:last_col]
    return rows[first_row - 1][first_col:] + "".join(rows[first_row:last_row - 1]) + rows[last_row - 1][:last_col]


def breaks_next_to_chinese(markdown: str) -> list[str]:
    """Each soft line break (inside a paragraph or list item, outside fenced code) next to Chinese text: the last
    visible character before it or the first after it (emphasis marks looked through) is Chinese."""
    found, fenced, previous = [], False, ""
    for line in markdown.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            previous = ""
            continue
        continues = (not fenced and stripped and previous.strip() and not _BLOCK_START.match(line)
                     and not previous.lstrip().startswith(("#", "|")) and not previous.endswith(("  ", "\\")))
        if continues:
            before, after = previous.rstrip().rstrip(_EMPHASIS)[-1:], stripped.lstrip(_EMPHASIS)[:1]
            if re.fullmatch(CHINESE, before) or re.fullmatch(CHINESE, after):
                found.append(f"…{previous.rstrip()[-15:]}⏎{stripped[:15]}…")
        previous = "" if fenced else line
    return found


def notebook_problems(path: Path) -> list[str]:
    """Every typography problem of one zh lesson, each naming its cell (nbformat's index, from 0)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    problems = []
    for index, cell in enumerate(cells):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        where = f"{path.name} cell {index}"
        if cell["cell_type"] == "markdown":
            problems += [f"{where} (Markdown): {hit}" for hit in touching_marks(prose_of_markdown(source))]
            problems += [f"{where} (Markdown): a line break next to Chinese text {hit}"
                         for hit in breaks_next_to_chinese(source)]
        elif cell["cell_type"] == "code":
            for written, text in chinese_texts_of_code(source):
                if (path.name, written) in CHAPTER_QUOTES:
                    continue
                # a printed string may quote code between backticks, as prose does; its braces stay (JSON, sets)
                problems += [f"{where} (code, {written[:40]}): {hit}"
                             for hit in touching_marks(_CODE_SPAN.sub("_", text))]
    return problems


def _kit_messages() -> dict[str, Mapping[str, Mapping[str, str]]]:
    """Every table of the kit's words: core/i18n.py's, and those a layer keeps where it uses them."""
    from ollama_anthropic_widgets.core.i18n import MESSAGES
    from ollama_anthropic_widgets.extension import magic, terminal_view
    from ollama_anthropic_widgets.lessons import doctor

    return {"core/i18n.py": MESSAGES, "lessons/doctor.py": doctor.WORDS, "extension/magic.py": magic.WORDS,
            "extension/terminal_view.py": terminal_view.WORDS}


def zh_texts_of_tables(tables: Mapping[str, object]) -> Iterator[tuple[str, str]]:
    """(where, Chinese text) for every ``{"en": …, "zh": …}`` entry found in ``tables``, nested dicts included."""
    seen: set[int] = set()

    def walk(value: object, where: str) -> Iterator[tuple[str, str]]:
        if not isinstance(value, dict) or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value.get("zh"), str):
            yield where, value["zh"]
        for key, item in value.items():
            yield from walk(item, f"{where}[{key!r}]")

    for name, value in tables.items():
        yield from walk(value, name)


def exercise_tables() -> dict[str, object]:
    package = importlib.import_module("ollama_anthropic_exercises")
    tables: dict[str, object] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        tables |= {f"{module_info.name}.{name}": value for name, value in vars(module).items()
                   if isinstance(value, dict) and not name.startswith("_")}
    return tables


# ----------------------------------------------------------------------------------------------- the real texts


@pytest.mark.parametrize("lesson", ZH_LESSONS, ids=lambda path: path.name)
def test_zh_lesson_typography(lesson):
    problems = notebook_problems(lesson)
    assert not problems, "ASCII marks touching Chinese, or line breaks next to it:\n" + "\n".join(problems)


def test_readme_zh_typography():
    markdown = README_ZH.read_text(encoding="utf-8")
    problems = touching_marks(prose_of_markdown(markdown)) + [
        f"a line break next to Chinese text {hit}" for hit in breaks_next_to_chinese(markdown)]
    assert not problems, "README.zh-CN.md:\n" + "\n".join(problems)


def test_kit_messages_typography():
    problems = [f"{where}: {hit}" for where, text in zh_texts_of_tables(_kit_messages())
                for hit in touching_marks(text_of_template(text))]
    assert not problems, "\n".join(problems)


def test_exercise_messages_typography():
    texts = list(zh_texts_of_tables(exercise_tables()))
    assert len(texts) > 100  # the walk found the tables (CORE, each lesson's TABLE and HINTS, replies.CASES)
    problems = [f"{where}: {hit}" for where, text in texts for hit in touching_marks(text_of_template(text))]
    assert not problems, "\n".join(problems)


def test_chapter_quotes_are_verbatim_and_in_use():
    """Each allowance is the chapter's own string, quoted as such by both editions of its lesson, and still needed."""
    for (lesson, written), chapter_line in CHAPTER_QUOTES.items():
        assert written.removeprefix("f") in chapter_line, (written, chapter_line)
        for edition in (ZH_DIR, EN_DIR):
            source = "".join("".join(cell["source"]) for cell in json.loads(
                (edition / lesson).read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code")
            assert written in source, f"{edition.name}/{lesson} no longer quotes {written}: drop the allowance"


def test_one_setup_comment_in_every_zh_lesson():
    comments = {}
    for lesson in ZH_LESSONS:
        for cell in json.loads(lesson.read_text(encoding="utf-8"))["cells"]:
            for line in "".join(cell["source"]).splitlines():
                if cell["cell_type"] == "code" and 'setdefault("OLLAMA_KIT_LANG"' in line:
                    comments[lesson.name] = line.partition("  # ")[2]
    assert len(comments) == len(ZH_LESSONS), sorted(set(path.name for path in ZH_LESSONS) - set(comments))
    assert {f"# {comment}" for comment in comments.values()} == {SETUP_COMMENT}, comments


# ------------------------------------------------------------------------------- self-tests: each check can fail


def test_marks_touching_chinese_are_found_and_ascii_contexts_are_not():
    assert len(touching_marks("北京今天天气怎么样? 请把气温换算成华氏度,再告诉我空气质量。")) == 2
    assert len(touching_marks("SDK 发出的警告:")) == 1
    assert touching_marks("停止原因：end_turn；输入 5 个 token。") == []
    assert touching_marks("它在“Streaming events”下把 ping 勾选为支持，“Not supported: yes”也写着") == []
    assert len(touching_marks("（见上文）;")) == 1  # a full-width mark counts as Chinese


def test_markdown_sets_aside_code_urls_and_link_targets():
    markdown = ("用 `print(a, b)` 和 ``x`: y`` 打印，见 <https://example.com/a?b=1:2>、https://x.y/?q=中,文 "
                "或 [文档](https://docs.ollama.com/a,b?c)。\n\n```python\nprint(\"你: \")\n```\n")
    assert touching_marks(prose_of_markdown(markdown)) == []
    assert len(touching_marks(prose_of_markdown(markdown + "\n再试一次: 好"))) == 1


def test_code_cells_check_strings_and_comments_but_not_fields_or_code():
    source = ('print(f"{label:<28} 内容块 {blocks!r}，停止原因 {reason}")  # 没问题：全角\n'
              'print(f"{type(error).__name__}: {error}")\n'
              'x = {"role": "user", "content": "你好"}\n'
              'print("参数: ", x)  # 这里也不行;\n'
              'print(f"调用工具: {name}")\n')
    hits = [hit for written, text in chinese_texts_of_code(source) for hit in touching_marks(text)]
    assert len(hits) == 3, hits  # "参数:", the comment's ";", "调用工具:"
    assert [hit for _, text in chinese_texts_of_code('"""多行的\n文档字符串:"""\n') for hit in touching_marks(text)]
    assert [text for _, text in chinese_texts_of_code('%%ask --new\n什么是 token?')] == ["什么是 token?"]
    assert list(chinese_texts_of_code("!pip install anthropic  # 安装\n%time f()")) == []


def test_a_zh_notebook_with_a_violation_is_named_by_cell(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# 06 · 工具调用\n\n问题: 天气"),
                      nbformat.v4.new_code_cell('question = "北京今天天气怎么样?"'),
                      nbformat.v4.new_code_cell('print(f"调用工具: {block.name}")')]
    nbformat.write(notebook, tmp_path / "06_tool_use.ipynb")
    nbformat.write(notebook, tmp_path / "07_images.ipynb")
    # lesson 06 quotes the chapter: only the prose is wrong; the same strings in lesson 07 are not quotes
    assert [problem.split(":")[0] for problem in notebook_problems(tmp_path / "06_tool_use.ipynb")] == [
        "06_tool_use.ipynb cell 0 (Markdown)"]
    assert [problem.split(" (")[0] for problem in notebook_problems(tmp_path / "07_images.ipynb")] == [
        "07_images.ipynb cell 0", "07_images.ipynb cell 1", "07_images.ipynb cell 2"]


def test_line_breaks_next_to_chinese_are_found():
    assert len(breaks_next_to_chinese("按 Ollama 的接口格式\n**手工构造**的")) == 1
    assert len(breaks_next_to_chinese("自己拼上\n`/v1/messages`，所以")) == 1
    assert len(breaks_next_to_chinese("- 条目的第一行，\n  续行")) == 1
    assert len(breaks_next_to_chinese("**接口地址**\n（`base_url`）")) == 1
    assert breaks_next_to_chinese("English text wraps\nhere, and that is fine") == []
    assert breaks_next_to_chinese("第一段。\n\n第二段。\n- 列表\n- 列表\n## 标题\n正文") == []
    assert breaks_next_to_chinese("| 列 | 列 |\n|---|---|\n| 中 | 文 |") == []
    assert breaks_next_to_chinese("```\n中文\n中文\n```") == []
    assert breaks_next_to_chinese("硬换行  \n中文") == []


def test_message_tables_set_aside_placeholders_and_code():
    table = {"ok": {"en": "x", "zh": "{name}：{width}×{height}，`def {name}(...):` 与 {count:,}"},
             "bad": {"en": "x", "zh": "参数: {value}"}}
    found = {where: touching_marks(text_of_template(text)) for where, text in zh_texts_of_tables({"T": table})}
    assert found["T['ok']"] == [] and len(found["T['bad']"]) == 1 and "参数:" in found["T['bad']"][0], found
