"""The sync check between the lesson editions (notebooks/en/ and notebooks/zh/): one program, two commentaries.

Two editions of a lesson must hold the same code cells in the same order, and each pair of cells must have the
same **code tokens**: the cell's Python tokens once comments and string literals are set aside, so translating
comments, printed labels and prompts never counts as drift, while any change to the program does. Markdown cells
may differ freely (their number too).

What counts as code, decided here:

- **Names, numbers, operators** and the statement structure (end of statement, indent, dedent) are compared.
  Line breaks inside brackets and backslash continuations are not: re-wrapping a long call is no drift.
- **Comments** are set aside, except the directives a tool reads: ``NBVAL_*`` markers, ``noqa``, and the policy
  test's ``deliberate /v1 mistake`` (tests/test_notebook_policy.py). Each becomes a token of its own.
- **String literals** are set aside, each run of adjacent literals (implicit concatenation) as one placeholder
  ``"…"`` (``b"…"`` for bytes). So a translator may reword or split a string; a ``"role"`` key turned into
  Chinese is *not* caught here — running both editions under nbval catches that.
- **f-strings**: the literal text is set aside, the replacement fields are code. Each field gives ``{``, its
  expression's tokens, the conversion (``!r``) and the format spec (``:`` then the spec's text, nested fields
  again as code), then ``}``; a run holding an f-string is framed by ``f"`` and ``"``. Format specs count as code
  because they change what is printed (``:.2f`` vs ``:.3f``). The stream is the same on Python 3.10–3.13:
  3.12+ tokenizes f-strings into FSTRING_START/MIDDLE/END, older versions give one STRING token; both are turned
  back into the literal's source text and read by the one parser below.
- **IPython syntax** at the start of a logical line (never inside a string or an open bracket):
  ``%line_magic args``, ``!shell``, ``!!shell``, ``x = !shell``, ``x = %magic``, ``obj?`` / ``?obj`` / ``obj??``.
  The escape (``%name``, ``!``, the help line) is one token; the arguments are tokenized like Python when they
  can be (so quoted arguments and ``# comments`` are set aside, e.g. ``--system "…"``), else split into words.
  A ``%%cell_magic`` on the first line gives ``%%name`` and its arguments the same way; its body is set aside
  for the prose magics (``%%ask``: the body is a prompt, like a string literal; ``%%markdown``, ``%%html``,
  ``%%latex``, ``%%svg``), read as a cell for the Python ones (``%%time``, ``%%timeit``, ``%%capture``,
  ``%%prun``, ``%%debug``), and line by line as arguments for the rest (``%%bash``, ``%%writefile``, …).
- **nbval tags** of a code cell (``nbval-*``, ``raises-exception``) must match: they decide what runs.

A cell that cannot be tokenized (an unterminated string, inconsistent dedent) is reported as drift, never skipped.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

LESSON_GLOB = "[0-9][0-9]_*.ipynb"
PROSE_CELL_MAGICS = frozenset({"ask", "markdown", "html", "latex", "svg"})
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
NBVAL_TAGS = re.compile(r"nbval-[\w-]+|raises-exception")
DIRECTIVE = re.compile(r"NBVAL_[A-Z_]+|\bnoqa\b(?::\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)?|deliberate /v1 mistake")
STRING_PLACEHOLDER = '"…"'
QUOTES = "'\""

_PLACEHOLDER = "__ipython_escape_{}__"
_PLACEHOLDER_NAME = re.compile(r"__ipython_escape_(\d+)__")
_HELP_LINE = re.compile(r"\s*(?:\?{1,2}[\w.%*\[\]]+\??|[\w.%*\[\]]+\?{1,2})\s*")
_ESCAPE_ASSIGNMENT = re.compile(r"(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*([!%].*)")
_WORD = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|(?<!\S)#.*|\S+")
_SKIPPED = {tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_STRUCTURE = {tokenize.NEWLINE: "<newline>", tokenize.INDENT: "<indent>", tokenize.DEDENT: "<dedent>"}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


class CellNotTokenizable(ValueError):
    """A code cell whose source the Python tokenizer refuses (e.g. an unterminated string)."""


@dataclass(frozen=True)
class CodeToken:
    """One token of a cell's program; ``line`` (1-based, in the cell) is for messages and never compared."""

    text: str
    line: int = field(compare=False)


# ---------------------------------------------------------------------------------------------------- one cell


def code_tokens(source: str) -> list[CodeToken]:
    """The cell's program as tokens: comments and string literals set aside, IPython syntax kept as code.

    >>> [t.text for t in code_tokens('total = f"{n:>4} 条"  # 合计')]
    ['total', '=', 'f"', '{', 'n', ':', '>4', '}', '"', '<newline>']
    """
    lines = source.splitlines()
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        return _cell_magic_tokens(lines, first)
    return _cell_tokens(source)


