"""An exercise that checks itself: ``ex1.check()``, ``ex1.hint()``, ``ex1.solution()`` (Kaggle Learn's pattern).

The learner defines a function (or a value) under the name the exercise gives, in the cell above the check.
``check()`` reads that name from the notebook, calls the function on recorded replies (``replies.py``) and says
whether it behaves as asked and, if not, what went wrong on which reply. It never looks at the model's wording:
what it compares is computed from the same recorded reply (its blocks, its usage, what the SDK sent).

Three outcomes, none of which raises, so "Run All" stays green with the exercises unanswered:

- ``unanswered``: the name is not defined, is still ``...``, or is a function whose body does nothing (the
  template). The message says what to do.
- ``correct``: every case passed; the message lists the cases.
- ``incorrect``: the first case that failed, with a message written for that mistake.

``evaluate(answer)`` is the pure part (it returns a :class:`Result`); ``check()`` finds the answer and prints.
Messages come from tables shaped like the kit's ``i18n.MESSAGES``, in the language the kit speaks
(``OLLAMA_KIT_LANG``; the lessons set it), through the kit's own lookup (``core.i18n.localized_from``).

Example:
    >>> ex = Exercise("00", 1, "double", lambda f, context: "checked " + str(f(2)), table={}, hint={},
    ...               solution_code="def double(x):\\n    return 2 * x\\n")
    >>> ex.evaluate(lambda x: 2 * x, lang="en").outcome
    'correct'
"""

from __future__ import annotations

import contextlib
import dis
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ollama_anthropic_widgets.core.i18n import localized_from

MISSING: Any = object()  # the name is not defined in the notebook

CORE: dict[str, dict[str, str]] = {
    "exercise": {"en": "Exercise {number}", "zh": "练习 {number}"},
    "correct": {"en": "{exercise} · Correct. {detail}", "zh": "{exercise} · 正确。{detail}"},
    "incorrect": {
        "en": "{exercise} · Not yet. {problem}\n  Stuck? ex{number}.hint() gives a hint, ex{number}.solution() shows "
              "a solution.",
        "zh": "{exercise} · 还不对。{problem}\n  卡住了？ex{number}.hint() 给出提示，ex{number}.solution() "
              "显示参考答案。",
    },
    "unanswered.missing": {
        "en": "{exercise} · Not answered yet: `{name}` is not defined. Write it in the cell above, run that cell, "
              "then run this one again.",
        "zh": "{exercise} · 还没有作答：`{name}` 还没有定义。在上面的单元格里写好它，运行那个单元格，"
              "再运行这个单元格。",
    },
    "unanswered.template": {
        "en": "{exercise} · Not answered yet: `{name}` does nothing so far. Write its body in the cell above, run "
              "that cell, then run this one again. A hint: ex{number}.hint()",
        "zh": "{exercise} · 还没有作答：`{name}` 目前什么也不做。在上面的单元格里写好函数体，运行那个单元格，"
              "再运行这个单元格。需要提示就运行 ex{number}.hint()",
    },
    "unanswered.ellipsis": {
        "en": "{exercise} · Not answered yet: `{name}` is still `...`. Replace it with your answer in the cell above, "
              "run that cell, then run this one again. A hint: ex{number}.hint()",
        "zh": "{exercise} · 还没有作答：`{name}` 还是 `...`。在上面的单元格里换成你的答案，运行那个单元格，"
              "再运行这个单元格。需要提示就运行 ex{number}.hint()",
    },
    "not_callable": {
        "en": "`{name}` should be a function (`def {name}(...):`), not {kind}.",
        "zh": "`{name}` 应该是一个函数（`def {name}(...):`），而不是 {kind}。",
    },
    "raised": {
        "en": "`{name}` raised {error} on {case}.",
        "zh": "`{name}` 处理 {case} 时抛出了 {error}。",
    },
    "by_position": {
        "en": "`{name}` raised {error} on {case}, whose blocks are {blocks}. Not every block has that attribute: "
              "select the blocks by `block.type` instead of by position.",
        "zh": "`{name}` 处理 {case} 时抛出了 {error}，这条回复的内容块是 {blocks}。并不是每种块都有这个属性：要按 "
              "`block.type` 挑选，而不是按位置取。",
    },
    "check_failed": {
        "en": "{exercise} · The check itself failed ({error}). That is a fault of the exercise, not of your answer: "
              "please report it.",
        "zh": "{exercise} · 检查程序本身出错了（{error}）。这是练习的问题，不是你的答案的问题，请报告给我们。",
    },
    "data_missing": {
        "en": "{exercise} · The check needs the recorded replies in notebooks/data/ of the repository, and {path} is "
              "missing. Run the lessons from a clone (`make lab` installs the exercises from it).",
        "zh": "{exercise} · 检查要用到仓库 notebooks/data/ 里录制的回复，但找不到 {path}。请在克隆下来的仓库里运行课程"
              "（`make lab` 会从仓库安装练习）。",
    },
    "hint": {"en": "{exercise} · Hint: {hint}", "zh": "{exercise} · 提示：{hint}"},
    "solution": {
        "en": "{exercise} · A solution (shown, not run; copy it into the cell above to use it):",
        "zh": "{exercise} · 参考答案（只显示，不运行；要用的话，把它复制到上面的单元格里）：",
    },
    "checked_on": {"en": "Checked on {cases}.", "zh": "检查用到了：{cases}。"},
    "list_separator": {"en": "; ", "zh": "；"},
}


