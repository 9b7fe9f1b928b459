"""The sdist and the wheel built from this repository: what they carry, what they declare."""

from __future__ import annotations

import ast
import sys
import tarfile
import zipfile
from email.parser import Parser
from importlib.metadata import packages_distributions
from pathlib import Path

from mypy import api
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "widgets"
PACKAGE = "ollama_anthropic_widgets"


def source_version() -> str:
    """``__version__`` as written in widgets/__init__.py, read without importing the package."""
    tree = ast.parse((SOURCE / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("widgets/__init__.py has no __version__")


def wheel_metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode("utf-8"))


def test_the_wheel_holds_the_kit_its_type_marker_and_nothing_else(dist):
    with zipfile.ZipFile(dist["wheel"]) as archive:
        names = archive.namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {PACKAGE, f"{PACKAGE}-{source_version()}.dist-info"}, top_level
    assert f"{PACKAGE}/py.typed" in names
    # every module of the source tree, subpackages included, is in the wheel under the kit's import name
    expected = {f"{PACKAGE}/{path.relative_to(SOURCE).as_posix()}" for path in SOURCE.rglob("*.py")}
    assert expected - set(names) == set()
    assert f"{PACKAGE}-{source_version()}.dist-info/licenses/LICENSE" in names


def test_one_version_a_license_and_the_project_facts_in_the_metadata(dist):
    metadata = wheel_metadata(dist["wheel"])
    assert metadata["Version"] == source_version()
    assert dist["wheel"].name.startswith(f"{PACKAGE}-{source_version()}-")
    assert metadata["License-Expression"] == "MIT"
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and "Framework :: Jupyter" in classifiers
    assert metadata.get_all("Project-URL"), "no [project.urls]"


def test_every_third_party_module_the_kit_imports_is_a_declared_dependency(dist):
    imported = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert {"anthropic", "ipywidgets", "PIL"} <= third_party  # the scan sees the kit's imports at all
    owners = packages_distributions()
    declared = {canonicalize_name(Requirement(text).name) for text in wheel_metadata(dist["wheel"]).get_all(
        "Requires-Dist") if "extra ==" not in text}
    undeclared = {module: owners.get(module) for module in third_party
                  if not {canonicalize_name(owner) for owner in owners.get(module, [])} & declared}
    assert undeclared == {}, "imported but not in [project] dependencies"


def test_the_sdist_carries_the_license_and_no_tests_lessons_or_exercises(dist):
    with tarfile.open(dist["sdist"]) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert "LICENSE" in names and "widgets/py.typed" in names
    assert not [name for name in names if name.startswith(("tests/", "notebooks/", "exercises/"))]


def test_a_users_mypy_reads_the_kits_types_from_the_installed_wheel(kit_venv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the repository: no project config, no source tree to find
    user_code = tmp_path / "user_code.py"
    user_code.write_text("import ollama_anthropic_widgets as oaw\n\ncount: int = oaw.settings().model\n")
    # Only the kit is analysed (its dependencies are skipped, as Any): a third of a minute less, same verdict.
    (tmp_path / "mypy.ini").write_text("[mypy]\nfollow_imports = skip\n"
                                       "[mypy-ollama_anthropic_widgets.*]\nfollow_imports = normal\n")
    stdout, stderr, status = api.run(["--config-file", str(tmp_path / "mypy.ini"), "--python-executable",
                                      str(kit_venv), "--cache-dir", str(tmp_path / "cache"), str(user_code)])
    assert "import-untyped" not in stdout and "missing library stubs" not in stdout, stdout
    assert 'Incompatible types in assignment (expression has type "str", variable has type "int")' in stdout, stdout
    assert status == 1