def _cell_magic_tokens(lines: list[str], first: int) -> list[CodeToken]:
    name, _, arguments = lines[first].strip()[2:].partition(" ")
    tokens = [CodeToken("%%" + name, first + 1), *_argument_tokens(arguments, first + 1)]
    body_offset = first + 1
    body = lines[body_offset:]
    if name in PROSE_CELL_MAGICS:
        if any(line.strip() for line in body):
            tokens.append(CodeToken(STRING_PLACEHOLDER, body_offset + 1))
    elif name in PYTHON_CELL_MAGICS:
        tokens += [CodeToken(t.text, t.line + body_offset) for t in code_tokens("\n".join(body))]
    else:
        for number, line in enumerate(body, start=body_offset + 1):
            tokens += _argument_tokens(line, number)
    return tokens


def _cell_tokens(source: str) -> list[CodeToken]:
    """Replaces each IPython escape line by a placeholder name, tokenizes, then puts the escapes' tokens back."""
    lines = source.splitlines()
    escapes: list[list[CodeToken]] = []
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        assignment = _ESCAPE_ASSIGNMENT.fullmatch(line)
        if not (stripped[:1] in ("%", "!", "?") or assignment or _HELP_LINE.fullmatch(line)):
            continue
        if _inside_open_construct("\n".join(lines[:index])):
            continue
        number = index + 1
        indent = line[: len(line) - len(stripped)]
        placeholder = _PLACEHOLDER.format(len(escapes))
        if _HELP_LINE.fullmatch(line):
            escapes.append([CodeToken(stripped.rstrip(), number)])
            lines[index] = indent + placeholder
        elif assignment:
            escapes.append(_escape_tokens(assignment.group(3), number))
            lines[index] = f"{assignment.group(1)}{assignment.group(2)} = {placeholder}"
        else:
            escapes.append(_escape_tokens(stripped, number))
            lines[index] = indent + placeholder
    tokens = []
    for token in _python_tokens("\n".join(lines) + "\n"):
        escape = _PLACEHOLDER_NAME.fullmatch(token.text)
        tokens += escapes[int(escape.group(1))] if escape else [token]
    return tokens


def _escape_tokens(text: str, line: int) -> list[CodeToken]:
    """``%name args`` / ``!cmd`` / ``!!cmd``: the escape as one token, then its arguments."""
    if text.startswith("%"):
        head, _, arguments = text.partition(" ")
    else:
        bangs = "!!" if text.startswith("!!") else "!"
        head, arguments = bangs, text[len(bangs):]
    return [CodeToken(head, line), *_argument_tokens(arguments, line)]


def _argument_tokens(text: str, line: int) -> list[CodeToken]:
    """A magic's or shell command's arguments: Python tokens if they tokenize, else words (quotes, # set aside)."""
    if not text.strip():
        return []
    try:
        tokens = _python_tokens(text.strip() + "\n", first_line=line)
    except CellNotTokenizable:
        tokens = [CodeToken(STRING_PLACEHOLDER if word[0] in QUOTES else word, line)
                  for word in _WORD.findall(text) if not word.startswith("#")]
    return [token for token in tokens if token.text not in _STRUCTURE.values()]


