"""The repository as a contributor finds it: the lock agrees with pyproject.toml, and nothing stray at the top."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts.bounds import LOCK, drift, locked

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# What belongs at the top of the repository. A new entry is a decision: add it here with the change that makes it.
TOP_LEVEL = {
    ".ci", ".github", ".gitignore", ".pre-commit-config.yaml", "CHANGELOG.md", "CONTRIBUTING.md", "LICENSE",
    "MANIFEST.in", "Makefile", "README.md", "README.zh-CN.md", "benchmarks", "binder", "conftest.py", "exercises",
    "notebooks",
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


SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def applies_together(requirement: Requirement, entry: Requirement) -> bool:
    """Whether a declared requirement and a pin of the lock both apply on one of the supported Pythons (a requirement
    such as ``ipykernel>=7.4; python_version >= '3.11'`` says nothing of the pin the lock keeps for 3.10)."""
    for version in SUPPORTED_PYTHONS:
        environment = {"python_version": version, "python_full_version": f"{version}.0"}
        if all(marker is None or marker.evaluate(environment) for marker in (requirement.marker, entry.marker)):
            return True
    return False


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
            if applies_together(requirement, entry) and not requirement.specifier.contains(pin.version,
                                                                                           prereleases=True):
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


def test_the_canary_names_each_release_that_differs_from_the_lock(tmp_path):
    """What `make test-newest` prints when it goes red: each installed package whose version is not the lock's."""
    from importlib import metadata

    lock = tmp_path / "requirements.txt"
    installed = metadata.version("anthropic")
    lock.write_text("# compiled by make lock\nanthropic==2.10.0 \\\n    --hash=sha256:00\n"
                    f"nh3=={metadata.version('nh3')} \\\n    --hash=sha256:00\n"
                    "pywin32==311 ; sys_platform == 'win32' \\\n    --hash=sha256:00\n", encoding="utf-8")
    assert drift(lock) == [f"anthropic {installed} (lock: 2.10.0)"]


def test_nothing_stray_at_the_top_of_the_repository():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    top = {line.split("/", 1)[0] for line in tracked.splitlines()}
    assert not top - TOP_LEVEL, f"unexpected at the top of the repository: {sorted(top - TOP_LEVEL)}"


# -- the pre-commit hooks agree with CI ---------------------------------------------------------------------------

def pre_commit_hooks() -> dict[str, dict]:
    """``{hook id: {"rev": …, "args": […]}}`` from .pre-commit-config.yaml."""
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    return {hook["id"]: {"rev": repo["rev"], "args": hook.get("args", [])}
            for repo in config["repos"] for hook in repo["hooks"]}


def locked_version(name: str) -> str:
    (entry,) = [entry for entry in locked() if canonicalize_name(entry.name) == name]
    return next(iter(entry.specifier)).version


def test_pre_commit_runs_the_locked_ruff_and_nbstripout():
    hooks = pre_commit_hooks()
    assert hooks["ruff-check"]["rev"] == f"v{locked_version('ruff')}", "pre-commit's ruff is not the lock's"
    assert hooks["nbstripout"]["rev"] == locked_version("nbstripout"), "pre-commit's nbstripout is not the lock's"


def strip(notebooks: list[Path], folder: Path) -> list[Path]:
    """Copies of the notebooks as the pre-commit hook leaves them: the locked nbstripout with the hook's arguments,
    one run over all of them (as pre-commit passes the staged files)."""
    import shutil
    import sys

    copies = []
    for index, notebook in enumerate(notebooks):
        copies.append(folder / str(index) / notebook.name)
        copies[-1].parent.mkdir(parents=True)
        shutil.copy(notebook, copies[-1])
    nbstripout = Path(sys.executable).parent / "nbstripout"
    subprocess.run([str(nbstripout), *pre_commit_hooks()["nbstripout"]["args"], *map(str, copies)], check=True)
    return copies


def test_the_notebook_hook_leaves_every_lesson_as_committed(tmp_path):
    lessons = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
    changed = [str(path.relative_to(ROOT)) for path, copy in zip(lessons, strip(lessons, tmp_path), strict=True)
               if copy.read_bytes() != path.read_bytes()]
    assert lessons and not changed, f"the pre-commit hook would rewrite {changed}"


def test_the_notebook_hook_removes_what_the_policy_forbids(tmp_path):
    import json

    lesson = tmp_path / "ran.ipynb"
    notebook = json.loads((ROOT / "notebooks" / "en" / "00_setup.ipynb").read_text(encoding="utf-8"))
    code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    code["execution_count"] = 3
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["model text\n"]}]
    lesson.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (stripped_path,) = strip([lesson], tmp_path / "stripped")
    stripped = json.loads(stripped_path.read_text(encoding="utf-8"))
    cells = [cell for cell in stripped["cells"] if cell["cell_type"] == "code"]
    assert all(not cell["outputs"] and cell["execution_count"] is None for cell in cells)
    assert [cell["id"] for cell in stripped["cells"]] == [cell["id"] for cell in notebook["cells"]]


# -- CI: .ci/run calls the README's test command, and the GitHub workflow runs every stage of .ci/run --------------

def ci_stages() -> list[str]:
    import re

    (stages,) = re.findall(r"^ALL_STAGES=\((.*)\)$", (ROOT / ".ci" / "run").read_text(encoding="utf-8"), re.MULTILINE)
    return stages.split()


def test_ci_runs_the_readme_test_command():
    import re

    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme_commands = re.findall(r"^make (\w[\w-]*)\s", (ROOT / "README.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert "test" in readme_commands, "the README's quick start names `make test`"
    assert "test" in ci_stages() and re.search(r"^stage_test\(\) \{ make test; \}$", run, re.MULTILINE)


def test_the_github_workflow_runs_every_ci_stage_in_order():
    import re

    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert re.findall(r"run: \.ci/run ([\w-]+)$", workflow, re.MULTILINE) == ci_stages()
