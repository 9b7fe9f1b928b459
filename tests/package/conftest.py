"""The kit as a pip user gets it: built once per session into an sdist and a wheel, installed into a fresh venv.

Everything lives in pytest's temporary directory, outside the repository: nothing of the clone can leak in. The
build and the fresh venv take their packages at the versions of the environment the tests run in: the lock's under
`make test`, the newest releases under `make test-newest`. So a release that came out after the lock cannot turn
`make test` red here, and the canary still sees what a pip user gets that day.
"""

from __future__ import annotations

import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(command: list[str], **options) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **options)
    if result.returncode != 0:
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{output}")


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> dict[str, Path]:
    """``{"sdist": …, "wheel": …}``: `python -m build` makes the sdist, then the wheel from the unpacked sdist,
    so a file the sdist forgets also goes missing from the wheel."""
    out = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    # No isolation: the build backend (setuptools) is the test environment's, not whatever PyPI has today.
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)])
    print(f"\n[package] sdist + wheel built in {time.monotonic() - started:.1f} s")
    (sdist,), (wheel,) = out.glob("*.tar.gz"), out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


@pytest.fixture(scope="session")
def kit_venv(dist, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and a Jupyter kernel (ipykernel) installed, and nothing from the repository.

    Returns its ``python``.
    """
    home = tmp_path_factory.mktemp("pip-user")
    started = time.monotonic()
    venv.create(home / "venv", with_pip=False)
    python = home / "venv" / "bin" / "python"
    versions = home / "constraints.txt"  # the test environment's versions (see the module's docstring)
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True,
                            text=True, check=True).stdout
    versions.write_text(frozen, encoding="utf-8")
    # This suite's pip installs into the new venv (`--python`, pip >= 22.3): no ensurepip; no .pyc compiling (the
    # kernel compiles only what it imports). Half the time of a plain `venv` + `pip install` (25 s vs 58 s here).
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
          "--constraint", str(versions), str(dist["wheel"]), "ipykernel"], cwd=home)
    print(f"\n[package] fresh venv with the wheel in {time.monotonic() - started:.1f} s")
    return python