def _inside_open_construct(text: str) -> bool:
    """True if ``text`` ends inside a multi-line string, an open bracket or a backslash continuation."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO(text + "\n").readline):
            pass
    except tokenize.TokenError as error:
        return "EOF in multi-line" in str(error)
    except (SyntaxError, ValueError):
        return False
    return False


# ------------------------------------------------------------------------------------------ the Python tokenizer


def _python_tokens(text: str, first_line: int = 1) -> list[CodeToken]:
    lines = text.splitlines(keepends=True)
    tokens: list[CodeToken] = []
    literal_run: list[tuple[str, int]] = []  # adjacent literals (implicit concatenation) still to be emitted
    fstring_depth, fstring_start = 0, (0, 0)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            line = token.start[0] + first_line - 1
            if fstring_depth:  # 3.12+: inside an f-string; its source text is read whole at its end
                fstring_depth += (kind == _FSTRING_START) - (kind == _FSTRING_END)
                if not fstring_depth:
                    literal_run.append((_source_between(lines, fstring_start, token.end), line))
                continue
            if kind == _FSTRING_START:
                fstring_depth, fstring_start = 1, token.start
                continue
            if kind == tokenize.STRING:
                literal_run.append((token.string, line))
                continue
            if kind == tokenize.COMMENT:
                tokens += [CodeToken("# " + directive, line) for directive in DIRECTIVE.findall(token.string)]
                continue
            if kind in _SKIPPED:
                continue
            if kind == tokenize.ERRORTOKEN:
                if token.string.isspace():
                    continue
                if token.string[0] in QUOTES:  # 3.10/3.11 let an unterminated string through; 3.12+ raise
                    raise CellNotTokenizable(f"unterminated string literal (line {line})")
            tokens += _literal_run_tokens(literal_run)
            literal_run = []
            tokens.append(CodeToken(_STRUCTURE.get(kind, token.string), line))
    except (tokenize.TokenError, SyntaxError) as error:  # IndentationError is a SyntaxError
        detail = error.args[0] if error.args else type(error).__name__
        raise CellNotTokenizable(str(detail)) from error
    return tokens + _literal_run_tokens(literal_run)


def _source_between(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    (first_row, first_col), (last_row, last_col) = start, end
    if first_row == last_row:
        return lines[first_row - 1][first_col:last_col]
    return lines[first_row - 1][first_col:] + "".join(lines[first_row:last_row - 1]) + lines[last_row - 1][:last_col]


def _literal_run_tokens(run: list[tuple[str, int]]) -> list[CodeToken]:
    if not run:
        return []
    line = run[0][1]
    formatted = [(literal, at) for literal, at in run if "f" in _prefix(literal).lower()]
    if formatted:
        fields = [token for literal, at in formatted for token in _fstring_fields(literal, at)]
        return [CodeToken('f"', line), *fields, CodeToken('"', line)]
    bytes_prefix = "b" if "b" in _prefix(run[0][0]).lower() else ""
    return [CodeToken(bytes_prefix + STRING_PLACEHOLDER, line)]


def _prefix(literal: str) -> str:
    return literal[: len(literal) - len(literal.lstrip("rRbBuUfF"))]


# --------------------------------------------------------------------------------------------------- f-strings


def _fstring_fields(literal: str, line: int) -> list[CodeToken]:
    """The replacement fields of one f-string literal, as code tokens; its literal text is set aside."""
    body = literal[len(_prefix(literal)):]
    quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
    body = body[len(quote): -len(quote)]
    tokens: list[CodeToken] = []
    position = 0
    while position < len(body):
        if body.startswith(("{{", "}}"), position):
            position += 2
        elif body[position] == "{":
            position = _read_field(body, position, line, tokens)
        else:
            position += 1
    return tokens


def _read_field(body: str, position: int, line: int, tokens: list[CodeToken]) -> int:
    """Reads the field opening at ``body[position] == "{"`` into ``tokens``; returns the index after its ``}``."""
    tokens.append(CodeToken("{", line))
    end = _expression_end(body, position + 1)
    tokens += _expression_tokens(body[position + 1:end], line)
    if body.startswith("!", end):
        conversion_end = end + 1
        while conversion_end < len(body) and body[conversion_end] not in ":}":
            conversion_end += 1
        tokens.append(CodeToken(body[end:conversion_end].strip(), line))
        end = conversion_end
    if body.startswith(":", end):
        tokens.append(CodeToken(":", line))
        end += 1
        spec = ""
        while end < len(body) and body[end] != "}":
            if body[end] == "{":
                if spec:
                    tokens.append(CodeToken(spec, line))
                    spec = ""
                end = _read_field(body, end, line, tokens)
            else:
                spec += body[end]
                end += 1
        if spec:
            tokens.append(CodeToken(spec, line))
    tokens.append(CodeToken("}", line))
    return end + 1


def _expression_end(body: str, position: int) -> int:
    """Index of the ``!`` (conversion), ``:`` (format spec) or ``}`` that ends a field's expression."""
    depth = 0
    while position < len(body):
        char = body[position]
        if char in QUOTES:
            position = _string_end(body, position)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return position
            depth -= 1
        elif depth == 0 and char == "!" and not body.startswith("!=", position):
            return position
        elif depth == 0 and char == ":":
            return position
        elif char == "!":  # the operator !=
            position += 1
        position += 1
    return position


def _string_end(text: str, position: int) -> int:
    quote = text[position: position + 3] if text[position: position + 3] in ('"""', "'''") else text[position]
    position += len(quote)
    while position < len(text) and not text.startswith(quote, position):
        position += 2 if text[position] == "\\" else 1
    return position + len(quote)


def _expression_tokens(expression: str, line: int) -> list[CodeToken]:
    """An f-string field's expression, tokenized inside brackets so that line breaks in it do not count."""
    tokens = _python_tokens("(" + expression + ")\n", first_line=line)
    while tokens and tokens[-1].text in _STRUCTURE.values():
        tokens.pop()
    return [CodeToken(token.text, line) for token in tokens[1:-1]]


# ------------------------------------------------------------------------------------------------ two notebooks


