"""mypy, strict, on every module of the kit (`[tool.mypy]` in pyproject.toml): a type error there fails the suite."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "widgets"  # installed as ollama_anthropic_widgets


def checked_files() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]["files"]


def mypy(*arguments: str) -> tuple[int, str]:
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), *arguments])
    return status, stdout + stderr


def test_every_module_of_the_kit_is_checked():
    modules = {path.relative_to(ROOT).as_posix() for path in KIT.rglob("*.py")}
    listed = set(checked_files())
    assert sorted(modules - listed) == [], "add these to `files` in pyproject.toml's [tool.mypy]"
    assert sorted(listed - modules) == [], "these are listed in [tool.mypy] but are not modules of the kit"


def test_the_kit_passes_mypy_strict(monkeypatch):
    monkeypatch.chdir(ROOT)  # `files` in the config are relative to the repository
    status, report = mypy()
    assert status == 0, report
    assert f"no issues found in {len(checked_files())} source files" in report  # every file listed was checked


def test_the_same_check_reports_a_type_error(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    wrong = tmp_path / "wrong.py"
    wrong.write_text("from widgets.lessons.config import settings\n\ncount: int = settings().model\n")
    status, report = mypy(str(wrong))
    assert status == 1, report
    assert 'Incompatible types in assignment (expression has type "str", variable has type "int")' in report


def test_the_public_api_hands_users_real_types(monkeypatch, tmp_path):
    """What a user gets back is typed, not ``Any``: a user's mypy then checks the code that reads the reply."""
    monkeypatch.chdir(ROOT)
    user_code = tmp_path / "user_code.py"
    user_code.write_text(
        "from anthropic import Anthropic, AsyncAnthropic\n"
        "from widgets import ChatWidget, StreamView, UsageTracker\n"
        "from widgets.extension.magic import AskSession\n"
        "from widgets.extension.terminal_view import TerminalView\n\n"
        "tracker = UsageTracker()\n"
        "reveal_type(tracker.watch(Anthropic(api_key='ollama')))\n"
        "reveal_type(tracker.watch(AsyncAnthropic(api_key='ollama')))\n"
        "reveal_type(tracker.chart())\n"
        "reveal_type(StreamView().consume(None))\n"
        "reveal_type(TerminalView().consume(None))\n"
        "reveal_type(AskSession().ask('hi', TerminalView()))\n"
        "chat = ChatWidget(Anthropic(api_key='ollama'), 'm')\n"
        "reveal_type(chat.send_message('hi'))\n"
        "reveal_type(chat.reply_view)\n")
    status, report = mypy(str(user_code))
    revealed = [re.sub(r"[\w.]+\.(\w+)", r"\1", line.split("Revealed type is ", 1)[1])  # class names only
                for line in report.splitlines() if "Revealed type is" in line]
    assert revealed == ['"Anthropic"', '"AsyncAnthropic"', '"Figure"', '"Message"', '"Message"', '"Message"',
                        '"Message"', '"StreamView | None"'], report
    assert status == 0, report
