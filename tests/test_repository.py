"""The repository as a contributor finds it: the lock agrees with pyproject.toml, and nothing stray at the top."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts.bounds import LOCK, locked

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# What belongs at the top of the repository. A new entry is a decision: add it here with the change that makes it.
TOP_LEVEL = {
    ".ci", ".github", ".gitignore", ".pre-commit-config.yaml", "CHANGELOG.md", "CONTRIBUTING.md", "LICENSE",
    "MANIFEST.in", "Makefile", "README.md", "README.zh-CN.md", "benchmarks", "binder", "conftest.py", "notebooks",
    "pyproject.toml", "requirements.txt", "scripts", "tests", "widgets",
}


def declared() -> list[Requirement]:
    """Everything `make install` needs, as pyproject.toml declares it: the build backend, the kit's dependencies
    and the lessons and test extras (what `make lock` compiles)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"]["optional-dependencies"]
    texts = [*pyproject["build-system"]["requires"], *pyproject["project"]["dependencies"],
             *extras["lessons"], *extras["test"]]
    return [Requirement(text) for text in texts]


def test_the_lock_pins_every_declared_dependency_within_its_range():
    pins: dict[str, list[Requirement]] = {}
    for entry in locked():
        pins.setdefault(canonicalize_name(entry.name), []).append(entry)
    problems = []
    for requirement in declared():
        entries = pins.get(canonicalize_name(requirement.name), [])
        if not entries:
            problems.append(f"{requirement} is not in the lock")
        for entry in entries:
            (pin,) = entry.specifier
            if not requirement.specifier.contains(pin.version, prereleases=True):
                problems.append(f"the lock has {entry}, outside {requirement}")
    assert not problems, "run `make lock` after changing pyproject.toml: " + "; ".join(problems)


def test_every_pin_of_the_lock_is_exact_and_hashed():
    text = LOCK.read_text(encoding="utf-8")
    entries = locked()
    assert entries and all(len(entry.specifier) == 1 and next(iter(entry.specifier)).operator == "=="
                           for entry in entries)
    unhashed = [line for line, after in zip(text.splitlines(), [*text.splitlines()[1:], ""], strict=True)
                if line and not line.startswith((" ", "#")) and "--hash=sha256:" not in after]
    assert not unhashed, f"pins without a hash: {unhashed}"
    assert "make lock" in "".join(text.splitlines()[:3]), "the lock's header names the command that compiles it"


def test_nothing_stray_at_the_top_of_the_repository():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    top = {line.split("/", 1)[0] for line in tracked.splitlines()}
    assert not top - TOP_LEVEL, f"unexpected at the top of the repository: {sorted(top - TOP_LEVEL)}"