def read_notebook(path: Path) -> dict:
    """A notebook file as plain JSON (no nbformat needed to compare)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def code_cells(notebook: Mapping) -> list[tuple[int, str, tuple[str, ...]]]:
    """Each code cell as (index in the notebook's cells, source, its nbval tags)."""
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        tags = cell.get("metadata", {}).get("tags", [])
        cells.append((index, "".join(source) if isinstance(source, list) else source,
                      tuple(sorted(tag for tag in tags if NBVAL_TAGS.fullmatch(tag)))))
    return cells


def first_drift(en_path: Path, zh_path: Path) -> str | None:
    """The first place where two editions of a lesson stop being the same program, or None.

    The message names the notebook and the cell: ``notebook 05_x.ipynb, code cell 3 (cell index 6): en `…` vs
    zh `…` …``; code cells count from 1, cell indices (nbformat's, as the policy test reports) from 0.
    """
    en_path, zh_path = Path(en_path), Path(zh_path)
    name = en_path.name
    en_cells, zh_cells = code_cells(read_notebook(en_path)), code_cells(read_notebook(zh_path))
    counts = "" if len(en_cells) == len(zh_cells) else (
        f" — en has {len(en_cells)} code cells, zh has {len(zh_cells)}")
    for number in range(1, max(len(en_cells), len(zh_cells)) + 1):
        en = en_cells[number - 1] if number <= len(en_cells) else None
        zh = zh_cells[number - 1] if number <= len(zh_cells) else None
        where = f"notebook {name}, code cell {number} ({_cell_indices(en, zh)})"
        if en is None or zh is None:
            present = en or zh
            snippet = _first_code_line(present[1])
            return (f"{where}: en `{snippet}` vs zh (no such cell){counts}" if en else
                    f"{where}: en (no such cell) vs zh `{snippet}`{counts}")
        drift = _cell_drift(en[1], zh[1])
        if drift:
            return f"{where}: {drift}{counts}"
        if en[2] != zh[2]:
            return f"{where}: en tags {list(en[2])} vs zh tags {list(zh[2])}{counts}"
    return None


def _cell_indices(en: tuple | None, zh: tuple | None) -> str:
    if en and zh and en[0] == zh[0]:
        return f"cell index {en[0]}"
    return "cell index " + ", ".join(f"{cell[0]} in {edition}" for edition, cell in (("en", en), ("zh", zh)) if cell)


def _cell_drift(en_source: str, zh_source: str) -> str | None:
    streams = {}
    for edition, source in (("en", en_source), ("zh", zh_source)):
        try:
            streams[edition] = code_tokens(source)
        except CellNotTokenizable as error:
            return f"the {edition} edition's code does not tokenize ({error}): `{_first_code_line(source)}`"
    en_tokens, zh_tokens = streams["en"], streams["zh"]
    if en_tokens == zh_tokens:
        return None
    shorter = min(len(en_tokens), len(zh_tokens))
    at = next((i for i in range(shorter) if en_tokens[i] != zh_tokens[i]), shorter)
    en_token = en_tokens[at] if at < len(en_tokens) else None
    zh_token = zh_tokens[at] if at < len(zh_tokens) else None
    return (f"en `{_line_of(en_source, en_token)}` vs zh `{_line_of(zh_source, zh_token)}` "
            f"(first differing token: en {_shown(en_token)}, zh {_shown(zh_token)})")


def _line_of(source: str, token: CodeToken | None) -> str:
    if token is None:
        return "(end of cell)"
    lines = source.splitlines()
    return _shorten(lines[token.line - 1].strip()) if 0 < token.line <= len(lines) else "(end of cell)"


def _first_code_line(source: str) -> str:
    return _shorten(next((line.strip() for line in source.splitlines() if line.strip()), "(empty cell)"))


def _shown(token: CodeToken | None) -> str:
    return "(end of cell)" if token is None else f"`{token.text}`"


def _shorten(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------------------------- the folders


def lesson_names(folder: Path) -> list[str]:
    """The lesson notebooks' file names in one edition's folder (``NN_name.ipynb``), sorted."""
    return sorted(path.name for path in Path(folder).glob(LESSON_GLOB))


def unpaired_lessons(en_dir: Path, zh_dir: Path) -> list[str]:
    """One line per lesson that exists in one edition only, naming the missing file."""
    en_dir, zh_dir = Path(en_dir), Path(zh_dir)
    en, zh = set(lesson_names(en_dir)), set(lesson_names(zh_dir))
    return ([f"{zh_dir.name}/{name} is missing (the twin of {en_dir.name}/{name})" for name in sorted(en - zh)] +
            [f"{en_dir.name}/{name} is missing (the twin of {zh_dir.name}/{name})" for name in sorted(zh - en)])


def iter_drifts(en_dir: Path, zh_dir: Path) -> Iterator[str]:
    """The first drift of every lesson present in both editions."""
    en_dir, zh_dir = Path(en_dir), Path(zh_dir)
    for name in sorted(set(lesson_names(en_dir)) & set(lesson_names(zh_dir))):
        drift = first_drift(en_dir / name, zh_dir / name)
        if drift:
            yield drift
