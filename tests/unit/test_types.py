"""mypy, strict, on the kit's typed modules (`[tool.mypy]` in pyproject.toml): a type error there fails the suite."""

from __future__ import annotations

from pathlib import Path

from mypy import api

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def mypy(*arguments: str) -> tuple[int, str]:
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), *arguments])
    return status, stdout + stderr


def test_the_typed_modules_pass_mypy_strict(monkeypatch):
    monkeypatch.chdir(ROOT)  # `files` in the config are relative to the repository
    status, report = mypy()
    assert status == 0, report
    files = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]["files"]
    assert f"no issues found in {len(files)} source files" in report  # every file listed was checked


def test_the_same_check_reports_a_type_error(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    wrong = tmp_path / "wrong.py"
    wrong.write_text("from widgets.config import settings\n\ncount: int = settings().model\n")
    status, report = mypy(str(wrong))
    assert status == 1, report
    assert 'Incompatible types in assignment (expression has type "str", variable has type "int")' in report