class Incorrect(Exception):
    """Raised by a check for the first case that fails: a message key of the exercise's table and its values."""

    def __init__(self, key: str, **values: Any):
        super().__init__(key)
        self.key, self.values = key, values


class DataMissing(Exception):
    """A recording the check needs is not there (an install without the repository)."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


@dataclass(frozen=True)
class Result:
    """What a check found. ``key`` names the message (tests compare keys, never wording).

    Example:
        >>> Result("correct", "Exercise 1 · Correct.", "correct").passed
        True
    """

    outcome: str  # "correct" | "incorrect" | "unanswered" | "error"
    message: str
    key: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.outcome == "correct"

    def __str__(self) -> str:
        return self.message


@dataclass
class Context:
    """What a check is given besides the answer: the language (for the names of cases) and the message lookup."""

    lang: str
    table: Mapping[str, Mapping[str, str]]

    def text(self, key: str, **values: Any) -> str:
        return localized_from(self.table if key in self.table else CORE, key, self.lang, **values)

    def cases(self, keys: list[str]) -> str:
        """The ``checked_on`` line for the named cases."""
        separator = localized_from(CORE, "list_separator", self.lang)
        return self.text("checked_on", cases=separator.join(self.text(key) for key in keys))


def does_nothing(function: Callable[..., Any]) -> bool:
    """True for a function whose body only returns None: ``...``, ``pass``, a docstring, comments (the template).

    Example:
        >>> def template(message):
        ...     '''Return the text.'''
        ...     ...  # your code here
        >>> does_nothing(template), does_nothing(lambda message: message)
        (True, False)
    """
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("RESUME", "NOP", "CACHE", "RETURN_VALUE"):
            continue
        if instruction.opname in ("LOAD_CONST", "RETURN_CONST") and instruction.argval is None:
            continue
        return False
    return True


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """The learner's prints (a streamed reply, debugging) stay out of the check's message."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def call(function: Callable[..., Any], name: str, case: str, *args: Any, **kwargs: Any) -> Any:
    """Calls the learner's function; an exception it raises becomes the ``raised`` message naming the case."""
    try:
        with quietly():
            return function(*args, **kwargs)
    except Exception as error:  # the learner's code: any failure is a finding, not a crash of the check
        detail = " ".join(str(error).split())  # one line, whatever the exception's own layout
        raise Incorrect("raised", name=name, error=f"{type(error).__name__}: {detail}"[:300], case=case,
                        error_type=type(error).__name__) from error


