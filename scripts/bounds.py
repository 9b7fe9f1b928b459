#!/usr/bin/env python3
"""The two ends of the kit's dependency ranges, read from ``pyproject.toml`` (`make test-bounds` uses this).

    python scripts/bounds.py floors      # "name==lowest" for every direct dependency: a pip --constraint file
    python scripts/bounds.py versions    # what the running interpreter has installed of each of them

Reading the floors from ``[project] dependencies`` keeps one source: raising a floor there is all it takes.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def dependencies(pyproject: Path = PYPROJECT) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def floor(requirement: Requirement) -> str:
    """The version after ``>=`` (or ``==``); a dependency without one has no floor to test, which is an error."""
    lows = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
    if len(lows) != 1:
        raise SystemExit(f"pyproject.toml: {requirement} needs exactly one lower bound (>=), found {len(lows)}")
    return lows[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["floors", "versions"])
    args = parser.parse_args(argv)
    outside = []
    for requirement in dependencies():
        if args.what == "floors":
            print(f"{requirement.name}=={floor(requirement)}")
            continue
        installed = metadata.version(requirement.name)
        print(f"  {requirement.name:<10} {installed:<12} (declared {requirement.specifier})")
        if not requirement.specifier.contains(installed, prereleases=True):
            outside.append(f"{requirement.name} {installed}")
    if args.what == "versions":
        print(f"  on Python {sys.version.split()[0]}")
    if outside:
        print(f"outside the declared range: {', '.join(outside)}", file=sys.stderr)
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
