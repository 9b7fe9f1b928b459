"""A real IPython shell for tests, as a reader has one in a terminal: no kernel, no colours, history in memory."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


def terminal_shell(*, load_kit: bool = True) -> InteractiveShell:
    """A fresh shell; with ``load_kit``, after ``%load_ext ollama_anthropic_widgets``."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell(config=config, colors="nocolor")
    if load_kit:
        shell.run_line_magic("load_ext", "ollama_anthropic_widgets")
    return shell


def printed_lines(capsys) -> list[str]:
    """The non-blank lines a cell printed (stdout and stderr) since the last read."""
    captured = capsys.readouterr()
    return [line for line in (captured.out + captured.err).splitlines() if line.strip()]