def short(value: Any, limit: int = 80) -> str:
    """``repr`` cut to ``limit`` characters, for quoting a value in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Exercise:
    """One exercise: the name the learner defines, how to check it, a hint and a solution.

    ``checker(answer, context)`` returns the detail of a pass (a string) or raises :class:`Incorrect`; it receives
    the answer already found to be answered (callable, for a function exercise). ``table`` holds the lesson's
    messages (the keys the checker raises, the case names); :data:`CORE` the common ones. ``hint`` is plain text,
    one per language (not a template: it may quote code with braces).
    ``solution_code`` is shown by :meth:`solution` and never run here (the tests run it).

    Example:
        >>> ex = Exercise("00", 2, "answer", lambda value, context: "ok" if value == 42 else "no", table={},
        ...               hint={"en": "Think.", "zh": "想一想。"}, solution_code="answer = 42", kind="value")
        >>> ex.evaluate(..., lang="en").key
        'unanswered.ellipsis'
    """

    def __init__(self, lesson: str, number: int, name: str, checker: Callable[..., str], *,
                 table: Mapping[str, Mapping[str, str]], hint: Mapping[str, str], solution_code: str,
                 kind: str = "function"):
        self.lesson, self.number, self.name = lesson, number, name
        self.checker, self.table, self.hint_text = checker, table, hint
        self.solution_code, self.kind = solution_code, kind

    def __repr__(self) -> str:
        return f"<exercise {self.number} of lesson {self.lesson}: define {self.name}, then ex{self.number}.check()>"

    def _render(self, key: str, lang: str | None, **values: Any) -> str:
        context_values = {"exercise": localized_from(CORE, "exercise", lang, number=self.number),
                          "number": self.number, "name": self.name}
        return localized_from(CORE if key in CORE else self.table, key, lang, **{**context_values, **values})

    def evaluate(self, answer: Any = MISSING, *, lang: str | None = None) -> Result:
        """Check ``answer`` and return the :class:`Result` (nothing is printed)."""
        from ollama_anthropic_widgets.core.i18n import language

        lang = language(lang)
        if answer is MISSING:
            return Result("unanswered", self._render("unanswered.missing", lang), "unanswered.missing")
        if answer is Ellipsis:
            return Result("unanswered", self._render("unanswered.ellipsis", lang), "unanswered.ellipsis")
        if self.kind == "function":
            if not callable(answer):
                return self._incorrect(lang, "not_callable", {"kind": type(answer).__name__})
            if does_nothing(answer):
                return Result("unanswered", self._render("unanswered.template", lang), "unanswered.template")
        context = Context(lang, self.table)
        try:
            detail = self.checker(answer, context)
        except Incorrect as wrong:
            return self._incorrect(lang, wrong.key, wrong.values)
        except DataMissing as missing:
            return Result("error", self._render("data_missing", lang, path=missing.path), "data_missing")
        except Exception as error:  # a fault of the check: say so rather than blame the learner or raise
            return Result("error", self._render("check_failed", lang, error=f"{type(error).__name__}: {error}"[:300]),
                          "check_failed")
        return Result("correct", self._render("correct", lang, detail=detail), "correct")

    def _incorrect(self, lang: str, key: str, values: Mapping[str, Any]) -> Result:
        problem = self._render(key, lang, **values)
        return Result("incorrect", self._render("incorrect", lang, problem=problem), key, values)

    def check(self, answer: Any = MISSING, *, lang: str | None = None) -> None:
        """Check the answer (by default: the name this exercise asks for, read from the notebook) and print what
        was found. Never raises for a wrong or missing answer."""
        if answer is MISSING:
            import sys

            # The cell that calls check() runs in the notebook's namespace: its globals hold the learner's answer.
            answer = sys._getframe(1).f_globals.get(self.name, MISSING)
        print(self.evaluate(answer, lang=lang))

    def hint(self, *, lang: str | None = None) -> None:
        """Print a hint."""
        from ollama_anthropic_widgets.core.i18n import DEFAULT_LANGUAGE, language

        chosen = language(lang)
        print(self._render("hint", chosen, hint=self.hint_text.get(chosen) or self.hint_text[DEFAULT_LANGUAGE]))

    def solution(self, *, lang: str | None = None) -> None:
        """Print a solution. It is shown, not run: your own answer stays in charge."""
        print(self._render("solution", lang))
        print()
        print(self.solution_code.strip("\n"))
