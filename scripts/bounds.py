#!/usr/bin/env python3
"""The kit's dependency ranges, read from ``pyproject.toml``, and the lock compiled from them (``requirements.txt``).

    python scripts/bounds.py floors      # "name==lowest" for every direct dependency: a pip --constraint file
    python scripts/bounds.py versions    # what the running interpreter has installed of each of them
    python scripts/bounds.py drift       # every installed package whose version is not the lock's, and why it matters

`make test-bounds` installs the floors; `make test-newest` installs the newest releases the ranges allow and, when a
test fails there, prints ``drift``: the packages (and versions) released since the lock, one of which broke it.
Reading the floors from ``[project] dependencies`` keeps one source: raising a floor there is all it takes.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.txt"  # compiled by `make lock` (uv pip compile --universal --generate-hashes)


def dependencies(pyproject: Path = PYPROJECT) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def floor(requirement: Requirement) -> str:
    """The version after ``>=`` (or ``==``); a dependency without one has no floor to test, which is an error."""
    lows = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
    if len(lows) != 1:
        raise SystemExit(f"pyproject.toml: {requirement} needs exactly one lower bound (>=), found {len(lows)}")
    return lows[0]


def locked(lock: Path = LOCK) -> list[Requirement]:
    """The lock's pins, each ``name==version`` with its environment marker (hashes left out)."""
    entries, current = [], ""
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.startswith((" ", "#")) or not line.strip():  # a hash or a "via" comment of the entry above
            continue
        current = line.split(" \\")[0].strip()
        entries.append(Requirement(current))
    return entries


def locked_here(lock: Path = LOCK) -> dict[str, str]:
    """``{name: version}`` of the pins that apply to the running interpreter and platform."""
    return {canonicalize_name(entry.name): next(iter(entry.specifier)).version
            for entry in locked(lock) if entry.marker is None or entry.marker.evaluate()}


def drift(lock: Path = LOCK) -> list[str]:
    """``"name installed (lock: version)"`` for each locked package installed here at another version."""
    pins = locked_here(lock)
    installed = {canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    return [f"{name} {installed[name]} (lock: {version})" for name, version in sorted(pins.items())
            if name in installed and installed[name] != version]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["floors", "versions", "drift"])
    args = parser.parse_args(argv)
    if args.what == "drift":
        changed = drift()
        print(f"installed here and not as locked: {len(changed)} of {len(locked_here())} packages, on Python "
              f"{sys.version.split()[0]}:")
        print("\n".join(f"  {line}" for line in changed) or "  none: these are exactly the locked versions")
        return 0
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
