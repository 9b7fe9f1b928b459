"""The kit's docstring examples run, and every public name documents itself with an example."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import ollama_anthropic_widgets
import pytest

# every module of every layer (walk_packages imports the subpackages to list their modules)
MODULES = sorted(info.name.removeprefix("ollama_anthropic_widgets.") for info in pkgutil.walk_packages(
    ollama_anthropic_widgets.__path__, "ollama_anthropic_widgets.") if not info.ispkg)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"ollama_anthropic_widgets.{name}")
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0


@pytest.mark.parametrize("name", ollama_anthropic_widgets.__all__)
def test_public_names_have_an_example(name):
    doc = getattr(ollama_anthropic_widgets, name).__doc__ or ""
    assert ">>>" in doc or "Example" in doc, f"ollama_anthropic_widgets.{name} needs a docstring with an example"
