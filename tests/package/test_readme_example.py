"""The README's "Use the widgets in your own notebook" code, run as a pip user runs it.

The code is read from README.md at test time, so the README cannot drift from what works. It runs as a notebook
(nbclient) in a kernel of a fresh venv that has only the wheel built from this repository (and ipykernel), with
its working directory outside the repository, against the suite's model server (the embedded engine).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Use the widgets in your own notebook"

# Run after the README's code, in the same kernel: where the kit came from, and the connection advice it gives.
PROVENANCE = """
import json, os, sys
import ollama_anthropic_widgets
from ollama_anthropic_widgets import check_connection
from ollama_anthropic_widgets.lessons import doctor

def refused(*request):
    raise ConnectionRefusedError(111, "Connection refused")

print(json.dumps({
    "module": ollama_anthropic_widgets.__file__, "sys_path": sys.path, "cwd": os.getcwd(),
    "clone": str(doctor.repository_root()),
    "fix": check_connection("http://localhost:11434", "llama3.2", http=refused).fix,
}))
"""


def readme_example(readme: Path = ROOT / "README.md") -> str:
    """The first ```python block after the section heading."""
    text = readme.read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    match = re.search(r"^```python\n(.*?)^```", section, re.DOTALL | re.MULTILINE)
    assert match, f"README.md: no ```python block under {SECTION!r}"
    return match.group(1)


def test_the_example_is_found_and_uses_the_kit():
    code = readme_example()
    assert "import ollama_anthropic_widgets as oaw" in code and "display(" in code


def outputs_of(cell, output_type: str | None = None) -> list:
    return [output for output in cell.outputs if output_type is None or output.output_type == output_type]


def stdout_of(cell) -> str:
    return "".join(output.text for output in outputs_of(cell, "stream") if output.name == "stdout")


@pytest.mark.live
def test_the_readme_example_runs_from_the_wheel_outside_the_repository(kit_venv, tmp_path):
    kernels = tmp_path / "kernels"
    (kernels / "kit-venv").mkdir(parents=True)
    (kernels / "kit-venv" / "kernel.json").write_text(json.dumps({
        "argv": [str(kit_venv), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "the wheel's venv", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])
    manager = AsyncKernelManager(kernel_name="kit-venv", kernel_spec_manager=specs)
    workdir = tmp_path / "notebook"
    workdir.mkdir()
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    assert environment.get("OLLAMA_BASE_URL"), "no model server: conftest.py starts one for tests marked live"

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(readme_example()),
                                               nbformat.v4.new_code_cell(PROVENANCE)])
    NotebookClient(notebook, km=manager, timeout=300).execute(cwd=str(workdir), env=environment, cleanup_kc=True)
    example, provenance = notebook.cells

    printed = stdout_of(example)
    assert printed.startswith("OK: "), printed  # check_connection() found the server and a reply
    displayed = outputs_of(example, "display_data")
    widget_views = [output for output in displayed if "application/vnd.jupyter.widget-view+json" in output.data]
    assert len(widget_views) >= 4, displayed  # the stream view, the upload, the usage panel, the chat
    charts = [output for output in displayed if "image/png" in output.data]
    assert len(charts) == 1, "the usage chart is not shown where the cell shows it"

    facts = json.loads(stdout_of(provenance))
    site_packages = kit_venv.parent.parent / "lib"
    assert Path(facts["module"]).is_relative_to(site_packages), facts["module"]
    assert not [entry for entry in facts["sys_path"] if entry and Path(entry).resolve().is_relative_to(ROOT)]
    assert not Path(facts["cwd"]).resolve().is_relative_to(ROOT)
    assert facts["clone"] == "None"
    assert "make lab` in" not in facts["fix"] and "clone the kit's repository" in facts["fix"], facts["fix"]
