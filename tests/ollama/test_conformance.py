"""The Ollama double against the real Ollama it imitates, both before the same weights (tests/ollama/conformance.py).

The table of differences is printed at the end of the run. Every difference must be explained in the double's
docstring table (``tests.ollama_double.explained_differences``); the test fails on any other, naming it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from tests.ollama.conformance import cases, compare, table
from tests.ollama_double import MODELS, RELEASE, explained_differences


def explanation(row: tuple[str, str, str, str]) -> tuple[str, str, str] | None:
    case, path = row[:2]
    return next((entry for entry in explained_differences()
                 if fnmatchcase(case, entry[0]) and fnmatchcase(path, entry[1])), None)


def report(rows: list[tuple[str, str, str, str]]) -> str:
    """The table of differences, the fields one explanation covers folded into one row."""
    shown, folded = [], {}
    for row in rows:
        entry = explanation(row)
        if entry is None:
            shown.append((*row, "NOT EXPLAINED"))
        elif entry[1] != row[1]:  # a pattern: one row for all its fields
            folded.setdefault((row[0], entry[1]), []).append(row)
        else:
            shown.append((*row, "explained"))
    for (case, pattern), covered in folded.items():
        shown.append((case, f"{pattern} ({len(covered)} fields)", covered[0][2], covered[0][3], "explained"))
    return table(shown, ("case", "field", "real Ollama", "double", ""))


def test_the_double_answers_as_the_release_it_imitates(real_ollama, ollama_double, terminal_report):
    assert RELEASE == real_ollama.release, "the double names another release than the one built"
    toolless = next(name for name, capabilities in MODELS.items() if "tools" not in capabilities)
    thinking = next(name for name, capabilities in MODELS.items() if "thinking" in capabilities)
    all_cases = cases(thinking_models={"real": real_ollama.thinking_model, "double": thinking},
                      toolless_models={"real": real_ollama.plain_model, "double": toolless})

    rows = compare(real_ollama.base_url, ollama_double.base_url, all_cases)

    terminal_report(f"the Ollama double against Ollama {real_ollama.release}: {len(all_cases)} requests to each; "
                    f"differences", report(rows))
    unexplained = [row for row in rows if explanation(row) is None]
    assert not unexplained, "differences the double neither fixes nor explains:\n" + table(unexplained)
